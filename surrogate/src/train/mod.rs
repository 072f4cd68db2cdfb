//! Training as in the paper: Adam, RMSE loss, mini-batches, the epoch with the lowest
//! validation loss kept.

use std::time::Instant;

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams};
use burn::tensor::{Device, Tensor, TensorData};
use rand::seq::SliceRandom;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::data::{ScaleMode, Scaling, Set, Splits};
use crate::model::{Architecture, Network, Weights};
use crate::recurrence::Recurrence;
use crate::Error;

/// The training loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Loss {
    /// Root mean squared error (the paper's reported metric).
    Rmse,
    /// Mean squared error (the authors' Keras loss).
    Mse,
}

impl std::str::FromStr for Loss {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "rmse" => Ok(Loss::Rmse),
            "mse" => Ok(Loss::Mse),
            _ => Err(format!("unknown loss '{s}' (rmse or mse)")),
        }
    }
}

/// Where burn's tensor operations run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Compute {
    /// burn's Flex CPU backend.
    #[default]
    Cpu,
    /// burn's wgpu backend (GPU through Vulkan/Metal/DX12; needs the `wgpu` cargo feature).
    /// The recurrence itself still runs on the host (no GPU kernel yet).
    Wgpu,
}

impl std::str::FromStr for Compute {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "cpu" => Ok(Compute::Cpu),
            "wgpu" => Ok(Compute::Wgpu),
            _ => Err(format!("unknown backend '{s}' (cpu or wgpu)")),
        }
    }
}

impl Compute {
    /// The burn device (without autodiff).
    pub fn device(self) -> Result<Device, Error> {
        match self {
            Compute::Cpu => Ok(Device::flex()),
            #[cfg(feature = "wgpu")]
            Compute::Wgpu => Ok(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice)),
            #[cfg(not(feature = "wgpu"))]
            Compute::Wgpu => Err(Error::Invalid(
                "--backend wgpu: this build has no GPU backend (build with `cargo build --release --features wgpu`)".into(),
            )),
        }
    }
}

/// Settings of a training.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Recurrent cell.
    pub cell: Recurrence,
    /// Hidden units.
    pub hidden: usize,
    /// Epochs (the best one on validation loss is kept).
    pub epochs: usize,
    /// Sequences per batch.
    pub batch: usize,
    /// Adam learning rate.
    pub lr: f64,
    /// Loss.
    pub loss: Loss,
    /// Seed of run 1; run k uses seed + k − 1.
    pub seed: u64,
    /// Independent runs.
    pub runs: usize,
    /// Scaling of inputs and outputs.
    pub scale: ScaleMode,
    /// Backend of the tensor operations.
    #[serde(default)]
    pub compute: Compute,
    /// When the loss becomes NaN or infinite after some epochs, end the run with its best
    /// epoch so far (as Keras with `ModelCheckpoint(save_best_only)` keeps it) instead of
    /// failing. Off for `celegans train` (a NaN loss is an error there).
    #[serde(default)]
    pub keep_best_on_divergence: bool,
}

impl Settings {
    /// The paper's defaults for a cell: 1000 epochs, batch 32, lr 0.05 (LSTM/GRU) or 0.001
    /// (RNN), RMSE loss, 10 runs.
    pub fn paper(cell: Recurrence, hidden: usize) -> Self {
        Settings {
            cell,
            hidden,
            epochs: 1000,
            batch: 32,
            lr: if cell == Recurrence::Rnn { 0.001 } else { 0.05 },
            loss: Loss::Rmse,
            seed: 0,
            runs: 10,
            scale: ScaleMode::Auto,
            compute: Compute::Cpu,
            keep_best_on_divergence: false,
        }
    }

