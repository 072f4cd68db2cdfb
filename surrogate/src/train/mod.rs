//! Training as in the paper: Adam, RMSE loss, mini-batches, the epoch with the lowest
//! validation loss kept.

use std::time::Instant;

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
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

/// The paper's Adam learning rate for LSTM and GRU layers.
pub const PAPER_GATED_LR: f64 = 0.05;
/// The paper's Adam learning rate for simple RNN layers.
pub const PAPER_RNN_LR: f64 = 0.001;
/// The default learning rate of LSTM and GRU layers on standardized data
/// ([`Settings::default_lr`]).
pub const STANDARDIZED_GATED_LR: f64 = 0.02;

/// Recoveries a run is allowed by default ([`Settings::recoveries`]): the learning rate
/// can fall to 1/256 of the set one.
pub const DEFAULT_RECOVERIES: usize = 8;

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
    /// Where Adam's ε (1e-7) enters the step ([`AdamEpsilon`]).
    #[serde(default)]
    pub adam_epsilon: AdamEpsilon,
    /// How many times a run that explodes ([`MAX_SKIPPED_IN_A_ROW`] steps in a row with a
    /// non-finite gradient) is restored to its best epoch and continued at half the learning
    /// rate with Adam's moments reset ([`Recovery`]); 0 ends it at the first explosion.
    #[serde(default)]
    pub recoveries: usize,
}

impl Settings {
    /// The paper's defaults for a cell: 1000 epochs, batch 32, lr 0.05 (LSTM/GRU) or 0.001
    /// (RNN), RMSE loss, 10 runs. [`Settings::default_lr`] gives the learning rate for
    /// standardized data.
    pub fn paper(cell: Recurrence, hidden: usize) -> Self {
        Settings {
            cell,
            hidden,
            epochs: 1000,
            batch: 32,
            lr: if cell == Recurrence::Rnn {
                PAPER_RNN_LR
            } else {
                PAPER_GATED_LR
            },
            loss: Loss::Rmse,
            seed: 0,
            runs: 10,
            scale: ScaleMode::Auto,
            compute: Compute::Cpu,
            keep_best_on_divergence: false,
            adam_epsilon: AdamEpsilon::Corrected,
            recoveries: DEFAULT_RECOVERIES,
        }
    }

    /// The default learning rate of this cell on the training split `train` under this
    /// scaling: the paper's (0.05 for LSTM/GRU, 0.001 for RNN) on data trained unscaled, as
    /// the authors' (volts and amperes); 0.02 for LSTM/GRU on standardized data, where the
    /// paper's 0.05 makes GRU runs explode — in the authors' Keras too
    /// (`docs/keras-equivalence.md`; chosen by `celegans experiment all`, `docs/experiments/`).
    pub fn default_lr(&self, train: &Set) -> f64 {
        match self.cell {
            Recurrence::Rnn => PAPER_RNN_LR,
            _ if self.scale.standardizes(train) => STANDARDIZED_GATED_LR,
            _ => PAPER_GATED_LR,
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
        check_lr(self.lr)?;
        self.compute.device().map(|_| ())
    }
}

/// Refuses a learning rate that is not a positive number.
pub fn check_lr(lr: f64) -> Result<(), Error> {
    if lr.is_finite() && lr > 0.0 {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "--lr must be a positive number, not {lr}"
        )))
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
    /// Steps of the epoch that were not applied (non-finite loss or gradient; which ones
    /// are in [`Run::skipped_steps`]).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub skipped: usize,
    /// The run exploded in this epoch and goes on as this says (such an epoch has no point
    /// on the learning curve).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery: Option<Recovery>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
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
    /// (epoch, step) of every step not applied because its gradient was not finite
    /// ([`MAX_SKIPPED_IN_A_ROW`] in a row are an explosion).
    #[serde(default)]
    pub skipped_steps: Vec<(usize, usize)>,
    /// Every explosion the run recovered from ([`Settings::recoveries`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub recoveries: Vec<Recovery>,
}

