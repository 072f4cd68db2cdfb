//! `celegans experiment 1|2|3|4|5|all`: the paper's five experiments end to end, from the
//! bundled model's datasets to tables (Markdown + CSV), figures (PNG) and `REPORT.md`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use datasets::{Dataset, Generation, Scenario};
use surrogate::train::{self, Run, Settings, SplitError};
use surrogate::{Architecture, Recurrence, Scaling, Splits};

use crate::figures::{self, Series};

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
    /// Output folder (datasets are kept in OUT/data and reused).
    #[arg(long, default_value = "experiments")]
    pub out: PathBuf,
}

/// Stimulus seed of every experiment dataset.
const SEED: u64 = 0;

pub(crate) struct Plan {
    pub(crate) quick: bool,
    pub(crate) runs: usize,
    pub(crate) epochs: usize,
    pub(crate) duration: f64,
    /// Sequences per behaviour.
    pub(crate) count: usize,
    pub(crate) out: PathBuf,
    /// Training time \[s\] (sum of the runs' wall times) of every distinct model trained or
    /// reused, by its key in OUT/runs.
    pub(crate) trained: std::cell::RefCell<std::collections::BTreeMap<String, f64>>,
}

/// One section of the report.
struct Section {
    title: String,
    lines: Vec<String>,
    table: Table,
    figures: Vec<(String, String)>,
}

struct Table {
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl Table {
    fn new(header: &[&str]) -> Self {
        Table {
            header: header.iter().map(|s| s.to_string()).collect(),
            rows: Vec::new(),
        }
    }

    fn markdown(&self) -> String {
        let mut s = format!(
            "| {} |\n|{}\n",
            self.header.join(" | "),
            "---|".repeat(self.header.len())
        );
        for r in &self.rows {
            let _ = writeln!(s, "| {} |", r.join(" | "));
        }
        s
    }

    fn csv(&self) -> String {
        let quote = |c: &String| {
            if c.contains(',') {
                format!("\"{c}\"")
            } else {
                c.clone()
            }
        };
        let mut s = self.header.iter().map(quote).collect::<Vec<_>>().join(",") + "\n";
        for r in &self.rows {
            s += &(r.iter().map(quote).collect::<Vec<_>>().join(",") + "\n");
        }
        s
    }
}

fn sci(v: f64) -> String {
    format!("{v:.3e}")
}

fn name(cell: Recurrence, hidden: usize) -> String {
    format!("{}-{hidden}", cell.layer().to_uppercase())
}

/// An experiment dataset and what identifies its file.
pub(crate) struct Data {
    pub(crate) d: Dataset,
    /// File stem in OUT/data, e.g. `fcm_0.5ms`.
    stem: String,
}

/// A trained model: all its runs.
pub(crate) struct Trained {
    pub(crate) label: String,
    pub(crate) arch: Architecture,
    pub(crate) scaling: Scaling,
    pub(crate) runs: Vec<Run>,
    pub(crate) seconds: f64,
    epochs: usize,
}

impl Trained {
    fn stat(&self, pick: impl Fn(&Run) -> Option<f64>) -> Option<(f64, f64)> {
        let v: Vec<f64> = self.runs.iter().filter_map(pick).collect();
        (!v.is_empty()).then(|| train::mean_std(&v))
    }

    fn cell(&self, pick: impl Fn(&Run) -> Option<f64>) -> String {
        self.stat(pick)
            .map(|(m, s)| format!("{} ± {:.1e}", sci(m), s))
            .unwrap_or_else(|| "-".into())
    }

    fn rmse(&self, split: impl Fn(&train::Errors) -> &SplitError + Copy) -> String {
        self.cell(move |r| split(&r.errors).rmse)
    }

    /// Mean over runs of the test RMSE of output `o`.
    fn test_output(&self, o: usize) -> f64 {
        train::mean_std(
            &self
                .runs
                .iter()
                .map(|r| r.errors.test.per_output.get(o).copied().unwrap_or(f64::NAN))
                .collect::<Vec<_>>(),
        )
        .0
    }

