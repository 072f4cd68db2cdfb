//! `celegans bench`: wall time of the simulator against the surrogate for the same stimuli
//! ([`paper::speed`]), the bundled model at dt 0.5 and 0.1 ms against a GRU-4 or the model
//! given with `--model`: one sequence (the simulator on one thread), and a batch of
//! `--batch` sequences with both sides on all cores. Without `--model` a GRU-4 with its
//! initial weights is timed, its inputs and outputs standardized as `celegans train` would
//! standardize these data: the cost of a prediction does not depend on the weights' values,
//! except through subnormal numbers, which raw currents of hundreds of pA fed to a network
//! produce (gates saturated to ~1e-38 times the state: 1.7× slower on 40 FCM sequences).

use std::path::PathBuf;

use anyhow::bail;
use serde_json::json;
use surrogate::{Architecture, Recurrence, Weights};

/// Arguments of `bench`.
#[derive(clap::Args)]
pub struct BenchArgs {
    /// A trained model directory (4 FCM inputs); default: a GRU-4 of the paper's shape.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Sequences in the batch that both sides run on all cores (the simulator as
    /// `dataset generate`; 1000 takes about 5 minutes on 2 cores).
    #[arg(long, default_value_t = 40, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    pub batch: u64,
    /// Print one JSON object: per time step ("dt_0.1", "dt_0.5"), the single sequence
    /// ("one": simulator on one thread, surrogate) and the batch (both on all cores), each
    /// with "simulator_seconds", "surrogate_seconds" and "ratio".
    #[arg(long)]
    pub json: bool,
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
            (m.architecture, w, Some(m.scaling), label)
        }
        None => {
            let arch = Architecture {
                cell: Recurrence::Gru,
                hidden: 4,
                inputs: 4,
                outputs: 4,
            };
            // Scaled as training would scale these data (fitted by the measurement).
            (arch, Weights::initial(&arch, 0), None, "GRU-4".to_string())
        }
    };
    let model = paper::bundled::load_model(None)?;
    let cores = rayon::current_num_threads();
    let mut rows = Vec::new();
    for dt in [0.5, 0.1] {
        let say = |what: &str| {
            if !a.json {
                eprintln!("dt {dt} ms: {what}...");
            }
        };
        rows.push(paper::speed::measure(
            &model,
            &arch,
            &weights,
            scaling.as_ref(),
            dt,
            a.batch as usize,
            &say,
        )?);
    }
    if a.json {
        let side = |simulator: f64, surrogate: f64| json!({"simulator_seconds": simulator, "surrogate_seconds": surrogate, "ratio": simulator / surrogate});
        let mut value = json!({"surrogate": label, "cores": cores});
        for r in &rows {
            let mut batch = side(r.batch.simulator, r.batch.surrogate);
            batch["sequences"] = json!(r.batch.sequences);
            value[format!("dt_{}", r.dt)] = json!({
                "steps": r.steps,
                "one": side(r.simulator, r.one),
                "batch": batch,
            });
        }
        println!("{value}");
        return Ok(());
    }
    println!(
        "FCM sequences of 500 ms, bundled c302 D1 (settled), simulator against {label}; \
         one sequence: simulator on one thread; batch: both on all {cores} cores"
    );
    println!(
        "{:>7} {:>6} {:>16} {:>15} {:>16} {:>9}",
        "dt [ms]", "steps", "", "simulator [s]", "surrogate [ms]", "ratio"
    );
    for r in &rows {
        let line = |what: String, simulator: f64, surrogate: f64| {
            println!(
                "{:>7} {:>6} {:>16} {:>15.3} {:>16.3} {:>8.0}x",
                r.dt,
                r.steps,
                what,
                simulator,
                surrogate * 1e3,
                simulator / surrogate
            )
        };
        line("one sequence".into(), r.simulator, r.one);
        line(
            format!("batch of {}", r.batch.sequences),
            r.batch.simulator,
            r.batch.surrogate,
        );
    }
    Ok(())
}
