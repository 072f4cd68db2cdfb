//! `celegans bench`: wall time of the simulator against the surrogate for the same stimuli
//! ([`paper::speed`]), the bundled model at dt 0.5 and 0.1 ms against a GRU-4 or the model
//! given with `--model`. Prediction cost does not depend on the weights' values, so without
//! `--model` a GRU-4 with its initial weights is timed.

use std::path::PathBuf;

use anyhow::bail;
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
    let model = paper::bundled::load_model(None)?;
    let mut rows = Vec::new();
    for dt in [0.5, 0.1] {
        if !a.json {
            eprintln!("dt {dt} ms: building and settling the network...");
        }
        rows.push(paper::speed::measure(
            &model, &arch, &weights, &scaling, dt,
        )?);
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
