//! Errors of dataset generation and files.

use std::path::PathBuf;

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A scenario, generation setting or file content is not acceptable.
    #[error("{0}")]
    Invalid(String),
    /// The simulator refused or failed.
    #[error(transparent)]
    Simulation(#[from] simulator::Error),
    /// Reading or writing an HDF5 file failed.
    #[error("{path}: {message}")]
    Hdf5 {
        /// The file.
        path: PathBuf,
        /// What HDF5 said.
        message: String,
    },
    /// Other file-system failures.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// Result with [`Error`].
pub type Result<T> = std::result::Result<T, Error>;

impl From<persist::Error> for Error {
    fn from(e: persist::Error) -> Self {
        Error::Io {
            path: e.path,
            source: e.cause,
        }
    }
}
