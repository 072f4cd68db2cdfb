//! # datasets
//!
//! Not yet written: see issue #5. The crate exists so that the workspace layout of
//! SPEC.md §2 holds from the start.
#![warn(missing_docs)]