/// A run that exploded and was continued: at the end of `epoch` its weights were restored to
/// those of its best epoch so far, `restored` (0: the initial weights — when there was no best
/// epoch yet, or when the weights of the recovery before could not take a single finite
/// step), Adam's moments were reset and training went on at learning rate `lr` (half the one
/// before).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recovery {
    /// 1-based epoch in which the run exploded.
    pub epoch: usize,
    /// Epoch whose weights training continued from (0: the initial weights).
    pub restored: usize,
    /// The learning rate from then on.
    pub lr: f64,
}

impl std::fmt::Display for Recovery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exploded in epoch {}; restored to epoch {} and continued at lr {:e} with Adam's moments reset",
            self.epoch, self.restored, self.lr
        )
    }
}

/// One optimizer step, as reported to a [`Progress`] that asks for steps.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Step {
    /// 1-based epoch.
    pub epoch: usize,
    /// 1-based step within the epoch.
    pub step: usize,
    /// The batch's loss before the step.
    pub loss: f64,
    /// Euclidean norm of the gradient of that loss over every weight.
    pub gradient_norm: f64,
    /// Largest |weight| after the step.
    pub max_weight: f64,
}

/// Progress reports from a training.
pub trait Progress {
    /// Called after each epoch of run `run` (0-based).
    fn epoch(&mut self, run: usize, epoch: &Epoch);

    /// Whether [`Progress::step`] should be called (it costs a pass over the gradients and
    /// weights at every step).
    fn wants_steps(&self) -> bool {
        false
    }

