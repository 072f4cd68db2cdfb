//! What an invocation of the experiments or the pipeline trains, on which datasets, and where
//! it keeps them: datasets generated once into OUT/data, each model's runs into OUT/runs,
//! both reused by later invocations.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use datasets::{Dataset, Generation, Scenario};
use surrogate::train::{self, Settings};
use surrogate::{Recurrence, Splits};

use crate::trained::Trained;

/// Stimulus seed of every experiment dataset.
pub const SEED: u64 = 0;

/// Sizes and the output folder of one invocation.
pub struct Plan {
    /// Small datasets (12 sequences per behaviour x 200 ms), for checking the chain.
    pub quick: bool,
    /// Runs per model.
    pub runs: usize,
    /// Epochs per run.
    pub epochs: usize,
    /// Sequence length \[ms\].
    pub duration: f64,
    /// Sequences per behaviour.
    pub count: usize,
    /// Output folder.
    pub out: PathBuf,
    /// Learning rate of LSTM and GRU layers (None: [`Settings::default_lr`]).
    pub gated_lr: Option<f64>,
    /// Training time \[s\] (sum of the runs' wall times) of every distinct model trained or
    /// reused, by its key in OUT/runs.
    pub trained: RefCell<BTreeMap<String, f64>>,
    /// The output folder is this invocation's alone.
    _lock: persist::Lock,
}

/// An experiment dataset and what identifies its file.
pub struct Data {
    /// The dataset.
    pub d: Dataset,
    /// File stem in OUT/data, e.g. `fcm_0.5ms`.
    pub stem: String,
}

impl Plan {
    /// The paper's sizes (40 sequences per behaviour x 500 ms), or the quick ones (12 x
    /// 200 ms), with `runs` x `epochs` per model, writing under `out`.
    pub fn new(out: PathBuf, quick: bool, runs: usize, epochs: usize) -> anyhow::Result<Plan> {
        if runs == 0 || epochs == 0 {
            anyhow::bail!("--runs and --epochs must be at least 1");
        }
        std::fs::create_dir_all(&out).with_context(|| format!("{}", out.display()))?;
        let lock = persist::lock(&out)?;
        Ok(Plan {
            quick,
            runs,
            epochs,
            duration: if quick { 200.0 } else { 500.0 },
            count: if quick { 12 } else { 40 },
            out,
            gated_lr: None,
            trained: Default::default(),
            _lock: lock,
        })
    }

    fn settings(&self, cell: Recurrence, hidden: usize, splits: &Splits) -> Settings {
        let mut s = Settings::paper(cell, hidden);
        s.runs = self.runs;
        s.epochs = self.epochs;
        s.lr = match self.gated_lr {
            Some(lr) if cell != Recurrence::Rnn => lr,
            _ => s.default_lr(&splits.train),
        };
        // As the paper's Keras set-up: a run whose loss blows up keeps its best epoch.
        s.keep_best_on_divergence = true;
        s
    }

