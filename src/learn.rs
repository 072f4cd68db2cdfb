//! `celegans train | evaluate | predict`: recurrent surrogates of a dataset.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::bail;
use datasets::Dataset;
use serde_json::json;
use surrogate::data::ScaleMode;
use surrogate::store::{self, ModelFile};
use surrogate::train::{self, Epoch, Errors, Loss, Settings, SplitError};
use surrogate::{Recurrence, Splits};

/// Arguments of `train`.
#[derive(clap::Args)]
pub struct TrainArgs {
    /// The dataset file (.h5).
    #[arg(long)]
    pub data: PathBuf,
    /// Recurrent layer: rnn (Elman, tanh), lstm or gru.
    #[arg(long, value_parser = ["rnn", "lstm", "gru"])]
    pub arch: String,
    /// Hidden units.
    #[arg(long)]
    pub hidden: usize,
    /// GRU only: apply the reset gate after the recurrent product, with a recurrent bias
    /// (PyTorch / Keras 3); the default is the paper's Keras GRU (`reset_after=False`).
    #[arg(long)]
    pub reset_after: bool,
    /// Epochs; the one with the lowest validation loss is kept.
    #[arg(long, default_value_t = 1000)]
    pub epochs: usize,
    /// Sequences per batch.
    #[arg(long, default_value_t = 32)]
    pub batch: usize,
    /// Adam learning rate [default: 0.001 for RNN; for LSTM/GRU 0.05 (the paper's) on unscaled
    /// data, 0.02 on standardized data, where 0.05 diverges]
    #[arg(long)]
    pub lr: Option<f64>,
    /// Independent runs (seeds seed, seed+1, ...); mean ± std are reported.
    #[arg(long, default_value_t = 10)]
    pub runs: usize,
    /// Seed of the first run.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Training loss: rmse or mse.
    #[arg(long, default_value = "rmse")]
    pub loss: Loss,
    /// Scaling: none (raw values, as the paper), standard (per channel, from the training
    /// split) or auto (standard when values exceed 10 in magnitude, e.g. mV and pA).
    #[arg(long, default_value = "auto")]
    pub scale: ScaleMode,
    /// Where Adam's epsilon enters the step: corrected (burn, the Adam paper: on the
    /// bias-corrected sqrt(v)) or keras (Keras/TensorFlow, the authors' set-up: on the
    /// uncorrected sqrt(v)); docs/keras-equivalence.md.
    #[arg(long, default_value = "corrected")]
    pub adam_epsilon: surrogate::train::AdamEpsilon,
    /// How many times a run that explodes (ten steps in a row with a non-finite gradient) is
    /// restored to its best epoch and continued at half the learning rate with Adam's
    /// moments reset; 0 ends the run there (an error, as the paper's protocol would end in NaN).
    #[arg(long, default_value_t = surrogate::train::DEFAULT_RECOVERIES)]
    pub recoveries: usize,
    /// Leave these inputs out (input-importance experiment).
    #[arg(long, value_delimiter = ',')]
    pub drop_inputs: Vec<String>,
    /// Compute backend: cpu (burn Flex) or wgpu (GPU; needs a build with `--features wgpu`).
    #[arg(long, default_value = "cpu")]
    pub backend: surrogate::train::Compute,
    /// Model directory to write.
    #[arg(long)]
    pub out: PathBuf,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

fn cell_of(arch: &str, reset_after: bool) -> anyhow::Result<Recurrence> {
    Ok(match (arch, reset_after) {
        ("rnn", false) => Recurrence::Rnn,
        ("lstm", false) => Recurrence::Lstm,
        ("gru", false) => Recurrence::Gru,
        ("gru", true) => Recurrence::GruResetAfter,
        (_, true) => bail!("--reset-after applies to --arch gru only"),
        (other, _) => bail!("--arch: unknown layer '{other}' (rnn, lstm or gru)"),
    })
}

/// The progress line of a training whose runs may advance side by side: epochs done in
/// all, and the latest epoch of any run with that run's best validation loss so far.
struct Bar {
    bar: indicatif::ProgressBar,
    best: std::sync::Mutex<Vec<Option<f64>>>,
    quiet: bool,
}

impl Bar {
    /// A line on stderr above the bar (also when the bar is not drawn because stderr is not a
    /// terminal: a log file keeps the line); nothing when quiet.
    fn say(&self, line: String) {
        if !self.quiet {
            self.bar.suspend(|| eprintln!("{line}"));
        }
    }

