//! The simulator's errors.

use thiserror::Error;

/// What can go wrong between a model description and its traces.
#[derive(Debug, Error)]
pub enum Error {
    /// The model uses something the simulator cannot run (yet).
    #[error("{what}")]
    Unsupported {
        /// What, with the element and where it was defined.
        what: String,
    },
    /// A quantity, cell or option that does not exist.
    #[error("{0}")]
    Invalid(String),
    /// The user asked the run to stop ([`limits::interrupt`]).
    #[error("interrupted at t = {time} ms")]
    Interrupted {
        /// Simulated time reached \[ms\].
        time: f64,
    },
    /// The membrane potential became NaN or left any physiological range.
    #[error("runaway voltage at t = {time} ms in {location}: v = {value} mV ({cause})")]
    Runaway {
        /// Simulated time \[ms\].
        time: f64,
        /// Cell and compartment.
        location: String,
        /// The offending value \[mV\].
        value: f64,
        /// The likely cause: the current injected into the cell when it is large, else the
        /// time step.
        cause: String,
    },
    /// The linear solver did not reach its tolerance.
    #[error("linear solver did not converge at t = {time} ms (residual {residual:e} after {iterations} iterations)")]
    NoConvergence {
        /// Simulated time \[ms\].
        time: f64,
        /// Final relative residual.
        residual: f64,
        /// Iterations done.
        iterations: usize,
    },
}

/// Result with the simulator's [`Error`](enum@Error).
pub type Result<T> = std::result::Result<T, Error>;
