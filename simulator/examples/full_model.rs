//! Runs the bundled c302 D1 model for 500 ms with PLML, PLMR, AVBL and AVBR stimulated
//! (15 pA, 100–400 ms) and prints the wall time: a quick profile target.
//!
//! `cargo run --release -p simulator --example full_model [DT] [cn] [per-segment]`

#[path = "../tests/common/reference.rs"]
mod reference;

use std::path::Path;

use simulator::{build, Method, Options};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dt: f64 = args.get(1).map(|s| s.parse().unwrap()).unwrap_or(0.1);
    let method = if args.iter().any(|a| a == "cn") {
        Method::CrankNicolson
    } else {
        Method::BackwardEuler
    };
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let t0 = std::time::Instant::now();
    let model = neuroml::load(root.join("models/c302_D1/LEMS_c302_D1.xml")).unwrap();
    let mut sim = build(
        &model,
        &Options {
            dt,
            method,
            discretization: if args.iter().any(|a| a == "per-segment") {
                simulator::Discretization::PerSegment
            } else {
                simulator::Discretization::PerCable
            },
            ..Options::default()
        },
    )
    .unwrap();
    reference::stimulate(&mut sim);
    let setup = t0.elapsed();
    let probe = sim.probe("AVBR/0/AVBR/v").unwrap();
    let t1 = std::time::Instant::now();
    let traces = sim.run(500.0, &[probe], 10).unwrap();
    println!(
        "setup {:.3} s, simulate {:.3} s, {} nodes, {} CG iterations, AVBR v(500) = {:.3} mV",
        setup.as_secs_f64(),
        t1.elapsed().as_secs_f64(),
        sim.nodes(),
        sim.total_iterations,
        traces.values[0].last().unwrap()
    );
}