    /// Trains `cell`-`hidden` on `splits` of the dataset `data` (its file stem), or reuses the
    /// runs an earlier experiment or an interrupted invocation finished: each run is kept in
    /// OUT/runs/KEY/runs/NN.json as soon as it ends. Missing runs train side by side on
    /// the rayon pool; run k is the same whichever thread trains it.
    pub fn train(
        &self,
        data: &Data,
        dropped: &[String],
        splits: &Splits,
        cell: Recurrence,
        hidden: usize,
        label: &str,
    ) -> anyhow::Result<Trained> {
        let settings = self.settings(cell, hidden, splits);
        let arch = train::architecture(&settings, splits);
        let key = format!(
            "{}_{}-{hidden}{}{}",
            data.stem,
            cell.layer(),
            if dropped.is_empty() { "" } else { "_no-" },
            dropped.join("-")
        );
        let dir = self.out.join("runs").join(&key);
        let extra = serde_json::json!({
            "dropped": dropped,
            "generator": env!("CARGO_PKG_VERSION"),
        });
        let bar = indicatif::ProgressBar::new((self.runs * self.epochs) as u64).with_style(
            indicatif::ProgressStyle::with_template(
                "  {bar:30} {pos}/{len} epochs, ETA {eta}  {msg}",
            )
            .expect("template"),
        );
        bar.set_message(label.to_string());
        let checkpoint = surrogate::runs::Checkpoint {
            folder: &dir,
            extra: &extra,
        };
        let on_epoch = |k: usize, e: &surrogate::train::Epoch| {
            bar.inc(1);
            if let Some(r) = e.recovery {
                bar.suspend(|| eprintln!("  {label} run {}: {r}", k + 1));
            }
        };
        let trained = surrogate::runs::train_runs(&settings, splits, Some(checkpoint), &on_epoch)?;
        bar.finish_and_clear();
        let (scaling, runs) = (trained.scaling, trained.runs);
        let (diverged, recovered) = crate::trained::outcomes(&runs);
        let seconds = runs.iter().map(|r| r.seconds).sum();
        self.trained.borrow_mut().insert(key, seconds);
        let t = Trained {
            label: match (diverged, recovered) {
                (0, 0) => label.to_string(),
                (0, r) => format!("{label} (‡{r})"),
                (d, 0) => format!("{label} (†{d})"),
                (d, r) => format!("{label} (†{d}, ‡{r})"),
            },
            arch,
            scaling,
            seconds,
            runs,
            epochs: self.epochs,
            lr: settings.lr,
        };
        eprintln!(
            "  {:<22} test RMSE {}  ({:.1} s, {:.1} ms/epoch)",
            t.label,
            t.rmse(|e| &e.test),
            t.seconds,
            t.seconds_per_epoch() * 1e3
        );
        Ok(t)
    }

    /// The scenario's dataset at `dt`, generated once from the bundled model and kept in
    /// OUT/data.
    pub fn dataset(&self, scenario: &str, dt: f64) -> anyhow::Result<Data> {
        let sc =
            Scenario::builtin(scenario).with_context(|| format!("unknown scenario {scenario}"))?;
        let mut g = Generation::new(sc, dt);
        g.duration = self.duration;
        g.count = self.count * g.scenario.behaviours.len().max(1);
        g.seed = SEED;
        g.generator = format!("celegans {}", env!("CARGO_PKG_VERSION"));
        let steps = g.steps()?;
        let dir = self.out.join("data");
        std::fs::create_dir_all(&dir).with_context(|| format!("{}", dir.display()))?;
        let stem = format!(
            "{}_{}ms{}",
            scenario,
            dt,
            if self.quick { "_quick" } else { "" }
        );
        let path = dir.join(format!("{stem}.h5"));
        let data = |d| -> anyhow::Result<Data> {
            Ok(Data {
                d,
                stem: stem.clone(),
            })
        };
        if let Ok(d) = Dataset::read(&path) {
            if d.scenario == g.scenario.name
                && d.dt == dt
                && d.sequences == g.count
                && d.steps() == steps
                && d.seed == SEED
            {
                eprintln!("  reusing {}", path.display());
                return data(d);
            }
        }
        let model = crate::bundled::load_model(None)?;
        g.model_sha256 = crate::bundled::model_sha256(&model, true)?;
        let bar = indicatif::ProgressBar::new(g.count as u64).with_style(
            indicatif::ProgressStyle::with_template(
                "  {bar:30} {pos}/{len} sequences, ETA {eta}  {msg}",
            )
            .expect("template"),
        );
        bar.set_message(format!("{scenario} at dt {dt} ms"));
        let start = Instant::now();
        let d = datasets::generate(&model, &g, &|done| bar.set_position(done as u64))?;
        bar.finish_and_clear();
        d.write(&path)?;
        eprintln!(
            "  generated {} ({} sequences) in {:.1} s",
            path.display(),
            d.sequences,
            start.elapsed().as_secs_f64()
        );
        data(d)
    }

    /// OUT/expN, created.
    pub fn folder(&self, n: usize) -> anyhow::Result<PathBuf> {
        let dir = self.out.join(format!("exp{n}"));
        std::fs::create_dir_all(&dir).with_context(|| format!("{}", dir.display()))?;
        Ok(dir)
    }
}
