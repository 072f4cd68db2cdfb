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
//! fused multiply-add is introduced, so both give the same numbers).

use std::ops::{Add, AddAssign, Mul, Neg, Sub};

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

/// Floating-point type of the kernels.
pub trait Real:
    Copy
    + Send
    + Sync
    + PartialEq
    + std::fmt::Debug
    + Default
    + Add<Output = Self>
    + Sub<Output = Self>
    + Mul<Output = Self>
    + Neg<Output = Self>
    + AddAssign
    + std::ops::Div<Output = Self>
{
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;
    /// Logistic function.
    fn sigmoid(self) -> Self;
    /// Hyperbolic tangent.
    fn tanh(self) -> Self;
}

impl Real for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    #[inline(always)]
    fn sigmoid(self) -> Self {
        1.0 / (1.0 + (-self).exp())
    }
    #[inline(always)]
    fn tanh(self) -> Self {
        f64::tanh(self)
    }
}

/// `e^x` for f32 without branches (Cephes `expf`: range reduction by ln 2, degree-5
/// polynomial; relative error ≤ 2 ulp on [−87, 88], clamped outside).
#[inline(always)]
fn exp_f32(x: f32) -> f32 {
    let x = x.clamp(-87.0, 88.0);
    // Round x·log2(e) to the nearest integer with the 1.5·2^23 trick (vectorizes everywhere).
    let magic = 12_582_912.0f32;
    let n = (x * std::f32::consts::LOG2_E + magic) - magic;
    let r = x - n * 0.693_359_4 + n * 2.121_944_4e-4;
    let p = 1.987_569_1e-4f32;
    let p = p * r + 1.398_199_9e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 1.666_666_5e-1;
    let p = p * r + 0.5;
    let y = p * r * r + r + 1.0;
    let scale = f32::from_bits(((n as i32 + 127) as u32) << 23);
    y * scale
}

impl Real for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    #[inline(always)]
    fn sigmoid(self) -> Self {
        1.0 / (1.0 + exp_f32(-self))
    }
    #[inline(always)]
    fn tanh(self) -> Self {
        // Small |x|: Cephes tanhf's odd polynomial; otherwise 1 − 2/(e^{2|x|} + 1) with the sign.
        let a = self.abs();
        let z = self * self;
        let small = ((((-5.704_988_7e-3 * z + 2.063_908_3e-2) * z - 5.373_971_5e-2) * z + 1.333_144_4e-1) * z
            - 3.333_328e-1)
            * z
            * self
            + self;
        let large = 1.0 - 2.0 / (exp_f32(2.0 * a) + 1.0);
        let large = if self < 0.0 { -large } else { large };
        if a < 0.625 {
            small
        } else {
            large
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
pub struct Forward<R> {
    /// Hidden states `[B, T, H]`.
    pub h: Vec<R>,
    /// Per-step gate values `[B, T, width·H]`.
    pub cache: Vec<R>,
}

/// Gradients of one recurrence call.
#[derive(Clone, Debug)]
pub struct Gradients<R> {
    /// Of the projected inputs `[B, T, G·H]`.
    pub a: Vec<R>,
    /// Of the recurrent kernel `[H, G·H]`.
    pub u: Vec<R>,
    /// Of the recurrent bias `[G·H]` (zeros where the cell has none).
    pub bias: Vec<R>,
}

/// `out[j] += Σ_k v[k] · m[k, offset + j]` for a row vector `v` and a column block of `m`.
#[inline(always)]
fn add_vec_mat<R: Real>(v: &[R], m: &[R], width: usize, offset: usize, out: &mut [R]) {
    for (k, &vk) in v.iter().enumerate() {
        let row = &m[k * width + offset..k * width + offset + out.len()];
        for (o, &w) in out.iter_mut().zip(row) {
            *o += vk * w;
        }
    }
}

/// `g[k, offset + j] += v[k] · d[j]`: an outer product into a column block.
#[inline(always)]
fn add_outer<R: Real>(v: &[R], d: &[R], width: usize, offset: usize, g: &mut [R]) {
    for (k, &vk) in v.iter().enumerate() {
        let row = &mut g[k * width + offset..k * width + offset + d.len()];
        for (o, &dj) in row.iter_mut().zip(d) {
            *o += vk * dj;
        }
    }
}

/// `[rows, cols]` → `[cols, rows]`.
fn transpose<R: Real>(m: &[R], rows: usize, cols: usize) -> Vec<R> {
    let mut t = vec![R::ZERO; m.len()];
    for r in 0..rows {
        for c in 0..cols {
            t[c * rows + r] = m[r * cols + c];
        }
    }
    t
}

/// Runs `f` compiled for AVX2 where the processor has it (same results: no FMA contraction).
#[inline(always)]
fn dispatch<T>(f: impl FnOnce() -> T) -> T {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2")]
        unsafe fn avx2<T>(f: impl FnOnce() -> T) -> T {
            f()
        }
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the processor supports AVX2, checked just above.
            return unsafe { avx2(f) };
        }
    }
    f()
}

