//! `celegans pipeline`: the program's main job in miniature, on the bundled c302 D1 model
//! with the paper's settings: generate the FCM dataset (40 sequences x 500 ms at dt 0.5 ms),
//! train a GRU-4 surrogate (1 run x 1000 epochs), report its test RMSE per output, time the
//! simulator against the surrogate on the same stimulus, and write `OUT/REPORT.md` with the
//! learning curves and predicted vs simulated traces.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{bail, Context};
use surrogate::Recurrence;

use crate::experiment::{today, traces, Plan};

/// Arguments of `pipeline`.
#[derive(clap::Args)]
pub struct PipelineArgs {
    /// Output folder: the dataset (OUT/data), the model's run (OUT/runs), figures and
    /// REPORT.md. A second invocation reuses the dataset and the trained run.
    #[arg(long, default_value = "celegans-pipeline")]
    pub out: PathBuf,
    /// Training epochs (the paper's 1000 by default).
    #[arg(long, default_value_t = 1000)]
    pub epochs: usize,
}

/// `celegans pipeline`.
pub fn run(a: PipelineArgs) -> anyhow::Result<()> {
    if a.epochs == 0 {
        bail!("--epochs must be at least 1");
    }
    let start = Instant::now();
    let plan = Plan {
        quick: false,
        runs: 1,
        epochs: a.epochs,
        duration: 500.0,
        count: 40,
        out: a.out.clone(),
        trained: Default::default(),
    };
    std::fs::create_dir_all(&plan.out).with_context(|| format!("{}", plan.out.display()))?;
    eprintln!("1/4 dataset: the bundled c302 D1 model, FCM stimuli, 40 x 500 ms at dt 0.5 ms");
    let t0 = Instant::now();
    let data = plan.dataset("fcm", 0.5)?;
    let data_seconds = t0.elapsed().as_secs_f64();
    let splits = paper::splits(&data.d, &[])?;
    eprintln!(
        "2/4 surrogate: GRU-4, 1 run x {} epochs on {} training sequences",
        a.epochs, splits.train.sequences
    );
    let t0 = Instant::now();
    let t = plan.train(&data, &[], &splits, Recurrence::Gru, 4, "GRU-4")?;
    let train_seconds = t0.elapsed().as_secs_f64();
    eprintln!("3/4 speed: the simulator and the surrogate on one FCM sequence");
    let model = crate::bundled::load_model(None)?;
    let run = &t.runs[0];
    let speed = crate::bench::measure(&model, &t.arch, &run.weights, &t.scaling, 0.5)?;
    eprintln!("4/4 report: figures and REPORT.md");
    let curves = plan.out.join("curves.png");
    crate::figures::learning_curves(&curves, "GRU-4 on fcm_0.5ms", &t.runs)?;
    let figures = traces(&plan.out, "trace", &t, &data.d, &splits)?;

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
         2. **Surrogate**: GRU-4 ({} parameters), the paper's protocol (Adam, lr 0.05, \
         batch 32, RMSE loss on standardized data, best epoch on validation), 1 run x {} \
         epochs; best epoch {} ({:.1} s).\n\
         3. **Speed**: one 500 ms sequence at dt 0.5 ms takes {:.3} s in the simulator (one \
         thread) and {:.3} ms in the surrogate ({:.0}x; {:.3} ms per sequence within a batch \
         of 40, {:.0}x).\n\n## Test RMSE per output\n\n{table}\n\
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
        a.epochs,
        run.best_epoch,
        train_seconds,
        speed.simulator,
        speed.one * 1e3,
        speed.simulator / speed.one,
        speed.batch * 1e3,
        speed.simulator / speed.batch,
    );
    for (file, title) in &figures {
        let _ = writeln!(report, "![{title}]({file})\n");
    }
    let path = plan.out.join("REPORT.md");
    persist::write_atomic(&path, report.as_bytes())?;

    println!("GRU-4 surrogate of the bundled c302 D1 model (FCM, 40 x 500 ms, dt 0.5 ms)");
    println!("{:<8} {:>15}", "output", "test RMSE [mV]");
    for (name, e) in names.iter().zip(&test.per_output) {
        println!("{name:<8} {e:>15.3}");
    }
    println!("{:<8} {:>15.3}", "all", overall);
    println!(
        "one sequence: simulator {:.3} s, surrogate {:.3} ms ({}x faster)",
        speed.simulator,
        speed.one * 1e3,
        (speed.simulator / speed.one).round()
    );
    println!(
        "{:.0} s in all; report: {}",
        start.elapsed().as_secs_f64(),
        path.display()
    );
    Ok(())
}
