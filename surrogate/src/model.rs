//! The paper's surrogate: one recurrent layer, then a dense read-out at every time step.
//!
//! `y_t = h_t D + d`, `h = recurrence(x W + b, U)` ([`crate::recurrence`]). Parameters are
//! initialised as Keras does: `W` and `D` Glorot-uniform, `U` orthogonal, biases zero except
//! an LSTM's forget-gate bias, which starts at one (`unit_forget_bias`). Parameter counts
//! therefore equal the paper's (e.g. GRU-8 with 4 inputs and 4 outputs: 348).

use burn::module::{Module, Param};
use burn::tensor::{Device, Tensor, TensorData};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::ops::recurrence;
use crate::recurrence::Recurrence;

/// Architecture of a surrogate.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Architecture {
    /// Recurrent cell.
    pub cell: Recurrence,
    /// Hidden units H.
    pub hidden: usize,
    /// Inputs I.
    pub inputs: usize,
    /// Outputs O.
    pub outputs: usize,
}

impl Architecture {
    /// Checks the sizes: at least one hidden unit and one output, and room in memory for the
    /// parameters with their gradients, Adam's two moments and the best epoch's copy (about
    /// eight copies of f32). Returns what is wrong.
    pub fn check(&self) -> Result<(), String> {
        if self.hidden == 0 || self.outputs == 0 {
            return Err(format!(
                "{} hidden units and {} outputs: each must be at least 1",
                self.hidden, self.outputs
            ));
        }
        let (g, h, i, o) = (
            self.cell.gates() as f64,
            self.hidden as f64,
            self.inputs as f64,
            self.outputs as f64,
        );
        let parameters = i * g * h + h * g * h + 2.0 * g * h + h * o + o;
        limits::check(
            || {
                format!(
                    "a {}-{} with {i} inputs and {o} outputs ({parameters:.3e} parameters)",
                    self.cell.layer().to_uppercase(),
                    self.hidden
                )
            },
            parameters * 4.0 * 8.0,
        )
        .map_err(|e| e.to_string())
    }

    /// Trainable parameters: `I·G·H + H·G·H + G·H` (one more `G·H` for a recurrent bias)
    /// `+ H·O + O`.
    pub fn parameters(&self) -> usize {
        let width = self.cell.gates() * self.hidden;
        let recurrent_bias = if self.cell.has_recurrent_bias() {
            width
        } else {
            0
        };
        self.inputs * width
            + self.hidden * width
            + width
            + recurrent_bias
            + self.hidden * self.outputs
            + self.outputs
    }
}

/// Trainable weights of a surrogate.
#[derive(Module, Debug)]
pub struct Network {
    /// Input kernel `W` `[I, G·H]`.
    pub kernel: Param<Tensor<2>>,
    /// Recurrent kernel `U` `[H, G·H]`.
    pub recurrent: Param<Tensor<2>>,
    /// Input bias `b` `[G·H]`.
    pub bias: Param<Tensor<1>>,
    /// Recurrent bias `[G·H]` (GRU `reset_after` only).
    pub recurrent_bias: Option<Param<Tensor<1>>>,
    /// Read-out `D` `[H, O]`.
    pub dense: Param<Tensor<2>>,
    /// Read-out bias `d` `[O]`.
    pub dense_bias: Param<Tensor<1>>,
}

/// Named weight arrays in a fixed order, row-major, as stored in `weights.json`.
pub const WEIGHT_NAMES: [&str; 6] = [
    "kernel",
    "recurrent",
    "bias",
    "recurrent_bias",
    "dense",
    "dense_bias",
];

/// Host copy of a network's weights.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Weights {
    /// `[I, G·H]`.
    pub kernel: Vec<f32>,
    /// `[H, G·H]`.
    pub recurrent: Vec<f32>,
    /// `[G·H]`.
    pub bias: Vec<f32>,
    /// `[G·H]`, empty when the cell has no recurrent bias.
    pub recurrent_bias: Vec<f32>,
    /// `[H, O]`.
    pub dense: Vec<f32>,
    /// `[O]`.
    pub dense_bias: Vec<f32>,
}

