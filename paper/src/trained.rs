//! A trained model (all its runs), the statistics the tables show and the figures drawn
//! from its best run.

use std::path::Path;

use datasets::Dataset;
use surrogate::train::{self, Run, SplitError};
use surrogate::{Architecture, Scaling, Splits};

use crate::figures::{self, Series};
use crate::table::sci;

/// A trained model: all its runs.
pub struct Trained {
    /// Row label, e.g. `GRU-8`, with `(†k)` when k runs diverged and `(‡k)` when k recovered from an explosion.
    pub label: String,
    /// Its shape.
    pub arch: Architecture,
    /// The data scaling its runs were trained with.
    pub scaling: Scaling,
    /// Every run.
    pub runs: Vec<Run>,
    /// Sum of the runs' wall times \[s\].
    pub seconds: f64,
    /// Epochs per run.
    pub epochs: usize,
    /// Adam's learning rate in its runs.
    pub lr: f64,
}

impl Trained {
    /// Mean and standard deviation over the runs of what `pick` gives.
    pub fn stat(&self, pick: impl Fn(&Run) -> Option<f64>) -> Option<(f64, f64)> {
        let v: Vec<f64> = self.runs.iter().filter_map(pick).collect();
        (!v.is_empty()).then(|| train::mean_std(&v))
    }

    fn cell(&self, pick: impl Fn(&Run) -> Option<f64>) -> String {
        self.stat(pick)
            .map(|(m, s)| format!("{} ± {:.1e}", sci(m), s))
            .unwrap_or_else(|| "-".into())
    }

    /// "mean ± std" of the RMSE on one split, as a table cell.
    pub fn rmse(&self, split: impl Fn(&train::Errors) -> &SplitError + Copy) -> String {
        self.cell(move |r| split(&r.errors).rmse)
    }

    /// Mean over runs of the test RMSE of output `o`.
    pub fn test_output(&self, o: usize) -> f64 {
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
    pub fn test_group(&self, outputs: &[usize]) -> f64 {
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

    /// " †" when some run diverged, " ‡" when some run recovered from an explosion (see the
    /// report's notes).
    pub fn dagger(&self) -> String {
        let (diverged, recovered) = outcomes(&self.runs);
        let mut marks = String::new();
        if diverged > 0 {
            marks.push_str(" †");
        }
        if recovered > 0 {
            marks.push_str(" ‡");
        }
        marks
    }

    /// Mean wall time of one epoch \[s\].
    pub fn seconds_per_epoch(&self) -> f64 {
        self.seconds / (self.runs.len() * self.epochs).max(1) as f64
    }

    /// The run with the lowest validation RMSE.
    pub fn best(&self) -> &Run {
        &self.runs[surrogate::store::kept_run(&self.runs)]
    }

    /// Predicted (best run) and simulated traces of the first shown sequence (test, else
    /// train), one figure per output (at most 4), written to `dir/PREFIX_OUTPUT.png`.
    /// Returns (file, caption) pairs.
    pub fn trace_figures(
        &self,
        dir: &Path,
        prefix: &str,
        data: &Dataset,
        splits: &Splits,
    ) -> anyhow::Result<Vec<(String, String)>> {
        let set = shown_set(splits);
        let (x, y) = set.rows(&[0]);
        let p = train::predict(
            &self.arch,
            &self.best().weights,
            &self.scaling,
            &x,
            set.steps,
        );
        let mut figs = Vec::new();
        let o = splits.output_names.len();
        let points = |v: &[f32], k: usize| -> Vec<(f64, f64)> {
            data.time
                .iter()
                .zip(v.iter().skip(k).step_by(o))
                .map(|(&t, &v)| (t, v as f64))
                .collect()
        };
        for (k, out) in splits.output_names.iter().enumerate().take(4) {
            let series = vec![
                Series {
                    name: "simulated".into(),
                    points: points(&y, k),
                    color: None,
                },
                Series {
                    name: self.label.clone(),
                    points: points(&p, k),
                    color: None,
                },
            ];
            let file = format!("{prefix}_{out}.png");
            let title = format!(
                "{out}: simulated vs {} (test sequence {})",
                self.label,
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

    /// Saliency of the best run on the first shown sequence: the gradient of each output's
    /// sum over time with respect to each input at each time, one figure per output, written
    /// to `dir/saliency_OUTPUT.png`. Returns (file, caption) pairs.
    pub fn saliency_figures(
        &self,
        dir: &Path,
        data: &Dataset,
        splits: &Splits,
    ) -> anyhow::Result<Vec<(String, String)>> {
        let set = shown_set(splits);
        let (x, _) = set.rows(&[0]);
        let s = train::saliency(
            &self.arch,
            &self.best().weights,
            &self.scaling,
            &x,
            set.steps,
        );
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
                &format!("saliency of {out} ({})", self.label),
                "input time [ms]",
                &format!("d sum(y) / dx [{unit}]"),
                &series,
            )?;
            figs.push((file, format!("saliency of {out}")));
        }
        Ok(figs)
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

/// How many of `runs` ended diverged (†) and how many recovered from an explosion (‡).
pub fn outcomes(runs: &[Run]) -> (usize, usize) {
    let diverged = runs.iter().filter(|r| r.diverged_at.is_some()).count();
    let recovered = runs.iter().filter(|r| !r.recoveries.is_empty()).count();
    (diverged, recovered)
}
