//! Numerical equivalence with Keras: from the same weights and data, the loss and every
//! gradient of the first batch, and the weights after one epoch of Adam, against the numbers
//! `tools/keras_reference.py` wrote (TensorFlow 2.21, Keras 3.15; provenance in the fixture).

use burn::tensor::Tensor;
use serde::Deserialize;

use super::*;
use crate::model::WEIGHT_NAMES;

#[derive(Deserialize)]
struct Reference {
    provenance: String,
    hidden: usize,
    inputs: usize,
    outputs: usize,
    sequences: usize,
    steps: usize,
    batch: usize,
    learning_rate: f64,
    x: Vec<f32>,
    y: Vec<f32>,
    cases: std::collections::BTreeMap<String, Case>,
}

#[derive(Deserialize)]
struct Case {
    initial: Weights,
    first_batch_loss: f64,
    first_batch_gradients: Weights,
    after_one_epoch: Weights,
}

fn reference() -> Reference {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/keras_reference.json");
    serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
}

fn cell_of(name: &str) -> Recurrence {
    match name {
        "rnn" => Recurrence::Rnn,
        "lstm" => Recurrence::Lstm,
        "gru" => Recurrence::Gru,
        "gru_reset_after" => Recurrence::GruResetAfter,
        other => panic!("unknown case {other}"),
    }
}

/// Largest |ours − Keras| / (|Keras| + `floor`) over every weight array.
fn worst(ours: &Weights, keras: &Weights, floor: f32) -> (f32, String) {
    let arrays = |w: &Weights| {
        [
            w.kernel.clone(),
            w.recurrent.clone(),
            w.bias.clone(),
            w.recurrent_bias.clone(),
            w.dense.clone(),
            w.dense_bias.clone(),
        ]
    };
    let mut worst = (0.0f32, String::new());
    for ((name, a), b) in WEIGHT_NAMES.iter().zip(arrays(ours)).zip(arrays(keras)) {
        assert_eq!(a.len(), b.len(), "{name}");
        for (k, (x, y)) in a.iter().zip(&b).enumerate() {
            let e = (x - y).abs() / (y.abs() + floor);
            if e > worst.0 {
                worst = (e, format!("{name}[{k}]: ours {x}, Keras {y}"));
            }
        }
    }
    worst
}

/// The gradient of `loss` with respect to every weight of `network`, as named arrays.
pub(super) fn gradients(network: &Network, loss: Tensor<1>) -> Weights {
    let grads = loss.backward();
    fn of<const D: usize>(
        p: &burn::module::Param<Tensor<D>>,
        grads: &burn::tensor::Gradients,
    ) -> Vec<f32> {
        p.val()
            .grad(grads)
            .unwrap()
            .into_data()
            .iter::<f32>()
            .collect()
    }
    Weights {
        kernel: of(&network.kernel, &grads),
        recurrent: of(&network.recurrent, &grads),
        bias: of(&network.bias, &grads),
        recurrent_bias: network
            .recurrent_bias
            .as_ref()
            .map(|p| of(p, &grads))
            .unwrap_or_default(),
        dense: of(&network.dense, &grads),
        dense_bias: of(&network.dense_bias, &grads),
    }
}

fn setup(r: &Reference, name: &str, case: &Case) -> (Settings, Network, Set) {
    let cell = cell_of(name);
    let arch = Architecture {
        cell,
        hidden: r.hidden,
        inputs: r.inputs,
        outputs: r.outputs,
    };
    let mut settings = Settings::paper(cell, r.hidden);
    (settings.loss, settings.lr, settings.batch) = (Loss::Mse, r.learning_rate, r.batch);
    let device = Device::flex().autodiff();
    let network = case.initial.to_network(&arch, &device);
    let set = Set {
        sequences: r.sequences,
        steps: r.steps,
        inputs: r.inputs,
        outputs: r.outputs,
        x: r.x.clone(),
        y: r.y.clone(),
        indices: (0..r.sequences).collect(),
    };
    (settings, network, set)
}

/// The first batch's MSE and its gradient with respect to every weight agree with
/// TensorFlow's to f32 accuracy, for RNN, LSTM and both GRUs.
#[test]
fn loss_and_gradients_match_keras() {
    let r = reference();
    assert_eq!(r.cases.len(), 4, "{}", r.provenance);
    for (name, case) in &r.cases {
        let (settings, network, set) = setup(&r, name, case);
        let rows: Vec<usize> = (0..r.batch).collect();
        let (x, y) = batch(&set, &rows, &Device::flex().autodiff());
        let loss = loss_of(settings.loss, network.forward(settings.cell, x), y);
        let value = scalar(loss.clone());
        let rel = (value - case.first_batch_loss).abs() / case.first_batch_loss;
        assert!(
            rel < 1e-6,
            "{name}: loss {value} vs Keras {}",
            case.first_batch_loss
        );
        let ours = gradients(&network, loss);
        // Relative to the gradient's size, with a floor at 1e-3 of the largest component.
        let scale = case
            .first_batch_gradients
            .iter()
            .fold(0.0f32, |m, v| m.max(v.abs()));
        let (e, at) = worst(&ours, &case.first_batch_gradients, 1e-3 * scale);
        assert!(
            e < 1e-4,
            "{name}: gradient differs by {e:e} (relative) at {at}"
        );
    }
}

/// Weights after one epoch of Adam (learning rate 0.05, two batches in order) from the same
/// weights, against Keras's; the cases that differ by more than f32 accuracy.
fn one_epoch(epsilon: AdamEpsilon) -> Vec<String> {
    let r = reference();
    let mut failures = Vec::new();
    for (name, case) in &r.cases {
        let (mut settings, mut network, set) = setup(&r, name, case);
        settings.adam_epsilon = epsilon;
        let mut optimizer = adam::adam(settings.adam_epsilon);
        let device = Device::flex().autodiff();
        let all: Vec<usize> = (0..r.sequences).collect();
        for rows in all.chunks(r.batch) {
            let (x, y) = batch(&set, rows, &device);
            (network, _, _, _) = train_batch(network, &mut optimizer, &settings, settings.lr, x, y);
        }
        let ours = Weights::from_network(&network.valid());
        // Measured against the step size: a weight near zero has no meaningful relative error.
        let (e, at) = worst(&ours, &case.after_one_epoch, r.learning_rate as f32);
        eprintln!("{epsilon:?} {name}: after one epoch at most {e:e} (relative) at {at}");
        failures.extend((e >= 1e-4).then(|| format!("{name}: {e:e} at {at}")));
    }
    failures
}

/// With Keras's ε placement, one epoch of Adam gives Keras's weights to f32 accuracy for
/// RNN, LSTM and both GRUs.
#[test]
fn one_epoch_of_keras_adam_matches_keras() {
    let failures = one_epoch(AdamEpsilon::Keras);
    assert!(
        failures.is_empty(),
        "weights after one epoch differ: {failures:?}"
    );
}

/// With burn's (the Adam paper's) ε placement they do not (known, #15): ε is added to the
/// bias-corrected √v̂ instead of the uncorrected √v, a 32-fold smaller ε at the first step,
/// and weights with gradients of ~1e-5 take steps up to a quarter longer than Keras's
/// (2 to 3 % of the step size after one epoch here). Run with `--ignored` to see it.
#[test]
#[ignore = "burn's Adam places epsilon differently from Keras's (#15)"]
fn one_epoch_of_corrected_adam_matches_keras() {
    let failures = one_epoch(AdamEpsilon::Corrected);
    assert!(
        failures.is_empty(),
        "weights after one epoch differ: {failures:?}"
    );
}
