//! Agreement with NEURON 9.0.2 on c302 D1 models (traces in `tests/reference/`, made by
//! `tools/neuron_reference.py`; see `tests/reference/README.md`).

use std::path::{Path, PathBuf};

use simulator::inputs::Waveform;
use simulator::{build, Options};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference")
}

/// A reference table: header names and rows (time_ms first).
struct Table {
    names: Vec<String>,
    rows: Vec<Vec<f64>>,
}

fn read_table(path: &Path) -> Table {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines().filter(|l| !l.starts_with('#'));
    let names = lines.next().unwrap().split_whitespace().map(String::from).collect();
    let rows = lines.map(|l| l.split_whitespace().map(|x| x.parse().unwrap()).collect()).collect();
    Table { names, rows }
}

/// Simulates the case's model at dt and compares every column with NEURON's at `neuron_dt`.
/// Returns (column, RMS difference, max difference) per column.
fn compare_small(case: &str, dt: f64, neuron_dt: &str) -> Vec<(String, f64, f64)> {
    let model_dir = dir().join(case).join("model");
    let lems = std::fs::read_dir(&model_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_str().unwrap().starts_with("LEMS_"))
        .unwrap();
    let model = neuroml::load(&lems).unwrap();
    let table = read_table(&dir().join(case).join(format!("neuron-9.0.2_dt{neuron_dt}.txt")));
    let mut sim = build(&model, &Options { dt, ..Options::default() }).unwrap();
    let probes: Vec<_> = table.names[1..]
        .iter()
        .map(|n| {
            let (cell, var) = n.split_once('/').unwrap();
            sim.probe(&format!("{cell}/0/{cell}/{var}")).unwrap()
        })
        .collect();
    let sample_ms = table.rows[1][0] - table.rows[0][0];
    let every = (sample_ms / dt).round() as usize;
    let traces = sim.run(500.0, &probes, every).unwrap();
    assert_eq!(traces.time.len(), table.rows.len());
    table.names[1..]
        .iter()
        .enumerate()
        .map(|(k, name)| {
            let (mut sq, mut max) = (0.0f64, 0.0f64);
            for (row, ours) in table.rows.iter().zip(&traces.values[k]) {
                let d = ours - row[k + 1];
                sq += d * d;
                max = max.max(d.abs());
            }
            (name.clone(), (sq / table.rows.len() as f64).sqrt(), max)
        })
        .collect()
}

#[test]
fn single_cell_explore() {
    for case in ["single_AVBL", "gap_pair_AIAL_AIAR", "chain_ADEL_AVL_DA2"] {
        for (dt, ndt) in [(0.1, "0.1"), (0.01, "0.01")] {
            let r = compare_small(case, dt, ndt);
            println!("{case} dt {dt}: {r:?}");
        }
    }
}

#[allow(dead_code)]
fn pulse() -> Waveform {
    Waveform::Pulse { delay: 100.0, duration: 300.0, amplitude: 0.015 }
}

#[test]
fn explore_detail() {
    let case = "single_AVBL";
    let model = neuroml::load(dir().join(case).join("model/LEMS_c302_D1_single_AVBL.xml")).unwrap();
    let table = read_table(&dir().join(case).join("neuron-9.0.2_dt0.1.txt"));
    let mut sim = build(&model, &Options { dt: 0.1, ..Options::default() }).unwrap();
    let p = sim.probe("AVBL/0/AVBL/v").unwrap();
    let tr = sim.run(500.0, &[p], 2).unwrap();
    for (i, row) in table.rows.iter().enumerate() {
        if (i % 10 == 0 && row[0] < 140.0 && row[0] > 90.0) || (i < 5) {
            println!("{:.1} neuron {:.4} ours {:.4}", row[0], row[1], tr.values[0][i]);
        }
    }
}

/// The bundled model with the reference stimulus added.
fn full_model_sim(dt: f64, method: simulator::Method) -> simulator::Simulation {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let model = neuroml::load(root.join("models/c302_D1/LEMS_c302_D1.xml")).unwrap();
    let mut sim = build(&model, &Options { dt, method, ..Options::default() }).unwrap();
    for cell in ["PLML", "PLMR", "AVBL", "AVBR"] {
        sim.add_input(cell, 0, 0.5, 1.0, pulse()).unwrap();
    }
    sim
}

fn full_compare(dt: f64, method: simulator::Method, neuron_dt: &str) -> (f64, f64, Vec<(String, f64)>) {
    let table = read_table(&dir().join("full_D1_PLM_AVB").join(format!("neuron-9.0.2_dt{neuron_dt}.txt")));
    let mut sim = full_model_sim(dt, method);
    let probes: Vec<_> = table.names[1..]
        .iter()
        .map(|n| {
            let (cell, var) = n.split_once('/').unwrap();
            sim.probe(&format!("{cell}/0/{cell}/{var}")).unwrap()
        })
        .collect();
    let every = (1.0 / dt).round() as usize;
    let t0 = std::time::Instant::now();
    let traces = sim.run(500.0, &probes, every).unwrap();
    eprintln!("simulated in {:?}, {} CG iterations", t0.elapsed(), sim.total_iterations);
    let (mut sq, mut max, mut count) = (0.0f64, 0.0f64, 0usize);
    let mut per_cell = Vec::new();
    for (k, name) in table.names[1..].iter().enumerate() {
        let mut cmax = 0.0f64;
        for (row, ours) in table.rows.iter().zip(&traces.values[k]) {
            let d = ours - row[k + 1];
            sq += d * d;
            count += 1;
            cmax = cmax.max(d.abs());
        }
        max = max.max(cmax);
        per_cell.push((name.clone(), cmax));
    }
    ((sq / count as f64).sqrt(), max, per_cell)
}

#[test]
fn full_explore() {
    use simulator::Method::*;
    for (dt, m, ndt) in [(0.1, CrankNicolson, "0.01"), (0.05, BackwardEuler, "0.01"), (0.01, BackwardEuler, "0.01")] {
        let (rms, max, mut per) = full_compare(dt, m, ndt);
        per.sort_by(|a, b| b.1.partial_cmp(&a.1).unwrap());
        println!("ours dt {dt} {m:?} vs neuron {ndt}: rms {rms:.4} max {max:.3}; worst {:?}", &per[..5]);
    }
}
