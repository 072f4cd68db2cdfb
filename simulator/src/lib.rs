//! # simulator: NeuroML networks → compartments → implicit integration → traces
//!
//! Stands in for NEURON on c302's networks: the same compartments as jNeuroML's NEURON
//! export, the same fixed-step scheme, without Java, code generation or `nrnivmodl`.
//!
//! ```no_run
//! use simulator::{build, Options};
//! let model = neuroml::load("models/c302_D1/LEMS_c302_D1.xml")?;
//! let mut sim = build(&model, &Options { dt: 0.1, ..Options::default() })?;
//! let probe = sim.probe("AVBL/0/AVBL/v")?;
//! let traces = sim.run(500.0, &[probe], 1)?;
//! println!("{} samples, last v = {} mV", traces.time.len(), traces.values[0].last().unwrap());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## Workflow
//! 1. [`Discretization`] (a policy value) and [`layout::discretize`] turn cells into
//!    nodes: compartments with area, capacitance and axial conductances, numbered
//!    parents-first per cell ([`layout`], geometry in [`geometry`]).
//! 2. [`build`] places mechanisms on nodes, each kind as a struct of arrays:
//!    [`channels`] (HH gates, LEMS gates), [`concentration`] (calcium pools),
//!    [`synapses`] (gap junctions, graded synapses, LEMS synapse types compiled by
//!    [`dynamics`]) and [`inputs`]; spiking projections become [`events`]: threshold
//!    crossings delivered to their synapses after each connection's delay. Cells of LEMS
//!    types (`iafCell`, ...) are [`point_cells`]: one node whose voltage is their `v`.
//! 3. [`Simulation::step`] advances by one step; the phases are written down in
//!    [`simulation`]. The linear system is solved by [`solver::TreeSolver`].
//!
//! ## The cable equation
//! For each compartment k with capacitance C_k:
//!
//! C_k dv_k/dt = Σ_mech i_mech(v_k, ...) + I_inj,k + Σ_j g_kj (v_j − v_k)
//!
//! where mechanisms' currents are inward-positive as in NeuroML (a channel carries
//! ḡ·f·(E − v)), and j runs over axial neighbours (g from the frustums' resistances) and
//! gap-junction partners.
//!
//! ## Internal units
//! ms, mV, µm, nA, µS, nF, mM — the same coherent system as the `neuroml` crate
//! (µS·mV = nA, nF·mV/ms = nA). Each field documents its unit.
#![warn(missing_docs)]

pub mod channels;
pub mod concentration;
pub mod discretization;
pub mod dynamics;
pub mod error;
pub mod events;
pub mod fastmath;
pub mod geometry;
pub mod inputs;
pub mod layout;
pub mod network;
pub mod point_cells;
pub mod simulation;
pub mod solver;
pub mod synapses;

pub use discretization::Discretization;
pub use error::{Error, Result};
pub use network::{build, watch_spikes, Options};
pub use simulation::{Method, Probe, Quantity, Simulation, StepControl, StepStats, Traces};
