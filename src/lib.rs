//! `celegans`: read, simulate and learn the C. elegans connectome.
//!
//! The program only wires the crates together: `neuroml` reads models, `simulator`
//! discretizes and integrates them, `datasets` makes stimulus/response files and
//! `surrogate` trains reduced models on them. [`cli`] is the command line; [`api`] is what
//! the command line and the Python package (`python/`) share: requests in, arrays out.

#![warn(missing_docs)]

pub mod api;
mod bench;
mod c_exp;
pub mod cli;
mod dataset;
mod experiment;
mod learn;
mod model_info;
mod pipeline;
mod simulate;
