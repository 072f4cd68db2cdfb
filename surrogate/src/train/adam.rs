//! Adam, with the choice of where ε enters the step.
//!
//! Both variants keep the moments `m ← β₁m + (1−β₁)g`, `v ← β₂v + (1−β₂)g²` and step by
//! `lr·√(1−β₂ᵗ)/(1−β₁ᵗ) · m / (√v + ε')`. They differ in ε':
//!
//! * [`AdamEpsilon::Corrected`] (burn's `Adam`, the Adam paper's algorithm): ε is added to
//!   the bias-corrected `√v̂`, i.e. `ε' = ε·√(1−β₂ᵗ)`;
//! * [`AdamEpsilon::Keras`] (Keras's and TensorFlow's `Adam`): ε is added to the uncorrected
//!   `√v`, i.e. `ε' = ε` — about 32 times larger than the corrected one at the first step,
//!   which shortens the early steps of weights whose gradients are ~1e-5 or smaller.
//!
//! From the same gradients, `Keras` gives Keras's weights to f32 accuracy (`keras.rs`).

use burn::optim::{
    AdamConfig, AdamState, AdaptiveMomentumState, LearningRate, ModuleOptimizer, Optimizer,
};
use burn::tensor::{Device, Tensor};
use serde::{Deserialize, Serialize};

/// Where Adam's ε enters the step.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AdamEpsilon {
    /// Added to the bias-corrected `√v̂` (burn; the Adam paper).
    #[default]
    Corrected,
    /// Added to the uncorrected `√v` (Keras, TensorFlow: the authors' set-up).
    Keras,
}

impl std::str::FromStr for AdamEpsilon {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "corrected" => Ok(AdamEpsilon::Corrected),
            "keras" => Ok(AdamEpsilon::Keras),
            _ => Err(format!("unknown Adam epsilon '{s}' (corrected or keras)")),
        }
    }
}

/// Keras's ε (its default, and ours).
const EPSILON: f32 = 1e-7;
const BETA_1: f32 = 0.9;
const BETA_2: f32 = 0.999;

/// The optimizer of a run.
pub(crate) fn adam(epsilon: AdamEpsilon) -> ModuleOptimizer {
    match epsilon {
        AdamEpsilon::Corrected => AdamConfig::new().with_epsilon(EPSILON).init(),
        AdamEpsilon::Keras => ModuleOptimizer::from(KerasAdam),
    }
}

/// Adam as Keras steps it.
#[derive(Clone)]
struct KerasAdam;

impl Optimizer for KerasAdam {
    type State<const D: usize> = AdamState<D>;

    fn step<const D: usize>(
        &self,
        lr: LearningRate,
        tensor: Tensor<D>,
        grad: Tensor<D>,
        state: Option<Self::State<D>>,
    ) -> (Tensor<D>, Option<Self::State<D>>) {
        let momentum = match state {
            Some(AdamState { mut momentum }) => {
                momentum.moment_1 = momentum
                    .moment_1
                    .mul_scalar(BETA_1)
                    .add(grad.clone().mul_scalar(1.0 - BETA_1));
                momentum.moment_2 = momentum
                    .moment_2
                    .mul_scalar(BETA_2)
                    .add(grad.square().mul_scalar(1.0 - BETA_2));
                momentum.time += 1;
                momentum
            }
            None => AdaptiveMomentumState::new(
                1,
                grad.clone().mul_scalar(1.0 - BETA_1),
                grad.square().mul_scalar(1.0 - BETA_2),
            ),
        };
        let t = momentum.time as i32;
        let alpha = lr as f32 * (1.0 - BETA_2.powi(t)).sqrt() / (1.0 - BETA_1.powi(t));
        let delta = momentum
            .moment_1
            .clone()
            .mul_scalar(alpha)
            .div(momentum.moment_2.clone().sqrt().add_scalar(EPSILON));
        (tensor - delta, Some(AdamState::new(momentum)))
    }

    fn to_device<const D: usize>(state: Self::State<D>, device: &Device) -> Self::State<D> {
        AdamState::new(state.momentum.to_device(device))
    }
}
