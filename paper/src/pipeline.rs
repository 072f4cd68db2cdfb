//! The program's main job in miniature, on the bundled c302 D1 model with the paper's
//! settings: generate the FCM dataset (40 sequences x 500 ms at dt 0.5 ms), train a GRU-4
//! surrogate (1 run x 1000 epochs), measure its test RMSE per output, time the simulator
//! against the surrogate on the same stimulus, and write `OUT/REPORT.md` with the learning
//! curves and predicted vs simulated traces.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use surrogate::Recurrence;

use crate::plan::Plan;
use crate::speed::Timing;
use crate::table::today;

/// What the pipeline found.
pub struct Summary {
    /// The outputs' names.
    pub outputs: Vec<String>,
    /// Test RMSE per output \[mV\].
    pub test_rmse: Vec<f64>,
    /// Test RMSE over all outputs \[mV\].
    pub overall: f64,
    /// Simulator and surrogate on one sequence.
    pub speed: Timing,
    /// The report written.
    pub report: PathBuf,
    /// Wall time of the whole pipeline \[s\].
    pub seconds: f64,
}

/// Runs the pipeline into `out` with `epochs` training epochs; a second invocation reuses
/// the dataset (OUT/data) and the trained run (OUT/runs). Progress goes to stderr.
pub fn run(out: &Path, epochs: usize) -> anyhow::Result<Summary> {
    let start = Instant::now();
    let plan = Plan::new(out.to_path_buf(), false, 1, epochs)?;
    eprintln!("1/4 dataset: the bundled c302 D1 model, FCM stimuli, 40 x 500 ms at dt 0.5 ms");
    let t0 = Instant::now();
    let data = plan.dataset("fcm", 0.5)?;
    let data_seconds = t0.elapsed().as_secs_f64();
    let splits = crate::splits(&data.d, &[])?;
    eprintln!(
        "2/4 surrogate: GRU-4, 1 run x {} epochs on {} training sequences",
        epochs, splits.train.sequences
    );
    let t0 = Instant::now();
    let t = plan.train(&data, &[], &splits, Recurrence::Gru, 4, "GRU-4")?;
    let train_seconds = t0.elapsed().as_secs_f64();
    eprintln!("3/4 speed: the simulator and the surrogate on the same FCM sequences");
    let model = crate::bundled::load_model(None)?;
    let run = &t.runs[0];
    let speed = crate::speed::measure(
        &model,
        &t.arch,
        &run.weights,
        Some(&t.scaling),
        0.5,
        data.d.sequences,
        &|what| eprintln!("    {what}..."),
    )?;
    eprintln!("4/4 report: figures and REPORT.md");
    let curves = plan.out.join("curves.png");
    crate::figures::learning_curves(&curves, "GRU-4 on fcm_0.5ms", &t.runs)?;
    let figures = t.trace_figures(&plan.out, "trace", &data.d, &splits)?;

    let test = &run.errors.test;
    let names = &splits.output_names;
    let mut table = String::from("| output | test RMSE [mV] |\n|---|---|\n");
    for (name, e) in names.iter().zip(&test.per_output) {
        let _ = writeln!(table, "| {name} | {e:.3} |");
    }
    let overall = test.rmse.unwrap_or(f64::NAN);
    let _ = writeln!(table, "| all | {overall:.3} |");
    let mut report = format!(
        "# The main job in miniature\n\n`celegans pipeline`: celegans {}, {} (UTC), {:.0} s.\n\n\
         1. **Dataset**: the bundled c302 D1 connectome with currents injected at {} (pA; the \
         paper's forward-crawling inputs), {} sequences x 500 ms at dt 0.5 ms, outputs {} \
         (mV); {} train / {} valid / {} test sequences ({:.1} s).\n\
         2. **Surrogate**: GRU-4 ({} parameters), the paper's protocol (Adam, \
         batch 32, RMSE loss, best epoch on validation) at lr {} on standardized data (the \
         paper's 0.05 diverges there), 1 run x {} \
         epochs; best epoch {} ({:.1} s).\n\
         3. **Speed**: one 500 ms sequence at dt 0.5 ms takes {:.3} s in the simulator (one \
         thread) and {:.3} ms in the surrogate ({:.0}x); {} sequences on all cores take \
         {:.2} s to generate and {:.3} ms to predict ({:.0}x).\n\n## Test RMSE per output\n\n{table}\n\
         ## Learning curves\n\n![learning curves](curves.png)\n\n## Predicted vs simulated\n\n",
        env!("CARGO_PKG_VERSION"),
        today(),
        start.elapsed().as_secs_f64(),
        data.d.input_names.join(", "),
        data.d.sequences,
        names.join(", "),
        splits.train.sequences,
        splits.valid.sequences,
        splits.test.sequences,
        data_seconds,
        t.arch.parameters(),
        t.lr,
        epochs,
        run.best_epoch,
        train_seconds,
        speed.simulator,
        speed.one * 1e3,
        speed.simulator / speed.one,
        speed.batch.sequences,
        speed.batch.simulator,
        speed.batch.surrogate * 1e3,
        speed.batch.simulator / speed.batch.surrogate,
    );
    for (file, title) in &figures {
        let _ = writeln!(report, "![{title}]({file})\n");
    }
    let path = plan.out.join("REPORT.md");
    persist::write_atomic(&path, report.as_bytes())?;
    Ok(Summary {
        outputs: names.clone(),
        test_rmse: test.per_output.clone(),
        overall,
        speed,
        report: path,
        seconds: start.elapsed().as_secs_f64(),
    })
}
