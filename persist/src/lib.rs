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
//!   any other starts afresh; [`write_checked`] and [`read_checked`] store each partial
//!   result with a SHA-256 checksum, so that a damaged one is recomputed, never used.
//!
//! [`lock`] makes each output one process's: a second job writing the same path fails at
//! once instead of mixing its results with the first's.
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

/// As [`write_with`], with the temporary path chosen by the caller. Whatever an earlier,
/// interrupted write left at `tmp` is removed first, so a folder written there holds only
/// what this write puts in it.
pub fn write_via<T, E: From<Error>>(
    tmp: &Path,
    path: &Path,
    write: impl FnOnce(&Path) -> std::result::Result<T, E>,
) -> std::result::Result<T, E> {
    remove(tmp);
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
    write_with(path, |tmp| stream_into(tmp, fill).map_err(at(path)))
}

/// Creates `path` (no temporary: for a writer that already has one, as
/// [`write_group`]'s) and fills it through a buffered stream, flushed before returning.
pub fn stream_into(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut f = std::io::BufWriter::new(std::fs::File::create(path)?);
    fill(&mut f)?;
    f.into_inner().map_err(|e| e.into_error()).map(drop)
}

/// Writes several files as one output (a simulation's output files, a folder of figures):
/// `write(k, tmp)` fills the temporary path of `paths[k]`; only when every one succeeded are
/// they renamed into place. On the first failure every temporary is removed and no path is
/// touched.
pub fn write_group<E: From<Error>>(
    paths: &[PathBuf],
    mut write: impl FnMut(usize, &Path) -> std::result::Result<(), E>,
) -> std::result::Result<(), E> {
    let temporaries: Vec<PathBuf> = paths.iter().map(|p| temporary_path(p)).collect();
    let written = (0..paths.len()).try_for_each(|k| write(k, &temporaries[k]));
    if let Err(e) = written {
        temporaries.iter().for_each(|t| remove(t));
        return Err(e);
    }
    for (tmp, path) in temporaries.iter().zip(paths) {
        if let Err(e) = replace(tmp, path) {
            temporaries.iter().for_each(|t| remove(t));
            return Err(e.into());
        }
    }
    Ok(())
}

/// An output whose folder cannot be created: the output, and why its folder failed.
fn folder_error(output: &Path, folder: &Path, e: std::io::Error) -> Error {
    Error {
        path: output.to_path_buf(),
        cause: std::io::Error::new(
            e.kind(),
            format!("cannot create its folder {}: {e}", folder.display()),
        ),
    }
}

/// Checks, before a long job, that `path` can be written: its folder is created if needed
/// and a temporary file is created there and removed.
pub fn check_writable(path: &Path) -> Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| folder_error(path, parent, e))?;
    }
    // A name of its own: the temporary path may already hold a job's checkpoint folder.
    let probe = hidden_beside(path, "writable");
    std::fs::write(&probe, b"").map_err(at(path))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
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

/// An exclusive claim on an output path, held until dropped (or the process ends, however
/// it ends: the operating system releases the lock).
#[derive(Debug)]
pub struct Lock {
    file: std::fs::File,
    path: PathBuf,
}

/// Why [`lock`] failed.
#[derive(Debug)]
pub enum LockError {
    /// Another process holds the output.
    Busy {
        /// The output.
        output: PathBuf,
        /// Its lock file.
        lock: PathBuf,
    },
    /// The lock file could not be created or locked.
    Io(Error),
}

impl std::fmt::Display for LockError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LockError::Busy { output, lock } => write!(
                f,
                "{}: another process is writing this output (it holds {}); wait for it or choose another output",
                output.display(),
                lock.display()
            ),
            LockError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for LockError {}

/// The lock file of `output`: `.NAME.lock` beside it.
pub fn lock_path(output: &Path) -> PathBuf {
    hidden_beside(output, "lock")
}

/// `.NAME.SUFFIX` beside `path` (`NAME` its file name, "output" where it has none).
fn hidden_beside(path: &Path, suffix: &str) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "output".into());
    path.with_file_name(format!(".{name}.{suffix}"))
}

/// Claims `output` (a file or folder, existing or not) for this process: fails at once with
/// [`LockError::Busy`] when another process holds it. The lock file is removed when the
/// lock is dropped.
pub fn lock(output: &Path) -> std::result::Result<Lock, LockError> {
    let path = lock_path(output);
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| LockError::Io(folder_error(output, parent, e)))?;
    }
    loop {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| LockError::Io(at(&path)(e)))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(LockError::Busy {
                    output: output.to_path_buf(),
                    lock: path,
                })
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(LockError::Io(at(&path)(e))),
        }
        // The holder before us may have removed the file between our open and our lock:
        // then we hold a lock on a name nobody else sees, so take the lock again.
        if same_file(&file, &path) {
            return Ok(Lock { file, path });
        }
    }
}

#[cfg(unix)]
fn same_file(file: &std::fs::File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_: &std::fs::File, path: &Path) -> bool {
    path.exists()
}

