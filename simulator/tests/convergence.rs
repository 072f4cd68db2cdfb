//! Order of accuracy on the bundled c302 D1 network: with Crank–Nicolson and the states
//! staggered half a step, halving dt divides the error by about four.

use std::path::Path;

use simulator::inputs::Waveform;
use simulator::{build, Method, Options};

/// Soma voltages of every cell every 1 ms over the first 60 ms, PLML and AVBL stimulated
/// from 20 ms.
fn run(model: &neuroml::Model, dt: f64) -> Vec<Vec<f64>> {
    let mut sim = build(
        model,
        &Options {
            dt,
            method: Method::CrankNicolson,
            ..Options::default()
        },
    )
    .unwrap();
    for cell in ["PLML", "AVBL"] {
        sim.add_input(
            cell,
            0,
            0.5,
            1.0,
            Waveform::Pulse {
                delay: 20.0,
                duration: 100.0,
                amplitude: 0.015,
            },
        )
        .unwrap();
    }
    let probes: Vec<_> = sim
        .layout
        .cells
        .iter()
        .map(|c| sim.probe(&format!("{}/v", c.population)).unwrap())
        .collect();
    sim.run(60.0, &probes, (1.0 / dt).round() as usize)
        .unwrap()
        .values
}

fn rms(a: &[Vec<f64>], b: &[Vec<f64>]) -> f64 {
    let (mut sq, mut n) = (0.0, 0);
    for (x, y) in a.iter().zip(b) {
        for (p, q) in x.iter().zip(y) {
            sq += (p - q).powi(2);
            n += 1;
        }
    }
    (sq / n as f64).sqrt()
}

/// The states start half a step ahead of the voltage (advanced by dt/2 from their t = 0
/// values); starting them as they are would make the scheme first order.
#[test]
fn crank_nicolson_is_second_order_on_the_full_model() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let model = neuroml::load(root.join("models/c302_D1/LEMS_c302_D1.xml")).unwrap();
    let reference = run(&model, 0.0125);
    let coarse = rms(&run(&model, 0.1), &reference);
    let fine = rms(&run(&model, 0.05), &reference);
    let order = (coarse / fine).log2();
    println!("RMS vs dt 0.0125: dt 0.1 {coarse:.2e} mV, dt 0.05 {fine:.2e} mV, order {order:.2}");
    assert!(coarse > 1e-5, "the comparison sees a difference: {coarse}");
    assert!(order > 1.7, "observed order {order:.2}");
}
