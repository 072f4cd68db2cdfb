//! Stimulus files, simulation requests and sizes: invalid shapes, impossible steps, memory limits.

use super::*;

/// Stimulus files (`predict --stimulus`, `simulate --stimulus`): each mistake names the file
/// (and line, where TOML knows it) and what is wrong, instead of a NaN prediction, a stimulus
/// silently dropped or summed, or an allocation abort.
#[test]
fn stimulus_files() {
    let dir = scratch("stimulus");
    let model = model(&dir);
    let pulse = |neuron: &str, amplitude: &str, shape: &str| {
        format!(
            "[[input]]\nneuron = \"{neuron}\"\namplitude = {amplitude}\nshape = {{ {shape} }}\n"
        )
    };
    let ok_pulse = r#"kind = "pulse", onset = 5.0, width = 5.0"#;
    let cases = [
        (
            format!("duration = 20.0\n{}", pulse("A", "nan", ok_pulse)),
            "input 1 (A): amplitude is NaN",
        ),
        (
            format!(
                "duration = 20.0\n{}",
                pulse("A", "10.0", r#"kind = "pulse", onset = 5.0, width = -20.0"#)
            ),
            "input 1 (A): width must be positive, not -20",
        ),
        (
            format!(
                "duration = 20.0\n{}",
                pulse("A", "10.0", r#"kind = "pulse", onset = 5.0, widht = 5.0"#)
            ),
            "unknown field `widht`",
        ),
        (
            format!(
                "duration = 20.0\n{}{}",
                pulse("A", "10.0", ok_pulse),
                pulse("A", "5.0", ok_pulse)
            ),
            "input 2 (A): A is listed twice",
        ),
        (
            format!(
                "duration = 20.0\nwhatever = 1\n{}",
                pulse("A", "10.0", ok_pulse)
            ),
            ":2: unknown field `whatever`",
        ),
        (
            format!("duration = 1e12\n{}", pulse("A", "10.0", ok_pulse)),
            "samples x 2 inputs would need",
        ),
        (
            format!(
                "duration = 20.0\ndt = 10.0\n{}",
                pulse("A", "10.0", ok_pulse)
            ),
            "dt 10 ms is longer than the pulse width (5 ms) of A's stimulus",
        ),
        (
            format!(
                "duration = 20.0\ndt = 0.3\n{}",
                pulse("A", "10.0", ok_pulse)
            ),
            "dt 0.3 ms does not divide the duration 20 ms",
        ),
    ];
    for (k, (text, what)) in cases.iter().enumerate() {
        let file = dir.join(format!("stimulus{k}.toml"));
        std::fs::write(&file, text).unwrap();
        let csv = dir.join(format!("p{k}.csv"));
        let out = celegans(&[
            "predict",
            "--model",
            p(&model),
            "--stimulus",
            p(&file),
            "--out",
            p(&csv),
        ]);
        refused(&out, &[p(&file), what]);
        assert!(!csv.exists());
    }
}

/// `simulate` refuses what it cannot do faithfully: a dt longer than the stimulus, a run of
/// more steps than it may take, numbers that are not numbers.
#[test]
fn simulate_refuses_impossible_steps() {
    let dir = scratch("simulate");
    let out = |args: &[&str]| {
        let csv = dir.join("s.csv");
        let mut all = vec!["simulate", "--stimulate", "PLML", "--out", p(&csv)];
        all.extend(args);
        let result = celegans(&all);
        assert!(!csv.exists());
        result
    };
    refused(
        &out(&["--dt", "1000", "--duration", "5000"]),
        &["dt 1000 ms is longer than the pulse width (300 ms) of PLML's stimulus"],
    );
    refused(
        &out(&["--duration", "1e15"]),
        &["1e15 ms at dt 1e-1 ms is 1.000e16 steps"],
    );
    refused(
        &out(&["--dt", "1e-300"]),
        &["5.000e302 steps, more than the 1e9"],
    );
    refused(&out(&["--width=-20"]), &["width must be positive, not -20"]);
    refused(&out(&["--amplitude", "nan"]), &["--amplitude is NaN"]);
}

#[test]
fn absurd_sizes_are_refused_with_the_memory_limit() {
    let dir = scratch("sizes");
    let h5 = dir.join("big.h5");
    refused(
        &celegans(&[
            "dataset",
            "generate",
            "--scenario",
            "fcm",
            "--count",
            "4000000000",
            "--out",
            p(&h5),
        ]),
        &[
            "4000000000 sequences x 1000 samples x 8 channels would need",
            "is available",
        ],
    );
    assert!(!h5.exists());
    let lems = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/c302_D1/LEMS_c302_D1.xml");
    refused(
        &celegans(&[
            "run",
            p(&lems),
            "--discretization",
            "fixed:1000000000",
            "--out-dir",
            p(&dir.join("r")),
        ]),
        &["a network of 2.041e12 compartments would need"],
    );
}

/// A huge stimulus blows the network up: the message names the stimulus, not the time step.
#[test]
fn a_runaway_caused_by_the_stimulus_names_it() {
    let dir = scratch("runaway");
    let csv = dir.join("s.csv");
    refused(
        &celegans(&[
            "simulate",
            "--stimulate",
            "PLML",
            "--amplitude",
            "1e12",
            "--out",
            p(&csv),
        ]),
        &[
            "runaway voltage",
            "PLML[0] receives 1e12 pA of injected current; check the stimulus amplitude",
        ],
    );
    assert!(!csv.exists());
}

/// `simulate --stimulus` with a stimulus lasting 10¹² ms: refused with the memory it would
/// need, not an allocation abort.
#[test]
fn simulate_refuses_a_stimulus_too_long_for_memory() {
    let dir = scratch("long");
    let file = dir.join("long.toml");
    std::fs::write(
        &file,
        "duration = 1e12\n[[input]]\nneuron = \"PLML\"\namplitude = 10.0\nshape = { kind = \"pulse\", onset = 5.0, width = 5.0 }\n",
    )
    .unwrap();
    let csv = dir.join("s.csv");
    let out = celegans(&["simulate", "--stimulus", p(&file), "--out", p(&csv)]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("would need") || err.contains("steps, more than"),
        "{err}"
    );
    assert!(!csv.exists());
}
