//! End-to-end tests of `celegans dataset import-dat/export-dat`, `train`, `evaluate` and
//! `predict` on a small synthetic dataset in the authors' `.dat` format.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

#[path = "common/command.rs"]
mod command;
#[path = "common/scratch.rs"]
mod scratch;
use command::{celegans, p};

fn scratch(name: &str) -> scratch::Scratch {
    scratch::scratch(&format!("surrogate-{name}"))
}

fn ok(out: &Output) -> Value {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
}

/// Twelve sequences of 200 steps (dt 0.5 ms) in the authors' layout: index, time \[s\],
/// outputs Y1 Y2, inputs U1 U2. Y1 is a leaky integral of U1, Y2 of U1 + U2.
fn write_dat_folder(dir: &Path) {
    for n in 0..12 {
        let mut text = String::new();
        let (mut y1, mut y2) = (-0.065f64, -0.065f64);
        for k in 0..200 {
            let on = |start: usize, width: usize| k >= start && k < start + width;
            let u1 = if on(20 + 7 * n, 30 + 5 * n) { 1.4 } else { 0.0 };
            let u2 = if on(60 + 3 * n, 40) {
                2.3 * (n % 3) as f64 / 2.0
            } else {
                0.0
            };
            writeln!(text, "{k} {} {y1} {y2} {u1} {u2}", k as f64 * 0.0005).unwrap();
            y1 += 0.05 * (-0.065 + 0.3 * u1 - y1);
            y2 += 0.1 * (-0.065 + 0.1 * u1 + 0.2 * u2 - y2);
        }
        std::fs::write(dir.join(format!("Sequence_{:02}.dat", n + 1)), text).unwrap();
    }
    std::fs::write(
        dir.join("split.json"),
        r#"{"train": [1, 2, 4, 5, 7, 9], "valid": [3, 8, 11], "test": [6, 10, 12]}"#,
    )
    .unwrap();
}

fn import(dir: &Path) -> PathBuf {
    let dat = dir.join("dat");
    std::fs::create_dir_all(&dat).unwrap();
    write_dat_folder(&dat);
    let file = dir.join("data.h5");
    let split = dat.join("split.json");
    ok(&celegans(&[
        "dataset",
        "import-dat",
        p(&dat),
        "--inputs",
        "U1,U2",
        "--outputs",
        "Y1,Y2",
        "--split",
        p(&split),
        "--out",
        p(&file),
    ]));
    file
}

#[test]
fn import_export_round_trip_keeps_values_and_split() {
    let dir = scratch("dat");
    let file = import(&dir);
    let info = ok(&celegans(&["dataset", "info", "--json", p(&file)]));
    assert_eq!(info["inputs"], serde_json::json!([12, 200, 2]));
    assert_eq!(info["outputs"], serde_json::json!([12, 200, 2]));
    assert_eq!(
        info["split"],
        serde_json::json!({"train": 6, "valid": 3, "test": 3})
    );
    assert_eq!(info["dt_ms"], 0.5);
    let back = dir.join("back");
    ok(&celegans(&[
        "dataset",
        "export-dat",
        p(&file),
        "--out",
        p(&back),
    ]));
    let split: Value =
        serde_json::from_str(&std::fs::read_to_string(back.join("split.json")).unwrap()).unwrap();
    assert_eq!(split["valid"], serde_json::json!([3, 8, 11]));
    let parse = |path: PathBuf| -> Vec<f64> {
        std::fs::read_to_string(path)
            .unwrap()
            .split_whitespace()
            .map(|v| v.parse::<f64>().unwrap())
            .collect()
    };
    let (a, b) = (
        parse(dir.join("dat/Sequence_07.dat")),
        parse(back.join("Sequence_07.dat")),
    );
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() <= 1e-6 * (1.0 + x.abs()), "{x} vs {y}");
    }
}

