//! Embeds the bundled default model (the workspace's `models/c302_D1`) in the library, so
//! that every command works with no model argument, from any directory.

use std::fmt::Write as _;
use std::path::Path;

fn collect(dir: &Path, root: &Path, out: &mut Vec<String>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read models dir")
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect(&path, root, out);
        } else {
            out.push(
                path.strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/"),
            );
        }
    }
}

fn main() {
    let manifest = std::env::var("CARGO_MANIFEST_DIR").unwrap();
    let root = Path::new(&manifest).join("../models/c302_D1");
    println!("cargo:rerun-if-changed=../models/c302_D1");
    let mut files = Vec::new();
    collect(&root, &root, &mut files);
    let mut code = String::from("/// Files of the bundled model: (path relative to its folder, contents).\npub static FILES: &[(&str, &str)] = &[\n");
    for f in &files {
        println!("cargo:rerun-if-changed=../models/c302_D1/{f}");
        writeln!(
            code,
            "    ({f:?}, include_str!({:?})),",
            root.join(f).display().to_string()
        )
        .unwrap();
    }
    code.push_str("];\n");
    let out = Path::new(&std::env::var("OUT_DIR").unwrap()).join("bundled_model.rs");
    std::fs::write(out, code).unwrap();
}
