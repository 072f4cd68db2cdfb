//! Training data drawn from a dataset: input selection, splits and scaling.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::Error;

/// How inputs and outputs are scaled before the network sees them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScaleMode {
    /// Raw values, as the paper (its data are of order one).
    None,
    /// Each channel to zero mean and unit variance over the training split.
    Standard,
    /// `standard` when any training value exceeds 10 in magnitude (e.g. mV and pA), else `none`.
    Auto,
}

impl std::str::FromStr for ScaleMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "none" => Ok(ScaleMode::None),
            "standard" => Ok(ScaleMode::Standard),
            "auto" => Ok(ScaleMode::Auto),
            _ => Err(format!("unknown scaling '{s}' (none, standard or auto)")),
        }
    }
}

impl ScaleMode {
    /// Whether this mode standardizes the channels of the training set `train`.
    pub fn standardizes(self, train: &Set) -> bool {
        match self {
            ScaleMode::None => false,
            ScaleMode::Standard => true,
            ScaleMode::Auto => train.x.iter().chain(&train.y).any(|v| v.abs() > 10.0),
        }
    }
}

/// Per-channel affine maps: network value = (value − offset) / scale.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Scaling {
    /// Input offsets.
    pub input_offset: Vec<f32>,
    /// Input scales.
    pub input_scale: Vec<f32>,
    /// Output offsets.
    pub output_offset: Vec<f32>,
    /// Output scales.
    pub output_scale: Vec<f32>,
}

fn channel_stats(values: &[f32], channels: usize) -> (Vec<f32>, Vec<f32>) {
    let n = (values.len() / channels.max(1)).max(1) as f64;
    let mut mean = vec![0.0f64; channels];
    for row in values.chunks(channels) {
        row.iter().zip(&mut mean).for_each(|(v, m)| *m += *v as f64);
    }
    mean.iter_mut().for_each(|m| *m /= n);
    let mut var = vec![0.0f64; channels];
    for row in values.chunks(channels) {
        row.iter()
            .zip(&mean)
            .zip(&mut var)
            .for_each(|((v, m), s)| *s += (*v as f64 - m).powi(2));
    }
    let scale = var
        .iter()
        .map(|s| (s / n).sqrt())
        .map(|s| if s > 1e-12 { s as f32 } else { 1.0 })
        .collect();
    (mean.into_iter().map(|m| m as f32).collect(), scale)
}

impl Scaling {
    /// Checks a scaling read from a file against the model's `inputs` and `outputs`: one
    /// offset and one scale per channel, all finite, no scale zero. Returns what is wrong.
    pub fn check(&self, inputs: usize, outputs: usize) -> Result<(), String> {
        for (name, v, n) in [
            ("input_offset", &self.input_offset, inputs),
            ("input_scale", &self.input_scale, inputs),
            ("output_offset", &self.output_offset, outputs),
            ("output_scale", &self.output_scale, outputs),
        ] {
            if v.len() != n {
                return Err(format!(
                    "scaling.{name} has {} values for {n} {}",
                    v.len(),
                    if name.starts_with("input") {
                        "inputs"
                    } else {
                        "outputs"
                    }
                ));
            }
            if let Some(k) = v.iter().position(|x| !x.is_finite()) {
                return Err(format!("scaling.{name}[{k}] is {}", v[k]));
            }
            if name.ends_with("scale") {
                if let Some(k) = v.iter().position(|&x| x == 0.0) {
                    return Err(format!("scaling.{name}[{k}] is 0 (a scale divides)"));
                }
            }
        }
        Ok(())
    }

    /// The identity map.
    pub fn identity(inputs: usize, outputs: usize) -> Self {
        Scaling {
            input_offset: vec![0.0; inputs],
            input_scale: vec![1.0; inputs],
            output_offset: vec![0.0; outputs],
            output_scale: vec![1.0; outputs],
        }
    }

