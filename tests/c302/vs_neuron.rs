//! c302's spiking example networks against NEURON (jNeuroML's export), from the references
//! in `tests/fixtures/c302_neuron/` (made by `tools/c302_neuron.py reference`): NEURON at
//! dt/10 is the converged reference; NEURON at the LEMS file's dt is the yardstick.
//!
//! At the LEMS file's dt, with the default method:
//! - voltages: our RMS error against the reference, on the reference's samples, is no
//!   larger than NEURON's own at that dt, for every voltage OutputFile;
//! - spikes: every recorded cell has the reference's number of spikes, and our largest
//!   spike-time error is no larger than NEURON's own (its spikes matched in order with
//!   the reference's), or than one step.

use std::collections::BTreeMap;
use std::path::Path;

use super::{fixtures, read_dat, run_lems, scratch, spike_times};

/// `summary.txt`: NEURON's RMS errors per file and spike times per (file, dt, column).
struct Summary {
    rms: BTreeMap<String, f64>,
    spikes: BTreeMap<(String, String, String), Vec<f64>>,
}

fn read_summary(path: &Path) -> Summary {
    let mut s = Summary {
        rms: BTreeMap::new(),
        spikes: BTreeMap::new(),
    };
    for line in std::fs::read_to_string(path).unwrap().lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        match f.first().copied() {
            Some("rms") => {
                s.rms.insert(f[1].to_string(), f[3].parse().unwrap());
            }
            Some("spikes") => {
                let times = match f[4] {
                    "-" => Vec::new(),
                    t => t.split(',').map(|x| x.parse().unwrap()).collect(),
                };
                s.spikes.insert(
                    (f[1].to_string(), f[2].to_string(), f[3].to_string()),
                    times,
                );
            }
            _ => {}
        }
    }
    s
}

/// A reference trace: column names and rows (time in ms, v in mV).
fn read_trace(path: &Path) -> (Vec<String>, Vec<Vec<f64>>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines().filter(|l| !l.starts_with('#'));
    let names = lines
        .next()
        .unwrap()
        .split_whitespace()
        .skip(1)
        .map(str::to_string)
        .collect();
    let rows = lines
        .map(|l| l.split_whitespace().map(|x| x.parse().unwrap()).collect())
        .collect();
    (names, rows)
}

/// The largest difference of spikes matched in order.
fn timing_error(times: &[f64], reference: &[f64]) -> f64 {
    times
        .iter()
        .zip(reference)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max)
}

/// Runs one configuration with `extra` arguments and checks it; returns what fails.
fn check(config: &str, dt: f64, extra: &[&str]) -> Vec<String> {
    let dir = fixtures("c302_neuron").join(config);
    let summary = read_summary(&dir.join("summary.txt"));
    let out = scratch(&format!("{config}{}", extra.join("")));
    let (reference_dt, coarse) = (format!("{}", dt / 10.0), format!("{dt}"));
    let duration = {
        let (_, rows) = read_trace(&dir.join(format!("{config}.dat.neuron_dt{reference_dt}.txt")));
        rows.last().unwrap()[0]
    };
    let mut args = vec!["--duration".to_string(), format!("{duration}")];
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    run_lems(&dir.join(format!("model/LEMS_{config}.xml")), &out, &args);
    let mut failures = Vec::new();
    assert!(!summary.rms.is_empty());
    for (file, &neuron_rms) in &summary.rms {
        let (names, reference) =
            read_trace(&dir.join(format!("{file}.neuron_dt{reference_dt}.txt")));
        let ours = read_dat(&out.join(file));
        // Our rows are every step from t = 0: the reference's sample at t is row t/dt.
        let (mut se, mut n) = (0.0, 0usize);
        for r in &reference {
            let row = &ours[(r[0] / dt).round() as usize];
            assert!(
                (row[0] * 1e3 - r[0]).abs() < 1e-6,
                "{file}: sample times differ"
            );
            for k in 1..r.len() {
                se += (row[k] * 1e3 - r[k]).powi(2);
                n += 1;
            }
        }
        let rms = (se / n as f64).sqrt();
        eprintln!("{config} {file}: RMS {rms:.4} mV, NEURON at dt {dt}: {neuron_rms:.4} mV");
        if rms > neuron_rms {
            failures.push(format!(
                "{file}: RMS {rms:.4} mV > NEURON's {neuron_rms:.4} mV"
            ));
        }
        let threshold = spike_threshold(&dir, config);
        for (k, name) in names.iter().enumerate() {
            let key = |step: &str| (file.clone(), step.to_string(), name.clone());
            let want = &summary.spikes[&key(&reference_dt)];
            let neuron = &summary.spikes[&key(&coarse)];
            let got = spike_times(&ours, k + 1, threshold);
            if got.len() != want.len() {
                failures.push(format!(
                    "{name}: {} spikes, the reference {}",
                    got.len(),
                    want.len()
                ));
                continue;
            }
            let (ours_error, neuron_error) = (timing_error(&got, want), timing_error(neuron, want));
            if ours_error > neuron_error.max(dt) + 1e-9 {
                failures.push(format!(
                    "{name}: spike times off by {ours_error:.3} ms, NEURON's by {neuron_error:.3} ms"
                ));
            }
        }
    }
    failures
}

/// The network's `spikeThresh` (c302 gives every cell the same) \[mV\].
fn spike_threshold(dir: &Path, config: &str) -> f64 {
    let text = std::fs::read_to_string(dir.join(format!("model/{config}.net.nml"))).unwrap();
    let at = text.find("<spikeThresh value=\"").unwrap() + "<spikeThresh value=\"".len();
    text[at..]
        .split_whitespace()
        .next()
        .unwrap()
        .trim_end_matches("mV")
        .parse()
        .unwrap()
}

#[test]
fn spiking_set_c_synapses_agree_with_neuron() {
    let failures = check("c302_C_Syns", 0.05, &[]);
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn spiking_multicompartment_set_d_synapses_agree_with_neuron() {
    let failures = check("c302_D_Syns", 0.05, &[]);
    assert!(failures.is_empty(), "{failures:#?}");
}
