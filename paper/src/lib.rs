//! # paper: the paper's pipeline on dataset files
//!
//! Where the simulator's datasets meet the surrogates: training on a dataset file, the
//! paper's five experiments with their tables, figures and report, and the main job in
//! miniature. The crates below it know nothing of each other's types: `surrogate` reads
//! plain arrays ([`surrogate::DataView`]), `datasets` writes HDF5 files; [`data`] joins them.
//!
//! * [`data`]: a dataset file as the surrogate's view, and a model's input columns.
#![warn(missing_docs)]

pub mod data;

pub use data::{splits, view};
