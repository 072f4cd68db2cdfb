//! Hostile but realistic input to every reader beyond NeuroML: each case ends in one line
//! naming the file and what is wrong, exit 2 — no panic, no silent wrong result, nothing
//! half-written. The fixtures are small and made here.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use datasets::Dataset;

fn celegans(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_celegans"))
        .args(args)
        .output()
        .expect("run celegans")
}

fn scratch(name: &str) -> PathBuf {
    // The fixtures are written in this process while other tests start `celegans`: a child
    // inherits the open HDF5 file (and its lock) until it exits, so the test process does not
    // lock the files it writes.
    static NO_LOCKS: std::sync::Once = std::sync::Once::new();
    NO_LOCKS.call_once(|| std::env::set_var("HDF5_USE_FILE_LOCKING", "FALSE"));
    let dir = std::env::temp_dir().join(format!("celegans-hostile-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
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

/// A valid dataset file, then changed in place by `edit` (raw HDF5, as another program or a
/// damaged copy could leave it).
fn damaged(dir: &Path, name: &str, edit: impl FnOnce(&hdf5::File)) -> PathBuf {
    let path = dir.join(name);
    dataset(&SPLIT).write(&path).unwrap();
    let file = hdf5::File::open_rw(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    edit(&file);
    file.close().unwrap();
    path
}

fn replace_array(file: &hdf5::File, name: &str, shape: &[usize], values: &[f32]) {
    file.unlink(name).unwrap();
    file.new_dataset::<f32>()
        .shape(shape)
        .create(name)
        .unwrap()
        .write_raw(values)
        .unwrap();
}

fn replace_text_attr(file: &hdf5::File, name: &str, value: &str) {
    file.delete_attr(name).unwrap();
    let v: hdf5::types::VarLenUnicode = value.parse().unwrap();
    file.new_attr::<hdf5::types::VarLenUnicode>()
        .create(name)
        .unwrap()
        .write_scalar(&v)
        .unwrap();
}

/// A GRU-2 trained for one epoch on the valid dataset.
fn model(dir: &Path) -> PathBuf {
    let data = dir.join("good.h5");
    dataset(&SPLIT).write(&data).unwrap();
    let out = dir.join("model");
    ok(&celegans(&[
        "train",
        "--data",
        p(&data),
        "--arch",
        "gru",
        "--hidden",
        "2",
        "--epochs",
        "1",
        "--runs",
        "1",
        "--out",
        p(&out),
    ]));
    out
}

/// Every command that reads a dataset refuses `file` with a line naming it and `what`;
/// the commands that write folders leave none behind.
fn every_reader_refuses(dir: &Path, file: &Path, what: &str) {
    let model = model(dir);
    let name = p(file);
    let (plots, dat, csv) = (dir.join("plots"), dir.join("dat"), dir.join("p.csv"));
    for args in [
        vec!["dataset", "info", name],
        vec!["dataset", "plot", name, "--out", p(&plots)],
        vec!["dataset", "export-dat", name, "--out", p(&dat)],
        vec![
            "train",
            "--data",
            name,
            "--arch",
            "gru",
            "--hidden",
            "2",
            "--epochs",
            "1",
            "--out",
            p(&dir.join("m")),
        ],
        vec!["evaluate", "--model", p(&model), "--data", name],
        vec![
            "predict",
            "--model",
            p(&model),
            "--data",
            name,
            "--out",
            p(&csv),
        ],
    ] {
        let out = celegans(&args);
        refused(&out, &[name, what]);
    }
    assert!(!plots.exists() && !dat.exists() && !csv.exists());
}

#[test]
fn inputs_and_outputs_with_different_sequence_counts() {
    let dir = scratch("counts");
    let file = damaged(&dir, "counts.h5", |f| {
        replace_array(f, "outputs", &[7, 40, 2], &vec![0.0; 7 * 40 * 2])
    });
    every_reader_refuses(&dir, &file, "/inputs holds 8 sequences and /outputs 7");
}

#[test]
fn outputs_shorter_than_time() {
    let dir = scratch("length");
    let file = damaged(&dir, "length.h5", |f| {
        replace_array(f, "outputs", &[8, 39, 2], &vec![0.0; 8 * 39 * 2])
    });
    every_reader_refuses(
        &dir,
        &file,
        "/outputs has shape [8, 39, 2], expected [N, 40, 2]",
    );
}

#[test]
fn split_code_other_than_0_1_2() {
    let dir = scratch("split");
    let file = damaged(&dir, "split.h5", |f| {
        f.dataset("split")
            .unwrap()
            .write_raw(&[0u8, 0, 0, 3, 1, 1, 2, 2])
            .unwrap()
    });
    every_reader_refuses(&dir, &file, "/split[3] is 3");
}

#[test]
fn fewer_names_than_columns() {
    let dir = scratch("names");
    let file = damaged(&dir, "names.h5", |f| {
        replace_text_attr(f, "input_names", r#"["A"]"#)
    });
    every_reader_refuses(&dir, &file, "expected [N, 40, 1]");
}

#[test]
fn not_a_number_in_the_outputs() {
    let dir = scratch("nan");
    let file = damaged(&dir, "nan.h5", |f| {
        let mut y = vec![-50.0f32; 8 * 40 * 2];
        y[3 * 80 + 2 * 2 + 1] = f32::NAN;
        replace_array(f, "outputs", &[8, 40, 2], &y)
    });
    every_reader_refuses(
        &dir,
        &file,
        "/outputs is NaN at sequence 4, sample 2, column 2 (Y)",
    );
}

#[test]
fn import_dat_refuses_non_finite_numbers() {
    let dir = scratch("dat");
    let dat = dir.join("dat");
    std::fs::create_dir_all(&dat).unwrap();
    for k in 1..=4 {
        let mut text = String::new();
        for i in 0..10 {
            let y = if k == 3 && i == 5 {
                "nan".to_string()
            } else {
                "-0.05".into()
            };
            text += &format!("{i} {} {y} 1e-12\n", i as f64 * 5e-4);
        }
        std::fs::write(dat.join(format!("Sequence_{k:02}.dat")), text).unwrap();
    }
    let out = dir.join("imported.h5");
    let result = celegans(&[
        "dataset",
        "import-dat",
        p(&dat),
        "--inputs",
        "A",
        "--outputs",
        "X",
        "--out",
        p(&out),
    ]);
    refused(
        &result,
        &["Sequence_03.dat: line 6: 'nan' is not a finite number"],
    );
    assert!(!out.exists());
}

/// Files this program writes itself with too few sequences for three splits (count 1 and 2)
/// train and evaluate: an empty validation set keeps the last epoch, an empty split has no
/// RMSE ("-").
#[test]
fn empty_splits_train_and_evaluate() {
    let dir = scratch("empty");
    for split in [&[0u8][..], &[0, 0], &[0, 0, 2]] {
        let data = dir.join(format!("n{}.h5", split.len()));
        dataset(split).write(&data).unwrap();
        let model = dir.join(format!("m{}", split.len()));
        ok(&celegans(&[
            "train",
            "--data",
            p(&data),
            "--arch",
            "gru",
            "--hidden",
            "2",
            "--epochs",
            "2",
            "--runs",
            "2",
            "--out",
            p(&model),
        ]));
        let out = celegans(&[
            "evaluate",
            "--model",
            p(&model),
            "--data",
            p(&data),
            "--json",
        ]);
        ok(&out);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(v["rmse"]["train"].as_f64().unwrap().is_finite(), "{v}");
        assert!(v["rmse"]["valid"].is_null(), "{v}");
    }
    // No training sequence at all: one line, not a panic.
    let data = dir.join("no-train.h5");
    dataset(&[1, 2, 2]).write(&data).unwrap();
    let out = celegans(&[
        "train",
        "--data",
        p(&data),
        "--arch",
        "gru",
        "--hidden",
        "2",
        "--epochs",
        "1",
        "--out",
        p(&dir.join("m")),
    ]);
    refused(&out, &["no training sequences"]);
}

/// A model directory whose model.json was edited by hand or damaged.
fn damaged_model(dir: &Path, edit: impl FnOnce(&mut serde_json::Value)) -> PathBuf {
    let model = model(dir);
    let file = model.join("model.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(&file, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    model
}

#[test]
fn damaged_scaling_in_model_json() {
    let dir = scratch("scaling");
    let data = dir.join("good.h5");
    for (edit, what) in [
        (
            (|v: &mut serde_json::Value| v["scaling"]["output_scale"] = serde_json::json!([1.0]))
                as fn(&mut serde_json::Value),
            "scaling.output_scale has 1 values for 2 outputs",
        ),
        (
            |v: &mut serde_json::Value| v["scaling"]["input_scale"][1] = serde_json::json!(0.0),
            "scaling.input_scale[1] is 0",
        ),
    ] {
        let model = damaged_model(&dir, edit);
        let out = celegans(&["evaluate", "--model", p(&model), "--data", p(&data)]);
        refused(&out, &[p(&model.join("model.json")), what]);
    }
}

#[test]
fn a_model_too_large_for_memory_is_refused_before_training() {
    let dir = scratch("hidden");
    let data = dir.join("good.h5");
    dataset(&SPLIT).write(&data).unwrap();
    let out = celegans(&[
        "train",
        "--data",
        p(&data),
        "--arch",
        "gru",
        "--hidden",
        "100000",
        "--epochs",
        "1",
        "--out",
        p(&dir.join("m")),
    ]);
    refused(
        &out,
        &[
            "a GRU-100000 with 2 inputs and 2 outputs",
            "of memory;",
            "is available",
        ],
    );
    assert!(!dir.join("m").exists());
}

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

/// Two jobs writing the same output: the second fails at once, the first's result stands.
#[test]
fn one_writer_per_output() {
    let dir = scratch("writers");
    let out = dir.join("data.h5");
    let args = |seed: &str| {
        vec![
            "dataset".to_string(),
            "generate".into(),
            "--scenario".into(),
            "fcm".into(),
            "--count".into(),
            "40".into(),
            "--seed".into(),
            seed.into(),
            "--out".into(),
            p(&out).into(),
        ]
    };
    let mut first = Command::new(env!("CARGO_BIN_EXE_celegans"))
        .args(args("1"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let lock = dir.join(".data.h5.lock");
    let start = std::time::Instant::now();
    while !lock.exists() && start.elapsed().as_secs() < 60 {
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let second = Command::new(env!("CARGO_BIN_EXE_celegans"))
        .args(args("2"))
        .output()
        .unwrap();
    assert!(first.wait().unwrap().success());
    refused(
        &second,
        &[p(&out), "another process is writing this output"],
    );
    let d = Dataset::read(&out).unwrap();
    assert_eq!(d.seed, 1, "the first job's dataset was replaced");
    assert!(!lock.exists(), "the lock file is removed when the job ends");
}

#[test]
fn merge_never_overwrites_its_inputs_and_names_a_file_that_is_not_a_shard() {
    let dir = scratch("merge");
    let whole = dir.join("whole.h5");
    dataset(&SPLIT).write(&whole).unwrap();
    let before = std::fs::read(&whole).unwrap();
    refused(
        &celegans(&["dataset", "merge", p(&whole), p(&whole), "--out", p(&whole)]),
        &["it is one of the files to merge"],
    );
    assert_eq!(std::fs::read(&whole).unwrap(), before);
    let out = dir.join("merged.h5");
    refused(
        &celegans(&["dataset", "merge", p(&whole), "--out", p(&out)]),
        &[&format!("{}: not a shard", p(&whole))],
    );
    assert!(!out.exists());
}

/// A learning rate far too large: the loss runs away without becoming NaN. The training
/// ends with one line saying so, not with a model 10⁸ times worse than the mean.
#[test]
fn a_runaway_training_is_an_error_not_a_model() {
    let dir = scratch("lr");
    let data = dir.join("good.h5");
    dataset(&SPLIT).write(&data).unwrap();
    let model = dir.join("m");
    let out = celegans(&[
        "train",
        "--data",
        p(&data),
        "--arch",
        "gru",
        "--hidden",
        "4",
        "--epochs",
        "5",
        "--runs",
        "2",
        "--lr",
        "1e9",
        "--out",
        p(&model),
    ]);
    // The training's own header comes first; the error is the last line.
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let last = err.trim_end().lines().last().unwrap();
    assert!(
        last.starts_with("error: training diverged: the best run's validation RMSE is"),
        "{err}"
    );
    assert!(last.ends_with("try a smaller --lr (it is 1e9)"), "{err}");
    assert!(!model.exists());
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

/// Physical parameters with impossible signs are refused where they are read, naming the
/// file and line, instead of ending later as a "runaway voltage".
#[test]
fn a_negative_capacitance_is_refused_at_its_line() {
    let dir = scratch("capacitance");
    let lems = edited_model(&dir, "PLML_D.cell.nml", |t| {
        t.replace(
            r#"<specificCapacitance value="1 uF_per_cm2"/>"#,
            r#"<specificCapacitance value="-1 uF_per_cm2"/>"#,
        )
    });
    for args in [
        vec!["model", "info", p(&lems)],
        vec!["run", p(&lems), "--out-dir", p(&dir.join("r"))],
    ] {
        refused(
            &celegans(&args),
            &[
                "PLML_D.cell.nml:",
                "specificCapacitance value must be positive, not -",
            ],
        );
    }
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

/// An OS error is said once, with the file it concerns.
#[test]
fn os_errors_are_printed_once() {
    let dir = scratch("os");
    let missing = dir.join("missing.h5");
    let out = celegans(&["dataset", "info", p(&missing)]);
    refused(&out, &[p(&missing)]);
    let err = stderr(&out);
    let stripped = err.replacen("No such file or directory", "", 1);
    assert!(!stripped.contains("No such file or directory"), "{err}");
    let stimulus = dir.join("missing.toml");
    let model = model(&dir);
    let out = celegans(&[
        "predict",
        "--model",
        p(&model),
        "--stimulus",
        p(&stimulus),
        "--out",
        p(&dir.join("p.csv")),
    ]);
    refused(&out, &[p(&stimulus)]);
    let err = stderr(&out);
    assert_eq!(err.matches("os error 2").count(), 1, "{err}");
}

/// A megabyte-long attribute value is not echoed whole into the message.
#[test]
fn a_huge_attribute_value_is_not_echoed_whole() {
    let dir = scratch("huge");
    let lems = edited_model(&dir, "PLML_D.cell.nml", |t| {
        let huge = format!("1{} uF_per_cm2", "0".repeat(5 << 20));
        t.replace(
            r#"<specificCapacitance value="1 uF_per_cm2"/>"#,
            &format!(r#"<specificCapacitance value="{huge}"/>"#),
        )
    });
    let out = celegans(&["model", "info", p(&lems)]);
    refused(&out, &["PLML_D.cell.nml:"]);
    assert!(
        out.stderr.len() < 2000,
        "{} bytes of stderr",
        out.stderr.len()
    );
}

/// `run` with an output file that cannot be written fails before simulating, and writes no
/// other output file: all of a run's outputs or none.
#[test]
fn run_writes_all_its_output_files_or_none() {
    let dir = scratch("outputs");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/c302_D1/LEMS_c302_D1.xml");
    let lems = edited_model(&dir, "PLML_D.cell.nml", |t| {
        t.replacen("<cell ", "<cell  ", 1)
    });
    // (a copy of the bundled model, so that its LEMS file can be edited)
    let text = std::fs::read_to_string(&src).unwrap();
    // The second output file goes under a regular file: no folder can be made there.
    let blocker = dir.join("blocker");
    std::fs::write(&blocker, "a file, not a folder").unwrap();
    let edited = text.replace(
        r#"fileName="c302_D1.activity.dat""#,
        &format!(r#"fileName="{}/activity.dat""#, p(&blocker)),
    );
    std::fs::write(&lems, edited).unwrap();
    let out_dir = dir.join("r");
    let out = celegans(&[
        "run",
        p(&lems),
        "--duration",
        "400",
        "--out-dir",
        p(&out_dir),
    ]);
    // One line: refused before the network is even set up and run.
    refused(&out, &["activity.dat"]);
    assert!(
        !out_dir.join("c302_D1.dat").exists(),
        "the first output was written"
    );
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

/// A failed HDF5 write names the file asked for (not its hidden temporary), on one line.
#[test]
fn a_failed_dataset_write_names_the_file_asked_for() {
    let dir = scratch("write");
    let blocker = dir.join("blocker");
    std::fs::write(&blocker, "a file, not a folder").unwrap();
    let target = blocker.join("x.h5");
    let err = dataset(&SPLIT).write(&target).unwrap_err().to_string();
    assert!(err.starts_with(&format!("{}:", p(&target))), "{err}");
    assert!(!err.contains("partial") && !err.contains('\n'), "{err}");
}