fn glorot(rows: usize, cols: usize, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let limit = (6.0 / (rows + cols) as f64).sqrt();
    (0..rows * cols)
        .map(|_| rng.random_range(-limit..limit) as f32)
        .collect()
}

fn normal(rng: &mut ChaCha8Rng) -> f64 {
    // Box–Muller.
    let u1: f64 = rng.random_range(f64::EPSILON..1.0);
    let u2: f64 = rng.random::<f64>();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

/// `[rows, cols]` with orthonormal rows (rows ≤ cols), as Keras's `Orthogonal` initializer:
/// Gram–Schmidt on a Gaussian matrix.
fn orthogonal(rows: usize, cols: usize, rng: &mut ChaCha8Rng) -> Vec<f32> {
    let mut q: Vec<Vec<f64>> = Vec::with_capacity(rows);
    while q.len() < rows {
        let mut v: Vec<f64> = (0..cols).map(|_| normal(rng)).collect();
        for p in &q {
            let dot: f64 = v.iter().zip(p).map(|(a, b)| a * b).sum();
            v.iter_mut().zip(p).for_each(|(a, b)| *a -= dot * b);
        }
        let norm = v.iter().map(|a| a * a).sum::<f64>().sqrt();
        if norm > 1e-6 {
            v.iter_mut().for_each(|a| *a /= norm);
            q.push(v);
        }
    }
    q.into_iter().flatten().map(|x| x as f32).collect()
}

impl Weights {
    /// Keras-style initial weights drawn from `seed`.
    pub fn initial(arch: &Architecture, seed: u64) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let width = arch.cell.gates() * arch.hidden;
        let kernel = glorot(arch.inputs, width, &mut rng);
        let recurrent = orthogonal(arch.hidden, width, &mut rng);
        let mut bias = vec![0.0; width];
        if arch.cell == Recurrence::Lstm {
            bias[arch.hidden..2 * arch.hidden]
                .iter_mut()
                .for_each(|b| *b = 1.0);
        }
        let recurrent_bias = if arch.cell.has_recurrent_bias() {
            vec![0.0; width]
        } else {
            Vec::new()
        };
        let dense = glorot(arch.hidden, arch.outputs, &mut rng);
        Weights {
            kernel,
            recurrent,
            bias,
            recurrent_bias,
            dense,
            dense_bias: vec![0.0; arch.outputs],
        }
    }

    /// Checks every array's length against the architecture.
    pub fn check(&self, arch: &Architecture) -> Result<(), String> {
        let width = arch.cell.gates() * arch.hidden;
        let rb = if arch.cell.has_recurrent_bias() {
            width
        } else {
            0
        };
        let expected = [
            arch.inputs * width,
            arch.hidden * width,
            width,
            rb,
            arch.hidden * arch.outputs,
            arch.outputs,
        ];
        let got = [
            self.kernel.len(),
            self.recurrent.len(),
            self.bias.len(),
            self.recurrent_bias.len(),
            self.dense.len(),
            self.dense_bias.len(),
        ];
        for ((name, e), g) in WEIGHT_NAMES.iter().zip(expected).zip(got) {
            if e != g {
                return Err(format!(
                    "weight `{name}` has {g} values, the architecture needs {e}"
                ));
            }
        }
        if self.iter().any(|v| !v.is_finite()) {
            return Err("weights hold NaN or infinite values".into());
        }
        Ok(())
    }

    /// Every weight, array after array.
    pub(crate) fn iter(&self) -> impl Iterator<Item = f32> + '_ {
        self.kernel
            .iter()
            .chain(&self.recurrent)
            .chain(&self.bias)
            .chain(&self.recurrent_bias)
            .chain(&self.dense)
            .chain(&self.dense_bias)
            .copied()
    }

    /// The weights as a network on `device`.
    pub fn to_network(&self, arch: &Architecture, device: &Device) -> Network {
        let width = arch.cell.gates() * arch.hidden;
        let t2 = |v: &[f32], r: usize, c: usize| {
            Param::from_tensor(Tensor::from_data(
                TensorData::new(v.to_vec(), [r, c]),
                device,
            ))
        };
        let t1 = |v: &[f32]| {
            Param::from_tensor(Tensor::from_data(
                TensorData::new(v.to_vec(), [v.len()]),
                device,
            ))
        };
        Network {
            kernel: t2(&self.kernel, arch.inputs, width),
            recurrent: t2(&self.recurrent, arch.hidden, width),
            bias: t1(&self.bias),
            recurrent_bias: arch
                .cell
                .has_recurrent_bias()
                .then(|| t1(&self.recurrent_bias)),
            dense: t2(&self.dense, arch.hidden, arch.outputs),
            dense_bias: t1(&self.dense_bias),
        }
    }

    /// Reads a network's weights back to the host.
    pub fn from_network(network: &Network) -> Self {
        let v = |t: Tensor<2>| t.into_data().iter::<f32>().collect::<Vec<_>>();
        let v1 = |t: Tensor<1>| t.into_data().iter::<f32>().collect::<Vec<_>>();
        Weights {
            kernel: v(network.kernel.val()),
            recurrent: v(network.recurrent.val()),
            bias: v1(network.bias.val()),
            recurrent_bias: network
                .recurrent_bias
                .as_ref()
                .map(|p| v1(p.val()))
                .unwrap_or_default(),
            dense: v(network.dense.val()),
            dense_bias: v1(network.dense_bias.val()),
        }
    }
}

