//! Dataset generation at scale: the `fcm` scenario, 40 sequences × 500 ms at dt 0.1 ms on
//! every core, beside NEURON's simulate time for one such run measured in the same run
//! (`tools/neuron_bench.py`, when `pynml` and `neuron` are installed).
//!
//! `cargo bench -p datasets --bench generate`

#[path = "../../tools/neuron_bench.rs"]
mod neuron_bench;

use std::path::Path;
use std::time::Instant;

use datasets::{generate, Generation, Scenario};

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let model = neuroml::load(root.join("models/c302_D1/LEMS_c302_D1.xml")).unwrap();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    for dt in [0.5, 0.1] {
        let generation = Generation::new(Scenario::builtin("fcm").unwrap(), dt);
        let t = Instant::now();
        let d = generate(&model, &generation, &|_| {}).unwrap();
        println!(
            "fcm, {} sequences x 500 ms at dt {dt} ms (+1 s settling), {cores} cores: {:.2} s",
            d.sequences,
            t.elapsed().as_secs_f64()
        );
    }
    let neuron = neuron_bench::neuron_simulate_seconds(root);
    match neuron {
        Some(s) => println!("NEURON 9 (jNeuroML export), one 500 ms run at dt 0.1: simulate {s:.2} s; 40 such runs serially: {:.0} s", 40.0 * s),
        None => println!("NEURON: not run (needs `pip install neuron pyneuroml c302` and Java)"),
    }
}
