//! All 64 of c302's example networks against NEURON (jNeuroML's export), from the
//! references in `tests/fixtures/c302_examples/neuron/` (made by `tools/c302_neuron.py
//! reference`): NEURON at dt/10 is the converged reference, NEURON at the LEMS file's dt the
//! yardstick. Each configuration runs for its LEMS length (the Full, Muscles and FW networks,
//! which hold most of the 302 cells, for their first 200 ms).
//!
//! At the LEMS file's dt, with the default method:
//! - every OutputFile: our RMS error against the reference, on the reference's samples and
//!   columns, is no larger than NEURON's own at that dt (within the reference's rounding,
//!   [`RESOLUTION`]);
//! - every voltage column: the reference's number of spikes, and our largest spike-time
//!   error no larger than NEURON's own (spikes matched in order) or than one step.
//!
//! The configurations that do not meet a criterion yet are listed in [`OPEN`] with the
//! reason; they must still run, and any other configuration failing fails the test.
//! `docs/c302-networks.md` holds the same comparison at full resolution.

use std::collections::BTreeMap;
use std::path::Path;

use super::{examples, fixtures, read_dat, run_lems, scratch, spike_times};

/// The configurations that miss a criterion today (#14), and why; see
/// `docs/c302-networks.md`.
const OPEN: &[(&str, &str)] = &[
    // Spike counts of integrate-and-fire cells: muscles firing nearly every step (ours 25
    // against the reference's 24 for AS1, NEURON at dt 17), and single spikes at the edge
    // of threshold (A_Pharyngeal I5: ours and NEURON at dt 8, the reference 7; I6: ours 2,
    // the reference and NEURON 3).
    (
        "c302_A_Muscles",
        "spike count (77 cells; NEURON at dt misses 93)",
    ),
    (
        "c302_A_Pharyngeal",
        "spike count (2 cells; NEURON at dt misses 1)",
    ),
    // An oscillator whose reference skips one AVBL spike near 674 ms, which neither run at
    // dt reproduces (counts ours 28 / NEURON 27 / reference 26); our spike times drift less
    // than NEURON's (0.6 against 1.9 ms by 843 ms).
    (
        "c302_B_Oscillator",
        "voltage and activity RMS, spike count (2 cells)",
    ),
    // The C0 muscle oscillator (Leak, k_slow, ca_simple: a calcium gate with τ = 0.1 ms, half
    // of dt), driven by graded synapses. Its period at dt 0.05: ours +0.16 % with
    // Crank–Nicolson, +1.35 % with backward Euler, NEURON +0.09 %. Crank–Nicolson converges
    // at second order (the muscle's 8th spike at 2712.50 / 2711.525 / 2711.24 / 2711.195 ms
    // for dt 0.05 / 0.025 / 0.01 / 0.005, the reference 2711.255), so the error is a large
    // constant, not a wrong limit. jNeuroML's export computes gradedSynapse2's current in
    // the state update (`rates()` in DERIVATIVE), so NEURON's synapse current lags a step
    // and enters its solve without conductance. Left out of our solve the same way (a
    // measurement, not a mode), our backward Euler's 8th spike moves from 2721.65 to
    // 2710.45 ms, Crank–Nicolson's from 2712.50 to 2707.40: the synapses' conductance in the
    // implicit solve is what separates our backward Euler from NEURON's here, and leaving it
    // out makes Crank–Nicolson worse (2026-12-07).
    (
        "c302_C0_Syns",
        "voltage and activity RMS, spike timing (1 cell)",
    ),
    // C1_Full's second spikes (after 120 ms) sit at a bifurcation that even the reference
    // has not converged on: ours with backward Euler follows NEURON's branch at dt 0.005
    // (DA4 131.8 ms, NEURON 131.1) and the other at dt 0.0025 (DA4 138.0 ms), where
    // Crank–Nicolson stays at every dt down to 0.005.
    (
        "c302_C1_Full",
        "spike count (4 cells; NEURON at dt 11), spike timing (4 cells)",
    ),
    (
        "c302_C1_Muscles",
        "spike timing (1 cell: 0.755 vs 0.605 ms)",
    ),
    // A non-spiking cellW2D counted at the default 0 mV threshold, where it starts: its
    // first-step transient (1e-7 mV) goes up in ours, down in NEURON's, and counts.
    ("c302_W2D_Full", "spike count (1 cell: 2 against 1)"),
];

