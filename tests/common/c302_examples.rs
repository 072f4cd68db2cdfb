//! c302's published `examples/` folder, kept verbatim in
//! `tests/fixtures/c302_examples/c302-examples.tar.xz` (see its README), unpacked for the
//! test binaries that need it (`#[path]`-included by `tests/c302` and `tests/hostile`).

use std::path::Path;
use std::process::Command;

/// Unpacks `members` of the archive (all of it when empty, names as `./FILE`) into `dir`.
pub fn unpack(dir: &Path, members: &[&str]) {
    let archive = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/c302_examples/c302-examples.tar.xz");
    std::fs::create_dir_all(dir).unwrap();
    let status = Command::new("tar")
        .arg("-xJf")
        .arg(&archive)
        .arg("-C")
        .arg(dir)
        .args(members)
        .status()
        .expect("run tar (with xz) to unpack c302's examples");
    assert!(status.success(), "tar -xJf {}", archive.display());
}
