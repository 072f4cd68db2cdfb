//! # surrogate
//!
//! Reduced-order recurrent models of a simulated network's input→output behaviour, as in
//! Barbulescu et al. (2023): one recurrent layer (Elman RNN, LSTM or GRU) and a dense
//! read-out at every time step, trained with Adam on burn's CPU backend (Flex).
//!
//! * [`recurrence`]: the recurrences as whole-sequence kernels with hand-written BPTT.
//! * [`ops`]: those kernels as one burn operation (backend extension + autodiff node).
//! * [`model`]: the network, Keras-style initialisation, parameter counts.
//! * [`data`]: a dataset as plain arrays ([`DataView`]), its splits and scaling.
//! * [`train`]: one run's training loop, evaluation and prediction.
//! * [`runs`]: several runs side by side, resumable from a checkpoint folder.
//! * [`store`]: trained model directories (`model.json` + `weights.json`).
#![warn(missing_docs)]

pub mod data;
pub mod model;
pub mod ops;
pub mod recurrence;
pub mod runs;
pub mod store;
pub mod train;

pub use data::{DataView, ScaleMode, Scaling, Splits};
pub use model::{Architecture, Weights};
pub use recurrence::Recurrence;
pub use train::{Loss, Run, Settings};

/// What can go wrong in training and prediction.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request that cannot be met (bad flag value, unknown input, empty split).
    #[error("{0}")]
    Invalid(String),
    /// The user asked the training to stop ([`limits::interrupt`]).
    #[error("interrupted in run {run}, epoch {epoch}")]
    Interrupted {
        /// 1-based run.
        run: usize,
        /// 1-based epoch.
        epoch: usize,
    },
    /// The loss became NaN or infinite.
    #[error("training diverged: the loss is NaN or infinite in run {run}, epoch {epoch} (try a smaller --lr)")]
    Diverged {
        /// 1-based run.
        run: usize,
        /// 1-based epoch.
        epoch: usize,
    },
    /// Every run ended with a model far worse than predicting the mean
    /// ([`runs::NO_BETTER_THAN`]): the loss ran away without becoming NaN.
    #[error("training diverged: the best run's {split} RMSE is {rmse:.3e}, {ratio:.3e} times that of predicting the training mean ({baseline:.3e}); try a smaller --lr (it is {lr:e})")]
    Hopeless {
        /// The split judged (validation, or training when there is no validation set).
        split: &'static str,
        /// The best run's RMSE on it, data units.
        rmse: f64,
        /// The constant training-mean predictor's RMSE on it.
        baseline: f64,
        /// rmse / baseline.
        ratio: f64,
        /// The learning rate used.
        lr: f64,
    },
    /// A model directory that cannot be read.
    #[error("{path}: {message}")]
    Model {
        /// The file.
        path: std::path::PathBuf,
        /// What is wrong.
        message: String,
    },
    /// A file system error.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: std::path::PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

impl From<persist::Error> for Error {
    fn from(e: persist::Error) -> Self {
        Error::Io {
            path: e.path,
            source: e.cause,
        }
    }
}
