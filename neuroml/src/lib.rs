//! # neuroml: NeuroML2 + LEMS → a typed model description
//!
//! This crate reads the files OpenWorm's c302 writes (and NeuroML2/LEMS models like them)
//! into plain Rust data, with every quantity converted once into one internal unit
//! system (see [`units`]). It knows segments, segment groups, channels, synapses, inputs,
//! networks, LEMS ComponentTypes and simulations; it knows nothing of time steps or
//! compartments — that is the simulator's business.
//!
//! ## Workflow
//!
//! ```no_run
//! let model = neuroml::load("models/c302_D1/LEMS_c302_D1.xml")?;
//! let net = model.network().expect("a network");
//! println!("{} populations, {} projections", net.populations.len(), net.projections.len());
//! let s = model.summary();
//! println!("{} cells, {} gap junctions", s.cells, s.gap_junctions);
//! # Ok::<(), neuroml::Error>(())
//! ```
//!
//! 1. [`load`] parses the file given and every file it includes (relative to the
//!    including file), declares `<Dimension>`, `<Unit>` and `<ComponentType>` from all of
//!    them, then reads cells, channels, synapses, inputs, networks and simulations.
//! 2. References are checked: a channel density's channel, a species' concentration
//!    model, a connection's populations, cells and segments, a LEMS expression's names.
//! 3. The first problem found is returned as an [`Error`] naming `file:line: element`.
//!
//! ## Internal units
//!
//! ms, mV, µm, nA, µS, nF, mM (coherent; see [`units`] for the derived ones). Each field
//! documents its unit, e.g. [`cell::ChannelDensity::cond_density`] is in µS/µm².
#![warn(missing_docs)]

pub mod cell;
pub mod channel;
mod context;
pub mod core_dynamics;
pub mod core_types;
pub mod error;
pub mod expr;
pub mod lems;
mod lems_read;
pub mod model;
pub mod morphology;
pub mod network;
mod reader;
pub mod synapse;
pub mod units;
mod validate;
pub mod xml;

pub use error::{Error, ErrorKind, Result};
pub use model::{Model, Origin, Summary};
pub use reader::{load, load_partial, load_partial_with, load_with};