    /// Mean over runs of the test RMSE over a group of outputs.
    fn test_group(&self, outputs: &[usize]) -> f64 {
        let per_run: Vec<f64> = self
            .runs
            .iter()
            .map(|r| {
                let sq: f64 = outputs
                    .iter()
                    .map(|&o| r.errors.test.per_output[o].powi(2))
                    .sum();
                (sq / outputs.len() as f64).sqrt()
            })
            .collect();
        train::mean_std(&per_run).0
    }

    /// " †" when some run diverged (see the report's note).
    fn dagger(&self) -> &'static str {
        if self.runs.iter().any(|r| r.diverged_at.is_some()) {
            " †"
        } else {
            ""
        }
    }

    fn seconds_per_epoch(&self) -> f64 {
        self.seconds / (self.runs.len() * self.epochs).max(1) as f64
    }

    /// The run with the lowest validation RMSE.
    fn best(&self) -> &Run {
        &self.runs[surrogate::store::kept_run(&self.runs)]
    }
}

impl Plan {
    fn settings(&self, cell: Recurrence, hidden: usize) -> Settings {
        let mut s = Settings::paper(cell, hidden);
        s.runs = self.runs;
        s.epochs = self.epochs;
        // As the paper's Keras set-up: a run whose loss blows up keeps its best epoch.
        s.keep_best_on_divergence = true;
        s
    }

