//! # persist: outputs that are never half-written, checkpoints that resume a job
//!
//! Every file and folder the program writes goes through this crate, so that a killed or
//! failed job never leaves a half-written output under its final name:
//!
//! * [`write_atomic`] and [`write_stream`] write a file's bytes;
//! * [`write_with`] lets any writer (HDF5, PNG, a whole folder) fill a temporary path that
//!   is renamed into place only when the writer succeeded;
//! * [`open_checkpoint`] keeps the partial results of an interruptible job in a folder
//!   tagged with the request that produced them, so that the same request resumes there and
//!   any other starts afresh.
//!
//! Temporary names ([`temporary_path`]) sit beside the target, so the final rename stays on
//! one file system and is atomic.
#![warn(missing_docs)]

use std::io::Write;
use std::path::{Path, PathBuf};

/// A file-system operation that failed, with the path it concerned.
#[derive(Debug)]
pub struct Error {
    /// The file or folder.
    pub path: PathBuf,
    /// What the operating system said.
    pub cause: std::io::Error,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.cause)
    }
}

impl std::error::Error for Error {}

/// Result with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

/// Attaches `path` to an I/O error.
pub fn at(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |cause| Error {
        path: path.to_path_buf(),
        cause,
    }
}

/// The temporary name of `path` while it is written: `DIR/.NAME.partial`, followed by
/// `NAME`'s extension where it has one (`DIR/.curves.png.partial.png`), since some writers
/// choose the format by the extension.
pub fn temporary_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match path.extension() {
        Some(ext) => path.with_file_name(format!(".{name}.partial.{}", ext.to_string_lossy())),
        None => path.with_file_name(format!(".{name}.partial")),
    }
}

/// Removes a file or folder, ignoring what is not there.
fn remove(path: &Path) {
    if path.is_dir() {
        let _ = std::fs::remove_dir_all(path);
    } else {
        let _ = std::fs::remove_file(path);
    }
}

/// Moves the finished `tmp` onto `path`, replacing a folder already there.
fn replace(tmp: &Path, path: &Path) -> Result<()> {
    if tmp.is_dir() && path.is_dir() {
        std::fs::remove_dir_all(path).map_err(at(path))?;
    }
    std::fs::rename(tmp, path).map_err(at(path))
}

/// Calls `write` with the temporary path of `path` ([`temporary_path`]) and renames what it
/// wrote there (a file or a folder) into place when it succeeds; on failure the temporary
/// path is removed and `path` is left as it was.
pub fn write_with<T, E: From<Error>>(
    path: &Path,
    write: impl FnOnce(&Path) -> std::result::Result<T, E>,
) -> std::result::Result<T, E> {
    let tmp = temporary_path(path);
    write_via(&tmp, path, write)
}

/// As [`write_with`], with the temporary path chosen by the caller (e.g. a folder that
/// also holds a job's checkpoint).
pub fn write_via<T, E: From<Error>>(
    tmp: &Path,
    path: &Path,
    write: impl FnOnce(&Path) -> std::result::Result<T, E>,
) -> std::result::Result<T, E> {
    let result = write(tmp).and_then(|value| {
        replace(tmp, path)?;
        Ok(value)
    });
    if result.is_err() {
        remove(tmp);
    }
    result
}

/// Writes `bytes` to `path` atomically.
pub fn write_atomic(path: &Path, bytes: impl AsRef<[u8]>) -> Result<()> {
    write_with(path, |tmp| {
        std::fs::write(tmp, bytes.as_ref()).map_err(at(tmp))
    })
}

/// Writes `path` atomically through a buffered stream filled by `fill`.
pub fn write_stream(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<()> {
    write_with(path, |tmp| {
        let stream = || {
            let mut f = std::io::BufWriter::new(std::fs::File::create(tmp)?);
            fill(&mut f)?;
            f.into_inner().map_err(|e| e.into_error()).map(drop)
        };
        stream().map_err(at(path))
    })
}

/// Opens the checkpoint folder of an interruptible job described by `request` (any JSON
/// that identifies its results): a folder whose `request.json` equals `request` is kept, with
/// the results saved there so far; any other is emptied and `request` recorded. Returns
/// whether the folder was kept.
pub fn open_checkpoint(dir: &Path, request: &serde_json::Value) -> Result<bool> {
    let request_path = dir.join("request.json");
    let same = std::fs::read_to_string(&request_path)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .is_some_and(|r| &r == request);
    if !same {
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(at(dir))?;
        }
        std::fs::create_dir_all(dir).map_err(at(dir))?;
        write_atomic(&request_path, request.to_string().as_bytes())?;
    }
    Ok(same)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("persist-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn temporary_names_keep_the_extension() {
        let p = Path::new("/d/curves.png");
        assert_eq!(temporary_path(p), Path::new("/d/.curves.png.partial.png"));
        assert_eq!(
            temporary_path(Path::new("/d/model")),
            Path::new("/d/.model.partial")
        );
    }

    #[test]
    fn a_failed_writer_leaves_nothing_and_keeps_the_old_file() {
        let dir = scratch("fail");
        let path = dir.join("out.txt");
        write_atomic(&path, b"old").unwrap();
        let r: Result<()> = write_with(&path, |tmp| {
            std::fs::write(tmp, b"half").unwrap();
            Err(at(tmp)(std::io::Error::other("disk full")))
        });
        assert!(r.unwrap_err().to_string().ends_with("disk full"));
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        write_stream(&path, |w| w.write_all(b"new")).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
    }

    #[test]
    fn a_folder_replaces_the_old_one_whole() {
        let dir = scratch("folder");
        let out = dir.join("model");
        for content in ["first", "second"] {
            write_with(&out, |tmp| {
                std::fs::create_dir_all(tmp).map_err(at(tmp))?;
                std::fs::write(tmp.join(content), b"x").map_err(at(tmp))
            })
            .unwrap();
        }
        let names: Vec<_> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["second"]);
    }

    #[test]
    fn a_checkpoint_is_kept_only_for_the_same_request() {
        let dir = scratch("checkpoint").join("job");
        let a = serde_json::json!({"seed": 1});
        assert!(!open_checkpoint(&dir, &a).unwrap());
        std::fs::write(dir.join("result"), b"1").unwrap();
        assert!(open_checkpoint(&dir, &a).unwrap());
        assert!(dir.join("result").exists());
        assert!(!open_checkpoint(&dir, &serde_json::json!({"seed": 2})).unwrap());
        assert!(!dir.join("result").exists());
    }
}
