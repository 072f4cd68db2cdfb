//! The full c302 D1 model (302 cells, 500 ms, PLML/PLMR/AVBL/AVBR at 15 pA from 100 to
//! 400 ms), one thread, against NEURON's simulate phase measured in the same run
//! (`tools/neuron_bench.py`, when `pynml` and `neuron` are installed).
//!
//! `cargo bench -p simulator --bench full_model`

#[path = "../../tools/neuron_bench.rs"]
mod neuron_bench;
#[path = "../tests/common/reference.rs"]
mod reference;

use std::path::Path;
use std::time::Instant;

use simulator::{build, Discretization, Method, Options};

fn stimulated(model: &neuroml::Model, options: &Options) -> simulator::Simulation {
    let mut sim = build(model, options).unwrap();
    reference::stimulate(&mut sim);
    sim
}

fn simulate_seconds(
    model: &neuroml::Model,
    dt: f64,
    method: Method,
    discretization: Discretization,
) -> (f64, usize) {
    let options = Options {
        dt,
        method,
        discretization,
        ..Options::default()
    };
    let mut best = f64::INFINITY;
    let mut nodes = 0;
    for _ in 0..3 {
        let mut sim = stimulated(model, &options);
        let t = Instant::now();
        sim.run(500.0, &[], 1).unwrap();
        best = best.min(t.elapsed().as_secs_f64());
        nodes = sim.layout.compartments;
    }
    (best, nodes)
}

/// Wall time of `threads` independent runs, one per thread (how datasets use the cores).
fn concurrent_seconds(model: &neuroml::Model, threads: usize) -> f64 {
    let options = Options::default();
    let mut sims: Vec<_> = (0..threads).map(|_| stimulated(model, &options)).collect();
    let t = Instant::now();
    std::thread::scope(|scope| {
        for sim in &mut sims {
            scope.spawn(move || sim.run(500.0, &[], 1).unwrap());
        }
    });
    t.elapsed().as_secs_f64()
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let model = neuroml::load(root.join("models/c302_D1/LEMS_c302_D1.xml")).unwrap();
    let neuron = neuron_bench::neuron_simulate_seconds(root);
    println!("full c302 D1 model, 500 ms, one thread (best of 3)");
    let cases = [
        (
            "per-cable, backward Euler, dt 0.1",
            0.1,
            Method::BackwardEuler,
            Discretization::PerCable,
        ),
        (
            "per-cable, Crank-Nicolson, dt 0.1",
            0.1,
            Method::CrankNicolson,
            Discretization::PerCable,
        ),
        (
            "per-segment, backward Euler, dt 0.1",
            0.1,
            Method::BackwardEuler,
            Discretization::PerSegment,
        ),
        (
            "max-length 20 um, backward Euler, dt 0.1",
            0.1,
            Method::BackwardEuler,
            Discretization::MaxLength(20.0),
        ),
    ];
    for (name, dt, method, disc) in cases {
        let (s, n) = simulate_seconds(&model, dt, method, disc);
        let ratio = neuron
            .map(|t| format!("{:.1}x NEURON per-cable", t / s))
            .unwrap_or_else(|| "NEURON not measured".into());
        println!(
            "{name:44} {n:6} compartments  {s:7.3} s  ({:.1} us/compartment/ms)  {ratio}",
            s * 1e6 / n as f64 / 500.0
        );
    }
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let one = simulate_seconds(&model, 0.1, Method::BackwardEuler, Discretization::PerCable).0;
    let wall = concurrent_seconds(&model, threads);
    println!(
        "{threads} independent runs on {threads} threads (per-cable, BE, dt 0.1): {wall:.3} s wall, \
         {:.2} runs/s = {:.2}x one thread",
        threads as f64 / wall,
        threads as f64 * one / wall
    );
    match neuron {
        Some(t) => println!(
            "NEURON 9 (jNeuroML export), same model and stimulus, dt 0.1: simulate {t:.3} s"
        ),
        None => println!("NEURON: not run (needs `pip install neuron pyneuroml c302` and Java)"),
    }
}