/// Runs the recurrence over every sequence: `a` `[B, T, G·H]`, `u` `[H, G·H]`, `bias` `[G·H]`
/// (read only by [`Cell::GruResetAfter`]).
pub fn forward<R: Real>(cell: Cell, dims: Dims, a: &[R], u: &[R], bias: &[R]) -> Forward<R> {
    let Dims { batch, steps, hidden } = dims;
    let width = cell.gates() * hidden;
    assert_eq!(a.len(), batch * steps * width, "projected inputs");
    assert_eq!(u.len(), hidden * width, "recurrent kernel");
    let cw = cell.cache_width() * hidden;
    let mut h = vec![R::ZERO; batch * steps * hidden];
    let mut cache = vec![R::ZERO; batch * steps * cw];
    // A cell that keeps no cache (RNN) still gets one (empty) slice per sequence.
    let caches: Vec<&mut [R]> = if cw == 0 {
        (0..batch).map(|_| <&mut [R]>::default()).collect()
    } else {
        cache.chunks_mut(steps * cw).collect()
    };
    h.par_chunks_mut(steps * hidden.max(1)).zip(caches.into_par_iter()).enumerate().for_each(|(b, (h, cache))| {
        let a = &a[b * steps * width..(b + 1) * steps * width];
        dispatch(|| forward_one(cell, hidden, steps, a, u, bias, h, cache));
    });
    Forward { h, cache }
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn forward_one<R: Real>(cell: Cell, hd: usize, steps: usize, a: &[R], u: &[R], bias: &[R], h: &mut [R], cache: &mut [R]) {
    let width = cell.gates() * hd;
    let cw = cell.cache_width() * hd;
    let mut prev = vec![R::ZERO; hd];
    let mut c_prev = vec![R::ZERO; hd];
    let mut s = vec![R::ZERO; width];
    let mut rh = vec![R::ZERO; hd];
    for t in 0..steps {
        let at = &a[t * width..(t + 1) * width];
        let ht = &mut h[t * hd..(t + 1) * hd];
        let ct = &mut cache[t * cw..(t + 1) * cw];
        match cell {
            Cell::Rnn => {
                s.copy_from_slice(at);
                add_vec_mat(&prev, u, width, 0, &mut s);
                for (o, &x) in ht.iter_mut().zip(&s) {
                    *o = x.tanh();
                }
            }
            Cell::Lstm => {
                s.copy_from_slice(at);
                add_vec_mat(&prev, u, width, 0, &mut s);
                // cache: i f g o c tanh(c)
                let (gates, rest) = ct.split_at_mut(4 * hd);
                for (o, &x) in gates[..2 * hd].iter_mut().zip(&s[..2 * hd]) {
                    *o = x.sigmoid();
                }
                for (o, &x) in gates[2 * hd..3 * hd].iter_mut().zip(&s[2 * hd..3 * hd]) {
                    *o = x.tanh();
                }
                for (o, &x) in gates[3 * hd..].iter_mut().zip(&s[3 * hd..]) {
                    *o = x.sigmoid();
                }
                let (c, tc) = rest.split_at_mut(hd);
                for j in 0..hd {
                    c[j] = gates[hd + j] * c_prev[j] + gates[j] * gates[2 * hd + j];
                }
                for (o, &x) in tc.iter_mut().zip(c.iter()) {
                    *o = x.tanh();
                }
                for j in 0..hd {
                    ht[j] = gates[3 * hd + j] * tc[j];
                }
                c_prev.copy_from_slice(c);
            }
            Cell::Gru => {
                // z and r from the full state, then the candidate from the reset state.
                let (zr, n) = ct.split_at_mut(2 * hd);
                s[..2 * hd].copy_from_slice(&at[..2 * hd]);
                add_vec_mat(&prev, u, width, 0, &mut s[..2 * hd]);
                for (o, &x) in zr.iter_mut().zip(&s[..2 * hd]) {
                    *o = x.sigmoid();
                }
                for j in 0..hd {
                    rh[j] = zr[hd + j] * prev[j];
                }
                let sn = &mut s[2 * hd..];
                sn.copy_from_slice(&at[2 * hd..]);
                add_vec_mat(&rh, u, width, 2 * hd, sn);
                for (o, &x) in n.iter_mut().zip(sn.iter()) {
                    *o = x.tanh();
                }
                for j in 0..hd {
                    let z = zr[j];
                    ht[j] = z * prev[j] + (R::ONE - z) * n[j];
                }
            }
            Cell::GruResetAfter => {
                // cache: z r n m_h
                s.copy_from_slice(&bias[..width]);
                add_vec_mat(&prev, u, width, 0, &mut s);
                let (zr, rest) = ct.split_at_mut(2 * hd);
                for j in 0..2 * hd {
                    zr[j] = (at[j] + s[j]).sigmoid();
                }
                let (n, m) = rest.split_at_mut(hd);
                m.copy_from_slice(&s[2 * hd..]);
                for j in 0..hd {
                    n[j] = (at[2 * hd + j] + zr[hd + j] * m[j]).tanh();
                }
                for j in 0..hd {
                    let z = zr[j];
                    ht[j] = z * prev[j] + (R::ONE - z) * n[j];
                }
            }
        }
        prev.copy_from_slice(ht);
    }
}

/// Backpropagation through time: given `dh` `[B, T, H]` (the loss's gradient with respect to
/// every hidden state), returns the gradients of `a`, `u` and the recurrent bias.
pub fn backward<R: Real>(cell: Cell, dims: Dims, u: &[R], fwd: &Forward<R>, dh: &[R]) -> Gradients<R> {
    let Dims { batch, steps, hidden } = dims;
    let width = cell.gates() * hidden;
    let cw = cell.cache_width() * hidden;
    assert_eq!(dh.len(), batch * steps * hidden, "hidden-state gradient");
    // Products with Uᵀ as row updates (no reductions): ut is U transposed, [G·H, H].
    let ut = transpose(u, hidden, width);
    let mut da = vec![R::ZERO; batch * steps * width];
    let per_sequence: Vec<(Vec<R>, Vec<R>)> = da
        .par_chunks_mut((steps * width).max(1))
        .enumerate()
        .map(|(b, da)| {
            let h = &fwd.h[b * steps * hidden..(b + 1) * steps * hidden];
            let cache = &fwd.cache[b * steps * cw..(b + 1) * steps * cw];
            let dh = &dh[b * steps * hidden..(b + 1) * steps * hidden];
            dispatch(|| backward_one(cell, hidden, steps, &ut, h, cache, dh, da))
        })
        .collect();
    let mut du = vec![R::ZERO; hidden * width];
    let mut dbias = vec![R::ZERO; width];
    for (u_part, b_part) in &per_sequence {
        for (o, &v) in du.iter_mut().zip(u_part) {
            *o += v;
        }
        for (o, &v) in dbias.iter_mut().zip(b_part) {
            *o += v;
        }
    }
    Gradients { a: da, u: du, bias: dbias }
}

/// `out += Σ_j d[j] · ut[offset + j, :]`, i.e. `out += d · U[:, offset..]ᵀ`.
#[inline(always)]
fn add_vec_ut<R: Real>(d: &[R], ut: &[R], hd: usize, offset: usize, out: &mut [R]) {
    for (j, &dj) in d.iter().enumerate() {
        let row = &ut[(offset + j) * hd..(offset + j + 1) * hd];
        for (o, &w) in out.iter_mut().zip(row) {
            *o += dj * w;
        }
    }
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn backward_one<R: Real>(
    cell: Cell,
    hd: usize,
    steps: usize,
    ut: &[R],
    h: &[R],
    cache: &[R],
    dh_in: &[R],
    da: &mut [R],
) -> (Vec<R>, Vec<R>) {
    let width = cell.gates() * hd;
    let cw = cell.cache_width() * hd;
    let mut du = vec![R::ZERO; hd * width];
    let mut dbias = vec![R::ZERO; width];
    let zeros = vec![R::ZERO; hd];
    let mut carry = vec![R::ZERO; hd]; // dL/dh_t through step t + 1
    let mut c_carry = vec![R::ZERO; hd]; // LSTM: dL/dc_t through step t + 1
    let mut dh = vec![R::ZERO; hd];
    let mut next = vec![R::ZERO; hd];
    let mut rh = vec![R::ZERO; hd];
    let mut drh = vec![R::ZERO; hd];
    let mut dm_h = vec![R::ZERO; hd];
    let one = R::ONE;
    for t in (0..steps).rev() {
        let prev = if t == 0 { &zeros[..] } else { &h[(t - 1) * hd..t * hd] };
        let ht = &h[t * hd..(t + 1) * hd];
        let ct = &cache[t * cw..(t + 1) * cw];
        let ds = &mut da[t * width..(t + 1) * width];
        for j in 0..hd {
            dh[j] = dh_in[t * hd + j] + carry[j];
        }
        match cell {
            Cell::Rnn => {
                for j in 0..hd {
                    ds[j] = dh[j] * (one - ht[j] * ht[j]);
                }
                add_outer(prev, ds, width, 0, &mut du);
                next.fill(R::ZERO);
                add_vec_ut(ds, ut, hd, 0, &mut next);
            }
            Cell::Lstm => {
                let c_before = if t == 0 { &zeros[..] } else { &cache[(t - 1) * cw + 4 * hd..(t - 1) * cw + 5 * hd] };
                for j in 0..hd {
                    let (i, f, g, o, tc) = (ct[j], ct[hd + j], ct[2 * hd + j], ct[3 * hd + j], ct[5 * hd + j]);
                    let dc = c_carry[j] + dh[j] * o * (one - tc * tc);
                    ds[j] = dc * g * i * (one - i);
                    ds[hd + j] = dc * c_before[j] * f * (one - f);
                    ds[2 * hd + j] = dc * i * (one - g * g);
                    ds[3 * hd + j] = dh[j] * tc * o * (one - o);
                    c_carry[j] = dc * f;
                }
                add_outer(prev, ds, width, 0, &mut du);
                next.fill(R::ZERO);
                add_vec_ut(ds, ut, hd, 0, &mut next);
            }
            Cell::Gru => {
                for j in 0..hd {
                    let (z, r, n) = (ct[j], ct[hd + j], ct[2 * hd + j]);
                    ds[j] = dh[j] * (prev[j] - n) * z * (one - z);
                    ds[2 * hd + j] = dh[j] * (one - z) * (one - n * n);
                    next[j] = dh[j] * z;
                    rh[j] = r * prev[j];
                }
                drh.fill(R::ZERO);
                add_vec_ut(&ds[2 * hd..], ut, hd, 2 * hd, &mut drh);
                add_outer(&rh, &ds[2 * hd..], width, 2 * hd, &mut du);
                for j in 0..hd {
                    let r = ct[hd + j];
                    ds[hd + j] = drh[j] * prev[j] * r * (one - r);
                    next[j] += drh[j] * r;
                }
                add_outer(prev, &ds[..2 * hd], width, 0, &mut du);
                add_vec_ut(&ds[..2 * hd], ut, hd, 0, &mut next);
            }
            Cell::GruResetAfter => {
                // dm (gradient of h U + b_rec) shares ds's z and r blocks; its h block differs.
                for j in 0..hd {
                    let (z, r, n, m) = (ct[j], ct[hd + j], ct[2 * hd + j], ct[3 * hd + j]);
                    ds[j] = dh[j] * (prev[j] - n) * z * (one - z);
                    let dsn = dh[j] * (one - z) * (one - n * n);
                    ds[2 * hd + j] = dsn;
                    ds[hd + j] = dsn * m * r * (one - r);
                    dm_h[j] = dsn * r;
                    next[j] = dh[j] * z;
                }
                add_outer(prev, &ds[..2 * hd], width, 0, &mut du);
                add_outer(prev, &dm_h, width, 2 * hd, &mut du);
                add_vec_ut(&ds[..2 * hd], ut, hd, 0, &mut next);
                add_vec_ut(&dm_h, ut, hd, 2 * hd, &mut next);
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
        let f = forward::<f64>(cell, dims, a, u, b);
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
        let f = forward::<f64>(Cell::Rnn, dims, &[0.5, -1.0, 2.0], &[0.0], &[0.0]);
        assert_eq!(f.h, vec![0.5f64.tanh(), (-1.0f64).tanh(), 2.0f64.tanh()]);
    }

    /// The f32 activations agree with the standard library to a few ulp over the range used.
    #[test]
    fn fast_f32_activations_are_accurate() {
        let mut worst = (0.0f64, 0.0f64);
        for k in -20000..=20000 {
            let x = k as f32 * 1e-3;
            let s = (1.0 / (1.0 + (-(x as f64)).exp()), Real::sigmoid(x) as f64);
            let t = ((x as f64).tanh(), Real::tanh(x) as f64);
            worst.0 = worst.0.max((s.0 - s.1).abs() / s.0.abs().max(1e-30));
            worst.1 = worst.1.max((t.0 - t.1).abs() / t.0.abs().max(1e-30));
        }
        assert!(worst.0 < 1e-6 && worst.1 < 1e-6, "relative errors: sigmoid {:e}, tanh {:e}", worst.0, worst.1);
        assert_eq!(Real::tanh(0.0f32), 0.0);
        assert_eq!(Real::sigmoid(-200.0f32), 0.0f32.max(Real::sigmoid(-200.0f32)));
        assert!(Real::sigmoid(200.0f32) == 1.0 && Real::tanh(-50.0f32) == -1.0);
    }

    /// f32 and f64 kernels agree (the f32 path is what training runs).
    #[test]
    fn f32_kernels_follow_f64() {
        for cell in [Cell::Rnn, Cell::Lstm, Cell::Gru, Cell::GruResetAfter] {
            let mut rng = ChaCha8Rng::seed_from_u64(9);
            let dims = Dims { batch: 3, steps: 50, hidden: 5 };
            let width = cell.gates() * dims.hidden;
            let a = random(dims.batch * dims.steps * width, 1.5, &mut rng);
            let u = random(dims.hidden * width, 0.6, &mut rng);
            let b = random(width, 0.5, &mut rng);
            let dh = random(dims.batch * dims.steps * dims.hidden, 1.0, &mut rng);
            let f32s = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
            let f64s = forward::<f64>(cell, dims, &a, &u, &b);
            let f32f = forward::<f32>(cell, dims, &f32s(&a), &f32s(&u), &f32s(&b));
            let g64 = backward(cell, dims, &u, &f64s, &dh);
            let g32 = backward(cell, dims, &f32s(&u), &f32f, &f32s(&dh));
            let close = |x: &[f64], y: &[f32], what: &str| {
                let scale = x.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1.0);
                for (k, (p, q)) in x.iter().zip(y).enumerate() {
                    assert!((p - *q as f64).abs() < 1e-4 * scale, "{cell:?} {what}[{k}]: {p} vs {q}");
                }
            };
            close(&f64s.h, &f32f.h, "h");
            close(&g64.a, &g32.a, "da");
            close(&g64.u, &g32.u, "du");
            close(&g64.bias, &g32.bias, "dbias");
        }
    }
}