    /// Scaling fitted on a training set.
    pub fn fit(mode: ScaleMode, train: &Set) -> Self {
        if !mode.standardizes(train) {
            return Scaling::identity(train.inputs, train.outputs);
        }
        let (input_offset, input_scale) = channel_stats(&train.x, train.inputs);
        let (output_offset, output_scale) = channel_stats(&train.y, train.outputs);
        Scaling {
            input_offset,
            input_scale,
            output_offset,
            output_scale,
        }
    }

    /// Whether this map changes nothing.
    pub fn is_identity(&self) -> bool {
        self.input_offset
            .iter()
            .chain(&self.output_offset)
            .all(|&v| v == 0.0)
            && self
                .input_scale
                .iter()
                .chain(&self.output_scale)
                .all(|&v| v == 1.0)
    }

    /// Inputs `[.., I]` into network units.
    pub fn inputs(&self, x: &[f32]) -> Vec<f32> {
        apply(x, &self.input_offset, &self.input_scale)
    }

    /// Outputs `[.., O]` into network units.
    pub fn outputs(&self, y: &[f32]) -> Vec<f32> {
        apply(y, &self.output_offset, &self.output_scale)
    }

    /// Network outputs `[.., O]` back into data units.
    pub fn unscale_outputs(&self, y: &[f32]) -> Vec<f32> {
        let o = self.output_offset.len();
        y.chunks(o)
            .flat_map(|row| {
                row.iter()
                    .zip(&self.output_offset)
                    .zip(&self.output_scale)
                    .map(|((v, m), s)| v * s + m)
            })
            .collect()
    }
}

fn apply(values: &[f32], offset: &[f32], scale: &[f32]) -> Vec<f32> {
    values
        .chunks(offset.len())
        .flat_map(|row| {
            row.iter()
                .zip(offset)
                .zip(scale)
                .map(|((v, m), s)| (v - m) / s)
        })
        .collect()
}

/// Sequences of one split, row-major.
#[derive(Clone, Debug, Default)]
pub struct Set {
    /// Sequences n.
    pub sequences: usize,
    /// Steps T.
    pub steps: usize,
    /// Inputs I.
    pub inputs: usize,
    /// Outputs O.
    pub outputs: usize,
    /// Inputs `[n, T, I]`.
    pub x: Vec<f32>,
    /// Outputs `[n, T, O]`.
    pub y: Vec<f32>,
    /// Dataset indices of the sequences.
    pub indices: Vec<usize>,
}

impl Set {
    /// The sequences at `rows` of this set.
    pub fn rows(&self, rows: &[usize]) -> (Vec<f32>, Vec<f32>) {
        let (xs, ys) = (self.steps * self.inputs, self.steps * self.outputs);
        let mut x = Vec::with_capacity(rows.len() * xs);
        let mut y = Vec::with_capacity(rows.len() * ys);
        for &r in rows {
            x.extend_from_slice(&self.x[r * xs..(r + 1) * xs]);
            y.extend_from_slice(&self.y[r * ys..(r + 1) * ys]);
        }
        (x, y)
    }
}

/// A dataset as plain row-major arrays, borrowed: all that training reads of a dataset file
/// (the `datasets` crate's files, or arrays from anywhere else).
#[derive(Clone, Copy, Debug)]
pub struct DataView<'a> {
    /// Time steps T of every sequence.
    pub steps: usize,
    /// Inputs `[N, T, I]`.
    pub inputs: &'a [f32],
    /// Outputs `[N, T, O]`.
    pub outputs: &'a [f32],
    /// 0 train, 1 valid, 2 test, one per sequence (N of them).
    pub split: &'a [u8],
    /// Input names (I of them).
    pub input_names: &'a [String],
    /// Output names (O of them).
    pub output_names: &'a [String],
}

