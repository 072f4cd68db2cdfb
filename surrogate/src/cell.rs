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
//! The kernels work in `f64` on the host; the forward pass keeps the gate activations each
//! step needs, and [`backward`] walks the sequence in reverse (BPTT) to give the gradients of
//! `a`, `U` and the recurrent bias. Sequences are independent and run in parallel; gradient
//! sums over sequences are added in sequence order, so results do not depend on threads.

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// The recurrent cell of a layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Cell {
    /// Elman RNN with tanh.
    Rnn,
    /// LSTM with forget gate.
    Lstm,
    /// GRU with the reset gate applied before the recurrent product (the paper's).
    Gru,
    /// GRU with the reset gate applied after the recurrent product, with a recurrent bias.
    GruResetAfter,
}

impl Cell {
    /// Gate blocks G: the recurrent kernel is `[H, G·H]`.
    pub fn gates(self) -> usize {
        match self {
            Cell::Rnn => 1,
            Cell::Lstm => 4,
            Cell::Gru | Cell::GruResetAfter => 3,
        }
    }

    /// Whether the cell has a recurrent bias `[G·H]` besides the input bias.
    pub fn has_recurrent_bias(self) -> bool {
        self == Cell::GruResetAfter
    }

    /// Values kept per step and sequence for the backward pass, in units of H.
    fn cache_width(self) -> usize {
        match self {
            Cell::Rnn => 0,
            Cell::Lstm => 6,          // i f g o c tanh(c)
            Cell::Gru => 3,           // z r n
            Cell::GruResetAfter => 4, // z r n m_h
        }
    }
}

/// Shapes of one recurrence call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dims {
    /// Sequences B.
    pub batch: usize,
    /// Time steps T.
    pub steps: usize,
    /// Hidden units H.
    pub hidden: usize,
}

/// What the forward pass returns: the hidden states and what backward needs.
#[derive(Clone, Debug)]
pub struct Forward {
    /// Hidden states `[B, T, H]`.
    pub h: Vec<f64>,
    /// Per-step gate values `[B, T, width·H]`.
    pub cache: Vec<f64>,
}

/// Gradients of one recurrence call.
#[derive(Clone, Debug)]
pub struct Gradients {
    /// Of the projected inputs `[B, T, G·H]`.
    pub a: Vec<f64>,
    /// Of the recurrent kernel `[H, G·H]`.
    pub u: Vec<f64>,
    /// Of the recurrent bias `[G·H]` (zeros where the cell has none).
    pub bias: Vec<f64>,
}

fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// `out[j] += Σ_k v[k] · m[k, j]` for a row vector `v` `[n]` and `m` `[n, width]`.
fn add_vec_mat(v: &[f64], m: &[f64], width: usize, out: &mut [f64]) {
    for (k, &vk) in v.iter().enumerate() {
        if vk == 0.0 {
            continue;
        }
        let row = &m[k * width..(k + 1) * width];
        for (o, &w) in out.iter_mut().zip(row) {
            *o += vk * w;
        }
    }
}

/// `out[k] += Σ_j d[j] · m[k, offset + j]`: the product with a transposed column block.
fn add_mat_vec_t(m: &[f64], width: usize, offset: usize, d: &[f64], out: &mut [f64]) {
    for (k, o) in out.iter_mut().enumerate() {
        let row = &m[k * width + offset..k * width + offset + d.len()];
        *o += row.iter().zip(d).map(|(w, g)| w * g).sum::<f64>();
    }
}

/// `g[k, offset + j] += v[k] · d[j]`: an outer product into a column block.
fn add_outer(v: &[f64], d: &[f64], width: usize, offset: usize, g: &mut [f64]) {
    for (k, &vk) in v.iter().enumerate() {
        if vk == 0.0 {
            continue;
        }
        let row = &mut g[k * width + offset..k * width + offset + d.len()];
        for (o, &dj) in row.iter_mut().zip(d) {
            *o += vk * dj;
        }
    }
}

/// Runs the recurrence over every sequence: `a` `[B, T, G·H]`, `u` `[H, G·H]`, `bias` `[G·H]`
/// (read only by [`Cell::GruResetAfter`]).
pub fn forward(cell: Cell, dims: Dims, a: &[f64], u: &[f64], bias: &[f64]) -> Forward {
    let Dims { batch, steps, hidden } = dims;
    let width = cell.gates() * hidden;
    assert_eq!(a.len(), batch * steps * width, "projected inputs");
    assert_eq!(u.len(), hidden * width, "recurrent kernel");
    let cw = cell.cache_width() * hidden;
    let mut h = vec![0.0; batch * steps * hidden];
    let mut cache = vec![0.0; batch * steps * cw];
    // A cell that keeps no cache (RNN) still gets one (empty) slice per sequence.
    let caches: Vec<&mut [f64]> = if cw == 0 {
        (0..batch).map(|_| <&mut [f64]>::default()).collect()
    } else {
        cache.chunks_mut(steps * cw).collect()
    };
    h.par_chunks_mut(steps * hidden.max(1))
        .zip(caches.into_par_iter())
        .enumerate()
        .for_each(|(b, (h, cache))| {
            let a = &a[b * steps * width..(b + 1) * steps * width];
            forward_one(cell, hidden, steps, a, u, bias, h, cache);
        });
    Forward { h, cache }
}