/// Voltage RMS values compare within the rounding of the reference's samples (0.0001 mV).
const RESOLUTION: f64 = 1e-4;

/// `summary.txt`: the run, NEURON's RMS errors per file, the voltage columns per file and
/// their spike times per (file, dt, column).
struct Summary {
    duration: f64,
    dt: f64,
    threshold: f64,
    rms: BTreeMap<String, f64>,
    voltage: BTreeMap<String, Vec<usize>>,
    spikes: BTreeMap<(String, String, usize), Vec<f64>>,
}

impl Summary {
    /// Spike times of column `column` (1 = the first after time) of `file` at step `dt`.
    fn spikes(&self, file: &str, dt: &str, column: usize) -> &[f64] {
        self.spikes
            .get(&(file.to_string(), dt.to_string(), column))
            .map_or(&[], Vec::as_slice)
    }
}

fn read_summary(path: &Path) -> Summary {
    let mut s = Summary {
        duration: f64::NAN,
        dt: f64::NAN,
        threshold: f64::NAN,
        rms: BTreeMap::new(),
        voltage: BTreeMap::new(),
        spikes: BTreeMap::new(),
    };
    for line in std::fs::read_to_string(path).unwrap().lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        match f.first().copied() {
            Some("run") => {
                (s.duration, s.dt, s.threshold) = (
                    f[1].parse().unwrap(),
                    f[2].parse().unwrap(),
                    f[3].parse().unwrap(),
                );
            }
            Some("rms") => {
                s.rms.insert(f[1].to_string(), f[3].parse().unwrap());
            }
            Some("voltage") => {
                let columns = f[2].split(',').map(|k| k.parse().unwrap()).collect();
                s.voltage.insert(f[1].to_string(), columns);
            }
            Some("spikes") => {
                let times = f[4].split(',').map(|x| x.parse().unwrap()).collect();
                let key = (f[1].to_string(), f[2].to_string(), f[3].parse().unwrap());
                s.spikes.insert(key, times);
            }
            _ => {}
        }
    }
    assert!(s.dt > 0.0, "{}: no run line", path.display());
    s
}

/// A reference trace: column names and rows (time in ms, v in mV, others in SI units).
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

/// The quantities of an OutputFile of a LEMS file, in column order.
fn output_columns(lems: &str, file: &str) -> Vec<String> {
    let at = lems
        .find(&format!("fileName=\"{file}\""))
        .unwrap_or_else(|| panic!("no OutputFile {file}"));
    let end = at + lems[at..].find("</OutputFile>").unwrap();
    lems[at..end]
        .split("quantity=\"")
        .skip(1)
        .map(|q| q[..q.find('"').unwrap()].to_string())
        .collect()
}

/// The largest difference of spikes matched in order.
fn timing_error(times: &[f64], reference: &[f64]) -> f64 {
    times
        .iter()
        .zip(reference)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f64::max)
}