impl DataView<'_> {
    /// An error naming the first inconsistency between the arrays, their sizes and the split.
    pub fn check(&self) -> Result<(), Error> {
        let (n, t) = (self.split.len(), self.steps);
        let (ni, no) = (self.input_names.len(), self.output_names.len());
        let invalid = |m: String| Err(Error::Invalid(m));
        if self.inputs.len() != n * t * ni {
            return invalid(format!(
                "the inputs hold {} values, not {n} sequences x {t} steps x {ni} inputs",
                self.inputs.len()
            ));
        }
        if self.outputs.len() != n * t * no {
            return invalid(format!(
                "the outputs hold {} values, not {n} sequences x {t} steps x {no} outputs",
                self.outputs.len()
            ));
        }
        if let Some(k) = self.split.iter().position(|&s| s > 2) {
            return invalid(format!(
                "sequence {} has split code {} (0 train, 1 valid, 2 test)",
                k + 1,
                self.split[k]
            ));
        }
        Ok(())
    }
}

/// A dataset's train, validation and test sets with the inputs in use.
#[derive(Clone, Debug)]
pub struct Splits {
    /// Train (split 0).
    pub train: Set,
    /// Validation (split 1).
    pub valid: Set,
    /// Test (split 2).
    pub test: Set,
    /// Names of the inputs in use.
    pub input_names: Vec<String>,
    /// Names of the outputs.
    pub output_names: Vec<String>,
}

impl Splits {
    /// Splits `data` by its `/split`, leaving out the inputs named in `drop_inputs`.
    pub fn new(data: &DataView, drop_inputs: &[String]) -> Result<Self, Error> {
        data.check()?;
        for name in drop_inputs {
            if !data.input_names.contains(name) {
                return Err(Error::Invalid(format!(
                    "--drop-inputs: unknown input '{name}' (the dataset's inputs: {})",
                    data.input_names.join(", ")
                )));
            }
        }
        let keep: Vec<usize> = (0..data.input_names.len())
            .filter(|&i| !drop_inputs.contains(&data.input_names[i]))
            .collect();
        if keep.is_empty() {
            return Err(Error::Invalid(
                "--drop-inputs: no input would be left".into(),
            ));
        }
        let (steps, ni, no) = (data.steps, data.input_names.len(), data.output_names.len());
        let mut sets: [Set; 3] = Default::default();
        for (s, set) in sets.iter_mut().enumerate() {
            set.steps = steps;
            set.inputs = keep.len();
            set.outputs = no;
            for (n, _) in data
                .split
                .iter()
                .enumerate()
                .filter(|(_, &k)| k as usize == s)
            {
                for t in 0..steps {
                    let row = &data.inputs[(n * steps + t) * ni..(n * steps + t + 1) * ni];
                    set.x.extend(keep.iter().map(|&i| row[i]));
                }
                set.y
                    .extend_from_slice(&data.outputs[n * steps * no..(n + 1) * steps * no]);
                set.indices.push(n);
                set.sequences += 1;
            }
        }
        let [train, valid, test] = sets;
        if train.sequences == 0 {
            return Err(Error::Invalid(
                "the dataset has no training sequences (split 0)".into(),
            ));
        }
        if train.x.iter().chain(&train.y).any(|v| !v.is_finite()) {
            return Err(Error::Invalid(
                "the training data hold NaN or infinite values".into(),
            ));
        }
        Ok(Splits {
            train,
            valid,
            test,
            input_names: keep.iter().map(|&i| data.input_names[i].clone()).collect(),
            output_names: data.output_names.to_vec(),
        })
    }
}

impl Splits {
    /// SHA-256 (hex) of everything training reads: names, and each split's sequence indices,
    /// inputs and outputs. Two datasets with the same fingerprint train the same runs.
    pub fn fingerprint(&self) -> String {
        let mut h = Sha256::new();
        for names in [&self.input_names, &self.output_names] {
            h.update((names.len() as u64).to_le_bytes());
            for name in names {
                h.update((name.len() as u64).to_le_bytes());
                h.update(name.as_bytes());
            }
        }
        for set in [&self.train, &self.valid, &self.test] {
            for n in [set.sequences, set.steps, set.inputs, set.outputs] {
                h.update((n as u64).to_le_bytes());
            }
            set.indices
                .iter()
                .for_each(|&i| h.update((i as u64).to_le_bytes()));
            set.x
                .iter()
                .chain(&set.y)
                .for_each(|v| h.update(v.to_le_bytes()));
        }
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }
}