#[test]
fn train_evaluate_predict() {
    let dir = scratch("train");
    let file = import(&dir);
    let model = dir.join("gru");
    let out = ok(&celegans(&[
        "train",
        "--data",
        p(&file),
        "--arch",
        "gru",
        "--hidden",
        "4",
        "--epochs",
        "40",
        "--runs",
        "2",
        "--lr",
        "0.02",
        "--out",
        p(&model),
        "--json",
    ]));
    assert_eq!(
        (
            out["arch"].as_str(),
            out["hidden"].as_u64(),
            out["params"].as_u64()
        ),
        (Some("gru"), Some(4), Some(94))
    );
    let runs = out["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(
        (runs[0]["seed"].as_u64(), runs[1]["seed"].as_u64()),
        (Some(0), Some(1))
    );
    for key in ["train", "valid", "test"] {
        let mean = out["rmse_mean"][key].as_f64().unwrap();
        assert!(mean.is_finite() && mean > 0.0, "{out}");
    }
    assert!(out["seconds_per_epoch"].as_f64().unwrap() > 0.0);
    // Better than predicting rest (-0.065) everywhere: the outputs move by ~0.1-0.4.
    assert!(out["rmse_mean"]["test"].as_f64().unwrap() < 0.1, "{out}");
    for f in [
        "model.json",
        "weights.json",
        "curves.csv",
        "curves.png",
        "runs/01.json",
        "runs/02.json",
    ] {
        assert!(model.join(f).is_file(), "missing {f}");
    }
    let curves = std::fs::read_to_string(model.join("curves.csv")).unwrap();
    assert_eq!(curves.lines().count(), 1 + 2 * 40);

    // evaluate reproduces the kept run's figures from the directory alone.
    let eval = ok(&celegans(&[
        "evaluate",
        "--model",
        p(&model),
        "--data",
        p(&file),
        "--json",
    ]));
    let kept: Value =
        serde_json::from_str(&std::fs::read_to_string(model.join("model.json")).unwrap()).unwrap();
    for key in ["train", "valid", "test"] {
        let (a, b) = (
            eval["rmse"][key].as_f64().unwrap(),
            kept["errors"][key]["rmse"].as_f64().unwrap(),
        );
        assert!(
            (a - b).abs() <= 1e-9 * b.max(1e-12),
            "{key}: evaluate {a} vs train {b}"
        );
    }
    assert!(eval["per_output"]["test"]["Y2"].as_f64().unwrap() > 0.0);

    let csv = dir.join("pred.csv");
    ok(&celegans(&[
        "predict",
        "--model",
        p(&model),
        "--data",
        p(&file),
        "--out",
        p(&csv),
    ]));
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(text.lines().next(), Some("sequence,time_ms,Y1,Y2"));
    assert_eq!(text.lines().count(), 1 + 12 * 200);

    // A stimulus file drives the surrogate directly; an input the model lacks is an error.
    let stim = dir.join("pulse.toml");
    std::fs::write(&stim, "duration = 100.0\n[[input]]\nneuron = \"U1\"\namplitude = 1.4\nshape = { kind = \"pulse\", onset = 20.0, width = 30.0 }\n").unwrap();
    let csv = dir.join("pulse.csv");
    ok(&celegans(&[
        "predict",
        "--model",
        p(&model),
        "--stimulus",
        p(&stim),
        "--out",
        p(&csv),
    ]));
    let text = std::fs::read_to_string(&csv).unwrap();
    assert_eq!(text.lines().count(), 1 + 200);
    let y1: Vec<f64> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(2).unwrap().parse().unwrap())
        .collect();
    assert!(
        y1[100] > y1[30] + 0.01,
        "Y1 does not rise during the pulse: {} vs {}",
        y1[100],
        y1[30]
    );
    std::fs::write(&stim, "duration = 100.0\n[[input]]\nneuron = \"AVBL\"\namplitude = 1.0\nshape = { kind = \"off\" }\n").unwrap();
    let bad = celegans(&[
        "predict",
        "--model",
        p(&model),
        "--stimulus",
        p(&stim),
        "--out",
        p(&dir.join("bad.csv")),
    ]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("'AVBL' is not an input of the model"));
    assert!(!dir.join("bad.csv").exists());

    // Same seed, same model.
    let again = dir.join("gru-again");
    ok(&celegans(&[
        "train",
        "--data",
        p(&file),
        "--arch",
        "gru",
        "--hidden",
        "4",
        "--epochs",
        "40",
        "--runs",
        "2",
        "--lr",
        "0.02",
        "--out",
        p(&again),
        "--json",
    ]));
    assert_eq!(
        std::fs::read(model.join("weights.json")).unwrap(),
        std::fs::read(again.join("weights.json")).unwrap()
    );

    // Dropping an input trains a model without it.
    let dropped = dir.join("no-u2");
    let out = ok(&celegans(&[
        "train",
        "--data",
        p(&file),
        "--arch",
        "lstm",
        "--hidden",
        "2",
        "--epochs",
        "3",
        "--runs",
        "1",
        "--drop-inputs",
        "U2",
        "--out",
        p(&dropped),
        "--json",
    ]));
    // LSTM-2 with one input and two outputs: 4·(1·2 + 2·2 + 2) + 2·2 + 2.
    assert_eq!(out["params"].as_u64(), Some(38));
}