#[allow(clippy::too_many_arguments)]
fn forward_one(
    cell: Cell,
    hd: usize,
    steps: usize,
    a: &[f64],
    u: &[f64],
    bias: &[f64],
    h: &mut [f64],
    cache: &mut [f64],
) {
    let width = cell.gates() * hd;
    let cw = cell.cache_width() * hd;
    let mut prev = vec![0.0; hd];
    let mut c_prev = vec![0.0; hd];
    let mut s = vec![0.0; width];
    let mut rh = vec![0.0; hd];
    for t in 0..steps {
        let at = &a[t * width..(t + 1) * width];
        let ht = &mut h[t * hd..(t + 1) * hd];
        let ct = &mut cache[t * cw..(t + 1) * cw];
        match cell {
            Cell::Rnn => {
                s.copy_from_slice(at);
                add_vec_mat(&prev, u, width, &mut s);
                for (o, &x) in ht.iter_mut().zip(&s) {
                    *o = x.tanh();
                }
            }
            Cell::Lstm => {
                s.copy_from_slice(at);
                add_vec_mat(&prev, u, width, &mut s);
                for j in 0..hd {
                    let i = sigmoid(s[j]);
                    let f = sigmoid(s[hd + j]);
                    let g = s[2 * hd + j].tanh();
                    let o = sigmoid(s[3 * hd + j]);
                    let c = f * c_prev[j] + i * g;
                    let tc = c.tanh();
                    ht[j] = o * tc;
                    c_prev[j] = c;
                    for (k, v) in [i, f, g, o, c, tc].into_iter().enumerate() {
                        ct[k * hd + j] = v;
                    }
                }
            }
            Cell::Gru => {
                // z and r from the full state, then the candidate from the reset state.
                s[..2 * hd].copy_from_slice(&at[..2 * hd]);
                for (k, &pk) in prev.iter().enumerate() {
                    let row = &u[k * width..k * width + 2 * hd];
                    for (o, &w) in s[..2 * hd].iter_mut().zip(row) {
                        *o += pk * w;
                    }
                }
                for j in 0..hd {
                    let z = sigmoid(s[j]);
                    let r = sigmoid(s[hd + j]);
                    ct[j] = z;
                    ct[hd + j] = r;
                    rh[j] = r * prev[j];
                }
                let sn = &mut s[2 * hd..];
                sn.copy_from_slice(&at[2 * hd..]);
                for (k, &v) in rh.iter().enumerate() {
                    let row = &u[k * width + 2 * hd..(k + 1) * width];
                    for (o, &w) in sn.iter_mut().zip(row) {
                        *o += v * w;
                    }
                }
                for j in 0..hd {
                    let n = sn[j].tanh();
                    let z = ct[j];
                    ct[2 * hd + j] = n;
                    ht[j] = z * prev[j] + (1.0 - z) * n;
                }
            }
            Cell::GruResetAfter => {
                s.copy_from_slice(&bias[..width]);
                add_vec_mat(&prev, u, width, &mut s);
                for j in 0..hd {
                    let z = sigmoid(at[j] + s[j]);
                    let r = sigmoid(at[hd + j] + s[hd + j]);
                    let m = s[2 * hd + j];
                    let n = (at[2 * hd + j] + r * m).tanh();
                    ct[j] = z;
                    ct[hd + j] = r;
                    ct[2 * hd + j] = n;
                    ct[3 * hd + j] = m;
                    ht[j] = z * prev[j] + (1.0 - z) * n;
                }
            }
        }
        prev.copy_from_slice(ht);
    }
}