    /// Checks the values a user could get wrong.
    pub fn check(&self) -> Result<(), Error> {
        let bad = |what: &str| Err(Error::Invalid(what.to_string()));
        if self.hidden == 0 {
            return bad("--hidden must be at least 1");
        }
        if self.epochs == 0 {
            return bad("--epochs must be at least 1");
        }
        if self.batch == 0 {
            return bad("--batch must be at least 1");
        }
        if self.runs == 0 {
            return bad("--runs must be at least 1");
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad("--lr must be a positive number");
        }
        self.compute.device().map(|_| ())
    }
}

/// RMSE of a split: overall and per output, in the data's units.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SplitError {
    /// sqrt of the mean squared error over sequences, steps and outputs (None for an empty split).
    pub rmse: Option<f64>,
    /// Per output neuron.
    pub per_output: Vec<f64>,
}

/// RMSE of every split.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Errors {
    /// Training split.
    pub train: SplitError,
    /// Validation split.
    pub valid: SplitError,
    /// Test split.
    pub test: SplitError,
}

/// One epoch of a learning curve (losses in network units).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Epoch {
    /// 1-based.
    pub epoch: usize,
    /// Mean training loss over the epoch's batches.
    pub train_loss: f64,
    /// Validation loss after the epoch (None without validation data).
    pub valid_loss: Option<f64>,
}

/// The outcome of one run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Run {
    /// Seed of the initial weights and batch order.
    pub seed: u64,
    /// Epoch whose weights were kept.
    pub best_epoch: usize,
    /// RMSE with the kept weights.
    pub errors: Errors,
    /// Learning curve.
    pub curve: Vec<Epoch>,
    /// Kept weights.
    pub weights: Weights,
    /// Wall time of the run \[s\].
    pub seconds: f64,
    /// The epoch whose loss was NaN or infinite, when the run ended there
    /// ([`Settings::keep_best_on_divergence`]).
    #[serde(default)]
    pub diverged_at: Option<usize>,
}

/// Progress reports from a training.
pub trait Progress {
    /// Called after each epoch of run `run` (0-based).
    fn epoch(&mut self, run: usize, epoch: &Epoch);
}

impl Progress for () {
    fn epoch(&mut self, _: usize, _: &Epoch) {}
}

fn tensor3(values: Vec<f32>, shape: [usize; 3], device: &Device) -> Tensor<3> {
    Tensor::from_data(TensorData::new(values, shape), device)
}

fn scalar(t: Tensor<1>) -> f64 {
    t.into_data().iter::<f64>().next().unwrap_or(f64::NAN)
}

fn loss_of(loss: Loss, prediction: Tensor<3>, target: Tensor<3>) -> Tensor<1> {
    let mse = (prediction - target).powi_scalar(2).mean();
    match loss {
        Loss::Rmse => mse.sqrt(),
        Loss::Mse => mse,
    }
}

/// `set` in network units.
fn scaled(set: &Set, scaling: &Scaling) -> Set {
    Set {
        x: scaling.inputs(&set.x),
        y: scaling.outputs(&set.y),
        ..set.clone()
    }
}

/// The sequences at `rows` of `set` as input and target tensors.
fn batch(set: &Set, rows: &[usize], device: &Device) -> (Tensor<3>, Tensor<3>) {
    let (x, y) = set.rows(rows);
    (
        tensor3(x, [rows.len(), set.steps, set.inputs], device),
        tensor3(y, [rows.len(), set.steps, set.outputs], device),
    )
}

