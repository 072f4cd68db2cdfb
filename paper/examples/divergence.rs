//! Where a diverging training goes wrong: trains one run of the paper's GRU on a dataset
//! file, step by step, and prints the last steps before the first non-finite loss (loss,
//! gradient norm, largest weight), or a summary when the run ends without one.
//!
//! ```sh
//! cargo run --release -p paper --example divergence -- DATA.h5 HIDDEN SEED EPOCHS [corrected|keras]
//! ```

use std::collections::VecDeque;

use surrogate::train::{self, AdamEpsilon, Epoch, Progress, Settings, Step};
use surrogate::{Recurrence, Scaling};

struct Watch {
    last: VecDeque<Step>,
    first_bad: Option<Step>,
    largest_gradient: (f64, usize, usize),
}

impl Progress for Watch {
    fn epoch(&mut self, _: usize, _: &Epoch) {}

    fn wants_steps(&self) -> bool {
        true
    }

    fn step(&mut self, _: usize, s: &Step) {
        if self.first_bad.is_some() {
            return;
        }
        if !s.loss.is_finite() || !s.max_weight.is_finite() || !s.gradient_norm.is_finite() {
            self.first_bad = Some(*s);
            return;
        }
        if s.gradient_norm > self.largest_gradient.0 {
            self.largest_gradient = (s.gradient_norm, s.epoch, s.step);
        }
        self.last.push_back(*s);
        if self.last.len() > 12 {
            self.last.pop_front();
        }
    }
}

fn main() -> anyhow::Result<()> {
    let a: Vec<String> = std::env::args().collect();
    if a.len() < 5 {
        anyhow::bail!("usage: divergence DATA.h5 HIDDEN SEED EPOCHS [corrected|keras]");
    }
    let data = datasets::Dataset::read(std::path::Path::new(&a[1]))?;
    let splits = paper::splits(&data, &[])?;
    let mut settings = Settings::paper(Recurrence::Gru, a[2].parse()?);
    settings.epochs = a[4].parse()?;
    settings.keep_best_on_divergence = true;
    settings.adam_epsilon = a
        .get(5)
        .map_or(Ok(AdamEpsilon::Corrected), |s| s.parse())
        .map_err(anyhow::Error::msg)?;
    let scaling = Scaling::fit(settings.scale, &splits.train);
    let mut watch = Watch {
        last: VecDeque::new(),
        first_bad: None,
        largest_gradient: (0.0, 0, 0),
    };
    let seed: u64 = a[3].parse()?;
    let run = train::train_run(&settings, &splits, &scaling, seed, 0, &mut watch)?;
    println!(
        "GRU-{} seed {seed}, {:?} epsilon: best epoch {}, largest gradient norm {:.3e} (epoch {}, step {})",
        settings.hidden, settings.adam_epsilon, run.best_epoch, watch.largest_gradient.0,
        watch.largest_gradient.1, watch.largest_gradient.2
    );
    println!(
        "{:>6} {:>5} {:>12} {:>14} {:>12}",
        "epoch", "step", "loss", "gradient norm", "max |w|"
    );
    for s in watch.last.iter().chain(watch.first_bad.iter()) {
        println!(
            "{:>6} {:>5} {:>12.4e} {:>14.4e} {:>12.4e}",
            s.epoch, s.step, s.loss, s.gradient_norm, s.max_weight
        );
    }
    match watch.first_bad {
        Some(s) => println!(
            "first non-finite value at epoch {}, step {}",
            s.epoch, s.step
        ),
        None => println!("no non-finite value"),
    }
    println!(
        "{} steps skipped (non-finite gradient){}; the run {}; test RMSE {:?}",
        run.skipped_steps.len(),
        run.skipped_steps
            .first()
            .map(|(e, k)| format!(", the first at epoch {e}, step {k}"))
            .unwrap_or_default(),
        match run.diverged_at {
            Some(e) => format!(
                "ended at epoch {e} ({} skipped in a row)",
                train::MAX_SKIPPED_IN_A_ROW
            ),
            None => format!("went on to epoch {}", settings.epochs),
        },
        run.errors.test.rmse
    );
    Ok(())
}
