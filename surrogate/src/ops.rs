//! The recurrence as one burn operation with its own backward pass.
//!
//! burn's built-in recurrent modules run a loop of small tensor operations per time step, and
//! their autodiff graph grows with the sequence (measured: ~375 ms per GRU-4 epoch on the
//! authors' data, for ~12 MFLOP of work). Here the whole recurrence is one node: the forward
//! pass runs [`crate::recurrence::forward`] over every step, and the backward pass is a single
//! backpropagation through time ([`crate::recurrence::backward`]). It is a burn backend extension
//! (`#[backend_extension]`): implemented for the Flex CPU backend and for `Autodiff`, whose
//! backward node calls the same host kernels.

use std::sync::Arc;

use burn::backend::{backend_extension, tensor::FloatTensor, Backend, Dispatch, TensorMetadata};
use burn::tensor::{try_read_sync, DType, Tensor, TensorData};
use burn_autodiff::checkpoint::base::Checkpointer;
use burn_autodiff::checkpoint::strategy::CheckpointStrategy;
use burn_autodiff::grads::Gradients;
use burn_autodiff::ops::{Backward, Ops, OpsKind};
use burn_autodiff::Autodiff;

use crate::recurrence::{self, Dims, Recurrence};

/// Recurrent layers as single operations over whole sequences.
#[backend_extension(Flex, Cube: cfg(feature = "wgpu"), Autodiff)]
pub trait RecurrentOps: Backend {
    /// Hidden states `[B, T, H]` of `cell` driven by the projected inputs `a` `[B, T, G·H]`,
    /// with recurrent kernel `u` `[H, G·H]` and recurrent bias `bias` `[G·H]`.
    fn recurrence(
        cell: Recurrence,
        a: FloatTensor<Self>,
        u: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let device = a.device();
        let dtype = a.dtype();
        let (dims, a, u, bias) = host_inputs::<Self>(cell, a, u, bias);
        // Nothing differentiates this pass: the states alone (the same numbers either way).
        let h = if use_lanes(cell, dims) {
            recurrence::forward_lanes(cell, dims, &a, &u, &bias).h
        } else {
            recurrence::forward_states(cell, dims, &a, &u, &bias)
        };
        device_tensor::<Self, 3>(h, [dims.batch, dims.steps, dims.hidden], dtype, &device)
    }
}

impl RecurrentOps for burn::backend::Flex {}

/// GPU backends use the host kernels too (a round trip per call; no GPU kernel yet).
#[cfg(feature = "wgpu")]
impl RecurrentOps for burn::backend::wgpu::CubeBackend {}

/// From this many sequences on, and up to [`LANE_HIDDEN`] hidden units of an RNN or GRU,
/// training runs sequences in vector lanes ([`recurrence::forward_lanes`]); otherwise one by one,
/// vectorized along the gates. Measured on the authors' data (2 cores, AVX2): lanes are
/// ~10-15 % faster per epoch for GRU-4/8, slower for LSTM and for H ≥ 16 — on 2026-12-07,
/// with `U` read as scalars (not lane copies), still 1.5× slower for GRU-32 and 1.8× for
/// LSTM-32 and RNN-64: a lane product costs a multiplication and an addition per term (no
/// fused multiply-add, so that every processor gives the same numbers), the 20 training
/// sequences make three groups for two cores, and the lane layout costs a gather and a
/// scatter of every array.
const LANE_BATCH: usize = 4;
/// See [`LANE_BATCH`].
const LANE_HIDDEN: usize = 8;

fn use_lanes(cell: Recurrence, dims: Dims) -> bool {
    dims.batch >= LANE_BATCH && dims.hidden <= LANE_HIDDEN && cell != Recurrence::Lstm
}

/// The forward state the backward pass needs, in the layout of the path that made it.
#[derive(Debug)]
enum Pass {
    Single(recurrence::Forward<f32>),
    Lanes(recurrence::LaneForward),
}

/// The kernels run in f32 whatever the tensors' float type (Keras trains in f32 too).
fn host<B: Backend>(tensor: FloatTensor<B>) -> Vec<f32> {
    let data = try_read_sync(B::float_into_data(tensor))
        .expect("reading a tensor on the host")
        .expect("reading a tensor on the host");
    match data.dtype() {
        DType::F32 => data.try_into_vec::<f32>().expect("f32 data"),
        _ => data.iter::<f32>().collect(),
    }
}

/// Reads the inputs to the host and runs the forward pass: the shapes, the hidden states
/// `[B, T, H]`, the pass kept for backward, and `u` on the host.
fn run_forward<B: Backend>(
    cell: Recurrence,
    a: FloatTensor<B>,
    u: FloatTensor<B>,
    bias: FloatTensor<B>,
) -> (Dims, Vec<f32>, Pass, Vec<f32>) {
    let (dims, a, u, bias) = host_inputs::<B>(cell, a, u, bias);
    let (h, pass) = if use_lanes(cell, dims) {
        let f = recurrence::forward_lanes(cell, dims, &a, &u, &bias);
        (f.h.clone(), Pass::Lanes(f))
    } else {
        let f = recurrence::forward(cell, dims, &a, &u, &bias);
        (f.h.clone(), Pass::Single(f))
    };
    (dims, h, pass, u)
}

