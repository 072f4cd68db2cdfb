//! The NEURON reference traces (`tests/reference/`) and the stimulus of the full-model
//! case, shared by `tests/vs_neuron.rs`, `examples/accuracy.rs`, `examples/full_model.rs`
//! and `benches/full_model.rs` (included with `#[path]`), so that every comparison and
//! timing uses the stimulus the traces were made with.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use simulator::inputs::Waveform;
use simulator::Simulation;

/// The cells the full-model case stimulates.
pub const STIMULATED: [&str; 4] = ["PLML", "PLMR", "AVBL", "AVBR"];

/// `tests/reference/`.
pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference")
}

/// The full-model case's stimulus on each of [`STIMULATED`]: 15 pA from 100 to 400 ms at
/// the soma (c302's `unphysiological_offset_current`).
pub fn stimulate(sim: &mut Simulation) {
    for cell in STIMULATED {
        sim.add_input(
            cell,
            0,
            0.5,
            1.0,
            Waveform::Pulse {
                delay: 100.0,
                duration: 300.0,
                amplitude: 0.015,
            },
        )
        .unwrap();
    }
}

/// A reference table: header names and rows (time_ms first).
pub struct Table {
    pub names: Vec<String>,
    pub rows: Vec<Vec<f64>>,
}

/// Reads a reference table (`#` lines are provenance).
pub fn read_table(path: &Path) -> Table {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines().filter(|l| !l.starts_with('#'));
    let names = lines
        .next()
        .unwrap()
        .split_whitespace()
        .map(String::from)
        .collect();
    let rows = lines
        .map(|l| l.split_whitespace().map(|x| x.parse().unwrap()).collect())
        .collect();
    Table { names, rows }
}