/// Backpropagation through time: given `dh` `[B, T, H]` (the loss's gradient with respect to
/// every hidden state), returns the gradients of `a`, `u` and the recurrent bias.
pub fn backward(cell: Cell, dims: Dims, u: &[f64], fwd: &Forward, dh: &[f64]) -> Gradients {
    let Dims { batch, steps, hidden } = dims;
    let width = cell.gates() * hidden;
    let cw = cell.cache_width() * hidden;
    assert_eq!(dh.len(), batch * steps * hidden, "hidden-state gradient");
    let mut da = vec![0.0; batch * steps * width];
    let per_sequence: Vec<(Vec<f64>, Vec<f64>)> = da
        .par_chunks_mut((steps * width).max(1))
        .enumerate()
        .map(|(b, da)| {
            let h = &fwd.h[b * steps * hidden..(b + 1) * steps * hidden];
            let cache = &fwd.cache[b * steps * cw..(b + 1) * steps * cw];
            let dh = &dh[b * steps * hidden..(b + 1) * steps * hidden];
            backward_one(cell, hidden, steps, u, h, cache, dh, da)
        })
        .collect();
    let mut du = vec![0.0; hidden * width];
    let mut dbias = vec![0.0; width];
    for (u_part, b_part) in &per_sequence {
        for (o, v) in du.iter_mut().zip(u_part) {
            *o += v;
        }
        for (o, v) in dbias.iter_mut().zip(b_part) {
            *o += v;
        }
    }
    Gradients { a: da, u: du, bias: dbias }
}

