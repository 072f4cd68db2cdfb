//! Scratch folders for the integration tests (`#[path]`-included by each test binary): one
//! fresh folder per call under the system's temporary folder, removed when the test that made
//! it ends, so test runs leave nothing behind. A test that fails keeps its folder and names it,
//! for inspection.

use std::ops::Deref;
use std::path::Path;

/// A scratch folder, removed on drop unless its test is failing.
pub struct Scratch(Option<tempfile::TempDir>);

/// A new empty folder `celegans-{name}-XXXXXX` in the system's temporary folder.
pub fn scratch(name: &str) -> Scratch {
    let dir = tempfile::Builder::new()
        .prefix(&format!("celegans-{name}-"))
        .tempdir()
        .expect("create a scratch folder in the temporary folder");
    Scratch(Some(dir))
}

impl Deref for Scratch {
    type Target = Path;
    fn deref(&self) -> &Path {
        self.0.as_ref().expect("scratch folder").path()
    }
}

impl AsRef<Path> for Scratch {
    fn as_ref(&self) -> &Path {
        self
    }
}

impl AsRef<std::ffi::OsStr> for Scratch {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.as_os_str()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if std::thread::panicking() {
            if let Some(dir) = self.0.take() {
                eprintln!("kept for inspection: {}", dir.keep().display());
            }
        }
    }
}