/// The shapes of a recurrence call and its projected inputs `a`, recurrent kernel `u` and
/// recurrent bias on the host.
fn host_inputs<B: Backend>(
    cell: Recurrence,
    a: FloatTensor<B>,
    u: FloatTensor<B>,
    bias: FloatTensor<B>,
) -> (Dims, Vec<f32>, Vec<f32>, Vec<f32>) {
    let shape = a.shape();
    let hidden = u.shape()[0];
    assert_eq!(shape.num_dims(), 3, "recurrence input must be [B, T, G·H]");
    assert_eq!(
        shape[2],
        cell.gates() * hidden,
        "recurrence input width must be G·H"
    );
    let dims = Dims {
        batch: shape[0],
        steps: shape[1],
        hidden,
    };
    (dims, host::<B>(a), host::<B>(u), host::<B>(bias))
}

fn device_tensor<B: Backend, const D: usize>(
    values: Vec<f32>,
    shape: [usize; D],
    dtype: DType,
    device: &burn::backend::tensor::Device<B>,
) -> FloatTensor<B> {
    let data = TensorData::new(values, shape);
    B::float_from_data(
        if dtype == DType::F32 {
            data
        } else {
            data.convert_dtype(dtype)
        },
        device,
    )
}

/// What the backward node keeps from the forward pass.
#[derive(Debug)]
struct Saved {
    cell: Recurrence,
    dims: Dims,
    u: Vec<f32>,
    forward: Pass,
    dtype: DType,
}

#[derive(Debug)]
struct RecurrenceBackward;

impl<B: Backend> Backward<B, 3> for RecurrenceBackward {
    type State = Arc<Saved>;

    fn backward(
        self,
        ops: Ops<Self::State, 3>,
        grads: &mut Gradients,
        _checkpointer: &mut Checkpointer,
    ) {
        let grad = grads.consume::<B>(&ops.node);
        let device = grad.device();
        let saved = ops.state;
        let dh = host::<B>(grad);
        let g = match &saved.forward {
            Pass::Single(f) => recurrence::backward(saved.cell, saved.dims, &saved.u, f, &dh),
            Pass::Lanes(f) => recurrence::backward_lanes(saved.cell, saved.dims, &saved.u, f, &dh),
        };
        let Dims {
            batch,
            steps,
            hidden,
        } = saved.dims;
        let width = saved.cell.gates() * hidden;
        let [node_a, node_u, node_bias] = ops.parents;
        if let Some(node) = node_a {
            grads.register::<B>(
                node.id,
                device_tensor::<B, 3>(g.a, [batch, steps, width], saved.dtype, &device),
            );
        }
        if let Some(node) = node_u {
            grads.register::<B>(
                node.id,
                device_tensor::<B, 2>(g.u, [hidden, width], saved.dtype, &device),
            );
        }
        if let Some(node) = node_bias {
            grads.register::<B>(
                node.id,
                device_tensor::<B, 1>(g.bias, [width], saved.dtype, &device),
            );
        }
    }
}

impl<B: Backend, C: CheckpointStrategy> RecurrentOps for Autodiff<B, C> {
    fn recurrence(
        cell: Recurrence,
        a: FloatTensor<Self>,
        u: FloatTensor<Self>,
        bias: FloatTensor<Self>,
    ) -> FloatTensor<Self> {
        let (a, a_node) = a.into_parts();
        let (u, u_node) = u.into_parts();
        let (bias, bias_node) = bias.into_parts();
        let device = a.device();
        let dtype = a.dtype();
        let (dims, h, forward, u_host) = run_forward::<B>(cell, a, u, bias);
        let shape = [dims.batch, dims.steps, dims.hidden];
        match RecurrenceBackward
            .prepare::<C>([a_node, u_node, bias_node])
            .compute_bound()
            .stateful()
        {
            OpsKind::Tracked(prep) => {
                let h = device_tensor::<B, 3>(h, shape, dtype, &device);
                prep.finish(
                    Arc::new(Saved {
                        cell,
                        dims,
                        u: u_host,
                        forward,
                        dtype,
                    }),
                    h,
                )
            }
            OpsKind::UnTracked(prep) => {
                prep.finish(device_tensor::<B, 3>(h, shape, dtype, &device))
            }
        }
    }
}

/// Hidden states `[B, T, H]` of `cell` for projected inputs `a` `[B, T, G·H]`, recurrent kernel
/// `u` `[H, G·H]` and recurrent bias `[G·H]` (zeros for cells without one). Differentiable.
pub fn recurrence(cell: Recurrence, a: Tensor<3>, u: Tensor<2>, bias: Tensor<1>) -> Tensor<3> {
    Tensor::from_dispatch(<Dispatch as RecurrentOps>::recurrence(
        cell,
        a.into_dispatch(),
        u.into_dispatch(),
        bias.into_dispatch(),
    ))
}
