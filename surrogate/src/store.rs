//! Trained model directories.
//!
//! ```text
//! DIR/model.json      architecture, input/output names and units, dt, scaling, training
//!                     settings, and the kept run's seed, best epoch and RMSE
//! DIR/weights.json    the kept run's weights (named row-major arrays, see model::Weights)
//! DIR/curves.csv      run,epoch,train_loss,valid_loss,skipped_steps for every run
//! DIR/runs/NN.json    every run: seed, best epoch, RMSE, seconds, weights
//! DIR/curves.png      learning curves (written by the program)
//! ```
//! The kept run is the one with the lowest validation RMSE (the first run without validation
//! data). Each finished run is saved at once beside the destination (`.NAME.partial`): a
//! training that is interrupted (killed, Ctrl-C) resumes from its finished runs when the
//! same command is run again. The finished directory is assembled in a folder of its own
//! (`.NAME.partial.model`) and renamed into place when complete, and only then is the
//! checkpoint removed, so a failed training leaves no partial model and an interruption at
//! any moment, during the final write too, loses no finished run.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::data::Scaling;
use crate::model::{Architecture, Weights};
use crate::train::{Errors, Run, Settings};
use crate::Error;

/// Format tag of `model.json`.
pub const FORMAT: &str = "celegans-surrogate/1";

/// Contents of `model.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ModelFile {
    /// [`FORMAT`].
    pub format: String,
    /// Recurrence, hidden units, inputs, outputs.
    pub architecture: Architecture,
    /// Trainable parameters.
    pub params: usize,
    /// Input names, in the network's order.
    pub input_names: Vec<String>,
    /// Output names, in the network's order.
    pub output_names: Vec<String>,
    /// Unit of the inputs.
    pub input_unit: String,
    /// Unit of the outputs.
    pub output_unit: String,
    /// Time step of the training data \[ms\].
    pub dt_ms: f64,
    /// Scaling between data and network units.
    pub scaling: Scaling,
    /// How it was trained.
    pub settings: Settings,
    /// Inputs left out (`--drop-inputs`).
    pub dropped_inputs: Vec<String>,
    /// The training data file.
    pub data: String,
    /// Seed of the kept run.
    pub seed: u64,
    /// Best epoch of the kept run.
    pub best_epoch: usize,
    /// RMSE of the kept run.
    pub errors: Errors,
    /// Program and version.
    pub generator: String,
}

/// One run as stored in `runs/NN.json`.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunFile {
    /// Seed.
    pub seed: u64,
    /// Best epoch.
    pub best_epoch: usize,
    /// RMSE per split.
    pub errors: Errors,
    /// Wall time \[s\].
    pub seconds: f64,
    /// Kept weights.
    pub weights: Weights,
    /// Learning curve.
    #[serde(default)]
    pub curve: Vec<crate::train::Epoch>,
    /// Epoch with a NaN or infinite loss that ended the run, if any.
    #[serde(default)]
    pub diverged_at: Option<usize>,
    /// Steps not applied because their gradient was not finite, as (epoch, step).
    #[serde(default)]
    pub skipped_steps: Vec<(usize, usize)>,
    /// Explosions the run recovered from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recoveries: Vec<crate::train::Recovery>,
    /// SHA-256 of this file's JSON written with an empty checksum: a run whose file does not
    /// match (damaged, edited) is trained again when a training resumes, never reused.
    #[serde(default)]
    pub checksum: String,
}

impl RunFile {
    fn of(run: &Run) -> Self {
        let mut file = RunFile {
            seed: run.seed,
            best_epoch: run.best_epoch,
            errors: run.errors.clone(),
            seconds: run.seconds,
            weights: run.weights.clone(),
            curve: run.curve.clone(),
            diverged_at: run.diverged_at,
            skipped_steps: run.skipped_steps.clone(),
            recoveries: run.recoveries.clone(),
            checksum: String::new(),
        };
        file.checksum = file.expected_checksum();
        file
    }

