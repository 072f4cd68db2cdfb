//! # datasets
//!
//! Stimulus/response datasets from the simulator: the paper's scenarios (forward
//! crawling, nictation, ablations), a seeded library of stimulus shapes, parallel
//! generation at any time step, a diverse train/valid/test split, and the HDF5 file of
//! `docs/file-formats.md`.
//!
//! ```no_run
//! use datasets::{generate, Generation, Scenario};
//! let model = neuroml::load("models/c302_D1/LEMS_c302_D1.xml")?;
//! let scenario = Scenario::builtin("fcm").unwrap();
//! let dataset = generate(&model, &Generation::new(scenario, 0.5), &|_| {})?;
//! dataset.write("fcm_0.5.h5".as_ref())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![warn(missing_docs)]

mod checkpoint;
pub mod dat;
mod error;
pub mod file;
pub mod generate;
pub mod nwb;
pub mod scenario;
pub mod shape;
pub mod shard;
pub mod split;
pub mod stimulus;

pub use error::{Error, Result};
pub use file::Dataset;
pub use generate::{generate, generate_resumable, Generation, Prepared};
pub use scenario::Scenario;
pub use shard::{merge, Shard};
pub use stimulus::{SequenceSpec, Shape, StimulusFile};
