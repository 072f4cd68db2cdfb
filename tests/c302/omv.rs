//! c302's OMV regression tests for its Pharyngeal networks (`test.phar<SET>.jnmlnrn.omt`
//! with the expected spike times in `test.pharyngeal<SET>.mep`), run with our engine.
//!
//! The expectations are NEURON's at the LEMS file's dt (0.01 ms) and carry its
//! discretisation error, so a spike time passes when it is within one step of the expected
//! one, or at least as close to NEURON's converged run (dt 0.001 ms,
//! `omv_neuron_dt0.001.txt`, made by `tools/c302_omv_reference.py`) as the expected one is.

use std::collections::BTreeMap;

use super::{examples, fixtures, read_dat, run_lems, scratch, spike_times};

/// One observable of an `.omt` file.
#[derive(Debug)]
struct Experiment {
    name: String,
    column: usize,
    threshold: f64,
}

/// The target and experiments of an `.omt` file (the subset of YAML c302's files use).
fn parse_omt(text: &str) -> (String, Vec<Experiment>) {
    let mut target = String::new();
    let mut experiments: Vec<Experiment> = Vec::new();
    for line in text.lines() {
        let trimmed = line.trim();
        if let Some(t) = trimmed.strip_prefix("target:") {
            target = t.trim().to_string();
        } else if line.starts_with("  ") && !line.starts_with("   ") && trimmed.ends_with(':') {
            experiments.push(Experiment {
                name: trimmed.trim_end_matches(':').to_string(),
                column: 0,
                threshold: f64::NAN,
            });
        } else if let Some(c) = trimmed.strip_prefix("columns:") {
            let k = c.trim().trim_matches(|ch| ch == '[' || ch == ']');
            let column = k.split(',').nth(1).unwrap().trim().parse().unwrap();
            experiments.last_mut().unwrap().column = column;
        } else if let Some(t) = trimmed.strip_prefix("threshold:") {
            experiments.last_mut().unwrap().threshold = t.trim().parse().unwrap();
        }
    }
    (target, experiments)
}

/// A list `[a, b, ...]` of numbers.
fn numbers(text: &str) -> Vec<f64> {
    text.trim()
        .trim_matches(|ch| ch == '[' || ch == ']')
        .split(',')
        .filter(|x| !x.trim().is_empty())
        .map(|x| x.trim().parse().unwrap())
        .collect()
}

/// The expected spike times per experiment of a `.mep` file.
fn parse_mep(text: &str) -> BTreeMap<String, Vec<f64>> {
    let mut out = BTreeMap::new();
    let mut current = None;
    for line in text.lines() {
        let trimmed = line.trim();
        if let Some(times) = trimmed.strip_prefix("spike times:") {
            out.insert(current.clone().unwrap(), numbers(times));
        } else if trimmed.ends_with(':') && !["experiments:", "expected:"].contains(&trimmed) {
            current = Some(trimmed.trim_end_matches(':').to_string());
        }
    }
    out
}

/// NEURON's converged spike times: (set, experiment) → times.
fn converged() -> BTreeMap<(String, String), Vec<f64>> {
    let text =
        std::fs::read_to_string(fixtures("c302_examples").join("omv_neuron_dt0.001.txt")).unwrap();
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let times = f[5].split_once('=').unwrap().1;
            ((f[0].to_string(), f[1].to_string()), numbers(times))
        })
        .collect()
}

/// Runs one set's OMV test with the default method; returns a line per failing spike.
fn check(set: &str) -> Vec<String> {
    let dir = examples();
    let read = |f: String| std::fs::read_to_string(dir.join(f)).unwrap();
    let (target, experiments) = parse_omt(&read(format!("test.phar{set}.jnmlnrn.omt")));
    let expected = parse_mep(&read(format!("test.pharyngeal{set}.mep")));
    let converged = converged();
    let out = scratch(&format!("omv-{set}"));
    run_lems(&dir.join(&target), &out, &[]);
    let rows = read_dat(&out.join(format!("c302_{set}_Pharyngeal.dat")));
    let dt = rows[1][0] * 1e3 - rows[0][0] * 1e3;
    assert!(!experiments.is_empty(), "{set}: no experiment read");
    let mut failures = Vec::new();
    for e in &experiments {
        let ours = spike_times(&rows, e.column, e.threshold);
        let want = &expected[&e.name];
        let reference = &converged[&(set.to_string(), e.name.clone())];
        assert_eq!(
            want.len(),
            reference.len(),
            "{set} {}: the references disagree",
            e.name
        );
        if ours.len() != want.len() {
            failures.push(format!(
                "{set} {}: spikes {ours:?}, expected {want:?}",
                e.name
            ));
            continue;
        }
        for ((&o, &w), &r) in ours.iter().zip(want).zip(reference) {
            let within_a_step = (o - w).abs() <= dt * (1.0 + 1e-6);
            let as_close = (o - r).abs() <= (w - r).abs() + 1e-9;
            if !(within_a_step || as_close) {
                failures.push(format!(
                    "{set} {}: spike at {o:.3} ms, expected {w} ms, NEURON converged {r} ms",
                    e.name
                ));
            }
        }
    }
    failures
}

#[test]
fn the_omt_and_mep_files_read_as_c302_wrote_them() {
    let dir = examples();
    let (target, experiments) =
        parse_omt(&std::fs::read_to_string(dir.join("test.pharC0.jnmlnrn.omt")).unwrap());
    assert_eq!(target, "LEMS_c302_C0_Pharyngeal.xml");
    let got: Vec<_> = experiments
        .iter()
        .map(|e| (e.name.as_str(), e.column, e.threshold))
        .collect();
    assert_eq!(
        got,
        [("M1", 9, -10.0), ("M2L", 10, -30.0), ("I2R", 2, -10.0)]
    );
    let mep = parse_mep(&std::fs::read_to_string(dir.join("test.pharyngealC0.mep")).unwrap());
    assert_eq!(mep["M2L"], [131.99]);
    assert_eq!(converged()[&("C0".into(), "I2R".into())], [174.734]);
}

#[test]
fn integrate_and_fire_set_a_passes_its_omv_test() {
    let failures = check("A");
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn activity_cell_set_b_passes_its_omv_test() {
    let failures = check("B");
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn spiking_set_c_passes_its_omv_test() {
    let failures = check("C");
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn graded_set_c0_passes_its_omv_test() {
    let failures = check("C0");
    assert!(failures.is_empty(), "{failures:#?}");
}

#[test]
fn graded_set_c1_passes_its_omv_test() {
    let failures = check("C1");
    assert!(failures.is_empty(), "{failures:#?}");
}
