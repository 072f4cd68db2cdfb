//! # simulator: NeuroML description → compartments → implicit integration → traces
//!
//! Work in progress (issue #3). So far this crate holds the discretization policy, the
//! first step of the pipeline: [`Discretization`] decides how a cell's cables become
//! compartments.
#![warn(missing_docs)]

pub mod discretization;

pub use discretization::Discretization;
