//! # paper: the paper's pipeline on dataset files
//!
//! Where the simulator's datasets meet the surrogates. The crates below it know nothing of
//! each other's types: `surrogate` reads plain arrays ([`surrogate::DataView`]), `datasets`
//! reads and writes HDF5 files; [`data`] joins them. The paper's experiments (their plan,
//! dataset cache, statistics, tables, figures and report) are to move here from the
//! program's `src/experiment.rs`.
//!
//! * [`data`]: a dataset file as the surrogate's view, and its splits.
#![warn(missing_docs)]

pub mod data;

pub use data::{splits, view};
