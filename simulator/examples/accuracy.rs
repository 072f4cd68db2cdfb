//! Accuracy of the full model against NEURON's converged run (dt 0.01 ms), by time window:
//! the figures behind the accuracy criterion, and where an error comes from.
//!
//! `cargo run --release -p simulator --example accuracy [DT] [cn] [CELL]`
//!
//! Prints RMS and mean difference (mV) per window for NEURON's own dt 0.1 ms run and for
//! ours, the cells with the largest difference, and with CELL (e.g. `AVBR/v`) that cell's
//! three traces every 5 ms.

use std::path::Path;

use simulator::inputs::Waveform;
use simulator::{build, Method, Options};

/// Rows of (time, value per column) and the header.
fn read_table(path: &Path) -> (Vec<String>, Vec<Vec<f64>>) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines().filter(|l| !l.starts_with('#'));
    let names = lines.next().unwrap().split_whitespace().map(String::from).collect();
    let rows = lines.map(|l| l.split_whitespace().map(|x| x.parse().unwrap()).collect()).collect();
    (names, rows)
}

const WINDOWS: [(f64, f64); 7] =
    [(0.0, 5.0), (5.0, 20.0), (20.0, 50.0), (50.0, 100.0), (100.0, 400.0), (400.0, 500.0), (0.0, 500.0)];

/// RMS and mean of `other − reference` over the columns `columns` and the rows in [a, b].
fn difference(reference: &[Vec<f64>], other: &[Vec<f64>], columns: std::ops::Range<usize>, (a, b): (f64, f64)) -> (f64, f64) {
    let (mut sq, mut sum, mut n) = (0.0, 0.0, 0usize);
    for (r, o) in reference.iter().zip(other).filter(|(r, _)| r[0] >= a && r[0] <= b) {
        for k in columns.clone() {
            let d = o[k] - r[k];
            sq += d * d;
            sum += d;
            n += 1;
        }
    }
    ((sq / n as f64).sqrt(), sum / n as f64)
}

fn report(label: &str, names: &[String], reference: &[Vec<f64>], other: &[Vec<f64>]) {
    let mut line = format!("{label:>24}");
    for w in WINDOWS {
        let (rms, mean) = difference(reference, other, 1..names.len(), w);
        line += &format!("  [{:>3}-{:>3}] {rms:.3} {mean:+.3}", w.0, w.1);
    }
    println!("{line}");
    let mut per: Vec<(f64, &str)> =
        (1..names.len()).map(|k| (difference(reference, other, k..k + 1, (0.0, 500.0)).0, names[k].as_str())).collect();
    per.sort_by(|x, y| y.0.total_cmp(&x.0));
    let worst: Vec<String> = per[..8].iter().map(|(e, n)| format!("{n} {e:.3}")).collect();
    let mut maxima: Vec<f64> = (1..names.len())
        .map(|k| reference.iter().zip(other).fold(0.0f64, |m, (r, o)| m.max((o[k] - r[k]).abs())))
        .collect();
    maxima.sort_by(f64::total_cmp);
    println!("{:>24}  per-cell maximum: median {:.3}, largest {:.3}", "", maxima[maxima.len() / 2], maxima[maxima.len() - 1]);
    println!("{:>24}  largest RMS: {}", "", worst.join(", "));
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let dt: f64 = args.get(1).map(|s| s.parse().expect("DT in ms")).unwrap_or(0.1);
    let method = if args.iter().any(|a| a == "cn") { Method::CrankNicolson } else { Method::BackwardEuler };
    let cell = args.iter().skip(2).find(|a| a.contains('/'));
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = root.join("tests/reference/full_D1_PLM_AVB");
    let (names, reference) = read_table(&dir.join("neuron-9.0.2_dt0.01.txt"));
    let (_, coarse) = read_table(&dir.join("neuron-9.0.2_dt0.1.txt"));
    let model = neuroml::load(root.parent().unwrap().join("models/c302_D1/LEMS_c302_D1.xml")).unwrap();
    let mut sim = build(&model, &Options { dt, method, ..Options::default() }).unwrap();
    for cell in ["PLML", "PLMR", "AVBL", "AVBR"] {
        sim.add_input(cell, 0, 0.5, 1.0, Waveform::Pulse { delay: 100.0, duration: 300.0, amplitude: 0.015 }).unwrap();
    }
    let probes: Vec<_> = names[1..]
        .iter()
        .map(|n| {
            let (cell, var) = n.split_once('/').unwrap();
            sim.probe(&format!("{cell}/0/{cell}/{var}")).unwrap()
        })
        .collect();
    let traces = sim.run(500.0, &probes, (1.0 / dt).round() as usize).unwrap();
    let ours: Vec<Vec<f64>> = (0..traces.time.len())
        .map(|i| std::iter::once(traces.time[i]).chain(traces.values.iter().map(|s| s[i])).collect())
        .collect();
    report("NEURON dt 0.1", &names, &reference, &coarse);
    report(&format!("ours {method:?} dt {dt}"), &names, &reference, &ours);
    if let Some(cell) = cell {
        let k = names.iter().position(|n| n == cell).unwrap_or_else(|| panic!("no column {cell}"));
        println!("{:>6} {:>9} {:>9} {:>9}", "t", "NEURON.01", "NEURON.1", "ours");
        for i in (0..reference.len()).step_by(5) {
            println!("{:6.1} {:9.3} {:9.3} {:9.3}", reference[i][0], reference[i][k], coarse[i][k], ours[i][k]);
        }
    }
}