/// Trains one run from `seed`.
pub fn train_run(
    settings: &Settings,
    splits: &Splits,
    scaling: &Scaling,
    seed: u64,
    run: usize,
    progress: &mut dyn Progress,
) -> Result<Run, Error> {
    let start = Instant::now();
    let arch = architecture(settings, splits);
    let plain = settings.compute.device()?;
    let device = plain.clone().autodiff();
    let train = scaled(&splits.train, scaling);
    let valid = scaled(&splits.valid, scaling);
    let mut network: Network = Weights::initial(&arch, seed).to_network(&arch, &device);
    let mut optimizer = AdamConfig::new().with_epsilon(1e-7).init();
    let mut order: Vec<usize> = (0..train.sequences).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x05ee_d0fb_a7c4);
    let all_valid: Vec<usize> = (0..valid.sequences).collect();
    let valid_batch = (!all_valid.is_empty()).then(|| batch(&valid, &all_valid, &plain));
    let mut best: Option<(f64, usize, Weights)> = None;
    let mut curve = Vec::with_capacity(settings.epochs);
    let mut diverged_at = None;
    for epoch in 1..=settings.epochs {
        order.shuffle(&mut rng);
        let mut total = 0.0;
        for rows in order.chunks(settings.batch) {
            let (x, y) = batch(&train, rows, &device);
            let loss = loss_of(settings.loss, network.forward(settings.cell, x), y);
            let grads = loss.backward();
            total += scalar(loss) * rows.len() as f64;
            let grads = GradientsParams::from_grads(grads, &network);
            network = optimizer.step(settings.lr, network, grads);
        }
        let train_loss = total / order.len() as f64;
        if !train_loss.is_finite() {
            if settings.keep_best_on_divergence && best.is_some() {
                diverged_at = Some(epoch);
                break;
            }
            return Err(Error::Diverged {
                run: run + 1,
                epoch,
            });
        }
        let valid_loss = valid_batch.as_ref().map(|(x, y)| {
            let model = network.valid();
            scalar(loss_of(
                settings.loss,
                model.forward(settings.cell, x.clone()),
                y.clone(),
            ))
        });
        // Without validation data the last epoch is kept.
        let score = valid_loss.unwrap_or(0.0);
        if best
            .as_ref()
            .is_none_or(|(b, _, _)| score < *b || valid_loss.is_none())
            && score.is_finite()
        {
            best = Some((score, epoch, Weights::from_network(&network.valid())));
        }
        let e = Epoch {
            epoch,
            train_loss,
            valid_loss,
        };
        progress.epoch(run, &e);
        curve.push(e);
    }
    let (_, best_epoch, weights) = best.ok_or(Error::Diverged {
        run: run + 1,
        epoch: settings.epochs,
    })?;
    let errors = evaluate(&arch, &weights, scaling, splits);
    Ok(Run {
        seed,
        best_epoch,
        errors,
        curve,
        weights,
        seconds: start.elapsed().as_secs_f64(),
        diverged_at,
    })
}

/// The architecture a training of `settings` on `splits` builds.
pub fn architecture(settings: &Settings, splits: &Splits) -> Architecture {
    Architecture {
        cell: settings.cell,
        hidden: settings.hidden,
        inputs: splits.input_names.len(),
        outputs: splits.output_names.len(),
    }
}

/// Predicted outputs `[n, T, O]` in data units for inputs `[n, T, I]` in data units (the
/// fused host path, [`crate::recurrence::infer`]).
pub fn predict(
    arch: &Architecture,
    weights: &Weights,
    scaling: &Scaling,
    x: &[f32],
    steps: usize,
) -> Vec<f32> {
    let zeros = vec![0.0; arch.cell.gates() * arch.hidden];
    let net = crate::recurrence::Net {
        cell: arch.cell,
        hidden: arch.hidden,
        inputs: arch.inputs,
        outputs: arch.outputs,
        kernel: &weights.kernel,
        recurrent: &weights.recurrent,
        bias: &weights.bias,
        recurrent_bias: if arch.cell.has_recurrent_bias() {
            &weights.recurrent_bias
        } else {
            &zeros
        },
        dense: &weights.dense,
        dense_bias: &weights.dense_bias,
    };
    let y = if scaling.is_identity() {
        crate::recurrence::infer(&net, x, steps)
    } else {
        crate::recurrence::infer(&net, &scaling.inputs(x), steps)
    };
    if scaling.is_identity() {
        y
    } else {
        scaling.unscale_outputs(&y)
    }
}

