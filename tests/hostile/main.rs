//! Hostile but realistic input to every reader beyond NeuroML: each case ends in one line
//! naming the file and what is wrong, exit 2 — no panic, no silent wrong result, nothing
//! half-written. The fixtures are small and made here.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use datasets::Dataset;

#[path = "../common/command.rs"]
mod command;
#[path = "../common/scratch.rs"]
mod scratch;
use command::{celegans, p};

fn scratch(name: &str) -> scratch::Scratch {
    // The fixtures are written in this process while other tests start `celegans`: a child
    // inherits the open HDF5 file (and its lock) until it exits, so the test process does not
    // lock the files it writes.
    static NO_LOCKS: std::sync::Once = std::sync::Once::new();
    NO_LOCKS.call_once(|| std::env::set_var("HDF5_USE_FILE_LOCKING", "FALSE"));
    scratch::scratch(&format!("hostile-{name}"))
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn ok(out: &Output) {
    assert!(out.status.success(), "{}", stderr(out));
}

/// Exit 2 with one line on stderr that contains every one of `expect`.
fn refused(out: &Output, expect: &[&str]) {
    let err = stderr(out);
    assert_eq!(
        out.status.code(),
        Some(2),
        "expected exit 2, got {:?}: {err}",
        out.status
    );
    assert_eq!(err.trim_end().lines().count(), 1, "not one line: {err}");
    assert!(err.starts_with("error: "), "{err}");
    for e in expect {
        assert!(err.contains(e), "'{e}' not in: {err}");
    }
}

/// A small valid dataset: `n` sequences x 40 samples, inputs A, B, outputs X, Y, the split
/// given (train, valid, test by code).
fn dataset(split: &[u8]) -> Dataset {
    let (n, t) = (split.len(), 40);
    let wave = |k: usize, c: usize| ((k as f32) * 0.3 + c as f32).sin();
    Dataset {
        time: (0..t).map(|k| k as f64 * 0.5).collect(),
        dt: 0.5,
        sequences: n,
        inputs: (0..n * t * 2).map(|k| 10.0 * wave(k, 1)).collect(),
        outputs: (0..n * t * 2).map(|k| -50.0 + wave(k, 2)).collect(),
        voltages: None,
        split: split.to_vec(),
        input_names: vec!["A".into(), "B".into()],
        output_names: vec!["X".into(), "Y".into()],
        cell_names: Vec::new(),
        input_unit: "pA".into(),
        output_unit: "mV".into(),
        scenario: "test".into(),
        model_sha256: String::new(),
        seed: 0,
        stimuli: vec![serde_json::Value::Null; n],
        generator: "tests/hostile.rs".into(),
        shard: None,
    }
}

const SPLIT: [u8; 8] = [0, 0, 0, 0, 1, 1, 2, 2];

/// `celegans train --data DATA --arch gru SETTINGS --out OUT`.
fn train_gru(data: &Path, out: &Path, settings: &[&str]) -> Output {
    let mut args = vec!["train", "--data", p(data), "--arch", "gru"];
    args.extend(settings);
    args.extend(["--out", p(out)]);
    celegans(&args)
}

/// A GRU-2 trained for one epoch on the valid dataset.
fn model(dir: &Path) -> PathBuf {
    let data = dir.join("good.h5");
    dataset(&SPLIT).write(&data).unwrap();
    let out = dir.join("model");
    ok(&train_gru(
        &data,
        &out,
        &["--hidden", "2", "--epochs", "1", "--runs", "1"],
    ));
    out
}

/// The bundled model copied to `dir`, with `edit` applied to one cell file's text.
fn edited_model(dir: &Path, cell_file: &str, edit: impl Fn(&str) -> String) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/c302_D1");
    let dst = dir.join("c302_D1");
    for sub in ["", "cells"] {
        std::fs::create_dir_all(dst.join(sub)).unwrap();
        for e in std::fs::read_dir(src.join(sub)).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_file() {
                std::fs::copy(e.path(), dst.join(sub).join(e.file_name())).unwrap();
            }
        }
    }
    let cell = dst.join("cells").join(cell_file);
    let text = std::fs::read_to_string(&cell).unwrap();
    let edited = edit(&text);
    assert_ne!(text, edited, "the edit changed nothing");
    std::fs::write(&cell, edited).unwrap();
    dst.join("LEMS_c302_D1.xml")
}

#[path = "../common/c302_examples.rs"]
mod c302_examples;
mod data_files;
mod messages;
mod models;
mod outputs;
mod spiking;
mod stimuli;