    fn epoch(&self, run: usize, e: &Epoch) {
        let mut best = self.best.lock().unwrap_or_else(|p| p.into_inner());
        if best.len() <= run {
            best.resize(run + 1, None);
        }
        if let Some(v) = e.valid_loss {
            best[run] = Some(best[run].map_or(v, |b: f64| b.min(v)));
        }
        let best = best[run]
            .map(|b| format!(", best valid {b:.3e}"))
            .unwrap_or_default();
        self.bar.inc(1);
        if e.skipped > 0 {
            self.say(format!(
                "run {} epoch {}: {} step(s) skipped (non-finite loss or gradient; listed in runs/{:02}.json and curves.csv)",
                run + 1,
                e.epoch,
                e.skipped,
                run + 1
            ));
        }
        if let Some(r) = e.recovery {
            self.say(format!("run {}: {r}", run + 1));
        }
        self.bar.set_message(format!(
            "run {} epoch {}: train {:.3e}{best}",
            run + 1,
            e.epoch,
            e.train_loss
        ));
    }
}

fn split_json(e: &Errors) -> serde_json::Value {
    json!({"train": e.train.rmse, "valid": e.valid.rmse, "test": e.test.rmse})
}

pub fn train(a: TrainArgs) -> anyhow::Result<()> {
    train_quietly(a, false, &|_, _| {}).map(|_| ())
}

/// Called after every epoch of every run with (epochs done, epochs in all).
pub(crate) type EpochHook<'a> = &'a (dyn Fn(usize, usize) + Sync);

/// `train`, returning what `--json` prints; `quiet`: no progress bar or table (the JSON
/// is still printed with `--json`); `on_epoch` sees the progress.
pub(crate) fn train_quietly(
    a: TrainArgs,
    quiet: bool,
    on_epoch: EpochHook,
) -> anyhow::Result<serde_json::Value> {
    let cell = cell_of(&a.arch, a.reset_after)?;
    let data = Dataset::read(&a.data)?;
    let mut settings = Settings::paper(cell, a.hidden);
    settings.epochs = a.epochs;
    settings.batch = a.batch;
    settings.runs = a.runs;
    settings.seed = a.seed;
    settings.loss = a.loss;
    settings.adam_epsilon = a.adam_epsilon;
    settings.recoveries = a.recoveries;
    settings.scale = a.scale;
    settings.compute = a.backend;
    let splits = paper::splits(&data, &a.drop_inputs)?;
    settings.lr = a.lr.unwrap_or_else(|| settings.default_lr(&splits.train));
    surrogate::runs::check(&settings, &splits)?;
    let _lock = persist::lock(&a.out)?;
    persist::check_writable(&a.out)?;
    let arch = train::architecture(&settings, &splits);
    if !a.json && !quiet {
        eprintln!(
            "{}-{}{} ({} parameters) on {}: {} train / {} valid / {} test sequences x {} steps, {} runs x {} epochs",
            a.arch.to_uppercase(),
            a.hidden,
            if cell == Recurrence::GruResetAfter { " (reset after)" } else { "" },
            arch.parameters(),
            a.data.display(),
            splits.train.sequences,
            splits.valid.sequences,
            splits.test.sequences,
            data.steps(),
            a.runs,
            a.epochs
        );
    }
    let bar = if quiet {
        indicatif::ProgressBar::hidden()
    } else {
        indicatif::ProgressBar::new((a.runs * a.epochs) as u64)
    }
    .with_style(
        indicatif::ProgressStyle::with_template(
            "{bar:30} {pos}/{len} epochs, {elapsed} elapsed, ETA {eta}  {msg}",
        )
        .expect("valid template"),
    );
    // Finished runs are kept beside the model directory until it is complete, so that the
    // same command resumes an interrupted training (runs are identified by the settings and
    // the content of the data, not by the file's name).
    let folder = store::partial_dir(&a.out);
    let extra = json!({ "drop_inputs": a.drop_inputs, "generator": env!("CARGO_PKG_VERSION") });
    let checkpoint = surrogate::runs::Checkpoint {
        folder: &folder,
        extra: &extra,
    };
    let progress = Bar {
        bar,
        best: Default::default(),
        quiet,
    };
    let start = Instant::now();
    let trained = surrogate::runs::train_runs(&settings, &splits, Some(checkpoint), &|k, e| {
        progress.epoch(k, e);
        on_epoch(progress.bar.position() as usize, a.runs * a.epochs);
    });
    progress.bar.finish_and_clear();
    let trained = trained.inspect_err(|_| store::abandon(&a.out))?;
    if trained.resumed > 0 && !a.json && !quiet {
        eprintln!(
            "resumed: {} of {} runs were already finished in {}",
            trained.resumed,
            a.runs,
            folder.display()
        );
    }
    let done_seconds: f64 = trained.runs[..trained.resumed]
        .iter()
        .map(|r| r.seconds)
        .sum();
    let (scaling, runs) = (trained.scaling, trained.runs);
    let seconds = start.elapsed().as_secs_f64() + done_seconds;
    let kept = store::kept_run(&runs);
    let model = ModelFile {
        format: store::FORMAT.into(),
        architecture: arch,
        params: arch.parameters(),
        input_names: splits.input_names.clone(),
        output_names: splits.output_names.clone(),
        input_unit: data.input_unit.clone(),
        output_unit: data.output_unit.clone(),
        dt_ms: data.dt,
        scaling,
        settings: settings.clone(),
        dropped_inputs: a.drop_inputs.clone(),
        data: a.data.display().to_string(),
        seed: runs[kept].seed,
        best_epoch: runs[kept].best_epoch,
        errors: runs[kept].errors.clone(),
        generator: format!("celegans {}", env!("CARGO_PKG_VERSION")),
    };
    let title = format!(
        "{}-{} on {}",
        a.arch.to_uppercase(),
        a.hidden,
        a.data
            .file_name()
            .map(|n| n.to_string_lossy())
            .unwrap_or_default()
    );
    store::save_with(&a.out, &model, &runs, |dir| {
        paper::figures::learning_curves(&dir.join("curves.png"), &title, &runs)
            .map_err(|e| surrogate::Error::Invalid(format!("{e:#}")))
    })?;
    let stat = |f: &dyn Fn(&Errors) -> Option<f64>| {
        let v: Vec<f64> = runs.iter().filter_map(|r| f(&r.errors)).collect();
        (!v.is_empty()).then(|| train::mean_std(&v))
    };
    let (tr, va, te) = (
        stat(&|e| e.train.rmse),
        stat(&|e| e.valid.rmse),
        stat(&|e| e.test.rmse),
    );
    let seconds_per_epoch = seconds / (a.runs * a.epochs) as f64;
    let value = json!({
            "arch": cell.layer(),
            "hidden": a.hidden,
            "reset_after": cell == Recurrence::GruResetAfter,
            "params": arch.parameters(),
            "runs": runs.iter().map(|r| json!({"seed": r.seed, "best_epoch": r.best_epoch, "rmse": split_json(&r.errors), "skipped_steps": r.skipped_steps.len(), "recoveries": r.recoveries})).collect::<Vec<_>>(),
            "rmse_mean": {"train": tr.map(|s| s.0), "valid": va.map(|s| s.0), "test": te.map(|s| s.0)},
            "rmse_std": {"train": tr.map(|s| s.1), "valid": va.map(|s| s.1), "test": te.map(|s| s.1)},
            "seconds_per_epoch": seconds_per_epoch,
            "seconds": seconds,
            "out": a.out.display().to_string(),
    });
    if a.json {
        println!("{value}");
    }
    if a.json || quiet {
        return Ok(value);
    }
    println!("run  seed  best epoch  train RMSE  valid RMSE  test RMSE");
    let f = |v: Option<f64>| v.map(|v| format!("{v:.4e}")).unwrap_or_else(|| "-".into());
    for (k, r) in runs.iter().enumerate() {
        println!(
            "{:>3}  {:>4}  {:>10}  {:>10}  {:>10}  {:>9}{}",
            k + 1,
            r.seed,
            r.best_epoch,
            f(r.errors.train.rmse),
            f(r.errors.valid.rmse),
            f(r.errors.test.rmse),
            if k == kept { "  (kept)" } else { "" }
        );
    }
    let ms = |s: Option<(f64, f64)>| {
        s.map(|(m, d)| format!("{m:.4e} ± {d:.1e}"))
            .unwrap_or_else(|| "-".into())
    };
    println!(
        "mean ± std: train {}, valid {}, test {}",
        ms(tr),
        ms(va),
        ms(te)
    );
    for (k, r) in runs.iter().enumerate() {
        if let Some((epoch, step)) = r.skipped_steps.first() {
            println!(
                "run {}: {} steps not applied (non-finite loss or gradient), the first at epoch {epoch}, step {step}",
                k + 1,
                r.skipped_steps.len()
            );
        }
    }
    for (k, r) in runs.iter().enumerate() {
        for x in &r.recoveries {
            println!("run {}: {x}", k + 1);
        }
    }
    println!(
        "{:.1} s in all, {:.2} ms per epoch; wrote {}",
        seconds,
        seconds_per_epoch * 1e3,
        a.out.display()
    );
    Ok(value)
}

/// `data` with exactly the model's input columns, in the model's order, or an error naming
/// the inputs the dataset lacks.
fn model_inputs(data: &Dataset, model: &ModelFile, file: &Path) -> anyhow::Result<Dataset> {
    let missing: Vec<&String> = model
        .input_names
        .iter()
        .filter(|n| !data.input_names.contains(n))
        .collect();
    if !missing.is_empty() {
        bail!(
            "{}: the model's inputs {missing:?} are not in the dataset",
            file.display()
        );
    }
    let columns: Vec<usize> = model
        .input_names
        .iter()
        .map(|n| {
            data.input_names
                .iter()
                .position(|m| m == n)
                .expect("present")
        })
        .collect();
    let width = data.input_names.len();
    let inputs = data
        .inputs
        .chunks(width)
        .flat_map(|row| columns.iter().map(|&k| row[k]).collect::<Vec<_>>())
        .collect();
    Ok(Dataset {
        inputs,
        input_names: model.input_names.clone(),
        ..data.clone()
    })
}

/// The dataset's splits with the model's inputs, or an error naming what does not match.
fn select(data: &Dataset, model: &ModelFile, file: &Path) -> anyhow::Result<Splits> {
    let data = model_inputs(data, model, file)?;
    if data.output_names != model.output_names {
        bail!(
            "{}: outputs {:?} differ from the model's {:?}",
            file.display(),
            data.output_names,
            model.output_names
        );
    }
    paper::splits(&data, &[])
        .or_else(|e| {
            // A file with no training split can still be evaluated: treat every sequence as test.
            if data.split.iter().all(|&s| s != 0) {
                let all = Dataset {
                    split: vec![0; data.sequences],
                    ..data.clone()
                };
                paper::splits(&all, &[]).map(|mut s| {
                    s.test = std::mem::take(&mut s.train);
                    s
                })
            } else {
                Err(e)
            }
        })
        .map_err(Into::into)
}

pub fn evaluate(model_dir: &Path, data_file: &Path, as_json: bool) -> anyhow::Result<()> {
    let value = evaluate_json(model_dir, data_file, !as_json)?;
    if as_json {
        println!("{value}");
    }
    Ok(())
}

/// What `evaluate --json` prints; `table`: print the table instead.
pub(crate) fn evaluate_json(
    model_dir: &Path,
    data_file: &Path,
    table: bool,
) -> anyhow::Result<serde_json::Value> {
    let (model, weights) = store::load(model_dir)?;
    let data = Dataset::read(data_file)?;
    let splits = select(&data, &model, data_file)?;
    let errors = train::evaluate(&model.architecture, &weights, &model.scaling, &splits);
    let per_output = |e: &SplitError| -> serde_json::Value {
        if e.rmse.is_none() {
            return serde_json::Value::Null;
        }
        model
            .output_names
            .iter()
            .zip(&e.per_output)
            .map(|(n, v)| (n.clone(), json!(v)))
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    let value = json!({
        "model": model_dir.display().to_string(),
        "data": data_file.display().to_string(),
        "unit": model.output_unit,
        "rmse": split_json(&errors),
        "per_output": {"train": per_output(&errors.train), "valid": per_output(&errors.valid), "test": per_output(&errors.test)},
    });
    if !table {
        return Ok(value);
    }
    let mut table = format!("split  sequences  RMSE [{}]", model.output_unit);
    for n in &model.output_names {
        let _ = write!(table, "  {n:>10}");
    }
    println!("{table}");
    for (name, set, e) in [
        ("train", &splits.train, &errors.train),
        ("valid", &splits.valid, &errors.valid),
        ("test", &splits.test, &errors.test),
    ] {
        let Some(rmse) = e.rmse else { continue };
        let mut line = format!("{name:<5}  {:>9}  {:>10.4e}", set.sequences, rmse);
        for v in &e.per_output {
            let _ = write!(line, "  {v:>10.4e}");
        }
        println!("{line}");
    }
    Ok(value)
}

pub fn predict(model_dir: &Path, data_file: &Path, out: &Path) -> anyhow::Result<()> {
    let _lock = persist::lock(out)?;
    let (model, weights) = store::load(model_dir)?;
    let data = Dataset::read(data_file)?;
    let all = Dataset {
        split: vec![0; data.sequences],
        ..model_inputs(&data, &model, data_file)?
    };
    let set = paper::splits(&all, &[])?.train;
    let x = set.x;
    let start = Instant::now();
    let y = train::predict(&model.architecture, &weights, &model.scaling, &x, set.steps);
    let seconds = start.elapsed().as_secs_f64();
    write_predictions(out, &model.output_names, &data.time, &y, set.sequences)?;
    let o = model.output_names.len();
    eprintln!(
        "wrote {} ({} sequences x {} steps, {} outputs [{}]) in {:.1} ms",
        out.display(),
        set.sequences,
        set.steps,
        o,
        model.output_unit,
        seconds * 1e3
    );
    Ok(())
}

/// Writes predictions `[n, T, O]` as CSV (sequence, time_ms, one column per output), atomically.
fn write_predictions(
    out: &Path,
    names: &[String],
    time: &[f64],
    y: &[f32],
    sequences: usize,
) -> anyhow::Result<()> {
    let (o, steps) = (names.len(), time.len());
    let mut csv = String::from("sequence,time_ms");
    for n in names {
        let _ = write!(csv, ",{n}");
    }
    csv.push('\n');
    for s in 0..sequences {
        for (t, time) in time.iter().enumerate() {
            let _ = write!(csv, "{},{}", s + 1, time);
            for v in &y[(s * steps + t) * o..(s * steps + t + 1) * o] {
                let _ = write!(csv, ",{v}");
            }
            csv.push('\n');
        }
    }
    Ok(persist::write_atomic(out, csv.as_bytes())?)
}

pub fn predict_stimulus(model_dir: &Path, stimulus: &Path, out: &Path) -> anyhow::Result<()> {
    let _lock = persist::lock(out)?;
    let (model, weights) = store::load(model_dir)?;
    let file = datasets::StimulusFile::read(stimulus)?;
    let dt = file.dt.unwrap_or(model.dt_ms);
    let rows = file
        .sample(&model.input_names, dt)
        .map_err(|e| anyhow::anyhow!("{}: {e}", stimulus.display()))?;
    if (dt - model.dt_ms).abs() > 1e-9 {
        eprintln!(
            "warning: the model was trained at dt {} ms; predicting at dt {dt} ms",
            model.dt_ms
        );
    }
    let steps = rows.len();
    let x: Vec<f32> = rows.iter().flatten().map(|&v| v as f32).collect();
    let y = train::predict(&model.architecture, &weights, &model.scaling, &x, steps);
    let time: Vec<f64> = (0..steps).map(|k| k as f64 * dt).collect();
    write_predictions(out, &model.output_names, &time, &y, 1)?;
    eprintln!(
        "wrote {} ({} steps, {} outputs [{}])",
        out.display(),
        steps,
        model.output_names.len(),
        model.output_unit
    );
    Ok(())
}