    /// Called after every optimizer step of run `run` when [`Progress::wants_steps`].
    fn step(&mut self, _run: usize, _step: &Step) {}
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

/// Consecutive steps with a non-finite gradient after which a run is taken to have diverged.
pub const MAX_SKIPPED_IN_A_ROW: usize = 10;

/// One optimizer step on the batch `x`, `y`: the updated network, the batch's loss (before
/// the step), the gradient's norm, and whether the step was applied. A step whose loss or
/// gradient is not finite — or whose gradient is so large that its square overflows f32,
/// which would make Adam's second moment infinite and the weights NaN — is not applied: the
/// weights and Adam's moments stay as they were (the caller records it).
fn train_batch(
    network: Network,
    optimizer: &mut ModuleOptimizer,
    settings: &Settings,
    lr: f64,
    x: Tensor<3>,
    y: Tensor<3>,
) -> (Network, f64, f64, bool) {
    let loss = loss_of(settings.loss, network.forward(settings.cell, x), y);
    let grads = loss.backward();
    let value = scalar(loss);
    let sq = |t: Option<Tensor<1>>| t.map_or(0.0, |g| scalar(g.powi_scalar(2).sum()));
    let sq2 = |t: Option<Tensor<2>>| t.map_or(0.0, |g| scalar(g.powi_scalar(2).sum()));
    let squares = [
        sq2(network.kernel.val().grad(&grads)),
        sq2(network.recurrent.val().grad(&grads)),
        sq(network.bias.val().grad(&grads)),
        network
            .recurrent_bias
            .as_ref()
            .map_or(0.0, |p| sq(p.val().grad(&grads))),
        sq2(network.dense.val().grad(&grads)),
        sq(network.dense_bias.val().grad(&grads)),
    ];
    // Each sum is f32: infinite when any square overflows, NaN when any value is NaN. A
    // non-finite loss skips the step too (its gradient can be 0: d√x/dx at x = inf).
    if !value.is_finite() || squares.iter().any(|v| !v.is_finite()) {
        return (network, value, f64::INFINITY, false);
    }
    let norm = squares.iter().sum::<f64>().sqrt();
    let grads = GradientsParams::from_grads(grads, &network);
    (optimizer.step(lr, network, grads), value, norm, true)
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
    let initial = Weights::initial(&arch, seed);
    let mut network: Network = initial.to_network(&arch, &device);
    let mut optimizer = adam::adam(settings.adam_epsilon);
    let (mut lr, mut recoveries, mut applied_since_recovery) = (settings.lr, Vec::new(), true);
    let mut order: Vec<usize> = (0..train.sequences).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x05ee_d0fb_a7c4);
    let all_valid: Vec<usize> = (0..valid.sequences).collect();
    let valid_batch = (!all_valid.is_empty()).then(|| batch(&valid, &all_valid, &plain));
    let mut best: Option<(f64, usize, Weights)> = None;
    let mut curve = Vec::with_capacity(settings.epochs);
    let mut diverged_at = None;
    let (mut skipped_steps, mut skipped_in_a_row) = (Vec::new(), 0);
    for epoch in 1..=settings.epochs {
        if limits::interrupt::requested() {
            return Err(Error::Interrupted {
                run: run + 1,
                epoch,
            });
        }
        order.shuffle(&mut rng);
        let (mut total, mut counted, mut skipped) = (0.0, 0, 0);
        let observe = progress.wants_steps();
        for (k, rows) in order.chunks(settings.batch).enumerate() {
            let (x, y) = batch(&train, rows, &device);
            let (loss, gradient_norm, applied);
            (network, loss, gradient_norm, applied) =
                train_batch(network, &mut optimizer, settings, lr, x, y);
            if applied {
                total += loss * rows.len() as f64;
                counted += rows.len();
                skipped_in_a_row = 0;
                applied_since_recovery = true;
            } else {
                skipped_steps.push((epoch, k + 1));
                skipped_in_a_row += 1;
                skipped += 1;
            }
            if observe {
                let max_weight = Weights::from_network(&network.valid())
                    .iter()
                    .fold(0.0f64, |m, v| m.max(f64::from(v).abs()));
                let step = Step {
                    epoch,
                    step: k + 1,
                    loss,
                    gradient_norm,
                    max_weight,
                };
                progress.step(run, &step);
            }
            if skipped_in_a_row >= MAX_SKIPPED_IN_A_ROW {
                break;
            }
        }
        let exploded = skipped_in_a_row >= MAX_SKIPPED_IN_A_ROW;
        if exploded && recoveries.len() < settings.recoveries {
            // Back to the best epoch with fresh moments and half the rate; to the initial
            // weights when there is none yet, or when the last recovery's weights could not
            // take a single step (their own gradient is not finite).
            let (restored, weights) = match &best {
                Some((_, epoch, weights)) if applied_since_recovery => (*epoch, weights),
                _ => (0, &initial),
            };
            applied_since_recovery = false;
            network = weights.to_network(&arch, &device);
            optimizer = adam::adam(settings.adam_epsilon);
            lr /= 2.0;
            skipped_in_a_row = 0;
            let recovery = Recovery {
                epoch,
                restored,
                lr,
            };
            progress.epoch(
                run,
                &Epoch {
                    epoch,
                    train_loss: f64::NAN,
                    valid_loss: None,
                    skipped,
                    recovery: Some(recovery),
                },
            );
            recoveries.push(recovery);
            continue;
        }
        // NaN when no step of the epoch could be applied.
        if counted == 0 && !exploded {
            // No step of this epoch could be applied: the weights are those of the epoch
            // before, already evaluated; the epoch has no point on the learning curve (its
            // steps are in `skipped_steps`).
            let e = Epoch {
                epoch,
                train_loss: f64::NAN,
                valid_loss: None,
                skipped,
                recovery: None,
            };
            progress.epoch(run, &e);
            continue;
        }
        let train_loss = if exploded {
            f64::NAN
        } else {
            total / counted as f64
        };
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
        // Without validation data the last epoch is kept. Only finite weights are kept: the
        // epoch's last update can leave non-finite weights behind a finite training loss.
        let score = valid_loss.unwrap_or(0.0);
        if best
            .as_ref()
            .is_none_or(|(b, _, _)| score < *b || valid_loss.is_none())
            && score.is_finite()
        {
            let weights = Weights::from_network(&network.valid());
            if weights.iter().all(|v| v.is_finite()) {
                best = Some((score, epoch, weights));
            }
        }
        let e = Epoch {
            epoch,
            train_loss,
            valid_loss,
            skipped,
            recovery: None,
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
        skipped_steps,
        recoveries,
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
    let units = crate::recurrence::Units {
        input_offset: &scaling.input_offset,
        input_scale: &scaling.input_scale,
        output_offset: &scaling.output_offset,
        output_scale: &scaling.output_scale,
    };
    crate::recurrence::infer(&net, x, steps, (!scaling.is_identity()).then_some(&units))
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

mod adam;
#[cfg(test)]
mod keras;

pub use adam::AdamEpsilon;
#[cfg(test)]
mod tests;
