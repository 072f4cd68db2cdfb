//! The default model shipped inside the program: c302 0.12.1, parameter set D1, all 302
//! neurons, no inputs (see `models/c302_D1/README.md` for its provenance).

use std::io;
use std::path::{Path, PathBuf};

mod files {
    include!(concat!(env!("OUT_DIR"), "/bundled_model.rs"));
}

/// The folder the bundled files appear in; error messages name files under it.
pub const ROOT: &str = "<bundled>/c302_D1";

/// The bundled model's LEMS file.
pub fn lems_path() -> PathBuf {
    Path::new(ROOT).join("LEMS_c302_D1.xml")
}

/// Reads a bundled file by its virtual path.
pub fn read(path: &Path) -> io::Result<String> {
    let rel = path.strip_prefix(ROOT).map_err(|_| {
        io::Error::new(
            io::ErrorKind::NotFound,
            format!("{} is not a bundled file", path.display()),
        )
    })?;
    let rel = rel.to_string_lossy().replace('\\', "/");
    files::FILES
        .iter()
        .find(|(name, _)| *name == rel)
        .map(|(_, text)| text.to_string())
        .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no bundled file {rel}")))
}

/// Loads a model: the bundled one when `path` is `None`, else the file given.
pub fn load_model(path: Option<&Path>) -> Result<neuroml::Model, neuroml::Error> {
    match path {
        Some(p) => neuroml::load(p),
        None => neuroml::load_with(&lems_path(), &read),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn bundled_model_is_complete() {
        // LEMS file, network, cell_C.xml, custom_synapses.xml and 302 cells.
        assert_eq!(super::files::FILES.len(), 306);
        assert!(super::read(&super::lems_path())
            .unwrap()
            .contains("<Simulation"));
    }
}
