//! The simulator against closed-form solutions of passive membranes
//! (`tests/models/passive.nml`).

use std::f64::consts::PI;
use std::path::Path;

use simulator::inputs::Waveform;
use simulator::{build, Method, Options};

fn model() -> neuroml::Model {
    neuroml::load(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/models/passive.nml")).unwrap()
}

/// One RC compartment charged by a current step: V(t) = E + I·R·(1 − e^{−t/τ}),
/// τ = c_m / g_m = 10 ms.
#[test]
fn rc_compartment_charges_exponentially() {
    let area = PI * 20.0 * 20.0; // µm²
    let g = 1e-6 * area; // 0.1 mS/cm² = 1e-6 µS/µm²
    let amplitude = 0.01; // nA
    for (method, dt, tolerance) in [
        (Method::BackwardEuler, 0.01, 2e-3),
        (Method::CrankNicolson, 0.1, 1e-4),
    ] {
        let mut sim = build(
            &model(),
            &Options {
                dt,
                method,
                ..Options::default()
            },
        )
        .unwrap();
        sim.add_input(
            "rc",
            0,
            0.5,
            1.0,
            Waveform::Pulse {
                delay: 0.0,
                duration: 1e9,
                amplitude,
            },
        )
        .unwrap();
        let probe = sim.probe("rc/v").unwrap();
        let traces = sim.run(50.0, &[probe], 1).unwrap();
        let mut worst = 0.0f64;
        for (t, v) in traces.time.iter().zip(&traces.values[0]) {
            let exact = -70.0 + amplitude / g * (1.0 - (-t / 10.0).exp());
            worst = worst.max((v - exact).abs());
        }
        let swing = amplitude / g;
        assert!(
            worst < tolerance * swing,
            "{method:?} dt {dt}: error {worst} mV of {swing} mV"
        );
    }
}

/// A sealed cable held by a steady current at one end:
/// V(x) − E = V₀ cosh((L − x)/λ) / cosh(L/λ), with input resistance r_a λ coth(L/λ).
#[test]
fn sealed_cable_steady_state() {
    let (length, d, rho): (f64, f64, f64) = (1000.0, 2.0, 1.0); // µm, µm, Ω·m
                                                                // λ = sqrt(R_m d / (4 ρ)) with R_m = 1/g_m = 1 Ω·m² (0.1 mS/cm²), in µm.
    let lambda = (1.0 * (d * 1e-6) / (4.0 * rho)).sqrt() * 1e6;
    let r_a = 4.0 * rho / (PI * d * d); // MΩ per µm
    let amplitude = 0.001; // nA
    let mut sim = build(
        &model(),
        &Options {
            dt: 0.5,
            ..Options::default()
        },
    )
    .unwrap();
    // The current enters the first compartment (its centre is half a compartment in).
    sim.add_input(
        "cable",
        0,
        0.0,
        1.0,
        Waveform::Pulse {
            delay: 0.0,
            duration: 1e9,
            amplitude,
        },
    )
    .unwrap();
    let fractions = [0.0025, 0.25, 0.5, 0.75, 0.9975];
    let probes: Vec<_> = fractions
        .iter()
        .map(|&f| {
            let cell = &sim.layout.cells[sim.layout.cell_index("cable").unwrap()];
            simulator::Probe {
                node: cell.node_at(0, f).unwrap(),
                quantity: simulator::Quantity::Voltage,
            }
        })
        .collect();
    let traces = sim.run(300.0, &probes, 600).unwrap();
    let v0 = amplitude * r_a * lambda / (length / lambda).tanh();
    for (k, &f) in fractions.iter().enumerate() {
        let x = f * length;
        let exact = -70.0 + v0 * ((length - x) / lambda).cosh() / (length / lambda).cosh();
        let ours = *traces.values[k].last().unwrap();
        assert!(
            (ours - exact).abs() < 0.01 * v0,
            "x = {x} µm: {ours} vs {exact} mV (V0 {v0})"
        );
    }
}