    /// The checksum this file's content should carry.
    fn expected_checksum(&self) -> String {
        let unsigned = RunFile {
            checksum: String::new(),
            ..self.clone()
        };
        persist::sha256_hex(json(&unsigned).as_bytes())
    }

    fn into_run(self) -> Run {
        Run {
            seed: self.seed,
            best_epoch: self.best_epoch,
            errors: self.errors,
            curve: self.curve,
            weights: self.weights,
            seconds: self.seconds,
            diverged_at: self.diverged_at,
            skipped_steps: self.skipped_steps,
            recoveries: self.recoveries,
        }
    }
}

/// The hidden folder a model directory is built in: `.NAME.partial` beside it
/// ([`persist::temporary_path`]). It is also the checkpoint of the runs finished so far, so
/// an interrupted training resumes from them.
pub fn partial_dir(dir: &Path) -> PathBuf {
    persist::temporary_path(dir)
}

/// Opens `folder` as a checkpoint of runs for `request` (emptied when it held another
/// request's runs) and returns the runs finished there, in order.
pub fn open_runs(folder: &Path, request: &serde_json::Value) -> Result<Vec<Run>, Error> {
    let kept = persist::open_checkpoint(folder, request)?;
    std::fs::create_dir_all(folder.join("runs")).map_err(io(folder))?;
    let mut runs = Vec::new();
    if !kept {
        return Ok(runs);
    }
    loop {
        let path = folder
            .join("runs")
            .join(format!("{:02}.json", runs.len() + 1));
        let Ok(text) = std::fs::read_to_string(&path) else {
            break;
        };
        // A damaged or unreadable run, and every run after it, is trained again.
        match serde_json::from_str::<RunFile>(&text) {
            Ok(file) if file.checksum == file.expected_checksum() => runs.push(file.into_run()),
            _ => break,
        }
    }
    Ok(runs)
}

/// Records finished run `k` (0-based) in a checkpoint folder opened by [`open_runs`].
pub fn record_run(folder: &Path, k: usize, run: &Run) -> Result<(), Error> {
    let path = folder.join("runs").join(format!("{:02}.json", k + 1));
    Ok(persist::write_atomic(
        &path,
        json(&RunFile::of(run)).as_bytes(),
    )?)
}

/// The hidden folder the finished model directory is assembled in: `.NAME.partial.model`
/// (not the checkpoint itself, which must stay whole until the model is in place).
fn assembly_dir(dir: &Path) -> PathBuf {
    let mut name = partial_dir(dir).into_os_string();
    name.push(".model");
    PathBuf::from(name)
}

/// Removes the partial directory of `dir` (after a failure that resuming would not fix).
pub fn abandon(dir: &Path) {
    let _ = std::fs::remove_dir_all(partial_dir(dir));
}

/// Index of the run to keep: lowest validation RMSE, else the first.
pub fn kept_run(runs: &[Run]) -> usize {
    let mut best = 0;
    for (k, r) in runs.iter().enumerate() {
        if let (Some(v), Some(b)) = (r.errors.valid.rmse, runs[best].errors.valid.rmse) {
            if v < b {
                best = k;
            }
        }
    }
    best
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
    move |source| Error::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string_pretty(value).expect("serializable") + "\n"
}

fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), Error> {
    std::fs::write(path, json(value)).map_err(io(path))
}

/// Writes a model directory atomically: `model` describes the kept run ([`kept_run`]);
/// `extra` writes more files (figures) into the directory before it is renamed into place.
/// The checkpoint of finished runs ([`partial_dir`]) is removed once the model is in place.
pub fn save_with(
    dir: &Path,
    model: &ModelFile,
    runs: &[Run],
    extra: impl FnOnce(&Path) -> Result<(), Error>,
) -> Result<(), Error> {
    persist::write_via(&assembly_dir(dir), dir, |tmp| {
        write_all(tmp, model, runs)?;
        extra(tmp)
    })?;
    abandon(dir);
    Ok(())
}