/// Outputs `[n, T, O]` for inputs `[n, T, I]` (data units) through burn's operations (the
/// path training differentiates); [`predict`] gives the same values faster.
pub fn predict_burn(
    arch: &Architecture,
    weights: &Weights,
    scaling: &Scaling,
    x: &[f32],
    steps: usize,
) -> Vec<f32> {
    let n = x.len() / (steps * arch.inputs).max(1);
    if n == 0 {
        return Vec::new();
    }
    let device = Device::flex();
    let network = weights.to_network(arch, &device);
    let x = tensor3(scaling.inputs(x), [n, steps, arch.inputs], &device);
    let y: Vec<f32> = network
        .forward(arch.cell, x)
        .into_data()
        .iter::<f32>()
        .collect();
    scaling.unscale_outputs(&y)
}

/// Input saliency of one sequence: `s[o][t][i] = ∂(Σ_τ y_o(τ)) / ∂x_i(t)`, the gradient of each
/// output's sum over time with respect to each input at each step, in data units
/// (output unit per input unit). `x` is `[T, I]` in data units; the result is `[O, T, I]`.
pub fn saliency(
    arch: &Architecture,
    weights: &Weights,
    scaling: &Scaling,
    x: &[f32],
    steps: usize,
) -> Vec<f32> {
    let device = Device::flex().autodiff();
    let network = weights.to_network(arch, &device);
    let (ni, no) = (arch.inputs, arch.outputs);
    let mut out = Vec::with_capacity(no * steps * ni);
    for o in 0..no {
        let input = tensor3(scaling.inputs(x), [1, steps, ni], &device).require_grad();
        let y = network.forward(arch.cell, input.clone());
        let picked = y.slice([0..1, 0..steps, o..o + 1]).sum();
        let grads = picked.backward();
        let g: Vec<f32> = input
            .grad(&grads)
            .map(|g| g.into_data().iter::<f32>().collect())
            .unwrap_or_else(|| vec![0.0; steps * ni]);
        let factor = |i: usize| scaling.output_scale[o] / scaling.input_scale[i];
        out.extend(g.chunks(ni).flat_map(|row| {
            row.iter()
                .enumerate()
                .map(move |(i, v)| v * factor(i))
                .collect::<Vec<_>>()
        }));
    }
    out
}

/// Mean and sample standard deviation (0 for one value) of per-run figures.
pub fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len().max(1) as f64;
    let mean = values.iter().sum::<f64>() / n;
    let var = if values.len() > 1 {
        values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    (mean, var.sqrt())
}

/// RMSE of `prediction` against `target`, both `[.., O]`: overall and per output.
pub fn rmse(prediction: &[f32], target: &[f32], outputs: usize) -> SplitError {
    if target.is_empty() {
        return SplitError {
            rmse: None,
            per_output: Vec::new(),
        };
    }
    let mut sums = vec![0.0f64; outputs];
    for (p, t) in prediction.chunks(outputs).zip(target.chunks(outputs)) {
        for ((s, a), b) in sums.iter_mut().zip(p).zip(t) {
            *s += (*a as f64 - *b as f64).powi(2);
        }
    }
    let rows = (target.len() / outputs) as f64;
    SplitError {
        rmse: Some((sums.iter().sum::<f64>() / (rows * outputs as f64)).sqrt()),
        per_output: sums.iter().map(|s| (s / rows).sqrt()).collect(),
    }
}

/// RMSE of every split for the given weights.
pub fn evaluate(
    arch: &Architecture,
    weights: &Weights,
    scaling: &Scaling,
    splits: &Splits,
) -> Errors {
    let one = |set: &Set| {
        rmse(
            &predict(arch, weights, scaling, &set.x, set.steps),
            &set.y,
            set.outputs,
        )
    };
    Errors {
        train: one(&splits.train),
        valid: one(&splits.valid),
        test: one(&splits.test),
    }
}

/// Fits the scaling and trains `settings.runs` runs one after another.
pub fn train(
    settings: &Settings,
    splits: &Splits,
    progress: &mut dyn Progress,
) -> Result<(Scaling, Vec<Run>), Error> {
    train_resuming(settings, splits, Vec::new(), &mut |_, _| Ok(()), progress)
}