/// A run that explodes (GRU-16 at lr 0.5 on standardized data: from epoch 18 on every
/// gradient overflows) is restored to its best epoch and continued at half the rate; when it
/// explodes again before a single step from there, from the initial weights at a quarter. The
/// events are on stderr (a log file, not only the progress bar), in the summary and in
/// runs/01.json, and the model written is finite and good. With `--recoveries 0` the same
/// training is an error, exit 2.
#[test]
fn an_exploding_training_recovers_and_says_so() {
    let dir = scratch("explode");
    let file = import(&dir);
    let model = dir.join("gru");
    let args = |recoveries: &'static str| {
        vec![
            "train".to_string(),
            "--data".into(),
            p(&file).into(),
            "--arch".into(),
            "gru".into(),
            "--hidden".into(),
            "16".into(),
            "--epochs".into(),
            "60".into(),
            "--runs".into(),
            "1".into(),
            "--lr".into(),
            "0.5".into(),
            "--scale".into(),
            "standard".into(),
            "--json".into(),
            "--recoveries".into(),
            recoveries.into(),
            "--out".into(),
            p(&model).into(),
        ]
    };
    let run = |a: Vec<String>| celegans(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let out = run(args("8"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    for line in [
        "run 1: exploded in epoch 27; restored to epoch 17 and continued at lr 2.5e-1",
        "run 1: exploded in epoch 37; restored to epoch 0 and continued at lr 1.25e-1",
    ] {
        assert!(stderr.contains(line), "{stderr}");
    }
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let expected = serde_json::json!([
        {"epoch": 27, "restored": 17, "lr": 0.25},
        {"epoch": 37, "restored": 0, "lr": 0.125}
    ]);
    assert_eq!(json["runs"][0]["recoveries"], expected, "{json}");
    let saved: Value =
        serde_json::from_str(&std::fs::read_to_string(model.join("runs/01.json")).unwrap())
            .unwrap();
    assert_eq!(saved["recoveries"], expected);
    assert!(saved["best_epoch"].as_u64().unwrap() > 37, "{saved}");
    // Far better than predicting the mean (the outputs move by ~0.1-0.4).
    assert!(json["rmse_mean"]["test"].as_f64().unwrap() < 0.1, "{json}");
    let weights = std::fs::read_to_string(model.join("weights.json")).unwrap();
    assert!(
        !weights.contains("NaN") && !weights.contains("null"),
        "{weights}"
    );

    std::fs::remove_dir_all(&model).unwrap();
    let out = run(args("0"));
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("error: training diverged: the loss is NaN or infinite in run 1, epoch 27"),
        "{stderr}"
    );
    assert!(!model.exists());
}

#[test]
fn bad_requests_exit_2_and_leave_no_model() {
    let dir = scratch("bad");
    let file = import(&dir);
    let model = dir.join("m");
    let mut cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec![
                "train",
                "--data",
                "/nonexistent.h5",
                "--arch",
                "gru",
                "--hidden",
                "4",
            ],
            "nonexistent.h5",
        ),
        (
            vec![
                "train",
                "--data",
                p(&file),
                "--arch",
                "gru",
                "--hidden",
                "4",
                "--drop-inputs",
                "AVBL",
            ],
            "unknown input 'AVBL'",
        ),
        (
            vec![
                "train",
                "--data",
                p(&file),
                "--arch",
                "gru",
                "--hidden",
                "0",
            ],
            "--hidden",
        ),
        (
            vec![
                "train",
                "--data",
                p(&file),
                "--arch",
                "rnn",
                "--hidden",
                "2",
                "--reset-after",
            ],
            "--reset-after",
        ),
        (
            vec![
                "evaluate",
                "--model",
                "/nonexistent-model",
                "--data",
                p(&file),
            ],
            "nonexistent-model",
        ),
    ];
    let wgpu_args = [
        "train",
        "--data",
        p(&file),
        "--arch",
        "gru",
        "--hidden",
        "4",
        "--backend",
        "wgpu",
    ];
    if !cfg!(feature = "wgpu") {
        cases.push((
            wgpu_args.to_vec(),
            "--backend wgpu: this build has no GPU backend",
        ));
    }
    for (mut args, needle) in cases {
        if args[0] == "train" {
            args.extend(["--epochs", "2", "--runs", "1", "--out", p(&model)]);
        }
        let out = celegans(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
        assert!(!model.exists(), "{args:?} left a model directory");
    }
    let leftovers: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().contains("partial"))
        .collect();
    assert!(leftovers.is_empty());
    let bad = dir.join("bad.dat");
    std::fs::create_dir_all(&bad).unwrap();
    std::fs::write(bad.join("Sequence_01.dat"), "0 0.0 1 2 x 4\n").unwrap();
    let out = celegans(&[
        "dataset",
        "import-dat",
        p(&bad),
        "--inputs",
        "U1,U2",
        "--outputs",
        "Y1,Y2",
        "--out",
        p(&dir.join("b.h5")),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        err.contains("Sequence_01.dat: line 1: 'x' is not a finite number"),
        "{err}"
    );
    assert!(!dir.join("b.h5").exists());
}

