//! Fuzz and property suite for every reader beyond NeuroML (which has its own, in
//! `neuroml/tests/`): dataset files (HDF5 built with random shapes, types, attributes and
//! values), model directories, stimulus and scenario files (TOML), `.dat` folders and split
//! files. Text formats start from valid files and are mutated (numbers replaced by extremes,
//! lines dropped, doubled and swapped, bytes flipped, files cut short). Each case must end
//! in `Ok` or an error — never a panic — and what is accepted must hold its invariants
//! (a dataset read passes its own check, a split file is a partition, ...) and survive the
//! next step (splits, prediction, sampling).
//!
//! Cases per reader: `CELEGANS_FUZZ_CASES` (default 150, as in CI; the hunt reported in
//! `docs/reliability.md` ran 100,000 per reader). `CELEGANS_FUZZ_SEED` picks the stream.
//! A failing input is kept in the scratch folder and named in the failure.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::Command;

use datasets::dat::{Import, SplitFile};
use datasets::{Dataset, Generation, Scenario, StimulusFile};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn cases() -> usize {
    std::env::var("CELEGANS_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(150)
}

fn rng(reader: u64) -> ChaCha8Rng {
    let seed: u64 = std::env::var("CELEGANS_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    ChaCha8Rng::seed_from_u64(seed.wrapping_mul(1000) + reader)
}

fn scratch(name: &str) -> PathBuf {
    static NO_LOCKS: std::sync::Once = std::sync::Once::new();
    NO_LOCKS.call_once(|| {
        std::env::set_var("HDF5_USE_FILE_LOCKING", "FALSE");
        // Requests that fit only a large machine are refused quickly (the limit is part of
        // what is tested) instead of filling this one.
        std::env::set_var("CELEGANS_MEMORY_LIMIT", "256M");
    });
    let dir = std::env::temp_dir().join(format!("celegans-fuzz-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Runs `case` for every case number: `Ok(true)` when the reader accepted the input (and
/// its properties held), `Ok(false)` when it refused it, `Err` for a broken property. A
/// failing input is kept as `DIR/failed-K` and named in the report.
fn hunt(reader: &str, dir: &Path, mut case: impl FnMut(&Path) -> Result<bool, String>) {
    std::panic::set_hook(Box::new(|_| {}));
    let (mut accepted, mut refused, mut failures) = (0usize, 0usize, Vec::new());
    let input = dir.join("case");
    for k in 0..cases() {
        let _ = std::fs::remove_dir_all(&input);
        std::fs::create_dir_all(&input).unwrap();
        let failure = match catch_unwind(AssertUnwindSafe(|| case(&input))) {
            Ok(Ok(true)) => {
                accepted += 1;
                None
            }
            Ok(Ok(false)) => {
                refused += 1;
                None
            }
            Ok(Err(broken)) => Some(broken),
            Err(panic) => Some(format!(
                "panic: {}",
                panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default()
            )),
        };
        if let Some(f) = failure {
            let kept = dir.join(format!("failed-{k}"));
            let _ = std::fs::rename(&input, &kept);
            failures.push(format!("case {k} ({}): {f}", kept.display()));
            if failures.len() > 5 {
                break;
            }
        }
    }
    let _ = std::panic::take_hook();
    eprintln!(
        "{reader}: {} cases, {accepted} accepted, {refused} refused, {} broken or panicked",
        cases(),
        failures.len()
    );
    assert!(failures.is_empty(), "{reader}:\n{}", failures.join("\n"));
}

/// Numbers and tokens a hostile file puts where a number belongs.
const EXTREMES: &[&str] = &[
    "nan",
    "inf",
    "-inf",
    "1e400",
    "-1e400",
    "0",
    "-0",
    "-1",
    "1e308",
    "-1e308",
    "4294967296",
    "18446744073709551616",
    "1e-320",
    "0.3",
    "-20",
    "1e12",
    "99999999999999999999",
    "\"x\"",
    "[]",
    "{}",
    "true",
    "\"\"",
    "[1, 2]",
    "2.5e9",
];

/// A random mutation of `text`: 1 to 4 edits.
fn mutate(text: &str, rng: &mut ChaCha8Rng) -> Vec<u8> {
    let mut t = text.to_string();
    let edits = if rng.random_bool(0.6) {
        1
    } else {
        rng.random_range(2..=4)
    };
    for _ in 0..edits {
        let lines: Vec<&str> = t.lines().collect();
        let line = if lines.is_empty() {
            0
        } else {
            rng.random_range(0..lines.len())
        };
        t = match rng.random_range(0..8) {
            // A number replaced by an extreme.
            0..=2 => {
                let spans = numbers(&t);
                if spans.is_empty() {
                    t
                } else {
                    let (a, b) = spans[rng.random_range(0..spans.len())];
                    let x = EXTREMES[rng.random_range(0..EXTREMES.len())];
                    format!("{}{x}{}", &t[..a], &t[b..])
                }
            }
            3 => lines
                .iter()
                .enumerate()
                .filter(|&(k, _)| k != line)
                .map(|(_, l)| *l)
                .collect::<Vec<_>>()
                .join("\n"),
            4 => {
                let mut v = lines.clone();
                if !v.is_empty() {
                    v.insert(line, lines[line]);
                }
                v.join("\n")
            }
            5 => {
                let mut v = lines.clone();
                if v.len() > 1 {
                    let other = rng.random_range(0..v.len());
                    v.swap(line, other);
                }
                v.join("\n")
            }
            6 => {
                let cut = rng.random_range(0..=t.len());
                let cut = (0..=cut)
                    .rev()
                    .find(|&c| t.is_char_boundary(c))
                    .unwrap_or(0);
                t[..cut].to_string()
            }
            _ => {
                // A random byte inserted or replaced (may leave invalid UTF-8: then bytes).
                let mut bytes = t.into_bytes();
                let at = rng.random_range(0..=bytes.len());
                let b: u8 = rng.random();
                if at < bytes.len() && rng.random_bool(0.5) {
                    bytes[at] = b;
                } else {
                    bytes.insert(at, b);
                }
                return bytes;
            }
        };
    }
    t.into_bytes()
}

/// Byte spans of the numbers in `text`.
fn numbers(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut spans = Vec::new();
    let mut k = 0;
    while k < b.len() {
        let starts = b[k].is_ascii_digit()
            || (b[k] == b'-' && b.get(k + 1).is_some_and(|c| c.is_ascii_digit()));
        let in_word = k > 0 && (b[k - 1].is_ascii_alphanumeric() || b[k - 1] == b'_');
        if starts && !in_word {
            let start = k;
            k += 1;
            while k < b.len() && (b[k].is_ascii_digit() || b"+-.eE".contains(&b[k])) {
                k += 1;
            }
            spans.push((start, k));
        } else {
            k += 1;
        }
    }
    spans
}

// ---------------------------------------------------------------- dataset files (HDF5)

fn random_names(rng: &mut ChaCha8Rng, n: usize, hostile: bool) -> String {
    let mut names: Vec<String> = (0..n).map(|k| format!("N{k}")).collect();
    match if hostile { rng.random_range(0..10) } else { 9 } {
        0 if !names.is_empty() => names[0] = names[names.len() - 1].clone(),
        1 if !names.is_empty() => names[0] = String::new(),
        2 => return "not json".into(),
        3 => return "[1, 2]".into(),
        4 => names.push("extra".into()),
        5 if !names.is_empty() => {
            names.pop();
        }
        _ => {}
    }
    serde_json::to_string(&names).unwrap()
}

fn random_value(rng: &mut ChaCha8Rng, hostile: bool) -> f32 {
    match if hostile {
        rng.random_range(0..400)
    } else {
        99
    } {
        0 => f32::NAN,
        1 => f32::INFINITY,
        2 => -f32::INFINITY,
        3 => f32::MAX,
        4 => f32::MIN_POSITIVE / 2.0,
        _ => rng.random_range(-100.0..100.0),
    }
}

fn write_array(
    file: &hdf5::File,
    name: &str,
    shape: &[usize],
    rng: &mut ChaCha8Rng,
    hostile: bool,
) {
    let len: usize = shape.iter().product();
    let result = match if hostile { rng.random_range(0..12) } else { 11 } {
        0 => file
            .new_dataset::<i32>()
            .shape(shape)
            .create(name)
            .and_then(|d| {
                d.write_raw(
                    &(0..len)
                        .map(|_| rng.random_range(-5..5))
                        .collect::<Vec<i32>>(),
                )
            }),
        1 => file
            .new_dataset::<f64>()
            .shape(shape)
            .create(name)
            .and_then(|d| {
                d.write_raw(
                    &(0..len)
                        .map(|_| random_value(rng, hostile) as f64)
                        .collect::<Vec<f64>>(),
                )
            }),
        _ => file
            .new_dataset::<f32>()
            .shape(shape)
            .create(name)
            .and_then(|d| {
                d.write_raw(
                    &(0..len)
                        .map(|_| random_value(rng, hostile))
                        .collect::<Vec<f32>>(),
                )
            }),
    };
    result.unwrap();
}

fn text_attr(loc: &hdf5::Location, name: &str, value: &str) {
    let v: hdf5::types::VarLenUnicode = value.parse().unwrap();
    loc.new_attr::<hdf5::types::VarLenUnicode>()
        .create(name)
        .unwrap()
        .write_scalar(&v)
        .unwrap();
}

/// A dataset file with random sizes and values: consistent (about a third of the cases), or
/// with random shapes, types, attributes and values near a consistent one.
fn random_dataset(path: &Path, rng: &mut ChaCha8Rng) {
    let file = hdf5::File::create(path).unwrap();
    let hostile = rng.random_bool(0.65);
    let odd = move |rng: &mut ChaCha8Rng, p: f64| hostile && rng.random_bool(p);
    let dim = |base: usize, rng: &mut ChaCha8Rng| {
        if odd(rng, 0.1) {
            rng.random_range(0..6)
        } else {
            base
        }
    };
    let (n, t, i, o) = (
        rng.random_range(0..5),
        rng.random_range(0..6),
        rng.random_range(0..3),
        rng.random_range(0..3),
    );
    // Occasionally leave one part out.
    let skip = if hostile { rng.random_range(0..20) } else { 99 };
    if skip != 0 {
        let tn = dim(t, rng);
        let time: Vec<f64> = (0..tn)
            .map(
                |k| match if hostile { rng.random_range(0..60) } else { 9 } {
                    0 => f64::NAN,
                    1 => 0.0,
                    _ => k as f64 * 0.5,
                },
            )
            .collect();
        file.new_dataset::<f64>()
            .shape([tn])
            .create("time")
            .unwrap()
            .write_raw(&time)
            .unwrap();
    }
    for (k, name, width) in [(1, "inputs", i), (2, "outputs", o)] {
        if skip == k {
            continue;
        }
        let shape: Vec<usize> = match if hostile { rng.random_range(0..20) } else { 9 } {
            0 => vec![dim(n, rng), dim(t, rng)],
            1 => vec![n, t, width, 1],
            _ => vec![dim(n, rng), dim(t, rng), dim(width, rng)],
        };
        write_array(&file, name, &shape, rng, hostile);
    }
    if skip != 3 {
        let sn = dim(n, rng);
        let split: Vec<u8> = (0..sn)
            .map(|_| {
                if odd(rng, 0.05) {
                    rng.random()
                } else {
                    rng.random_range(0..3)
                }
            })
            .collect();
        file.new_dataset::<u8>()
            .shape([sn])
            .create("split")
            .unwrap()
            .write_raw(&split)
            .unwrap();
    }
    if rng.random_bool(0.2) {
        let shape = [dim(n, rng), dim(t, rng), dim(2, rng)];
        write_array(&file, "voltages", &shape, rng, hostile);
        let d = file.dataset("voltages").unwrap();
        text_attr(&d, "cell_names", &random_names(rng, 2, hostile));
    }
    let root: &hdf5::Location = &file;
    if skip != 4 {
        let dt = match if hostile { rng.random_range(0..10) } else { 9 } {
            0 => f64::NAN,
            1 => -0.5,
            2 => 0.0,
            _ => 0.5,
        };
        root.new_attr::<f64>()
            .create("dt_ms")
            .unwrap()
            .write_scalar(&dt)
            .unwrap();
    }
    if skip != 5 {
        if odd(rng, 0.05) {
            root.new_attr::<f64>()
                .create("seed")
                .unwrap()
                .write_scalar(&1.5)
                .unwrap();
        } else {
            root.new_attr::<u64>()
                .create("seed")
                .unwrap()
                .write_scalar(&7)
                .unwrap();
        }
    }
    let stimuli = match if hostile { rng.random_range(0..10) } else { 9 } {
        0 => "{}".to_string(),
        1 => "[".to_string(),
        _ => serde_json::to_string(&vec![serde_json::Value::Null; dim(n, rng)]).unwrap(),
    };
    for (k, name, value) in [
        (6, "input_names", random_names(rng, i, hostile)),
        (7, "output_names", random_names(rng, o, hostile)),
        (8, "input_unit", "pA".to_string()),
        (9, "output_unit", "mV".to_string()),
        (10, "scenario", "fuzz".to_string()),
        (11, "model_sha256", String::new()),
        (12, "stimuli", stimuli),
        (13, "generator", "tests/fuzz.rs".to_string()),
    ] {
        if skip != k {
            if odd(rng, 0.03) {
                root.new_attr::<i32>()
                    .create(name)
                    .unwrap()
                    .write_scalar(&3)
                    .unwrap();
            } else {
                text_attr(root, name, &value);
            }
        }
    }
    if rng.random_bool(0.1) {
        text_attr(root, "shard", "1/2");
        let indices: Vec<usize> = (0..dim(n, rng)).collect();
        text_attr(root, "sequences", &serde_json::to_string(&indices).unwrap());
    }
    file.close().unwrap();
}

#[test]
fn dataset_files() {
    let dir = scratch("datasets");
    let mut rng = rng(1);
    hunt("dataset files", &dir, |input| {
        let path = input.join("data.h5");
        random_dataset(&path, &mut rng);
        let Ok(d) = Dataset::read(&path) else {
            return Ok(false);
        };
        d.check()
            .map_err(|e| format!("read, but its check fails: {e}"))?;
        // What is read can be split and predicted from.
        if let Ok(splits) = paper::splits(&d, &[]) {
            let arch = surrogate::Architecture {
                cell: surrogate::Recurrence::Gru,
                hidden: 2,
                inputs: splits.input_names.len(),
                outputs: splits.output_names.len(),
            };
            let weights = surrogate::Weights::initial(&arch, 0);
            let scaling = surrogate::Scaling::fit(surrogate::ScaleMode::Standard, &splits.train);
            let errors = surrogate::train::evaluate(&arch, &weights, &scaling, &splits);
            if errors.train.rmse.is_some_and(|r| r.is_nan()) {
                return Err("a NaN RMSE from data that was accepted".into());
            }
        }
        Ok(true)
    });
}

// ---------------------------------------------------------------- model directories

/// A small model directory trained by the program itself.
fn trained_model(dir: &Path) -> PathBuf {
    let data = dir.join("train.h5");
    let (n, t) = (6, 20);
    let d = Dataset {
        time: (0..t).map(|k| k as f64 * 0.5).collect(),
        dt: 0.5,
        sequences: n,
        inputs: (0..n * t * 2).map(|k| (k as f32 * 0.37).sin()).collect(),
        outputs: (0..n * t).map(|k| (k as f32 * 0.11).cos()).collect(),
        voltages: None,
        split: vec![0, 0, 0, 1, 2, 2],
        input_names: vec!["A".into(), "B".into()],
        output_names: vec!["Y".into()],
        cell_names: Vec::new(),
        input_unit: "pA".into(),
        output_unit: "mV".into(),
        scenario: "fuzz".into(),
        model_sha256: String::new(),
        seed: 0,
        stimuli: vec![serde_json::Value::Null; n],
        generator: "tests/fuzz.rs".into(),
        shard: None,
    };
    d.write(&data).unwrap();
    let model = dir.join("model");
    let out = Command::new(env!("CARGO_BIN_EXE_celegans"))
        .args([
            "train",
            "--data",
            data.to_str().unwrap(),
            "--arch",
            "lstm",
            "--hidden",
            "2",
        ])
        .args([
            "--epochs",
            "2",
            "--runs",
            "1",
            "--out",
            model.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    model
}

#[test]
fn model_directories() {
    let dir = scratch("models");
    let model = trained_model(&dir);
    let texts: Vec<(String, String)> = ["model.json", "weights.json"]
        .iter()
        .map(|f| {
            (
                f.to_string(),
                std::fs::read_to_string(model.join(f)).unwrap(),
            )
        })
        .collect();
    let mut rng = rng(2);
    hunt("model directories", &dir, |input| {
        let pick = rng.random_range(0..texts.len());
        for (k, (name, text)) in texts.iter().enumerate() {
            let bytes = if k == pick {
                mutate(text, &mut rng)
            } else {
                text.clone().into_bytes()
            };
            std::fs::write(input.join(name), bytes).unwrap();
        }
        let Ok((m, w)) = surrogate::store::load(input) else {
            return Ok(false);
        };
        let arch = m.architecture;
        let x = vec![0.5f32; 2 * 5 * arch.inputs];
        let y = surrogate::train::predict(&arch, &w, &m.scaling, &x, 5);
        if y.len() != 2 * 5 * arch.outputs {
            return Err(format!("{} outputs for 2 x 5 x {}", y.len(), arch.outputs));
        }
        Ok(true)
    });
}

// ---------------------------------------------------------------- stimulus files (TOML)

const STIMULI: &[&str] = &[
    "duration = 20.0\n[[input]]\nneuron = \"A\"\namplitude = 10.0\nshape = { kind = \"pulse\", onset = 5.0, width = 5.0 }\n",
    "duration = 40.0\ndt = 0.5\n[[input]]\nneuron = \"A\"\namplitude = 10.0\nshape = { kind = \"train\", onset = 2.0, width = 1.0, period = 4.0, count = 3 }\n[[input]]\nneuron = \"B\"\namplitude = -5.0\nshape = { kind = \"trapezoid\", onset = 1.0, rise = 2.0, hold = 3.0, fall = 4.0 }\n",
    "duration = 30.0\n[[input]]\nneuron = \"B\"\namplitude = 3.0\nshape = { kind = \"sine\", onset = 0.0, duration = 20.0, period = 5.0 }\n[[input]]\nneuron = \"A\"\namplitude = 3.0\nshape = { kind = \"chirp\", onset = 0.0, duration = 20.0, f0 = 0.01, f1 = 0.2 }\n",
    "duration = 30.0\n[[input]]\nneuron = \"A\"\namplitude = 3.0\nshape = { kind = \"noise\", onset = 1.0, duration = 20.0, knot = 2.0, knots = [0.1, 0.5, 0.9] }\n",
    "duration = 30.0\n[[input]]\nneuron = \"A\"\namplitude = 3.0\nshape = { kind = \"mix\", parts = [[0.5, { kind = \"pulse\", onset = 1.0, width = 2.0 }], [0.5, { kind = \"off\" }]] }\n",
];

#[test]
fn stimulus_files() {
    let dir = scratch("stimuli");
    let mut rng = rng(3);
    let names = vec!["A".to_string(), "B".to_string()];
    hunt("stimulus files", &dir, |input| {
        let path = input.join("stimulus.toml");
        let seed = STIMULI[rng.random_range(0..STIMULI.len())];
        std::fs::write(&path, mutate(seed, &mut rng)).unwrap();
        let Ok(file) = StimulusFile::read(&path) else {
            return Ok(false);
        };
        for dt in [file.dt.unwrap_or(0.5), 0.5, 0.1, 7.0] {
            if let Ok(rows) = file.sample(&names, dt) {
                if rows.iter().flatten().any(|v| !v.is_finite()) {
                    return Err(format!("a non-finite current at dt {dt}"));
                }
            }
        }
        Ok(true)
    });
}

// ---------------------------------------------------------------- scenario files (TOML)

const SCENARIOS: &[&str] = &[
    "name = \"touch\"\noutputs = [\"DB1\", \"VB1\"]\nablate = [\"AVBL\"]\n\n[[group]]\nname = \"PLM\"\nneurons = [\"PLML\", \"PLMR\"]\namplitude = [100.0, 200.0]\n",
    "name = \"two\"\noutputs = [\"DB1\"]\n\n[[group]]\nname = \"PLM\"\nneurons = [\"PLML\"]\namplitude = [50.0, 250.0]\n\n[[group]]\nname = \"AVB\"\nneurons = [\"AVBL\", \"AVBR\"]\namplitude = [1.0, 2.0]\n\n[[behaviour]]\nname = \"touch\"\ngroups = [\"PLM\"]\n\n[[behaviour]]\nname = \"drive\"\ngroups = [\"AVB\", \"PLM\"]\n",
];

#[test]
fn scenario_files() {
    let dir = scratch("scenarios");
    let mut rng = rng(4);
    hunt("scenario files", &dir, |input| {
        let path = input.join("scenario.toml");
        let seed = SCENARIOS[rng.random_range(0..SCENARIOS.len())];
        std::fs::write(&path, mutate(seed, &mut rng)).unwrap();
        let Ok(scenario) = Scenario::from_toml(&path) else {
            return Ok(false);
        };
        let mut g = Generation::new(scenario, 0.5);
        (g.count, g.duration) = (6, 50.0);
        let steps = g
            .steps()
            .map_err(|e| format!("a read scenario cannot size a generation: {e}"))?;
        for k in 0..g.count {
            let rows = g.spec(k).sample(g.dt, steps);
            if rows.iter().flatten().any(|v| !v.is_finite()) {
                return Err(format!("sequence {k} has a non-finite current"));
            }
        }
        Ok(true)
    });
}

// ---------------------------------------------------------------- .dat folders and split files

const DAT: &str = "0 0.0 -0.05 1e-12 2e-12\n1 0.0005 -0.051 1e-12 2e-12\n2 0.001 -0.052 0 2e-12\n3 0.0015 -0.05 1e-12 0\n";

#[test]
fn dat_folders() {
    let dir = scratch("dat");
    let mut rng = rng(5);
    hunt(".dat folders", &dir, |input| {
        let files = rng.random_range(1..5);
        for k in 1..=files {
            let text = if rng.random_bool(0.6) {
                mutate(DAT, &mut rng)
            } else {
                DAT.as_bytes().to_vec()
            };
            std::fs::write(input.join(format!("Sequence_{k:02}.dat")), text).unwrap();
        }
        let import = Import {
            inputs: vec!["U1".into(), "U2".into()],
            outputs: vec!["Y".into()],
            split: None,
            input_unit: "A".into(),
            output_unit: "V".into(),
            generator: "tests/fuzz.rs".into(),
        };
        let Ok(d) = datasets::dat::import_dat(input, &import) else {
            return Ok(false);
        };
        d.check()
            .map_err(|e| format!("imported, but its check fails: {e}"))?;
        Ok(true)
    });
}

#[test]
fn split_files() {
    let dir = scratch("splits");
    let mut rng = rng(6);
    let seed = r#"{"train": [1, 2, 3], "valid": [4], "test": [5, 6]}"#;
    hunt("split files", &dir, |input| {
        let path = input.join("split.json");
        std::fs::write(&path, mutate(seed, &mut rng)).unwrap();
        let count = if rng.random_bool(0.7) {
            6
        } else {
            rng.random_range(0..9)
        };
        let Ok(split) = SplitFile::read(&path, count) else {
            return Ok(false);
        };
        if split.len() != count || split.iter().any(|&c| c > 2) {
            return Err(format!("{split:?} for {count} sequences"));
        }
        Ok(true)
    });
}
