//! The Rust side of `tools/neuron_bench.py`, shared by the benchmarks that compare with
//! NEURON (`#[path]`-included): runs the script and reads NEURON's simulate time.

use std::path::Path;
use std::process::Command;

/// NEURON's simulate time \[s\] for the full model, 500 ms at dt 0.1 ms, or `None` when
/// `neuron`, `pyneuroml` and `c302` (and Java) are not installed.
pub fn neuron_simulate_seconds(repo: &Path) -> Option<f64> {
    let out = Command::new("python3")
        .arg(repo.join("tools/neuron_bench.py"))
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().last()?;
    let key = "\"neuron_simulate_seconds\": ";
    let start = line.find(key)? + key.len();
    line[start..].split([',', '}']).next()?.trim().parse().ok()
}