    /// Trains `cell`-`hidden` on `splits` of the dataset `data` (its file stem), or reuses the
    /// runs an earlier experiment or an interrupted invocation finished: each run is kept in
    /// OUT/runs/KEY/runs/NN.json as soon as it ends. Missing runs train side by side on
    /// the rayon pool; run k is the same whichever thread trains it.
    pub(crate) fn train(
        &self,
        data: &Data,
        dropped: &[String],
        splits: &Splits,
        cell: Recurrence,
        hidden: usize,
        label: &str,
    ) -> anyhow::Result<Trained> {
        let settings = self.settings(cell, hidden);
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
        let trained =
            surrogate::runs::train_runs(&settings, splits, Some(checkpoint), &|_, _| bar.inc(1))?;
        bar.finish_and_clear();
        let (scaling, runs) = (trained.scaling, trained.runs);
        let diverged = runs.iter().filter(|r| r.diverged_at.is_some()).count();
        let seconds = runs.iter().map(|r| r.seconds).sum();
        self.trained.borrow_mut().insert(key, seconds);
        let t = Trained {
            label: if diverged > 0 {
                format!("{label} (†{diverged})")
            } else {
                label.to_string()
            },
            arch,
            scaling,
            seconds,
            runs,
            epochs: self.epochs,
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

    /// The scenario's dataset at `dt`, generated once and kept in OUT/data.
    pub(crate) fn dataset(&self, scenario: &str, dt: f64) -> anyhow::Result<Data> {
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
        g.model_sha256 = crate::dataset::model_sha256(&model, true)?;
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

    fn folder(&self, n: usize) -> anyhow::Result<PathBuf> {
        let dir = self.out.join(format!("exp{n}"));
        std::fs::create_dir_all(&dir).with_context(|| format!("{}", dir.display()))?;
        Ok(dir)
    }
}

/// The set whose first sequence the figures show: test, or train where there is no test.
fn shown_set(splits: &Splits) -> &surrogate::data::Set {
    if splits.test.sequences > 0 {
        &splits.test
    } else {
        &splits.train
    }
}

/// Predicted and simulated traces of one test sequence, one figure per output.
pub(crate) fn traces(
    dir: &Path,
    prefix: &str,
    t: &Trained,
    data: &Dataset,
    splits: &Splits,
) -> anyhow::Result<Vec<(String, String)>> {
    let set = shown_set(splits);
    let (x, y) = set.rows(&[0]);
    let p = train::predict(&t.arch, &t.best().weights, &t.scaling, &x, set.steps);
    let mut figs = Vec::new();
    let o = splits.output_names.len();
    for (k, out) in splits.output_names.iter().enumerate().take(4) {
        let series = vec![
            Series {
                name: "simulated".into(),
                points: data
                    .time
                    .iter()
                    .zip(y.iter().skip(k).step_by(o))
                    .map(|(&t, &v)| (t, v as f64))
                    .collect(),
                color: None,
            },
            Series {
                name: t.label.clone(),
                points: data
                    .time
                    .iter()
                    .zip(p.iter().skip(k).step_by(o))
                    .map(|(&t, &v)| (t, v as f64))
                    .collect(),
                color: None,
            },
        ];
        let file = format!("{prefix}_{out}.png");
        let title = format!(
            "{out}: simulated vs {} (test sequence {})",
            t.label,
            set.indices[0] + 1
        );
        figures::line_chart(
            &dir.join(&file),
            &title,
            "time [ms]",
            &format!("V [{}]", data.output_unit),
            &series,
        )?;
        figs.push((file, format!("{out}, first test sequence")));
    }
    Ok(figs)
}

/// Paper's reported test RMSE (their data, their units) for a model, where the paper gives it.
fn paper_test(label: &str) -> &'static str {
    match label {
        "RNN-16" => "1.34e-1",
        "LSTM-8" => "1.49e-2",
        "GRU-8" => "1.00e-2",
        "RNN-64" => "9.54e-2",
        "LSTM-32" => "1.52e-2",
        "GRU-32" => "1.23e-2",
        "GRU-2" => "6.00e-2",
        "GRU-4" => "1.18e-2",
        "GRU-16" => "9.36e-3",
        "GRU-64" => "1.68e-2",
        _ => "-",
    }
}

fn standard_row(t: &Trained) -> Vec<String> {
    vec![
        t.label.clone(),
        t.arch.parameters().to_string(),
        t.rmse(|e| &e.train),
        t.rmse(|e| &e.valid),
        t.rmse(|e| &e.test),
        format!("{:.1}", t.seconds),
        format!("{:.1}", t.seconds_per_epoch() * 1e3),
    ]
}

const STANDARD: [&str; 7] = [
    "model",
    "params",
    "train RMSE",
    "valid RMSE",
    "test RMSE",
    "training [s]",
    "ms/epoch",
];

fn experiment1(plan: &Plan) -> anyhow::Result<Section> {
    eprintln!("experiment 1: layer types on FCM at 0.5 ms");
    let dir = plan.folder(1)?;
    let src = plan.dataset("fcm", 0.5)?;
    let data = &src.d;
    let splits = paper::splits(data, &[])?;
    let mut header: Vec<&str> = STANDARD.to_vec();
    let outs: Vec<String> = splits
        .output_names
        .iter()
        .map(|o| format!("test {o}"))
        .collect();
    header.extend(outs.iter().map(|s| s.as_str()));
    header.push("paper test (their data)");
    let mut table = Table::new(&header);
    let mut figs = Vec::new();
    let mut gru8 = None;
    for (cell, hidden) in [
        (Recurrence::Rnn, 16),
        (Recurrence::Lstm, 8),
        (Recurrence::Gru, 8),
        (Recurrence::Rnn, 64),
        (Recurrence::Lstm, 32),
        (Recurrence::Gru, 32),
    ] {
        let label = name(cell, hidden);
        let t = plan.train(&src, &[], &splits, cell, hidden, &label)?;
        let mut row = standard_row(&t);
        row.extend((0..splits.output_names.len()).map(|o| sci(t.test_output(o))));
        row.push(paper_test(&label).into());
        table.rows.push(row);
        let file = format!("curves_{}.png", label.to_lowercase());
        figures::learning_curves(&dir.join(&file), &format!("{label}, FCM 0.5 ms"), &t.runs)?;
        figs.push((file, format!("{label} learning curves")));
        if label == "GRU-8" {
            gru8 = Some(t);
        }
    }
    if let Some(t) = &gru8 {
        figs.extend(traces(&dir, "trace_gru-8", t, data, &splits)?);
    }
    Ok(Section {
        title: "Experiment 1: RNN, LSTM and GRU (paper Table 1, Figs. 5-6)".into(),
        lines: vec![
            format!("FCM dataset, dt 0.5 ms, {} sequences ({} train / {} valid / {} test), outputs in {}.", data.sequences, splits.train.sequences, splits.valid.sequences, splits.test.sequences, data.output_unit),
            "RMSE is mean ± std over runs, in the dataset's units; the paper's column is its own data (unscaled, unknown units), for orientation only.".into(),
        ],
        table,
        figures: figs,
    })
}

fn experiment2(plan: &Plan) -> anyhow::Result<Section> {
    eprintln!("experiment 2: hidden size on FCM at 0.5 ms");
    let dir = plan.folder(2)?;
    let src = plan.dataset("fcm", 0.5)?;
    let data = &src.d;
    let splits = paper::splits(data, &[])?;
    let mut header = STANDARD.to_vec();
    header.push("paper test (their data)");
    let mut table = Table::new(&header);
    let sizes = [2, 4, 8, 16, 32, 64];
    let mut series = Vec::new();
    for cell in [Recurrence::Gru, Recurrence::Lstm] {
        let mut points = Vec::new();
        for hidden in sizes {
            let label = name(cell, hidden);
            let t = plan.train(&src, &[], &splits, cell, hidden, &label)?;
            let mut row = standard_row(&t);
            row.push(paper_test(&label).into());
            table.rows.push(row);
            if let Some((m, _)) = t.stat(|r| r.errors.test.rmse) {
                points.push(((hidden as f64).log2(), m));
            }
        }
        series.push(Series {
            name: cell.layer().to_uppercase(),
            points,
            color: None,
        });
    }
    let file = "rmse_vs_size.png".to_string();
    figures::line_chart(
        &dir.join(&file),
        "test RMSE vs hidden units",
        "log2(hidden units)",
        &format!("test RMSE [{}]", data.output_unit),
        &series,
    )?;
    Ok(Section {
        title: "Experiment 2: hidden size (paper Table 2, Figs. 7-8)".into(),
        lines: vec!["GRU and LSTM with 2 to 64 hidden units on the FCM 0.5 ms dataset.".into()],
        table,
        figures: vec![(file, "test RMSE against hidden size".into())],
    })
}

fn experiment3(plan: &Plan) -> anyhow::Result<Section> {
    eprintln!("experiment 3: 0.5 ms vs 0.1 ms");
    let dir = plan.folder(3)?;
    let mut header = vec!["dt [ms]", "steps"];
    header.extend(STANDARD);
    let mut table = Table::new(&header);
    let mut figs = Vec::new();
    for dt in [0.5, 0.1] {
        let src = plan.dataset("fcm", dt)?;
        let data = &src.d;
        let splits = paper::splits(data, &[])?;
        for hidden in [4, 8] {
            let label = name(Recurrence::Gru, hidden);
            let t = plan.train(
                &src,
                &[],
                &splits,
                Recurrence::Gru,
                hidden,
                &format!("{label} dt {dt}"),
            )?;
            let mut row = vec![dt.to_string(), data.steps().to_string()];
            row.extend(standard_row(&t));
            row[2] = label.clone() + t.dagger();
            table.rows.push(row);
            if hidden == 8 {
                let prefix = format!("trace_gru-8_dt{dt}");
                figs.extend(
                    traces(&dir, &prefix, &t, data, &splits)?
                        .into_iter()
                        .take(1),
                );
            }
        }
    }
    Ok(Section {
        title: "Experiment 3: time step 0.5 ms vs 0.1 ms (paper Table 3, Figs. 9-10)".into(),
        lines: vec![
            "The same stimuli simulated at both time steps (same seed), GRU-4 and GRU-8.".into(),
        ],
        table,
        figures: figs,
    })
}

fn experiment4(plan: &Plan) -> anyhow::Result<Section> {
    eprintln!("experiment 4: input importance");
    let dir = plan.folder(4)?;
    let src = plan.dataset("fcm", 0.5)?;
    let data = &src.d;
    let variants: [(&str, Vec<String>); 3] = [
        ("all", vec![]),
        ("no AVB", vec!["AVBL".into(), "AVBR".into()]),
        ("no PLM", vec!["PLML".into(), "PLMR".into()]),
    ];
    let outs: Vec<String> = data
        .output_names
        .iter()
        .map(|o| format!("test {o}"))
        .collect();
    let mut header = vec![
        "model",
        "inputs",
        "params",
        "training [s]",
        "ms/epoch",
        "test RMSE",
    ];
    header.extend(outs.iter().map(|s| s.as_str()));
    let mut table = Table::new(&header);
    let mut figs = Vec::new();
    for cell in [Recurrence::Lstm, Recurrence::Gru] {
        for hidden in [8, 16, 32] {
            for (what, drop) in &variants {
                let splits = paper::splits(data, drop)?;
                let label = name(cell, hidden);
                let t = plan.train(
                    &src,
                    drop,
                    &splits,
                    cell,
                    hidden,
                    &format!("{label} {what}"),
                )?;
                let mut row = vec![
                    label.clone() + t.dagger(),
                    what.to_string(),
                    t.arch.parameters().to_string(),
                    format!("{:.1}", t.seconds),
                    format!("{:.1}", t.seconds_per_epoch() * 1e3),
                    t.rmse(|e| &e.test),
                ];
                row.extend((0..data.output_names.len()).map(|o| sci(t.test_output(o))));
                table.rows.push(row);
                if cell == Recurrence::Gru && hidden == 8 && drop.is_empty() {
                    figs.extend(saliency_figures(&dir, &t, data, &splits)?);
                }
            }
        }
    }
    Ok(Section {
        title: "Experiment 4: input importance (paper Table 4, Fig. 11)".into(),
        lines: vec![
            "Models trained without the AVB inputs (AVBL, AVBR) or without the PLM inputs (PLML, PLMR); a larger test RMSE for an output means it depends on the missing inputs.".into(),
            "Saliency (beyond the paper): gradient of each output's sum over time with respect to each input at each time, GRU-8 with all inputs, first test sequence.".into(),
        ],
        table,
        figures: figs,
    })
}

fn saliency_figures(
    dir: &Path,
    t: &Trained,
    data: &Dataset,
    splits: &Splits,
) -> anyhow::Result<Vec<(String, String)>> {
    let set = shown_set(splits);
    let (x, _) = set.rows(&[0]);
    let s = train::saliency(&t.arch, &t.best().weights, &t.scaling, &x, set.steps);
    let (ni, steps) = (splits.input_names.len(), set.steps);
    let mut figs = Vec::new();
    for (o, out) in splits.output_names.iter().enumerate() {
        let series: Vec<Series> = splits
            .input_names
            .iter()
            .enumerate()
            .map(|(i, name)| Series {
                name: name.clone(),
                points: (0..steps)
                    .map(|k| (data.time[k], s[(o * steps + k) * ni + i] as f64))
                    .collect(),
                color: None,
            })
            .collect();
        let file = format!("saliency_{out}.png");
        let unit = format!("{}/{}", data.output_unit, data.input_unit);
        figures::line_chart(
            &dir.join(&file),
            &format!("saliency of {out} (GRU-8)"),
            "input time [ms]",
            &format!("d sum(y) / dx [{unit}]"),
            &series,
        )?;
        figs.push((file, format!("saliency of {out}")));
    }
    Ok(figs)
}

fn experiment5(plan: &Plan) -> anyhow::Result<Section> {
    eprintln!("experiment 5: FCM + nictation");
    let dir = plan.folder(5)?;
    let src = plan.dataset("fcm+nictation", 0.5)?;
    let data = &src.d;
    let splits = paper::splits(data, &[])?;
    let fcm16 = Scenario::builtin("fcm16").expect("built in").outputs;
    let (fcm, nict): (Vec<usize>, Vec<usize>) =
        (0..data.output_names.len()).partition(|&o| fcm16.contains(&data.output_names[o]));
    let mut header = STANDARD.to_vec();
    header.extend(["test RMSE FCM outputs", "test RMSE nictation outputs"]);
    let mut table = Table::new(&header);
    let mut figs = Vec::new();
    for cell in [Recurrence::Lstm, Recurrence::Gru] {
        for hidden in [8, 16, 32] {
            let label = name(cell, hidden);
            let t = plan.train(&src, &[], &splits, cell, hidden, &label)?;
            let mut row = standard_row(&t);
            row.push(sci(t.test_group(&fcm)));
            row.push(sci(t.test_group(&nict)));
            table.rows.push(row);
            if cell == Recurrence::Gru && hidden == 32 {
                let file = "curves_gru-32.png".to_string();
                figures::learning_curves(&dir.join(&file), "GRU-32, FCM + nictation", &t.runs)?;
                figs.push((file, "GRU-32 learning curves".into()));
            }
        }
    }
    Ok(Section {
        title: "Experiment 5: forward crawling and nictation in one model (paper Table 5, Fig. 12)".into(),
        lines: vec![format!(
            "{} sequences (half FCM, half nictation, the other behaviour's inputs at zero), {} inputs, {} outputs ({} FCM, {} nictation).",
            data.sequences,
            data.input_names.len(),
            data.output_names.len(),
            fcm.len(),
            nict.len()
        )],
        table,
        figures: figs,
    })
}

/// Today's date (UTC) as YYYY-MM-DD.
pub(crate) fn today() -> String {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() / 86_400)
        .unwrap_or(0) as i64;
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

pub fn run(a: ExperimentArgs) -> anyhow::Result<()> {
    let which: Vec<usize> = match a.which.as_str() {
        "all" => vec![1, 2, 3, 4, 5],
        n => match n.parse::<usize>() {
            Ok(k @ 1..=5) => vec![k],
            _ => bail!("experiment: '{n}' is not 1, 2, 3, 4, 5 or all"),
        },
    };
    let plan = Plan {
        quick: a.quick,
        runs: a.runs.unwrap_or(if a.quick { 1 } else { 10 }),
        epochs: a.epochs.unwrap_or(if a.quick { 5 } else { 1000 }),
        duration: if a.quick { 200.0 } else { 500.0 },
        count: if a.quick { 12 } else { 40 },
        out: a.out.clone(),
        trained: Default::default(),
    };
    if plan.runs == 0 || plan.epochs == 0 {
        bail!("--runs and --epochs must be at least 1");
    }
    std::fs::create_dir_all(&plan.out).with_context(|| format!("{}", plan.out.display()))?;
    let start = Instant::now();
    let mut sections = Vec::new();
    for k in which {
        let mut section = match k {
            1 => experiment1(&plan)?,
            2 => experiment2(&plan)?,
            3 => experiment3(&plan)?,
            4 => experiment4(&plan)?,
            _ => experiment5(&plan)?,
        };
        if section.table.rows.iter().flatten().any(|c| c.contains('†')) {
            section.lines.push(
                "† (k): k runs ended early with a NaN loss; each keeps its best epoch before that, as the paper's Keras ModelCheckpoint does.".into(),
            );
        }
        let dir = plan.folder(k)?;
        persist::write_atomic(&dir.join("table.md"), section.table.markdown())?;
        persist::write_atomic(&dir.join("table.csv"), section.table.csv())?;
        sections.push((k, section));
    }
    let mut report = format!(
        "# Experiments\n\n`celegans experiment {}{}`: {} runs x {} epochs per model, {} sequences per behaviour x {} ms; celegans {}, {} (UTC).\n\nTraining: {} distinct models, {:.2} h in total (the sum of their runs' wall times; a model's runs train side by side on {} threads, so the wall time is about half). \"training [s]\" is the sum of a model's runs' wall times. Runs finished earlier (in OUT/runs, by an earlier experiment or an interrupted invocation) are reused: this invocation took {:.0} s.\n\n",
        a.which,
        if a.quick { " --quick" } else { "" },
        plan.runs,
        plan.epochs,
        plan.count,
        plan.duration,
        env!("CARGO_PKG_VERSION"),
        today(),
        plan.trained.borrow().len(),
        plan.trained.borrow().values().sum::<f64>() / 3600.0,
        rayon::current_num_threads(),
        start.elapsed().as_secs_f64()
    );
    for (k, s) in &sections {
        let _ = writeln!(report, "## {}\n", s.title);
        for l in &s.lines {
            let _ = writeln!(report, "{l}");
        }
        let _ = writeln!(report, "\n{}", s.table.markdown());
        for (file, caption) in &s.figures {
            let _ = writeln!(report, "![{caption}](exp{k}/{file})");
        }
        report.push('\n');
    }
    persist::write_atomic(&plan.out.join("REPORT.md"), &report)?;
    eprintln!(
        "wrote {} in {:.0} s",
        plan.out.join("REPORT.md").display(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