/// As [`train`], starting after the runs in `done` (from an interrupted training with the
/// same settings and data) and calling `finished(k, run)` after each new run.
pub fn train_resuming(
    settings: &Settings,
    splits: &Splits,
    done: Vec<Run>,
    finished: &mut dyn FnMut(usize, &Run) -> Result<(), Error>,
    progress: &mut dyn Progress,
) -> Result<(Scaling, Vec<Run>), Error> {
    settings.check()?;
    let scaling = Scaling::fit(settings.scale, &splits.train);
    let mut runs = done;
    runs.truncate(settings.runs);
    for k in runs.len()..settings.runs {
        let run = train_run(
            settings,
            splits,
            &scaling,
            settings.seed + k as u64,
            k,
            progress,
        )?;
        finished(k, &run)?;
        runs.push(run);
    }
    Ok((scaling, runs))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::Set;

    fn synthetic(sequences: usize, steps: usize, seed: u64) -> Set {
        // Output: a leaky integral of the input, a target every cell can learn.
        use rand::Rng;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut x = Vec::new();
        let mut y = Vec::new();
        for _ in 0..sequences {
            let mut state = 0.0f32;
            for _ in 0..steps {
                let u: f32 = if rng.random_bool(0.1) {
                    rng.random_range(-1.0..1.0)
                } else {
                    0.0
                };
                state = 0.8 * state + 0.5 * u;
                x.push(u);
                y.push(state);
            }
        }
        Set {
            sequences,
            steps,
            inputs: 1,
            outputs: 1,
            x,
            y,
            indices: (0..sequences).collect(),
        }
    }

    fn splits(seed: u64) -> Splits {
        Splits {
            train: synthetic(8, 40, seed),
            valid: synthetic(4, 40, seed + 1),
            test: synthetic(4, 40, seed + 2),
            input_names: vec!["u".into()],
            output_names: vec!["y".into()],
        }
    }

    /// burn's gradients of the whole model (input projection, recurrence node, read-out, loss)
    /// agree with finite differences of the loss, for every cell.
    #[test]
    fn model_gradients_match_finite_differences() {
        for cell in [
            Recurrence::Rnn,
            Recurrence::Lstm,
            Recurrence::Gru,
            Recurrence::GruResetAfter,
        ] {
            let arch = Architecture {
                cell,
                hidden: 3,
                inputs: 2,
                outputs: 2,
            };
            let mut weights = Weights::initial(&arch, 5);
            // Non-zero biases so that every path is exercised.
            weights
                .bias
                .iter_mut()
                .enumerate()
                .for_each(|(k, b)| *b += 0.1 * (k as f32 % 3.0 - 1.0));
            weights
                .recurrent_bias
                .iter_mut()
                .enumerate()
                .for_each(|(k, b)| *b = 0.05 * (k as f32 % 4.0 - 1.5));
            weights.dense_bias = vec![0.2, -0.1];
            let (b, t) = (2, 5);
            let x: Vec<f32> = (0..b * t * 2)
                .map(|k| (k * 7 % 11) as f32 / 5.0 - 1.0)
                .collect();
            let y: Vec<f32> = (0..b * t * 2)
                .map(|k| (k * 5 % 13) as f32 / 6.0 - 1.0)
                .collect();
            let device = Device::flex().autodiff();
            let network = weights.to_network(&arch, &device);
            let loss = loss_of(
                Loss::Mse,
                network.forward(cell, tensor3(x.clone(), [b, t, 2], &device)),
                tensor3(y.clone(), [b, t, 2], &device),
            );
            let grads = loss.backward();
            let g2 = |p: &burn::module::Param<Tensor<2>>| {
                p.val()
                    .grad(&grads)
                    .unwrap()
                    .into_data()
                    .iter::<f32>()
                    .collect::<Vec<_>>()
            };
            let g1 = |p: &burn::module::Param<Tensor<1>>| {
                p.val()
                    .grad(&grads)
                    .unwrap()
                    .into_data()
                    .iter::<f32>()
                    .collect::<Vec<_>>()
            };
            let analytic = Weights {
                kernel: g2(&network.kernel),
                recurrent: g2(&network.recurrent),
                bias: g1(&network.bias),
                recurrent_bias: network.recurrent_bias.as_ref().map(g1).unwrap_or_default(),
                dense: g2(&network.dense),
                dense_bias: g1(&network.dense_bias),
            };
            let identity = Scaling::identity(2, 2);
            let mse = |w: &Weights| -> f64 {
                let p = predict(&arch, w, &identity, &x, t);
                p.iter()
                    .zip(&y)
                    .map(|(a, b)| (*a as f64 - *b as f64).powi(2))
                    .sum::<f64>()
                    / y.len() as f64
            };
            let eps = 1e-2f32;
            type Field = fn(&mut Weights) -> &mut Vec<f32>;
            let fields: [(&str, Field, &Vec<f32>); 6] = [
                ("kernel", |w| &mut w.kernel, &analytic.kernel),
                ("recurrent", |w| &mut w.recurrent, &analytic.recurrent),
                ("bias", |w| &mut w.bias, &analytic.bias),
                (
                    "recurrent_bias",
                    |w| &mut w.recurrent_bias,
                    &analytic.recurrent_bias,
                ),
                ("dense", |w| &mut w.dense, &analytic.dense),
                ("dense_bias", |w| &mut w.dense_bias, &analytic.dense_bias),
            ];
            for (name, field, grad) in fields {
                let n = field(&mut weights.clone()).len();
                assert_eq!(grad.len(), n, "{cell:?} {name}");
                for (k, &g) in grad.iter().enumerate() {
                    let (mut plus, mut minus) = (weights.clone(), weights.clone());
                    field(&mut plus)[k] += eps;
                    field(&mut minus)[k] -= eps;
                    let numeric = (mse(&plus) - mse(&minus)) / (2.0 * eps as f64);
                    let a = g as f64;
                    assert!(
                        (numeric - a).abs() <= 2e-3 + 2e-2 * a.abs(),
                        "{cell:?} d{name}[{k}]: burn {a} vs finite difference {numeric}"
                    );
                }
            }
        }
    }

    /// A small GRU learns a leaky integrator far below the loss of predicting its mean, and
    /// the same seed gives the same weights.
    #[test]
    fn a_tiny_gru_learns_a_leaky_integrator_reproducibly() {
        let data = splits(11);
        let mut settings = Settings::paper(Recurrence::Gru, 4);
        settings.epochs = 60;
        settings.runs = 1;
        settings.lr = 0.02;
        let (_, runs) = train(&settings, &data, &mut ()).unwrap();
        let target = &data.test.y;
        let mean = target.iter().sum::<f32>() / target.len() as f32;
        let baseline = (target.iter().map(|v| (v - mean).powi(2)).sum::<f32>()
            / target.len() as f32)
            .sqrt() as f64;
        let test = runs[0].errors.test.rmse.unwrap();
        assert!(
            test < 0.3 * baseline,
            "test RMSE {test} vs predicting the mean {baseline}"
        );
        assert!(runs[0].curve.last().unwrap().train_loss < runs[0].curve[0].train_loss);
        let (_, again) = train(&settings, &data, &mut ()).unwrap();
        assert_eq!(runs[0].weights, again[0].weights);
        assert_eq!(runs[0].best_epoch, again[0].best_epoch);
    }

    /// A loss that overflows ends the training with a typed error, not NaN results.
    #[test]
    fn a_diverging_run_is_an_error() {
        let mut data = splits(3);
        data.train.y.iter_mut().for_each(|v| *v *= 1e25);
        let mut settings = Settings::paper(Recurrence::Rnn, 2);
        settings.scale = ScaleMode::None;
        settings.epochs = 5;
        settings.runs = 1;
        settings.loss = Loss::Mse;
        let e = train(&settings, &data, &mut ()).unwrap_err();
        assert!(matches!(e, Error::Diverged { run: 1, .. }), "{e}");
        // Diverging from the first epoch leaves nothing to keep, even when asked to.
        settings.keep_best_on_divergence = true;
        assert!(train(&settings, &data, &mut ()).is_err());
    }

    /// Saliency equals finite differences of each output's sum with respect to each input,
    /// in data units (with a non-trivial scaling).
    #[test]
    fn saliency_matches_finite_differences() {
        let arch = Architecture {
            cell: Recurrence::Gru,
            hidden: 3,
            inputs: 2,
            outputs: 2,
        };
        let weights = Weights::initial(&arch, 8);
        let scaling = Scaling {
            input_offset: vec![1.0, -2.0],
            input_scale: vec![2.0, 0.5],
            output_offset: vec![-60.0, 3.0],
            output_scale: vec![10.0, 4.0],
        };
        let steps = 6;
        let x: Vec<f32> = (0..steps * 2)
            .map(|k| (k * 3 % 7) as f32 / 3.0 - 1.0)
            .collect();
        let s = saliency(&arch, &weights, &scaling, &x, steps);
        assert_eq!(s.len(), 2 * steps * 2);
        let sum = |x: &[f32], o: usize| -> f64 {
            predict(&arch, &weights, &scaling, x, steps)
                .iter()
                .skip(o)
                .step_by(2)
                .map(|&v| v as f64)
                .sum()
        };
        let eps = 1e-2f32;
        for o in 0..2 {
            for k in 0..steps * 2 {
                let (mut plus, mut minus) = (x.clone(), x.clone());
                plus[k] += eps;
                minus[k] -= eps;
                let numeric = (sum(&plus, o) - sum(&minus, o)) / (2.0 * eps as f64);
                let a = s[o * steps * 2 + k] as f64;
                assert!(
                    (numeric - a).abs() <= 2e-3 + 2e-2 * a.abs(),
                    "output {o}, input value {k}: {a} vs {numeric}"
                );
            }
        }
    }

    /// The fused inference path gives what burn's operations give, for every cell.
    #[test]
    fn fused_prediction_equals_burns() {
        for cell in [
            Recurrence::Rnn,
            Recurrence::Lstm,
            Recurrence::Gru,
            Recurrence::GruResetAfter,
        ] {
            let arch = Architecture {
                cell,
                hidden: 5,
                inputs: 3,
                outputs: 2,
            };
            let mut weights = Weights::initial(&arch, 2);
            weights
                .bias
                .iter_mut()
                .enumerate()
                .for_each(|(k, b)| *b = 0.1 * (k % 3) as f32);
            weights.recurrent_bias.iter_mut().for_each(|b| *b = -0.05);
            let scaling = Scaling {
                input_offset: vec![1.0, 0.0, -1.0],
                input_scale: vec![2.0, 1.0, 0.5],
                output_offset: vec![-60.0, 0.0],
                output_scale: vec![5.0, 1.0],
            };
            // One sequence runs alone, eleven in vector lanes (a full group and a partial one).
            for n in [1, 11] {
                let steps = 150;
                let x: Vec<f32> = (0..n * steps * 3)
                    .map(|k| (k * 13 % 17) as f32 / 8.0 - 1.0)
                    .collect();
                let fused = predict(&arch, &weights, &scaling, &x, steps);
                let reference = predict_burn(&arch, &weights, &scaling, &x, steps);
                assert_eq!(fused.len(), reference.len());
                for (a, b) in fused.iter().zip(&reference) {
                    assert!(
                        (a - b).abs() <= 1e-4 * (1.0 + b.abs()),
                        "{cell:?}, {n} sequences: {a} vs {b}"
                    );
                }
            }
        }
    }
}
