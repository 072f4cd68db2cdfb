//! Property tests standing in for a fuzzer: mutated and truncated versions of real model
//! text must never panic the reader: each one either loads or fails with an error.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use proptest::prelude::*;

/// A small, complete model: LEMS file, network with an inline cell, custom types.
fn seed_files() -> HashMap<PathBuf, String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/c302_C1_subset");
    let mut files = HashMap::new();
    for name in [
        "LEMS_c302_C1_subset.xml",
        "c302_C1_subset.net.nml",
        "cell_C.xml",
    ] {
        let text = std::fs::read_to_string(dir.join(name)).unwrap();
        files.insert(PathBuf::from("m").join(name), text);
    }
    files
}

fn load(files: &HashMap<PathBuf, String>) -> Result<neuroml::Model, neuroml::Error> {
    let read = |p: &Path| {
        files
            .get(p)
            .cloned()
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::NotFound, "absent"))
    };
    neuroml::load_with(Path::new("m/LEMS_c302_C1_subset.xml"), &read)
}

/// Snippets that are meaningful to the reader, spliced in at random places.
const TOKENS: &[&str] = &[
    "<",
    ">",
    "/>",
    "\"",
    "=",
    "<segment id=\"0\">",
    "</cell>",
    "<include href=\"cell_C.xml\"/>",
    "<include href=\"c302_C1_subset.net.nml\"/>",
    " mV",
    " per_ms",
    "1e400",
    "-",
    "NaN",
    "((((",
    "exp(",
    ".gt.",
    "<ComponentType name=\"x\" extends=\"x\"/>",
    "<gradedSynapse id=\"z\"/>",
    "&amp;",
    "&bogus;",
    "<![CDATA[x]]>",
    "fractionAlong=\"2\"",
    "segment=\"99\"",
    "size=\"0\"",
    "id=\"\"",
    "\u{0}",
    "é",
];

fn mutate(text: &str, ops: &[(u8, usize, usize)]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for &(op, at, pick) in ops {
        if bytes.is_empty() {
            break;
        }
        let at = at % bytes.len();
        match op % 4 {
            0 => {
                bytes.remove(at);
            }
            1 => bytes.truncate(at),
            2 => {
                let token = TOKENS[pick % TOKENS.len()].as_bytes();
                bytes.splice(at..at, token.iter().copied());
            }
            _ => {
                let end = (at + 1 + pick % 64).min(bytes.len());
                let chunk: Vec<u8> = bytes[at..end].to_vec();
                bytes.splice(at..at, chunk);
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

#[test]
fn the_unmutated_seed_loads() {
    let model = load(&seed_files()).unwrap();
    assert_eq!(model.summary().cells, 6);
}

proptest! {
    // 256 cases by default; set PROPTEST_CASES for a longer hunt.

    #[test]
    fn mutated_models_never_panic(
        file in 0usize..3,
        ops in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<usize>()), 1..6),
    ) {
        let mut files = seed_files();
        let mut names: Vec<PathBuf> = files.keys().cloned().collect();
        names.sort();
        let name = &names[file];
        let mutated = mutate(&files[name], &ops);
        files.insert(name.clone(), mutated);
        // Either outcome is fine; a panic fails the test. Errors must name a file.
        if let Err(e) = load(&files) {
            prop_assert!(!e.file.as_os_str().is_empty());
            prop_assert!(!e.to_string().is_empty());
        }
    }

    #[test]
    fn arbitrary_expressions_never_panic(text in "[-+*/^().a-z0-9 <>=!]{0,64}") {
        if let Ok(e) = neuroml::expr::Expr::parse(&text) {
            let _ = e.eval(&|_| Some(1.0));
        }
    }

    #[test]
    fn arbitrary_quantities_never_panic(text in "[-+.eE0-9]{0,12} ?[a-zA-Z_0-9]{0,24}") {
        let _ = neuroml::units::UnitSystem::default().parse(&text);
    }
}
