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

/// A NeuroML `iafCell` (simulated from its LEMS definition) driven by a current step
/// fires with the closed-form period τ·ln((v∞ − reset)/(v∞ − thresh)), and each of its
/// spikes reaches the cell it drives after the connection's delay, as an `expTwoSynapse`
/// event: g(t) = w·gbase·(e^{−s/τd} − e^{−s/τr})/(e^{−tp/τd} − e^{−tp/τr}), s = t − spike − delay.
#[test]
fn integrate_and_fire_period_and_synaptic_event_are_exact() {
    let model =
        neuroml::load(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/models/iaf_pair.nml"))
            .unwrap();
    let dt = 0.001;
    let mut sim = build(
        &model,
        &Options {
            dt,
            ..Options::default()
        },
    )
    .unwrap();
    let probes = [
        sim.probe("P/0/iaf/v").unwrap(),
        sim.probe("Q/0/iaf/v").unwrap(),
    ];
    let traces = sim.run(130.0, &probes, 1).unwrap();
    let (tau, v_inf) = (30.0f64, -25.0f64);
    let period = tau * ((v_inf + 50.0) / (v_inf + 30.0)).ln();
    // Resets of P: the sample after the last one above threshold is back near -50 mV.
    let p = &traces.values[0];
    let resets: Vec<f64> = (1..p.len())
        .filter(|&i| p[i - 1] > -30.0 && p[i] < -49.0)
        .map(|i| traces.time[i - 1])
        .collect();
    assert_eq!(resets.len(), 2, "{resets:?}");
    assert!(
        (resets[0] - 20.0 - period).abs() < 3.0 * dt,
        "{resets:?} vs {period}"
    );
    assert!(
        (resets[1] - resets[0] - period).abs() < 3.0 * dt,
        "{resets:?} vs {period}"
    );
    // Q stays at rest until the first spike's event arrives, one delay after P crossed
    // the threshold (between the samples around it, linearly).
    let q = &traces.values[1];
    let i = ((resets[0]) / dt).round() as usize;
    let crossing = traces.time[i] - dt * (p[i] + 30.0) / (p[i] - p[i - 1]);
    let arrival = crossing + 1.0;
    for (t, v) in traces.time.iter().zip(q) {
        if *t <= arrival {
            assert!(
                (v + 50.0).abs() < 1e-12,
                "Q moved at {t} ms before the event: {v}"
            );
        }
    }
    // Then it follows C dv/dt = gL (EL − v) + g(t) (E − v): integrate the exact g with
    // small steps and compare 10 ms later.
    let (tr, td) = (3.0f64, 10.0f64);
    let tp = (td / tr).ln() * tr * td / (td - tr);
    let factor = 1.0 / ((-tp / td).exp() - (-tp / tr).exp());
    let (gbase, w, c, gl) = (5e-5, 2.0, 3e-3, 1e-4); // µS, -, nF, µS
    let g = |s: f64| w * gbase * factor * ((-s / td).exp() - (-s / tr).exp());
    let (mut v, h) = (-50.0f64, 1e-5);
    let mut s = 0.0;
    while s < 10.0 - h / 2.0 {
        // Midpoint rule: second order, far below the tolerance.
        let f = |s: f64, v: f64| (gl * (-50.0 - v) + g(s) * (0.0 - v)) / c;
        let k = f(s + h / 2.0, v + h / 2.0 * f(s, v));
        v += h * k;
        s += h;
    }
    // The exact solution 10 ms after the event, at the sample after it (linearly).
    let after = ((arrival + 10.0) / dt).ceil() as usize;
    let (t1, q1) = (traces.time[after], q[after]);
    let slope = (q[after] - q[after - 1]) / dt;
    let exact = v + slope * (t1 - arrival - 10.0);
    assert!(
        (q1 - exact).abs() < 2e-4,
        "Q at {t1} ms: {q1} mV, exact {exact} mV"
    );
}

/// Variable steps (`run_adaptive`) on the RC compartment with a current pulse whose edges
/// fall between samples: the steps land on the edges, and the error falls with the
/// tolerance while the step count grows.
#[test]
fn variable_steps_follow_the_rc_solution() {
    let area = PI * 20.0 * 20.0;
    let g = 1e-6 * area;
    let amplitude = 0.01;
    let (delay, duration) = (5.3, 20.0);
    let exact = |t: f64| {
        let swing = amplitude / g;
        if t < delay {
            -70.0
        } else if t < delay + duration {
            -70.0 + swing * (1.0 - (-(t - delay) / 10.0).exp())
        } else {
            -70.0
                + swing
                    * (1.0 - (-duration / 10.0f64).exp())
                    * (-(t - delay - duration) / 10.0).exp()
        }
    };
    let run = |rtol: f64| {
        let mut sim = build(&model(), &Options::default()).unwrap();
        sim.add_input(
            "rc",
            0,
            0.5,
            1.0,
            Waveform::Pulse {
                delay,
                duration,
                amplitude,
            },
        )
        .unwrap();
        let probe = sim.probe("rc/v").unwrap();
        let (traces, stats) = sim
            .run_adaptive(
                60.0,
                &[probe],
                0.5,
                &simulator::StepControl {
                    max_step: 1.0,
                    ..simulator::StepControl::new(rtol)
                },
            )
            .unwrap();
        assert_eq!(traces.time.len(), 121);
        for (k, t) in traces.time.iter().enumerate() {
            assert!((t - k as f64 * 0.5).abs() < 1e-12, "sample {k} at {t}");
        }
        assert!((sim.t - 60.0).abs() < 1e-12);
        let worst = traces
            .time
            .iter()
            .zip(&traces.values[0])
            .fold(0.0f64, |m, (&t, v)| m.max((v - exact(t)).abs()));
        (worst, stats.steps)
    };
    let swing = amplitude / g;
    let (loose, loose_steps) = run(1e-3);
    let (tight, tight_steps) = run(1e-8);
    // rtol 1e-3 takes the longest steps allowed (1 ms) almost throughout.
    assert!(loose_steps < 120, "rtol 1e-3: {loose_steps} steps");
    assert!(
        loose < 1e-3 * swing,
        "rtol 1e-3: error {loose} mV of {swing}"
    );
    assert!(
        tight < 1e-5 * swing,
        "rtol 1e-8: error {tight} mV of {swing}"
    );
    assert!(
        tight < loose / 30.0,
        "errors {tight} (1e-8) and {loose} (1e-3)"
    );
    assert!(
        tight_steps > 4 * loose_steps,
        "steps {loose_steps} (1e-3), {tight_steps} (1e-8)"
    );
}
