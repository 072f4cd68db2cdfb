//! Dataset files (HDF5) built with random sizes, element types, ranks, attributes and values.

use super::*;

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
