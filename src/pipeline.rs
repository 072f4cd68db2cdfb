//! `celegans pipeline`: the program's main job in miniature ([`paper::pipeline`]), with
//! its summary printed.

use std::path::PathBuf;

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
    let s = paper::pipeline::run(&a.out, a.epochs)?;
    println!("GRU-4 surrogate of the bundled c302 D1 model (FCM, 40 x 500 ms, dt 0.5 ms)");
    println!("{:<8} {:>15}", "output", "test RMSE [mV]");
    for (name, e) in s.outputs.iter().zip(&s.test_rmse) {
        println!("{name:<8} {e:>15.3}");
    }
    println!("{:<8} {:>15.3}", "all", s.overall);
    println!(
        "one sequence: simulator {:.3} s, surrogate {:.3} ms ({}x faster)",
        s.speed.simulator,
        s.speed.one * 1e3,
        (s.speed.simulator / s.speed.one).round()
    );
    println!("{:.0} s in all; report: {}", s.seconds, s.report.display());
    Ok(())
}