/// Runs one configuration (with `extra` arguments to `celegans run`) and checks it;
/// returns what fails.
fn check(config: &str, extra: &[&str]) -> Vec<String> {
    let dir = fixtures("c302_examples").join("neuron").join(config);
    let summary = read_summary(&dir.join("summary.txt"));
    let (dt, threshold) = (summary.dt, summary.threshold);
    let out = scratch(config);
    let lems = examples().join(format!("LEMS_{config}.xml"));
    let duration = format!("{}", summary.duration);
    let args: Vec<&str> = ["--duration", &duration]
        .into_iter()
        .chain(extra.iter().copied())
        .collect();
    run_lems(&lems, &out, &args);
    let lems = std::fs::read_to_string(&lems).unwrap();
    let (reference_dt, coarse) = (format!("{}", dt / 10.0), format!("{dt}"));
    let mut failures = Vec::new();
    assert!(!summary.rms.is_empty());
    for (file, &neuron_rms) in &summary.rms {
        let columns = output_columns(&lems, file);
        let (names, reference) =
            read_trace(&dir.join(format!("{file}.neuron_dt{reference_dt}.txt")));
        let ours = read_dat(&out.join(file));
        assert_eq!(
            ours.len(),
            (summary.duration / dt).round() as usize + 1,
            "{config} {file}: one row per step"
        );
        let index: Vec<usize> = names
            .iter()
            .map(|n| 1 + columns.iter().position(|c| c == n).unwrap())
            .collect();
        // Our rows are every step from t = 0: the reference's sample at t is row t/dt.
        let (mut se, mut n) = (0.0, 0usize);
        for r in &reference {
            let row = &ours[(r[0] / dt).round() as usize];
            assert!(
                (row[0] * 1e3 - r[0]).abs() < 1e-6,
                "{file}: sample times differ"
            );
            for (k, &c) in index.iter().enumerate() {
                let scale = if columns[c - 1].ends_with("/v") {
                    1e3
                } else {
                    1.0
                };
                se += (row[c] * scale - r[k + 1]).powi(2);
                n += 1;
            }
        }
        let rms = (se / n as f64).sqrt();
        eprintln!("{config} {file}: RMS {rms:.4e}, NEURON at dt {dt}: {neuron_rms:.4e}");
        // The reference's rounding: v to 0.0001 mV, other quantities to 6 significant digits.
        let tolerance = if names.iter().all(|n| n.ends_with("/v")) {
            RESOLUTION
        } else {
            5e-6 * reference
                .iter()
                .flat_map(|r| &r[1..])
                .fold(0.0, |m: f64, x| m.max(x.abs()))
        };
        if rms > neuron_rms + tolerance {
            failures.push(format!("{file}: RMS {rms:.4e} > NEURON's {neuron_rms:.4e}"));
        }
        for &c in summary.voltage.get(file).into_iter().flatten() {
            let name = &columns[c - 1];
            let want = summary.spikes(file, &reference_dt, c);
            let neuron = summary.spikes(file, &coarse, c);
            let got = spike_times(&ours, c, threshold);
            if got.len() != want.len() {
                failures.push(format!(
                    "{name}: {} spikes, the reference {} (NEURON at dt {})",
                    got.len(),
                    want.len(),
                    neuron.len()
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

/// Checks every configuration of parameter set `set`: a configuration not in [`OPEN`] must
/// meet every criterion.
fn check_set(set: &str) {
    check_set_with(set, &[]);
}

/// [`check_set`] with `extra` arguments to `celegans run`.
fn check_set_with(set: &str, extra: &[&str]) {
    let mut configs: Vec<String> = std::fs::read_dir(fixtures("c302_examples").join("neuron"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|c| {
            c.strip_prefix("c302_")
                .and_then(|c| c.strip_prefix(set))
                .is_some_and(|r| r.starts_with('_'))
        })
        .collect();
    configs.sort();
    assert!(configs.len() >= 7, "set {set}: {configs:?}");
    let mut unexpected = Vec::new();
    for config in &configs {
        let failures = check(config, extra);
        match OPEN.iter().find(|(c, _)| c == config) {
            Some((_, why)) if !failures.is_empty() => {
                eprintln!("{config}: open ({why}): {failures:#?}")
            }
            Some(_) => eprintln!("{config}: now meets every criterion; take it off OPEN"),
            None if !failures.is_empty() => unexpected.push((config.clone(), failures)),
            None => {}
        }
    }
    assert!(unexpected.is_empty(), "{unexpected:#?}");
}

#[test]
fn set_a_agrees_with_neuron() {
    check_set("A");
}

#[test]
fn set_b_agrees_with_neuron() {
    check_set("B");
}

#[test]
fn set_c_agrees_with_neuron() {
    check_set("C");
}

#[test]
fn set_c0_agrees_with_neuron() {
    check_set("C0");
}

#[test]
fn set_c1_agrees_with_neuron() {
    check_set("C1");
}

#[test]
fn set_c2_and_openworms_c2_fw_agree_with_neuron() {
    check_set("C2");
}

#[test]
fn set_d_agrees_with_neuron() {
    check_set("D");
}

#[test]
fn set_d1_agrees_with_neuron() {
    check_set("D1");
}

/// Variable steps (`--dt auto`, the default tolerance) meet the fixed step's criteria on
/// the graded networks: every configuration of sets D1 and C2 (with OpenWorm's C2_FW), the
/// outputs sampled at the LEMS file's step.
#[test]
fn variable_steps_agree_with_neuron_on_graded_networks() {
    check_set_with("D1", &["--dt", "auto"]);
    check_set_with("C2", &["--dt", "auto"]);
}

#[test]
fn set_w2d_agrees_with_neuron() {
    check_set("W2D");
}
