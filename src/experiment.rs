//! `celegans experiment 1|2|3|4|5|all`: the paper's five experiments end to end
//! ([`paper::experiments`]).

use std::path::PathBuf;
use std::time::Instant;

use anyhow::bail;

/// Arguments of `experiment`.
#[derive(clap::Args)]
pub struct ExperimentArgs {
    /// 1, 2, 3, 4, 5 or all.
    pub which: String,
    /// Small datasets (12 sequences x 200 ms), 1 run x 5 epochs: checks the whole chain in a
    /// few minutes.
    #[arg(long)]
    pub quick: bool,
    /// Runs per model (default 10, quick 1).
    #[arg(long)]
    pub runs: Option<usize>,
    /// Epochs per run (default 1000, quick 5).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// Learning rate of the LSTM and GRU models [default: 0.02 on the standardized data the
    /// experiments train on; the paper's is 0.05]. RNN models keep 0.001.
    #[arg(long)]
    pub lr: Option<f64>,
    /// Output folder (datasets are kept in OUT/data and reused).
    #[arg(long, default_value = "experiments")]
    pub out: PathBuf,
}

/// `celegans experiment`.
pub fn run(a: ExperimentArgs) -> anyhow::Result<()> {
    let which: Vec<usize> = match a.which.as_str() {
        "all" => vec![1, 2, 3, 4, 5],
        n => match n.parse::<usize>() {
            Ok(k @ 1..=5) => vec![k],
            _ => bail!("experiment: '{n}' is not 1, 2, 3, 4, 5 or all"),
        },
    };
    if let Some(lr) = a.lr {
        surrogate::train::check_lr(lr)?;
    }
    let mut plan = paper::Plan::new(
        a.out.clone(),
        a.quick,
        a.runs.unwrap_or(if a.quick { 1 } else { 10 }),
        a.epochs.unwrap_or(if a.quick { 5 } else { 1000 }),
    )?;
    plan.gated_lr = a.lr;
    let start = Instant::now();
    let command = format!(
        "celegans experiment {}{}{}",
        a.which,
        if a.quick { " --quick" } else { "" },
        a.lr.map(|lr| format!(" --lr {lr}")).unwrap_or_default()
    );
    let report = paper::experiments::run(&plan, &which, &command)?;
    eprintln!(
        "wrote {} in {:.0} s",
        report.display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
