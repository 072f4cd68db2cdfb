//! The default model shipped inside the program: c302 0.12.1, parameter set D1, all 302
//! neurons, no inputs (see `models/c302_D1/README.md` for its provenance), and the hash that
//! identifies a model's files in the datasets made from it.

use std::io;
use std::path::{Path, PathBuf};

use anyhow::Context;
use sha2::{Digest, Sha256};

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

/// SHA-256 (hex) of the model's files in load order: the identity of the model a dataset
/// was made from. `bundled_model` reads them from the bundled copy.
pub fn model_sha256(model: &neuroml::Model, bundled_model: bool) -> anyhow::Result<String> {
    let mut hash = Sha256::new();
    for f in &model.files {
        let text = if bundled_model {
            read(f)
        } else {
            std::fs::read_to_string(f)
        };
        hash.update(text.with_context(|| format!("{}", f.display()))?.as_bytes());
    }
    Ok(hash.finalize().iter().map(|b| format!("{b:02x}")).collect())
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
