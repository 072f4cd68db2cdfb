//! # paper: the paper's pipeline on dataset files
//!
//! Where the simulator's datasets meet the surrogates, and the program's workflows built on
//! both. The crates below it know nothing of each other's types: `surrogate` reads plain
//! arrays ([`surrogate::DataView`]), `datasets` reads and writes HDF5 files; [`data`] joins
//! them. The program (`celegans`) parses arguments and prints; the work is here.
//!
//! * [`bundled`]: the c302 D1 model compiled into the library, and a model's file hash.
//! * [`data`]: a dataset file as the surrogate's view, and its splits.
//! * [`plan`]: datasets generated once and models trained (or resumed) under one folder.
//! * [`trained`]: a trained model's statistics over runs, and its trace and saliency figures.
//! * [`experiments`]: the paper's experiments 1 to 5, their tables and `REPORT.md`.
//! * [`pipeline`]: the main job in miniature (dataset, GRU-4, RMSE, speed, report).
//! * [`speed`]: wall time of the simulator against a surrogate on the same stimulus.
//! * [`figures`], [`table`]: PNG line charts and Markdown/CSV tables.
#![warn(missing_docs)]

pub mod bundled;
pub mod data;
pub mod experiments;
pub mod figures;
pub mod pipeline;
pub mod plan;
pub mod speed;
pub mod table;
pub mod trained;

pub use data::{splits, view};
pub use plan::Plan;
