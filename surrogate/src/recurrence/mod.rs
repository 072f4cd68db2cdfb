//! Recurrent cells as whole-sequence kernels with their own backpropagation through time.
//!
//! A recurrent layer is split in two. The input projection `a_t = x_t W + b` (all time steps
//! at once, one matrix product) is left to burn; the recurrence below takes `a` `[B, T, G·H]`
//! and the recurrent kernel `U` `[H, G·H]` and runs every step of every sequence in one call,
//! with `h_0 = c_0 = 0`. Gate blocks follow Keras's order.
//!
//! * Elman RNN (G = 1): `h_t = tanh(a_t + h_{t-1} U)`.
//! * LSTM (G = 4, blocks i f c o): `s = a_t + h_{t-1} U`; `i, f, o = σ(s_i, s_f, s_o)`,
//!   `g = tanh(s_c)`; `c_t = f c_{t-1} + i g`; `h_t = o tanh(c_t)`.
//! * GRU, the paper's (Keras `reset_after=False`, G = 3, blocks z r h):
//!   `z = σ(a_z + h U_z)`, `r = σ(a_r + h U_r)`, `n = tanh(a_h + (r ∘ h) U_h)`,
//!   `h_t = z h_{t-1} + (1 − z) n`.
//! * GRU `reset_after` (PyTorch, Keras 3 default): `m = h_{t-1} U + b_rec`;
//!   `z = σ(a_z + m_z)`, `r = σ(a_r + m_r)`, `n = tanh(a_h + r ∘ m_h)`, same update.
//!
//! The kernels run on the host in `f32` (training, as Keras) or `f64` (gradient checks); the
//! forward pass keeps the gate activations each step needs, and [`backward`] walks the
//! sequence in reverse (BPTT) to give the gradients of `a`, `U` and the recurrent bias.
//! Sequences are independent and run in parallel; gradient sums over sequences are added in
//! sequence order, so results do not depend on threads. Activations are evaluated over whole
//! gate blocks with branch-free `exp`/`tanh` ([`Real`]) so that the loops vectorize; on x86-64
//! with AVX2 the same code is compiled a second time for AVX2 and chosen at run time (no
//! fused multiply-add is introduced, so both give the same numbers). The matrix-vector
//! products are register-blocked (`products.rs`) and keep each sum's terms and their order,
//! so the numbers are those of the plain loops, bit for bit.

mod bptt;
mod infer;
mod kind;
mod lanes;
mod math;
mod products;
#[cfg(test)]
mod tests;

pub use bptt::{backward, forward, forward_states, Dims, Forward, Gradients};
pub use infer::{infer, Net, Units};
pub use kind::Recurrence;
pub use lanes::{backward_lanes, forward_lanes, Lane, LaneForward, LANES};
pub use math::Real;
