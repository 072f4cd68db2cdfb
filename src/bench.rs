//! `celegans bench`: wall time of the simulator against the surrogate for the same stimuli.
//!
//! The simulator runs the bundled model (settled, as for datasets) through one FCM stimulus
//! sequence of 500 ms on one thread, at dt 0.5 and 0.1 ms; the surrogate (GRU-4, or the model
//! given with `--model`) predicts the same sequence, alone and in a batch of 40 different
//! sequences. Prediction cost does not depend on the weights' values, so without `--model`
//! a GRU-4 with its initial weights is timed.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context};
use datasets::{Generation, Prepared, Scenario};
use serde_json::json;
use surrogate::{Architecture, Recurrence, Scaling, Weights};

/// Arguments of `bench`.
#[derive(clap::Args)]
pub struct BenchArgs {
    /// A trained model directory (4 FCM inputs); default: a GRU-4 of the paper's shape.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Print one JSON object: {"simulator_seconds", "surrogate_seconds", "ratio"} per
    /// sequence at dt 0.1 ms (plus the batch and dt 0.5 figures).
    #[arg(long)]
    pub json: bool,
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Median wall time of `f` over repeats filling about `budget` seconds (3 to 50 repeats).
fn time(budget: f64, mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    f();
    let once = start.elapsed().as_secs_f64();
    let repeats = ((budget / once.max(1e-9)) as usize).clamp(3, 50);
    median(
        (0..repeats)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64()
            })
            .collect(),
    )
}

/// Wall times of one FCM sequence of 500 ms at one time step.
pub struct Row {
    /// Time step \[ms\].
    pub dt: f64,
    /// Steps of the sequence.
    pub steps: usize,
    /// The simulator, one thread \[s\].
    pub simulator: f64,
    /// The surrogate on the sequence alone \[s\].
    pub one: f64,
    /// The surrogate per sequence within a batch of 40 \[s\].
    pub batch: f64,
}

/// Times the simulator (`model`, settled, one FCM sequence, one thread) and a surrogate on
/// the same stimulus, alone and within a batch of 40 different FCM sequences.
pub fn measure(
    model: &neuroml::Model,
    arch: &Architecture,
    weights: &Weights,
    scaling: &Scaling,
    dt: f64,
) -> anyhow::Result<Row> {
    let g = Generation::new(Scenario::builtin("fcm").context("fcm scenario")?, dt);
    let steps = g.steps()?;
    let prepared = Prepared::new(model, &g)?;
    let start = Instant::now();
    let (inputs, _, _) = prepared.simulate(0)?;
    let simulator = start.elapsed().as_secs_f64();
    let x: Vec<f32> = inputs.iter().flatten().map(|&v| v as f32).collect();
    let batch_x: Vec<f32> = (0..40)
        .flat_map(|k| {
            g.spec(k)
                .sample(dt, steps)
                .into_iter()
                .flatten()
                .map(|v| v as f32)
        })
        .collect();
    let one = time(0.5, || {
        std::hint::black_box(surrogate::train::predict(arch, weights, scaling, &x, steps));
    });
    let batch = time(0.5, || {
        std::hint::black_box(surrogate::train::predict(
            arch, weights, scaling, &batch_x, steps,
        ));
    }) / 40.0;
    Ok(Row {
        dt,
        steps,
        simulator,
        one,
        batch,
    })
}

pub fn run(a: BenchArgs) -> anyhow::Result<()> {
    let (arch, weights, scaling, label) = match &a.model {
        Some(dir) => {
            let (m, w) = surrogate::store::load(dir)?;
            if m.architecture.inputs != 4 {
                bail!(
                    "--model {}: the benchmark drives the 4 FCM inputs, the model has {}",
                    dir.display(),
                    m.architecture.inputs
                );
            }
            let label =
                format!("{}-{}", m.architecture.cell.layer(), m.architecture.hidden).to_uppercase();
            (m.architecture, w, m.scaling, label)
        }
        None => {
            let arch = Architecture {
                cell: Recurrence::Gru,
                hidden: 4,
                inputs: 4,
                outputs: 4,
            };
            (
                arch,
                Weights::initial(&arch, 0),
                Scaling::identity(4, 4),
                "GRU-4".to_string(),
            )
        }
    };
    let model = crate::bundled::load_model(None)?;
    let mut rows = Vec::new();
    for dt in [0.5, 0.1] {
        if !a.json {
            eprintln!("dt {dt} ms: building and settling the network...");
        }
        rows.push(measure(&model, &arch, &weights, &scaling, dt)?);
    }
    let fine = &rows[1];
    if a.json {
        let value = json!({
            "simulator_seconds": fine.simulator,
            "surrogate_seconds": fine.one,
            "ratio": fine.simulator / fine.one,
            "surrogate_batch_seconds": fine.batch,
            "batch_ratio": fine.simulator / fine.batch,
            "surrogate": label,
            "dt_ms": fine.dt,
            "dt_0.5": {"simulator_seconds": rows[0].simulator, "surrogate_seconds": rows[0].one, "ratio": rows[0].simulator / rows[0].one},
        });
        println!("{value}");
        return Ok(());
    }
    println!(
        "one FCM sequence of 500 ms, bundled c302 D1 (settled), simulator on one thread vs {label}"
    );
    println!(
        "{:>7} {:>6} {:>14} {:>16} {:>10} {:>22} {:>10}",
        "dt [ms]",
        "steps",
        "simulator [s]",
        "surrogate [ms]",
        "ratio",
        "batch of 40 [ms/seq]",
        "ratio"
    );
    for r in &rows {
        println!(
            "{:>7} {:>6} {:>14.3} {:>16.3} {:>9.0}x {:>22.3} {:>9.0}x",
            r.dt,
            r.steps,
            r.simulator,
            r.one * 1e3,
            r.simulator / r.one,
            r.batch * 1e3,
            r.simulator / r.batch
        );
    }
    Ok(())
}
