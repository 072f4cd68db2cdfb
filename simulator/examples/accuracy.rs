//! Accuracy of the full model against NEURON's converged run (dt 0.01 ms), by time window:
//! the figures behind the accuracy criterion, and where an error comes from.
//!
//! `cargo run --release -p simulator --example accuracy [DT | auto RTOL] [cn] [CELL]`
//!
//! Prints RMS and mean difference (mV) per window for NEURON's own dt 0.1 ms run and for
//! ours, the cells with the largest difference, and with CELL (e.g. `AVBR/v`) that cell's
//! three traces every 5 ms.

#[path = "../tests/common/reference.rs"]
mod reference;

use std::path::Path;

use simulator::{build, Method, Options};

const WINDOWS: [(f64, f64); 7] = [
    (0.0, 5.0),
    (5.0, 20.0),
    (20.0, 50.0),
    (50.0, 100.0),
    (100.0, 400.0),
    (400.0, 500.0),
    (0.0, 500.0),
];

/// RMS and mean of `other − reference` over the columns `columns` and the rows in \[a, b\].
fn difference(
    reference: &[Vec<f64>],
    other: &[Vec<f64>],
    columns: std::ops::Range<usize>,
    (a, b): (f64, f64),
) -> (f64, f64) {
    let (mut sq, mut sum, mut n) = (0.0, 0.0, 0usize);
    for (r, o) in reference
        .iter()
        .zip(other)
        .filter(|(r, _)| r[0] >= a && r[0] <= b)
    {
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
    let mut per: Vec<(f64, &str)> = (1..names.len())
        .map(|k| {
            (
                difference(reference, other, k..k + 1, (0.0, 500.0)).0,
                names[k].as_str(),
            )
        })
        .collect();
    per.sort_by(|x, y| y.0.total_cmp(&x.0));
    let worst: Vec<String> = per[..8]
        .iter()
        .map(|(e, n)| format!("{n} {e:.3}"))
        .collect();
    let mut maxima: Vec<f64> = (1..names.len())
        .map(|k| {
            reference
                .iter()
                .zip(other)
                .fold(0.0f64, |m, (r, o)| m.max((o[k] - r[k]).abs()))
        })
        .collect();
    maxima.sort_by(f64::total_cmp);
    println!(
        "{:>24}  per-cell maximum: median {:.3}, largest {:.3}",
        "",
        maxima[maxima.len() / 2],
        maxima[maxima.len() - 1]
    );
    println!("{:>24}  largest RMS: {}", "", worst.join(", "));
}

/// Step control for `rtol`, with `MAX_STEP` / `FIRST_STEP` from the environment when set.
fn control(rtol: f64) -> simulator::StepControl {
    let mut c = simulator::StepControl::new(rtol);
    let env = |name: &str| std::env::var(name).ok().map(|s| s.parse().expect(name));
    c.max_step = env("MAX_STEP").unwrap_or(c.max_step);
    c.first_step = env("FIRST_STEP").unwrap_or(c.first_step);
    c
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `auto RTOL`: variable steps.
    let rtol: Option<f64> = (args.get(1).map(String::as_str) == Some("auto"))
        .then(|| args.get(2).map_or(1e-4, |s| s.parse().expect("RTOL")));
    let dt: f64 = match rtol {
        Some(_) => 0.1,
        None => args
            .get(1)
            .map(|s| s.parse().expect("DT in ms"))
            .unwrap_or(0.1),
    };
    let method = if args.iter().any(|a| a == "cn") {
        Method::CrankNicolson
    } else {
        Method::BackwardEuler
    };
    let cell = args.iter().skip(2).find(|a| a.contains('/'));
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = reference::dir().join("full_D1_PLM_AVB");
    let reference::Table {
        names,
        rows: converged,
    } = reference::read_table(&dir.join("neuron-9.0.2_dt0.01.txt"));
    let coarse = reference::read_table(&dir.join("neuron-9.0.2_dt0.1.txt")).rows;
    let model = neuroml::load(
        root.parent()
            .unwrap()
            .join("models/c302_D1/LEMS_c302_D1.xml"),
    )
    .unwrap();
    let mut sim = build(
        &model,
        &Options {
            dt,
            method,
            ..Options::default()
        },
    )
    .unwrap();
    reference::stimulate(&mut sim);
    let probes: Vec<_> = names[1..]
        .iter()
        .map(|n| {
            let (cell, var) = n.split_once('/').unwrap();
            sim.probe(&format!("{cell}/0/{cell}/{var}")).unwrap()
        })
        .collect();
    let clock = std::time::Instant::now();
    let (traces, label) = match rtol {
        None => (
            sim.run(500.0, &probes, (1.0 / dt).round() as usize)
                .unwrap(),
            format!("ours {method:?} dt {dt}"),
        ),
        Some(rtol) => {
            let (traces, stats) = sim
                .run_adaptive(500.0, &probes, 1.0, &control(rtol))
                .unwrap();
            println!(
                "variable steps, rtol {rtol:e}: {} steps of {:.2e}–{:.2e} ms",
                stats.steps, stats.shortest, stats.longest
            );
            (traces, format!("ours auto rtol {rtol:e}"))
        }
    };
    println!("simulated in {:.3} s", clock.elapsed().as_secs_f64());
    let ours: Vec<Vec<f64>> = (0..traces.time.len())
        .map(|i| {
            std::iter::once(traces.time[i])
                .chain(traces.values.iter().map(|s| s[i]))
                .collect()
        })
        .collect();
    report("NEURON dt 0.1", &names, &converged, &coarse);
    report(&label, &names, &converged, &ours);
    if let Some(cell) = cell {
        let k = names
            .iter()
            .position(|n| n == cell)
            .unwrap_or_else(|| panic!("no column {cell}"));
        println!(
            "{:>6} {:>9} {:>9} {:>9}",
            "t", "NEURON.01", "NEURON.1", "ours"
        );
        for i in (0..converged.len()).step_by(5) {
            println!(
                "{:6.1} {:9.3} {:9.3} {:9.3}",
                converged[i][0], converged[i][k], coarse[i][k], ours[i][k]
            );
        }
    }
}
