//! The running network: shared synapse states, superposed event synapses, runaway
//! detection.

use crate::inputs::Waveform;
use crate::{build, Options};

/// Synapses whose states are advanced once per group (see `synapses::SharedStates`)
/// give the same network, bit for bit, as every synapse advancing its own states.
#[test]
fn shared_synapse_states_change_nothing() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap();
    let model = neuroml::load(root.join("models/c302_D1/LEMS_c302_D1.xml")).unwrap();
    let mut shared = build(&model, &Options::default()).unwrap();
    for cell in ["PLML", "AVBR"] {
        shared
            .add_input(
                cell,
                0,
                0.5,
                1.0,
                Waveform::Pulse {
                    delay: 5.0,
                    duration: 30.0,
                    amplitude: 0.05,
                },
            )
            .unwrap();
    }
    let mut own = shared.clone();
    assert!(shared
        .lems_synapses
        .iter()
        .all(|s| s.groups().is_some_and(|g| g * 4 < s.node.len())));
    own.lems_synapses.iter_mut().for_each(|s| s.unshare());
    let a = shared.run(40.0, &[], 1).unwrap();
    let b = own.run(40.0, &[], 1).unwrap();
    assert_eq!(a, b);
    assert_eq!(shared.v, own.v);
    assert!(
        shared
            .v
            .iter()
            .zip(&shared.layout.initial_v)
            .any(|(v, v0)| (v - v0).abs() > 1.0),
        "the network moved"
    );
}

/// Event-driven synapses of one type and parameters on one node, merged into one instance
/// that receives every connection's events (each with its weight and delay), give the
/// voltages of one instance per connection, to rounding; other parameters stay apart.
#[test]
fn superposed_synapses_equal_one_instance_per_connection() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let model = neuroml::load(root.join("tests/models/iaf_converging.nml")).unwrap();
    let run = |superpose: bool| {
        let options = Options {
            dt: 0.01,
            superpose,
            ..Options::default()
        };
        let mut sim = build(&model, &options).unwrap();
        let instances: usize = sim.lems_synapses.iter().map(|s| s.node.len()).sum();
        let q = sim.probe("Q/0/iaf/v").unwrap();
        (instances, sim.run(300.0, &[q], 1).unwrap().values.remove(0))
    };
    let (merged, a) = run(true);
    let (apart, b) = run(false);
    // P's two, R's "syn" and "syn_copy" (same parameters) on one; "syn_slow" on its own.
    assert_eq!((merged, apart), (2, 5));
    let largest = a
        .iter()
        .zip(&b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f64::max);
    assert!(largest < 1e-9, "largest difference {largest} mV");
    let highest = b.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    assert!(highest > -45.0, "Q did not move: at most {highest} mV");
}

/// The states lead the voltage by half the step in use: dt/2 after the first step, a
/// longer step's lead spent by holding the states when dt shrinks, topped up when it grows.
#[test]
fn states_lead_by_half_a_step() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let model = neuroml::load(root.join("tests/models/passive.nml")).unwrap();
    let mut sim = build(
        &model,
        &Options {
            dt: 0.1,
            ..Options::default()
        },
    )
    .unwrap();
    assert_eq!(sim.lead, 0.0);
    let mut leads = Vec::new();
    for dt in [0.1, 0.1, 0.5, 0.1, 0.1, 0.1, 0.1] {
        sim.set_dt(dt);
        sim.step().unwrap();
        leads.push((sim.lead * 1e9).round() / 1e9);
    }
    assert_eq!(leads, [0.05, 0.05, 0.25, 0.15, 0.05, 0.05, 0.05]);
    // Rounding never leaves the lead short of dt/2, which would cost an extra
    // half-step state update (and current evaluation) every step.
    for dt in [0.005, 0.01, 0.02, 0.025, 0.04, 0.3] {
        sim.initialise();
        assert_eq!(sim.lead, 0.0);
        sim.set_dt(dt);
        for _ in 0..100 {
            sim.step().unwrap();
            assert!(
                sim.lead >= dt / 2.0 && sim.lead < dt / 2.0 * (1.0 + 1e-9),
                "dt {dt}: lead {}",
                sim.lead
            );
        }
    }
}

/// A current no cell survives stops the run with an error naming the cell, its
/// compartment and the time.
#[test]
fn runaway_voltage_is_an_error_naming_the_place() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap();
    let model = neuroml::load(root.join("models/c302_D1/LEMS_c302_D1.xml")).unwrap();
    let mut sim = build(&model, &Options::default()).unwrap();
    sim.add_input(
        "PLML",
        0,
        0.5,
        1.0,
        Waveform::Pulse {
            delay: 1.0,
            duration: 50.0,
            amplitude: -5.0,
        },
    )
    .unwrap();
    let err = sim.run(50.0, &[], 1).unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, crate::Error::Runaway { .. }), "{text}");
    assert!(text.contains("PLML") && text.contains("t = "), "{text}");
    assert!(sim.t > 1.0 && sim.t < 50.0, "stopped at {}", sim.t);
}
