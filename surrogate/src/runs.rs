//! Several runs of one training (seeds `seed`, `seed + 1`, ...), side by side and resumable:
//! the one multi-run trainer behind `celegans train` and `celegans experiment`.
//!
//! Each finished run is recorded at once in a checkpoint folder (`runs/NN.json`, see
//! [`crate::store`]) tagged with what identifies it: the settings (less the run count, since
//! run k does not depend on how many runs are asked for), a content hash of the training
//! data ([`Splits::fingerprint`]) and whatever the caller adds. The same request resumes
//! from the runs found there; any other request empties the folder.

use std::path::Path;

use rayon::prelude::*;

use crate::data::{Scaling, Splits};
use crate::store;
use crate::train::{train_run, Epoch, Progress, Run, Settings};
use crate::Error;

/// Runs of one training, in run order.
#[derive(Clone, Debug)]
pub struct Trained {
    /// The scaling fitted on the training split.
    pub scaling: Scaling,
    /// Runs 0.. of the request.
    pub runs: Vec<Run>,
    /// How many of them were found finished in the checkpoint folder.
    pub resumed: usize,
}

/// Where finished runs are kept, and what besides the settings and the data identifies them.
#[derive(Clone, Copy, Debug)]
pub struct Checkpoint<'a> {
    /// The folder (created when missing).
    pub folder: &'a Path,
    /// Anything else the runs depend on (inputs left out, program version, ...).
    pub extra: &'a serde_json::Value,
}

/// Forwards one run's epochs to a progress callback shared by all runs.
struct Shared<'a>(&'a (dyn Fn(usize, &Epoch) + Sync));

impl Progress for Shared<'_> {
    fn epoch(&mut self, run: usize, epoch: &Epoch) {
        (self.0)(run, epoch)
    }
}

/// The request a checkpoint folder is tagged with.
fn request(settings: &Settings, splits: &Splits, extra: &serde_json::Value) -> serde_json::Value {
    serde_json::json!({
        "settings": Settings { runs: 0, ..settings.clone() },
        "data_sha256": splits.fingerprint(),
        "extra": extra,
    })
}

/// Checks `settings` and that training them on `splits` fits in memory (the parameters
/// with their optimizer state, and each run's activations); [`train_runs`] calls it first.
pub fn check(settings: &Settings, splits: &Splits) -> Result<(), Error> {
    settings.check()?;
    let arch = crate::train::architecture(settings, splits);
    arch.check().map_err(Error::Invalid)?;
    // Activations kept for backpropagation: each run in flight holds a batch of sequences'
    // gates, states and caches (about 2·gates + 2 values per hidden unit and step).
    let in_flight = settings.runs.min(rayon::current_num_threads()) as f64;
    let batch = settings.batch.min(splits.train.sequences.max(1));
    let per_step = (2 * arch.cell.gates() + 2) as f64 * limits::product(&[arch.hidden, batch]);
    limits::check(
        || {
            format!(
                "training {in_flight} runs at once on batches of {batch} sequences x {} steps",
                splits.train.steps
            )
        },
        in_flight * per_step * splits.train.steps as f64 * 4.0,
    )
    .map_err(|e| Error::Invalid(e.to_string()))?;
    Ok(())
}

/// A training whose every run ends more than this many times worse (RMSE) than predicting
/// each output's training mean has diverged: its loss ran away without becoming NaN (a
/// learning rate far too large, e.g. `--lr 1e9`). Such a training ends with
/// [`Error::Hopeless`] instead of a model.
pub const NO_BETTER_THAN: f64 = 10.0;

/// RMSE of predicting each output's training mean, on the validation set (or the training
/// set when there is none), with the split's name.
pub fn mean_predictor_rmse(splits: &Splits) -> (&'static str, f64) {
    let o = splits.train.outputs.max(1);
    let mut mean = vec![0.0f64; o];
    for row in splits.train.y.chunks(o) {
        row.iter()
            .zip(&mut mean)
            .for_each(|(v, m)| *m += f64::from(*v));
    }
    let rows = (splits.train.y.len() / o).max(1) as f64;
    mean.iter_mut().for_each(|m| *m /= rows);
    let (name, set) = if splits.valid.sequences > 0 {
        ("validation", &splits.valid)
    } else {
        ("training", &splits.train)
    };
    let sq: f64 = set
        .y
        .chunks(o)
        .flat_map(|row| {
            row.iter()
                .zip(&mean)
                .map(|(v, m)| (f64::from(*v) - m).powi(2))
        })
        .sum();
    (name, (sq / set.y.len().max(1) as f64).sqrt())
}

/// Refuses a training all of whose runs are [`NO_BETTER_THAN`] times worse than the mean.
fn judge(settings: &Settings, splits: &Splits, runs: &[Run]) -> Result<(), Error> {
    let (split, baseline) = mean_predictor_rmse(splits);
    let score = |r: &Run| {
        if splits.valid.sequences > 0 {
            r.errors.valid.rmse
        } else {
            r.errors.train.rmse
        }
        .unwrap_or(f64::INFINITY)
    };
    let best = runs.iter().map(score).fold(f64::INFINITY, f64::min);
    // A constant target (baseline 0) can only be judged by finiteness.
    let hopeless = !best.is_finite() || (baseline > 0.0 && best > NO_BETTER_THAN * baseline);
    if hopeless && !runs.is_empty() {
        return Err(Error::Hopeless {
            split,
            rmse: best,
            baseline,
            ratio: best / baseline,
            lr: settings.lr,
        });
    }
    Ok(())
}

/// Trains runs `0..settings.runs` of `settings` on `splits`. With a checkpoint, the runs
/// already finished there under the same request are reused and each new run is recorded as
/// it ends. Missing runs train side by side on the rayon pool; run k is the same whichever
/// thread trains it. `progress(k, epoch)` is called after every epoch of every run.
pub fn train_runs(
    settings: &Settings,
    splits: &Splits,
    checkpoint: Option<Checkpoint>,
    progress: &(dyn Fn(usize, &Epoch) + Sync),
) -> Result<Trained, Error> {
    check(settings, splits)?;
    let scaling = Scaling::fit(settings.scale, &splits.train);
    let mut runs = match checkpoint {
        Some(c) => store::open_runs(c.folder, &request(settings, splits, c.extra))?,
        None => Vec::new(),
    };
    runs.truncate(settings.runs);
    let resumed = runs.len();
    let missing: Vec<usize> = (resumed..settings.runs).collect();
    let trained: Vec<Run> = missing
        .par_iter()
        .map(|&k| {
            let seed = settings.seed + k as u64;
            let run = train_run(settings, splits, &scaling, seed, k, &mut Shared(progress))?;
            if let Some(c) = checkpoint {
                store::record_run(c.folder, k, &run)?;
            }
            Ok(run)
        })
        .collect::<Result<_, Error>>()?;
    runs.extend(trained);
    judge(settings, splits, &runs)?;
    Ok(Trained {
        scaling,
        runs,
        resumed,
    })
}