impl Drop for Lock {
    fn drop(&mut self) {
        // Remove the name while still holding the lock, then release it.
        let _ = std::fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

/// Length of the checksum [`write_checked`] appends \[bytes\].
const CHECKSUM_LEN: usize = 32;

/// Writes `bytes` followed by their SHA-256, atomically: a checkpoint entry that
/// [`read_checked`] returns only while it is intact.
pub fn write_checked(path: &Path, bytes: &[u8]) -> Result<()> {
    use sha2::Digest;
    let mut all = Vec::with_capacity(bytes.len() + CHECKSUM_LEN);
    all.extend_from_slice(bytes);
    all.extend_from_slice(&sha2::Sha256::digest(bytes));
    write_atomic(path, all)
}

/// The bytes [`write_checked`] wrote to `path`, or None when the file is missing, shorter
/// than its checksum, or does not match it (damaged, truncated, or not written by
/// [`write_checked`]).
pub fn read_checked(path: &Path) -> Option<Vec<u8>> {
    use sha2::Digest;
    let mut all = std::fs::read(path).ok()?;
    let split = all.len().checked_sub(CHECKSUM_LEN)?;
    let intact = sha2::Sha256::digest(&all[..split]).as_slice() == &all[split..];
    all.truncate(split);
    intact.then_some(all)
}

/// SHA-256 of `bytes` as 64 hexadecimal digits.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh folder, removed when the returned guard is dropped.
    fn scratch(name: &str) -> tempfile::TempDir {
        tempfile::Builder::new()
            .prefix(&format!("persist-{name}-"))
            .tempdir()
            .unwrap()
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
        let tmp = scratch("fail");
        let dir = tmp.path();
        let path = dir.join("out.txt");
        write_atomic(&path, b"old").unwrap();
        let r: Result<()> = write_with(&path, |tmp| {
            std::fs::write(tmp, b"half").unwrap();
            Err(at(tmp)(std::io::Error::other("disk full")))
        });
        assert!(r.unwrap_err().to_string().ends_with("disk full"));
        assert_eq!(std::fs::read(&path).unwrap(), b"old");
        assert_eq!(std::fs::read_dir(dir).unwrap().count(), 1);
        write_stream(&path, |w| w.write_all(b"new")).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"new");
    }

    #[test]
    fn a_folder_replaces_the_old_one_whole() {
        let tmp = scratch("folder");
        let dir = tmp.path();
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
        let tmp = scratch("checkpoint");
        let dir = tmp.path().join("job");
        let a = serde_json::json!({"seed": 1});
        assert!(!open_checkpoint(&dir, &a).unwrap());
        std::fs::write(dir.join("result"), b"1").unwrap();
        assert!(open_checkpoint(&dir, &a).unwrap());
        assert!(dir.join("result").exists());
        assert!(!open_checkpoint(&dir, &serde_json::json!({"seed": 2})).unwrap());
        assert!(!dir.join("result").exists());
    }

    #[test]
    fn a_damaged_checked_entry_is_not_returned() {
        let tmp = scratch("checked");
        let dir = tmp.path();
        let path = dir.join("000001.bin");
        write_checked(&path, b"partial result").unwrap();
        assert_eq!(read_checked(&path).as_deref(), Some(&b"partial result"[..]));
        // One bit flipped, same length.
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[3] ^= 0x10;
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(read_checked(&path), None);
        // Truncated, and missing.
        std::fs::write(&path, b"short").unwrap();
        assert_eq!(read_checked(&path), None);
        assert_eq!(read_checked(&dir.join("none.bin")), None);
    }

    #[test]
    fn one_holder_per_output() {
        let tmp = scratch("lock");
        let dir = tmp.path();
        let out = dir.join("data.h5");
        let first = lock(&out).unwrap();
        match lock(&out) {
            Err(LockError::Busy { output, lock }) => {
                assert_eq!(output, out);
                assert_eq!(lock, dir.join(".data.h5.lock"));
            }
            other => panic!("second lock: {other:?}"),
        }
        drop(first);
        assert!(!dir.join(".data.h5.lock").exists());
        let again = lock(&out).unwrap();
        drop(again);
    }

    #[test]
    fn a_group_is_written_whole_or_not_at_all() {
        let tmp = scratch("group");
        let dir = tmp.path();
        let paths = vec![dir.join("a.dat"), dir.join("b.dat")];
        let failed: std::result::Result<(), Error> = write_group(&paths, |k, tmp| {
            if k == 1 {
                return Err(at(tmp)(std::io::Error::other("disk full")));
            }
            std::fs::write(tmp, b"a").map_err(at(tmp))
        });
        assert!(failed.is_err());
        assert_eq!(
            std::fs::read_dir(dir).unwrap().count(),
            0,
            "something was left"
        );
        write_group::<Error>(&paths, |_, tmp| std::fs::write(tmp, b"x").map_err(at(tmp))).unwrap();
        assert!(paths.iter().all(|p| std::fs::read(p).unwrap() == b"x"));
        assert!(check_writable(&dir.join("sub/c.dat")).is_ok());
        assert!(!dir.join("sub/.c.dat.writable").exists());
        // A job's checkpoint folder at the temporary path is left alone.
        std::fs::create_dir_all(dir.join(".model.partial/runs")).unwrap();
        assert!(check_writable(&dir.join("model")).is_ok());
        assert!(dir.join(".model.partial/runs").is_dir());
    }
}