fn write_all(tmp: &Path, model: &ModelFile, runs: &[Run]) -> Result<(), Error> {
    std::fs::create_dir_all(tmp.join("runs")).map_err(io(tmp))?;
    let kept = kept_run(runs);
    write_json(&tmp.join("model.json"), model)?;
    write_json(&tmp.join("weights.json"), &runs[kept].weights)?;
    for (k, run) in runs.iter().enumerate() {
        write_json(
            &tmp.join("runs").join(format!("{:02}.json", k + 1)),
            &RunFile::of(run),
        )?;
    }
    let csv = curves_csv(runs);
    let path = tmp.join("curves.csv");
    std::fs::write(&path, csv).map_err(io(&path))
}

/// `curves.csv`: every run's learning curve, with the steps skipped in each epoch.
pub(crate) fn curves_csv(runs: &[Run]) -> String {
    let mut csv = String::from("run,epoch,train_loss,valid_loss,skipped_steps\n");
    for (k, run) in runs.iter().enumerate() {
        // Every epoch with a curve point, and those whose every step was skipped (no point,
        // empty losses), with the steps skipped in each (`;`-separated).
        let mut epochs: Vec<usize> = run.curve.iter().map(|e| e.epoch).collect();
        epochs.extend(run.skipped_steps.iter().map(|s| s.0));
        epochs.sort_unstable();
        epochs.dedup();
        for epoch in epochs {
            let skipped: Vec<String> = run
                .skipped_steps
                .iter()
                .filter(|s| s.0 == epoch)
                .map(|s| s.1.to_string())
                .collect();
            let (train, valid) = match run.curve.iter().find(|e| e.epoch == epoch) {
                Some(e) => (
                    e.train_loss.to_string(),
                    e.valid_loss.map(|v| v.to_string()).unwrap_or_default(),
                ),
                None => (String::new(), String::new()),
            };
            let _ = writeln!(
                csv,
                "{},{epoch},{train},{valid},{}",
                k + 1,
                skipped.join(";")
            );
        }
    }
    csv
}

/// Reads a model directory written by [`save_with`].
pub fn load(dir: &Path) -> Result<(ModelFile, Weights), Error> {
    let read = |file: &str| -> Result<(PathBuf, String), Error> {
        let path = dir.join(file);
        let text = std::fs::read_to_string(&path).map_err(io(&path))?;
        Ok((path, text))
    };
    let (path, text) = read("model.json")?;
    let model: ModelFile = serde_json::from_str(&text).map_err(|e| Error::Model {
        path: path.clone(),
        message: e.to_string(),
    })?;
    if model.format != FORMAT {
        return Err(Error::Model {
            path,
            message: format!("unknown format '{}' (expected {FORMAT})", model.format),
        });
    }
    let arch = model.architecture;
    if model.input_names.len() != arch.inputs || model.output_names.len() != arch.outputs {
        return Err(Error::Model {
            path,
            message: format!(
                "{} input and {} output names for an architecture of {} inputs and {} outputs",
                model.input_names.len(),
                model.output_names.len(),
                arch.inputs,
                arch.outputs
            ),
        });
    }
    let checked = model
        .scaling
        .check(arch.inputs, arch.outputs)
        .and_then(|()| arch.check())
        .and_then(|()| {
            if model.dt_ms.is_finite() && model.dt_ms > 0.0 {
                Ok(())
            } else {
                Err(format!("dt_ms is {}, not a positive number", model.dt_ms))
            }
        });
    if let Err(message) = checked {
        return Err(Error::Model { path, message });
    }
    let (path, text) = read("weights.json")?;
    let weights: Weights = serde_json::from_str(&text).map_err(|e| Error::Model {
        path: path.clone(),
        message: e.to_string(),
    })?;
    weights
        .check(&arch)
        .map_err(|message| Error::Model { path, message })?;
    Ok((model, weights))
}
