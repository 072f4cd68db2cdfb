//! Seconds per training epoch on the authors' 0.5 ms forward-crawling data (20 training and
//! 10 validation sequences x 1000 steps, 4 inputs, 4 outputs; one epoch = forward, backward
//! and Adam over the training set plus the validation loss), ours against Keras/TensorFlow
//! CPU timed in the same run (`tools/keras_epoch.py`, skipped when TensorFlow is missing).
//!
//! `cargo bench -p paper --bench epoch [-- DAT_DIR] [EPOCHS] [MODELS]`; DAT_DIR defaults to
//! `../shared/reference/paper-fcm-0.5ms` beside the repository, MODELS (e.g. `gru-32,lstm-32`)
//! to all seven.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::PathBuf;
use std::process::Command;
use std::time::Instant;

use datasets::dat::{import_dat, Import};
use paper::splits;
use surrogate::train::{self, Epoch, Progress, Settings};
use surrogate::{Recurrence, Scaling};

struct Stamps(Vec<Instant>);

impl Progress for Stamps {
    fn epoch(&mut self, _: usize, _: &Epoch) {
        self.0.push(Instant::now());
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

fn main() {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let dir = args
        .first()
        .map(PathBuf::from)
        .unwrap_or_else(|| repo.join("../shared/reference/paper-fcm-0.5ms"));
    let epochs: usize = args.get(1).and_then(|e| e.parse().ok()).unwrap_or(30);
    let names = |s: &str| s.split(',').map(String::from).collect::<Vec<_>>();
    let import = Import {
        inputs: names("PLML,PLMR,AVBL,AVBR"),
        outputs: names("DB1,LUAL,PVR,VB1"),
        split: Some(dir.join("split.json")),
        input_unit: "unknown".into(),
        output_unit: "unknown".into(),
        generator: "bench".into(),
    };
    let data = import_dat(&dir, &import)
        .unwrap_or_else(|e| panic!("{}: {e} (pass the authors' data folder)", dir.display()));
    let splits = splits(&data, &[]).expect("splits");
    let all = [
        (Recurrence::Gru, 4),
        (Recurrence::Gru, 8),
        (Recurrence::Gru, 32),
        (Recurrence::Lstm, 8),
        (Recurrence::Lstm, 32),
        (Recurrence::Rnn, 16),
        (Recurrence::Rnn, 64),
    ];
    let spec = |c: Recurrence, h: usize| format!("{}-{h}", c.layer());
    let models: Vec<(Recurrence, usize)> = match args.get(2) {
        Some(wanted) => {
            let wanted = names(wanted);
            let chosen: Vec<_> = all
                .into_iter()
                .filter(|&(c, h)| wanted.contains(&spec(c, h)))
                .collect();
            assert!(
                !chosen.is_empty(),
                "MODELS: none of {wanted:?} is one of the benchmark's seven"
            );
            chosen
        }
        None => all.to_vec(),
    };
    let keras_epochs = 8.min(epochs).to_string();
    let mut keras_args = vec![
        repo.join("tools/keras_epoch.py").display().to_string(),
        dir.display().to_string(),
        keras_epochs,
    ];
    keras_args.extend(models.iter().map(|&(c, h)| spec(c, h)));
    eprintln!("timing Keras/TensorFlow ({} models)...", models.len());
    let keras: Vec<Option<f64>> = match Command::new("python3").args(&keras_args).output() {
        Ok(out) if out.status.success() => {
            let text = String::from_utf8_lossy(&out.stdout).into_owned();
            let values: Vec<serde_json::Value> = text
                .lines()
                .filter_map(|l| serde_json::from_str(l).ok())
                .collect();
            models
                .iter()
                .enumerate()
                .map(|(k, _)| values.get(k).and_then(|v| v["seconds_per_epoch"].as_f64()))
                .collect()
        }
        Ok(out) => {
            eprintln!(
                "Keras not timed: {}",
                String::from_utf8_lossy(&out.stderr)
                    .lines()
                    .last()
                    .unwrap_or("")
            );
            vec![None; models.len()]
        }
        Err(e) => {
            eprintln!("Keras not timed: {e}");
            vec![None; models.len()]
        }
    };
    println!(
        "one epoch on {} ({} train + {} valid sequences x {} steps), median of {epochs} epochs",
        dir.display(),
        splits.train.sequences,
        splits.valid.sequences,
        data.steps()
    );
    println!(
        "{:<8} {:>6} {:>12} {:>14} {:>8}",
        "model", "params", "ours [ms]", "Keras [ms]", "ratio"
    );
    for (&(cell, hidden), keras) in models.iter().zip(keras) {
        let mut settings = Settings::paper(cell, hidden);
        settings.epochs = epochs + 1;
        settings.runs = 1;
        let arch = train::architecture(&settings, &splits);
        let scaling = Scaling::fit(settings.scale, &splits.train);
        let mut stamps = Stamps(vec![Instant::now()]);
        train::train_run(&settings, &splits, &scaling, 0, 0, &mut stamps).expect("training");
        let steps: Vec<f64> = stamps
            .0
            .windows(2)
            .skip(1)
            .map(|w| (w[1] - w[0]).as_secs_f64())
            .collect();
        let ours = median(steps);
        let (k, ratio) = match keras {
            Some(k) => (format!("{:.1}", k * 1e3), format!("{:.0}x", k / ours)),
            None => ("-".into(), "-".into()),
        };
        println!(
            "{:<8} {:>6} {:>12.2} {:>14} {:>8}",
            spec(cell, hidden),
            arch.parameters(),
            ours * 1e3,
            k,
            ratio
        );
    }
}