#[allow(clippy::too_many_arguments)]
fn backward_one(
    cell: Cell,
    hd: usize,
    steps: usize,
    u: &[f64],
    h: &[f64],
    cache: &[f64],
    dh_in: &[f64],
    da: &mut [f64],
) -> (Vec<f64>, Vec<f64>) {
    let width = cell.gates() * hd;
    let cw = cell.cache_width() * hd;
    let mut du = vec![0.0; hd * width];
    let mut dbias = vec![0.0; width];
    let zeros = vec![0.0; hd];
    let mut carry = vec![0.0; hd]; // dL/dh_t through step t + 1
    let mut c_carry = vec![0.0; hd]; // LSTM: dL/dc_t through step t + 1
    let mut dh = vec![0.0; hd];
    let mut next = vec![0.0; hd];
    let mut rh = vec![0.0; hd];
    let mut drh = vec![0.0; hd];
    for t in (0..steps).rev() {
        let prev = if t == 0 { &zeros[..] } else { &h[(t - 1) * hd..t * hd] };
        let ht = &h[t * hd..(t + 1) * hd];
        let ct = &cache[t * cw..(t + 1) * cw];
        let ds = &mut da[t * width..(t + 1) * width];
        for j in 0..hd {
            dh[j] = dh_in[t * hd + j] + carry[j];
        }
        next.iter_mut().for_each(|x| *x = 0.0);
        match cell {
            Cell::Rnn => {
                for j in 0..hd {
                    ds[j] = dh[j] * (1.0 - ht[j] * ht[j]);
                }
                add_outer(prev, ds, width, 0, &mut du);
                add_mat_vec_t(u, width, 0, ds, &mut next);
            }
            Cell::Lstm => {
                let c_before = |j: usize| if t == 0 { 0.0 } else { cache[(t - 1) * cw + 4 * hd + j] };
                for j in 0..hd {
                    let (i, f, g, o, tc) = (ct[j], ct[hd + j], ct[2 * hd + j], ct[3 * hd + j], ct[5 * hd + j]);
                    let dc = c_carry[j] + dh[j] * o * (1.0 - tc * tc);
                    ds[j] = dc * g * i * (1.0 - i);
                    ds[hd + j] = dc * c_before(j) * f * (1.0 - f);
                    ds[2 * hd + j] = dc * i * (1.0 - g * g);
                    ds[3 * hd + j] = dh[j] * tc * o * (1.0 - o);
                    c_carry[j] = dc * f;
                }
                add_outer(prev, ds, width, 0, &mut du);
                add_mat_vec_t(u, width, 0, ds, &mut next);
            }
            Cell::Gru => {
                for j in 0..hd {
                    let (z, r, n) = (ct[j], ct[hd + j], ct[2 * hd + j]);
                    ds[j] = dh[j] * (prev[j] - n) * z * (1.0 - z);
                    ds[2 * hd + j] = dh[j] * (1.0 - z) * (1.0 - n * n);
                    next[j] = dh[j] * z;
                    rh[j] = r * prev[j];
                }
                drh.iter_mut().for_each(|x| *x = 0.0);
                add_mat_vec_t(u, width, 2 * hd, &ds[2 * hd..], &mut drh);
                add_outer(&rh, &ds[2 * hd..], width, 2 * hd, &mut du);
                for j in 0..hd {
                    let r = ct[hd + j];
                    ds[hd + j] = drh[j] * prev[j] * r * (1.0 - r);
                    next[j] += drh[j] * r;
                }
                add_outer(prev, &ds[..2 * hd], width, 0, &mut du);
                add_mat_vec_t(u, width, 0, &ds[..2 * hd], &mut next);
            }
            Cell::GruResetAfter => {
                // dm (gradient of h U + b_rec) shares ds's z and r blocks; its h block differs.
                let mut dm_h = vec![0.0; hd];
                for j in 0..hd {
                    let (z, r, n, m) = (ct[j], ct[hd + j], ct[2 * hd + j], ct[3 * hd + j]);
                    ds[j] = dh[j] * (prev[j] - n) * z * (1.0 - z);
                    let dsn = dh[j] * (1.0 - z) * (1.0 - n * n);
                    ds[2 * hd + j] = dsn;
                    ds[hd + j] = dsn * m * r * (1.0 - r);
                    dm_h[j] = dsn * r;
                    next[j] = dh[j] * z;
                }
                add_outer(prev, &ds[..2 * hd], width, 0, &mut du);
                add_outer(prev, &dm_h, width, 2 * hd, &mut du);
                add_mat_vec_t(u, width, 0, &ds[..2 * hd], &mut next);
                add_mat_vec_t(u, width, 2 * hd, &dm_h, &mut next);
                for j in 0..2 * hd {
                    dbias[j] += ds[j];
                }
                for j in 0..hd {
                    dbias[2 * hd + j] += dm_h[j];
                }
            }
        }
        std::mem::swap(&mut carry, &mut next);
    }
    (du, dbias)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn random(n: usize, scale: f64, rng: &mut ChaCha8Rng) -> Vec<f64> {
        (0..n).map(|_| rng.random_range(-scale..scale)).collect()
    }

    /// Loss Σ w ∘ h for fixed random weights w: its gradient with respect to h is w.
    fn loss(cell: Cell, dims: Dims, a: &[f64], u: &[f64], b: &[f64], w: &[f64]) -> f64 {
        let f = forward(cell, dims, a, u, b);
        f.h.iter().zip(w).map(|(h, w)| h * w).sum()
    }

    /// Every gradient of every cell agrees with central finite differences.
    #[test]
    fn gradients_match_finite_differences() {
        for cell in [Cell::Rnn, Cell::Lstm, Cell::Gru, Cell::GruResetAfter] {
            let mut rng = ChaCha8Rng::seed_from_u64(7);
            let dims = Dims { batch: 2, steps: 6, hidden: 3 };
            let width = cell.gates() * dims.hidden;
            let a = random(dims.batch * dims.steps * width, 1.0, &mut rng);
            let u = random(dims.hidden * width, 0.8, &mut rng);
            let b = random(width, 0.5, &mut rng);
            let w = random(dims.batch * dims.steps * dims.hidden, 1.0, &mut rng);
            let fwd = forward(cell, dims, &a, &u, &b);
            let g = backward(cell, dims, &u, &fwd, &w);
            let eps = 1e-6;
            let check = |name: &str, x: &[f64], grad: &[f64], which: usize| {
                for k in 0..x.len() {
                    let mut plus = x.to_vec();
                    let mut minus = x.to_vec();
                    plus[k] += eps;
                    minus[k] -= eps;
                    let (lp, lm) = match which {
                        0 => (loss(cell, dims, &plus, &u, &b, &w), loss(cell, dims, &minus, &u, &b, &w)),
                        1 => (loss(cell, dims, &a, &plus, &b, &w), loss(cell, dims, &a, &minus, &b, &w)),
                        _ => (loss(cell, dims, &a, &u, &plus, &w), loss(cell, dims, &a, &u, &minus, &w)),
                    };
                    let numeric = (lp - lm) / (2.0 * eps);
                    assert!(
                        (numeric - grad[k]).abs() < 1e-7 * (1.0 + numeric.abs()),
                        "{cell:?} d{name}[{k}]: analytic {} vs numeric {numeric}",
                        grad[k]
                    );
                }
            };
            check("a", &a, &g.a, 0);
            check("u", &u, &g.u, 1);
            if cell.has_recurrent_bias() {
                check("bias", &b, &g.bias, 2);
            } else {
                assert!(g.bias.iter().all(|&x| x == 0.0));
            }
        }
    }

    /// A one-unit RNN with U = 0 is tanh of its input at every step.
    #[test]
    fn rnn_without_recurrence_is_tanh() {
        let dims = Dims { batch: 1, steps: 3, hidden: 1 };
        let f = forward(Cell::Rnn, dims, &[0.5, -1.0, 2.0], &[0.0], &[0.0]);
        assert_eq!(f.h, vec![0.5f64.tanh(), (-1.0f64).tanh(), 2.0f64.tanh()]);
    }
}