/// A training killed after its first run resumes from the finished runs and ends with the
/// same model as an uninterrupted one.
#[test]
fn an_interrupted_training_resumes() {
    let dir = scratch("resume");
    let file = import(&dir);
    let args = |out: &Path| -> Vec<String> {
        [
            "train",
            "--data",
            p(&file),
            "--arch",
            "gru",
            "--hidden",
            "3",
            "--epochs",
            "400",
            "--runs",
            "3",
            "--out",
            p(out),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let whole = dir.join("whole");
    ok(&Command::new(env!("CARGO_BIN_EXE_celegans"))
        .args(args(&whole))
        .output()
        .unwrap());

    let model = dir.join("m");
    let mut child = Command::new(env!("CARGO_BIN_EXE_celegans"))
        .args(args(&model))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let first = dir.join(".m.partial/runs/01.json");
    let start = std::time::Instant::now();
    while !first.exists() && start.elapsed().as_secs() < 60 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    if model.exists() {
        // The machine was fast enough to finish before the kill: nothing to resume.
        return;
    }
    assert!(first.exists(), "no run was saved");
    let out = Command::new(env!("CARGO_BIN_EXE_celegans"))
        .args(args(&model))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    // The kill lands after the first run, or later: after the last one, while the model
    // directory was being written (the checkpoint outlives that write).
    assert!(
        (1..=3).any(|k| err.contains(&format!("resumed: {k} of 3 runs"))),
        "{err}"
    );
    assert!(!dir.join(".m.partial").exists());
    assert!(!dir.join(".m.partial.model").exists());
    for f in [
        "weights.json",
        "runs/01.json",
        "runs/02.json",
        "runs/03.json",
    ] {
        let (a, b) = (
            std::fs::read(whole.join(f)).unwrap(),
            std::fs::read(model.join(f)).unwrap(),
        );
        let strip = |v: Vec<u8>| -> Value {
            let mut j: Value = serde_json::from_slice(&v).unwrap();
            // Wall time differs, and with it the file's checksum.
            j.as_object_mut().map(|o| {
                o.remove("seconds");
                o.remove("checksum")
            });
            j
        };
        assert_eq!(strip(a), strip(b), "{f} differs after resuming");
    }
}
