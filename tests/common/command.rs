//! Running the `celegans` program in the end-to-end tests (`#[path]`-included by each test
//! binary; each uses what it needs).
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};

/// Runs `celegans ARGS`, capturing its output.
pub fn celegans(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_celegans"))
        .args(args)
        .output()
        .expect("run celegans")
}

/// A path as a command-line argument.
pub fn p(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

/// Asserts that a run succeeded, showing its stderr otherwise.
pub fn ok(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