impl Network {
    /// Outputs `[B, T, O]` for inputs `[B, T, I]`.
    pub fn forward(&self, cell: Recurrence, x: Tensor<3>) -> Tensor<3> {
        let [batch, steps, inputs] = x.dims();
        let kernel = self.kernel.val();
        let width = kernel.dims()[1];
        let hidden = width / cell.gates();
        let a =
            x.reshape([batch * steps, inputs]).matmul(kernel) + self.bias.val().unsqueeze::<2>();
        let recurrent_bias = match &self.recurrent_bias {
            Some(b) => b.val(),
            None => Tensor::zeros([width], &a.device()),
        };
        let h = recurrence(
            cell,
            a.reshape([batch, steps, width]),
            self.recurrent.val(),
            recurrent_bias,
        );
        let outputs = self.dense_bias.dims()[0];
        let y = h.reshape([batch * steps, hidden]).matmul(self.dense.val())
            + self.dense_bias.val().unsqueeze::<2>();
        y.reshape([batch, steps, outputs])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(cell: Recurrence, hidden: usize) -> usize {
        Architecture {
            cell,
            hidden,
            inputs: 4,
            outputs: 4,
        }
        .parameters()
    }

    /// The paper's parameter counts (Tables 1 and 2), also counted from the built network.
    #[test]
    fn parameter_counts_equal_the_papers() {
        assert_eq!(params(Recurrence::Rnn, 16), 404);
        assert_eq!(params(Recurrence::Lstm, 8), 452);
        assert_eq!(params(Recurrence::Gru, 8), 348);
        assert_eq!(params(Recurrence::Rnn, 64), 4676);
        assert_eq!(params(Recurrence::Lstm, 32), 4868);
        assert_eq!(params(Recurrence::Gru, 32), 3684);
        let device = Device::flex();
        for cell in [
            Recurrence::Rnn,
            Recurrence::Lstm,
            Recurrence::Gru,
            Recurrence::GruResetAfter,
        ] {
            let arch = Architecture {
                cell,
                hidden: 8,
                inputs: 4,
                outputs: 4,
            };
            let network = Weights::initial(&arch, 1).to_network(&arch, &device);
            assert_eq!(network.num_params(), arch.parameters(), "{cell:?}");
        }
    }

    /// Orthogonal initialisation gives orthonormal rows.
    #[test]
    fn recurrent_kernel_rows_are_orthonormal() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let (rows, cols) = (4, 12);
        let q = orthogonal(rows, cols, &mut rng);
        for i in 0..rows {
            for j in 0..rows {
                let dot: f32 = (0..cols).map(|k| q[i * cols + k] * q[j * cols + k]).sum();
                let expected = if i == j { 1.0 } else { 0.0 };
                assert!((dot - expected).abs() < 1e-5, "row {i}·row {j} = {dot}");
            }
        }
    }
}
