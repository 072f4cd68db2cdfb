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

use std::ops::{Add, AddAssign, Div, Mul, Neg, Sub};

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

    /// The layer's name on the command line: `rnn`, `lstm` or `gru` (both GRU variants).
    pub fn layer(self) -> &'static str {
        match self {
            Cell::Rnn => "rnn",
            Cell::Lstm => "lstm",
            Cell::Gru | Cell::GruResetAfter => "gru",
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
    + Div<Output = Self>
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
    // Round x·log2(e) to the nearest integer with the 1.5·2^23 trick: t's low mantissa bits
    // hold n, so no float-to-int conversion is needed (all integer and float ops vectorize).
    let magic = 12_582_912.0f32;
    let t = x * std::f32::consts::LOG2_E + magic;
    let n = t - magic;
    let n_int = t.to_bits().wrapping_sub(magic.to_bits()) as i32;
    let r = x - n * 0.693_359_4 + n * 2.121_944_4e-4;
    let p = 1.987_569_1e-4f32;
    let p = p * r + 1.398_199_9e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 1.666_666_5e-1;
    let p = p * r + 0.5;
    let y = p * r * r + r + 1.0;
    let scale = f32::from_bits(((n_int + 127) as u32) << 23);
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
        let small = ((((-5.704_988_7e-3 * z + 2.063_908_3e-2) * z - 5.373_971_5e-2) * z
            + 1.333_144_4e-1)
            * z
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

/// Sequences processed together in the lanes of one vector ([`Lane`]).
pub const LANES: usize = 8;

/// One value for each of [`LANES`] sequences: the kernels run on lanes exactly as on single
/// numbers, so a group of sequences advances through time together in SIMD registers.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Lane(pub [f32; LANES]);

impl Lane {
    /// The same value in every lane.
    pub fn splat(x: f32) -> Self {
        Lane([x; LANES])
    }

    #[inline(always)]
    fn map(self, f: impl Fn(f32) -> f32) -> Self {
        let mut out = self;
        for v in &mut out.0 {
            *v = f(*v);
        }
        out
    }
}

macro_rules! lane_op {
    ($trait:ident, $method:ident, $op:tt) => {
        impl $trait for Lane {
            type Output = Lane;
            #[inline(always)]
            #[allow(clippy::assign_op_pattern)]
            fn $method(self, rhs: Lane) -> Lane {
                let mut out = self;
                for (o, r) in out.0.iter_mut().zip(rhs.0) {
                    *o = *o $op r;
                }
                out
            }
        }
    };
}
lane_op!(Add, add, +);
lane_op!(Sub, sub, -);
lane_op!(Mul, mul, *);
lane_op!(Div, div, /);

impl Neg for Lane {
    type Output = Lane;
    #[inline(always)]
    fn neg(self) -> Lane {
        self.map(|x| -x)
    }
}

impl AddAssign for Lane {
    #[inline(always)]
    fn add_assign(&mut self, rhs: Lane) {
        *self = *self + rhs;
    }
}

/// `e^x` per lane: [`exp_f32`]'s steps, each one a simple loop over the lanes so that every
/// step becomes one vector instruction (the same arithmetic, so the same results).
#[inline(always)]
fn exp_lane(x: Lane) -> Lane {
    let magic = 12_582_912.0f32;
    let mut t = [0.0f32; LANES];
    let mut r = [0.0f32; LANES];
    let mut scale = [0.0f32; LANES];
    for l in 0..LANES {
        let x = x.0[l].clamp(-87.0, 88.0);
        t[l] = x * std::f32::consts::LOG2_E + magic;
        let n = t[l] - magic;
        r[l] = x - n * 0.693_359_4 + n * 2.121_944_4e-4;
    }
    for l in 0..LANES {
        let n_int = t[l].to_bits().wrapping_sub(magic.to_bits()) as i32;
        scale[l] = f32::from_bits(((n_int + 127) as u32) << 23);
    }
    let mut out = [0.0f32; LANES];
    for l in 0..LANES {
        let r = r[l];
        let p = 1.987_569_1e-4f32;
        let p = p * r + 1.398_199_9e-3;
        let p = p * r + 8.333_452e-3;
        let p = p * r + 4.166_579_6e-2;
        let p = p * r + 1.666_666_5e-1;
        let p = p * r + 0.5;
        out[l] = (p * r * r + r + 1.0) * scale[l];
    }
    Lane(out)
}

impl Real for Lane {
    const ZERO: Self = Lane([0.0; LANES]);
    const ONE: Self = Lane([1.0; LANES]);
    #[inline(always)]
    fn sigmoid(self) -> Self {
        exp_lane(-self).map(|e| 1.0 / (1.0 + e))
    }
    #[inline(always)]
    fn tanh(self) -> Self {
        let mut a = [0.0f32; LANES];
        let mut small = [0.0f32; LANES];
        for l in 0..LANES {
            let x = self.0[l];
            a[l] = x.abs();
            let z = x * x;
            small[l] = ((((-5.704_988_7e-3 * z + 2.063_908_3e-2) * z - 5.373_971_5e-2) * z
                + 1.333_144_4e-1)
                * z
                - 3.333_328e-1)
                * z
                * x
                + x;
        }
        let e = exp_lane(Lane(a) + Lane(a));
        let mut out = [0.0f32; LANES];
        for l in 0..LANES {
            let large = 1.0 - 2.0 / (e.0[l] + 1.0);
            let large = if self.0[l] < 0.0 { -large } else { large };
            out[l] = if a[l] < 0.625 { small[l] } else { large };
        }
        Lane(out)
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

/// Whether the AVX2 builds of the kernels can run here (checked once by the standard library).
#[inline(always)]
fn avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The kernels compiled a second time with AVX2 enabled (the generic bodies are
/// `#[inline(always)]`, so they are generated inside these functions with 256-bit vectors).
#[cfg(target_arch = "x86_64")]
mod wide {
    use super::*;

    #[target_feature(enable = "avx2")]
    #[allow(clippy::too_many_arguments)]
    pub(super) unsafe fn forward_one<R: Real>(
        cell: Cell,
        hd: usize,
        steps: usize,
        a: &[R],
        u: &[R],
        bias: &[R],
        h: &mut [R],
        cache: &mut [R],
    ) {
        super::forward_one(cell, hd, steps, a, u, bias, h, cache)
    }

    #[target_feature(enable = "avx2")]
    #[allow(clippy::too_many_arguments)]
    pub(super) unsafe fn backward_one<R: Real>(
        cell: Cell,
        hd: usize,
        steps: usize,
        ut: &[R],
        h: &[R],
        cache: &[R],
        dh: &[R],
        da: &mut [R],
    ) -> (Vec<R>, Vec<R>) {
        super::backward_one(cell, hd, steps, ut, h, cache, dh, da)
    }
}

/// [`forward_one`], with AVX2 where the processor has it (same numbers: no FMA is introduced).
#[allow(clippy::too_many_arguments)]
fn forward_fast<R: Real>(
    cell: Cell,
    hd: usize,
    steps: usize,
    a: &[R],
    u: &[R],
    bias: &[R],
    h: &mut [R],
    cache: &mut [R],
) {
    #[cfg(target_arch = "x86_64")]
    if avx2() {
        // SAFETY: the processor supports AVX2.
        return unsafe { wide::forward_one(cell, hd, steps, a, u, bias, h, cache) };
    }
    forward_one(cell, hd, steps, a, u, bias, h, cache)
}

/// [`backward_one`], with AVX2 where the processor has it.
#[allow(clippy::too_many_arguments)]
fn backward_fast<R: Real>(
    cell: Cell,
    hd: usize,
    steps: usize,
    ut: &[R],
    h: &[R],
    cache: &[R],
    dh: &[R],
    da: &mut [R],
) -> (Vec<R>, Vec<R>) {
    #[cfg(target_arch = "x86_64")]
    if avx2() {
        // SAFETY: the processor supports AVX2.
        return unsafe { wide::backward_one(cell, hd, steps, ut, h, cache, dh, da) };
    }
    backward_one(cell, hd, steps, ut, h, cache, dh, da)
}

/// Runs the recurrence over every sequence: `a` `[B, T, G·H]`, `u` `[H, G·H]`, `bias` `[G·H]`
/// (read only by [`Cell::GruResetAfter`]).
pub fn forward<R: Real>(cell: Cell, dims: Dims, a: &[R], u: &[R], bias: &[R]) -> Forward<R> {
    let Dims {
        batch,
        steps,
        hidden,
    } = dims;
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
    h.par_chunks_mut(steps * hidden.max(1))
        .zip(caches.into_par_iter())
        .enumerate()
        .for_each(|(b, (h, cache))| {
            let a = &a[b * steps * width..(b + 1) * steps * width];
            forward_fast(cell, hidden, steps, a, u, bias, h, cache);
        });
    Forward { h, cache }
}

#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn forward_one<R: Real>(
    cell: Cell,
    hd: usize,
    steps: usize,
    a: &[R],
    u: &[R],
    bias: &[R],
    h: &mut [R],
    cache: &mut [R],
) {
    let mut state = (vec![R::ZERO; hd], vec![R::ZERO; hd]);
    forward_block(cell, hd, steps, a, u, bias, h, cache, &mut state);
}

/// `steps` steps of the recurrence from `state` = (h, c) (c is used by the LSTM only), which
/// is left at the last step's values.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn forward_block<R: Real>(
    cell: Cell,
    hd: usize,
    steps: usize,
    a: &[R],
    u: &[R],
    bias: &[R],
    h: &mut [R],
    cache: &mut [R],
    state: &mut (Vec<R>, Vec<R>),
) {
    let width = cell.gates() * hd;
    let cw = cell.cache_width() * hd;
    let (prev, c_prev) = state;
    let mut s = vec![R::ZERO; width];
    let mut rh = vec![R::ZERO; hd];
    for t in 0..steps {
        let at = &a[t * width..(t + 1) * width];
        let ht = &mut h[t * hd..(t + 1) * hd];
        let ct = &mut cache[t * cw..(t + 1) * cw];
        match cell {
            Cell::Rnn => {
                s.copy_from_slice(at);
                add_vec_mat(prev, u, width, 0, &mut s);
                for (o, &x) in ht.iter_mut().zip(&s) {
                    *o = x.tanh();
                }
            }
            Cell::Lstm => {
                s.copy_from_slice(at);
                add_vec_mat(prev, u, width, 0, &mut s);
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
                add_vec_mat(prev, u, width, 0, &mut s[..2 * hd]);
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
                add_vec_mat(prev, u, width, 0, &mut s);
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
pub fn backward<R: Real>(
    cell: Cell,
    dims: Dims,
    u: &[R],
    fwd: &Forward<R>,
    dh: &[R],
) -> Gradients<R> {
    let Dims {
        batch,
        steps,
        hidden,
    } = dims;
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
            backward_fast(cell, hidden, steps, &ut, h, cache, dh, da)
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
    Gradients {
        a: da,
        u: du,
        bias: dbias,
    }
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
        let prev = if t == 0 {
            &zeros[..]
        } else {
            &h[(t - 1) * hd..t * hd]
        };
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
                let c_before = if t == 0 {
                    &zeros[..]
                } else {
                    &cache[(t - 1) * cw + 4 * hd..(t - 1) * cw + 5 * hd]
                };
                for j in 0..hd {
                    let (i, f, g, o, tc) = (
                        ct[j],
                        ct[hd + j],
                        ct[2 * hd + j],
                        ct[3 * hd + j],
                        ct[5 * hd + j],
                    );
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

/// The forward pass of [`forward_lanes`]: hidden states `[B, T, H]` and, per group of
/// [`LANES`] sequences, the lane-layout states and cache.
#[derive(Clone, Debug)]
pub struct LaneForward {
    /// Hidden states `[B, T, H]`.
    pub h: Vec<f32>,
    groups: Vec<Forward<Lane>>,
}

/// Copies sequences `g·LANES..` of `x` `[B, n]` into lanes `[n]` (missing sequences are zero).
fn gather(x: &[f32], batch: usize, n: usize, group: usize) -> Vec<Lane> {
    let mut out = vec![Lane::ZERO; n];
    for l in 0..LANES {
        let b = group * LANES + l;
        if b >= batch {
            break;
        }
        for (o, &v) in out.iter_mut().zip(&x[b * n..(b + 1) * n]) {
            o.0[l] = v;
        }
    }
    out
}

/// Writes lanes `[n]` back to sequences `g·LANES..` of `x` `[B, n]`.
fn scatter(lanes: &[Lane], x: &mut [f32], batch: usize, n: usize, group: usize) {
    for l in 0..LANES {
        let b = group * LANES + l;
        if b >= batch {
            break;
        }
        for (o, v) in x[b * n..(b + 1) * n].iter_mut().zip(lanes) {
            *o = v.0[l];
        }
    }
}

/// As [`forward`] in f32, with [`LANES`] sequences at a time in vector lanes: the fast path
/// for batches (groups run in parallel).
pub fn forward_lanes(cell: Cell, dims: Dims, a: &[f32], u: &[f32], bias: &[f32]) -> LaneForward {
    let Dims {
        batch,
        steps,
        hidden,
    } = dims;
    let width = cell.gates() * hidden;
    assert_eq!(a.len(), batch * steps * width, "projected inputs");
    assert_eq!(u.len(), hidden * width, "recurrent kernel");
    let cw = cell.cache_width() * hidden;
    let ul: Vec<Lane> = u.iter().map(|&x| Lane::splat(x)).collect();
    let bl: Vec<Lane> = bias.iter().map(|&x| Lane::splat(x)).collect();
    let groups: Vec<Forward<Lane>> = (0..batch.div_ceil(LANES))
        .into_par_iter()
        .map(|g| {
            let al = gather(a, batch, steps * width, g);
            let mut h = vec![Lane::ZERO; steps * hidden];
            let mut cache = vec![Lane::ZERO; steps * cw];
            forward_fast(cell, hidden, steps, &al, &ul, &bl, &mut h, &mut cache);
            Forward { h, cache }
        })
        .collect();
    let mut h = vec![0.0; batch * steps * hidden];
    for (g, f) in groups.iter().enumerate() {
        scatter(&f.h, &mut h, batch, steps * hidden, g);
    }
    LaneForward { h, groups }
}

/// As [`backward`] for a [`forward_lanes`] pass. Gradient sums run over lanes, then groups,
/// in a fixed order.
pub fn backward_lanes(
    cell: Cell,
    dims: Dims,
    u: &[f32],
    fwd: &LaneForward,
    dh: &[f32],
) -> Gradients<f32> {
    let Dims {
        batch,
        steps,
        hidden,
    } = dims;
    let width = cell.gates() * hidden;
    assert_eq!(dh.len(), batch * steps * hidden, "hidden-state gradient");
    let utl: Vec<Lane> = transpose(u, hidden, width)
        .into_iter()
        .map(Lane::splat)
        .collect();
    let parts: Vec<(Vec<Lane>, Vec<Lane>, Vec<Lane>)> = fwd
        .groups
        .par_iter()
        .enumerate()
        .map(|(g, f)| {
            let dhl = gather(dh, batch, steps * hidden, g);
            let mut da = vec![Lane::ZERO; steps * width];
            let (du, db) = backward_fast(cell, hidden, steps, &utl, &f.h, &f.cache, &dhl, &mut da);
            (da, du, db)
        })
        .collect();
    let mut da = vec![0.0; batch * steps * width];
    let mut du = vec![0.0; hidden * width];
    let mut dbias = vec![0.0; width];
    for (g, (dal, dul, dbl)) in parts.iter().enumerate() {
        scatter(dal, &mut da, batch, steps * width, g);
        for (o, v) in du.iter_mut().zip(dul) {
            *o += v.0.iter().sum::<f32>();
        }
        for (o, v) in dbias.iter_mut().zip(dbl) {
            *o += v.0.iter().sum::<f32>();
        }
    }
    Gradients {
        a: da,
        u: du,
        bias: dbias,
    }
}

/// Weights of a whole surrogate, row-major, for [`infer`].
#[derive(Clone, Copy, Debug)]
pub struct Net<'w> {
    /// Recurrent cell.
    pub cell: Cell,
    /// Hidden units H.
    pub hidden: usize,
    /// Inputs I.
    pub inputs: usize,
    /// Outputs O.
    pub outputs: usize,
    /// `[I, G·H]`.
    pub kernel: &'w [f32],
    /// `[H, G·H]`.
    pub recurrent: &'w [f32],
    /// `[G·H]`.
    pub bias: &'w [f32],
    /// `[G·H]` (zeros where the cell has none).
    pub recurrent_bias: &'w [f32],
    /// `[H, O]`.
    pub dense: &'w [f32],
    /// `[O]`.
    pub dense_bias: &'w [f32],
}

/// Time steps per block of [`infer`]: the block's gates and states stay in the L1/L2 cache.
const BLOCK: usize = 64;

/// Outputs `[B, T, O]` of a surrogate for inputs `[B, T, I]` (network units), fused on the
/// host: input projection, recurrence and read-out block by block, nothing kept for a
/// backward pass. Batches run [`LANES`] sequences at a time in vector lanes (groups in
/// parallel); a single sequence runs alone.
pub fn infer(net: &Net, x: &[f32], steps: usize) -> Vec<f32> {
    let (ni, no) = (net.inputs, net.outputs);
    let batch = x.len() / (steps * ni).max(1);
    if batch <= 1 {
        let plain = Weighted {
            net: *net,
            w: net.kernel,
            u: net.recurrent,
            b: net.bias,
            rb: net.recurrent_bias,
            d: net.dense,
            db: net.dense_bias,
        };
        return infer_fast(&plain, x, steps);
    }
    let lane = |v: &[f32]| v.iter().map(|&x| Lane::splat(x)).collect::<Vec<Lane>>();
    let (w, u, b, rb, d, db) = (
        lane(net.kernel),
        lane(net.recurrent),
        lane(net.bias),
        lane(net.recurrent_bias),
        lane(net.dense),
        lane(net.dense_bias),
    );
    let lanes = Weighted {
        net: *net,
        w: &w,
        u: &u,
        b: &b,
        rb: &rb,
        d: &d,
        db: &db,
    };
    let groups: Vec<Vec<Lane>> = (0..batch.div_ceil(LANES))
        .into_par_iter()
        .map(|g| {
            let xl = gather(x, batch, steps * ni, g);
            infer_fast(&lanes, &xl, steps)
        })
        .collect();
    let mut y = vec![0.0; batch * steps * no];
    for (g, yl) in groups.iter().enumerate() {
        scatter(yl, &mut y, batch, steps * no, g);
    }
    y
}

/// [`Net`]'s weights as values of the kernels' type (f32, or splatted to lanes).
struct Weighted<'a, R> {
    net: Net<'a>,
    w: &'a [R],
    u: &'a [R],
    b: &'a [R],
    rb: &'a [R],
    d: &'a [R],
    db: &'a [R],
}

#[inline(always)]
fn infer_group<R: Real>(n: &Weighted<R>, x: &[R], steps: usize) -> Vec<R> {
    let Net {
        cell,
        hidden: hd,
        inputs: ni,
        outputs: no,
        ..
    } = n.net;
    let width = cell.gates() * hd;
    let cw = cell.cache_width() * hd;
    let mut y = vec![R::ZERO; steps * no];
    let mut a = vec![R::ZERO; BLOCK * width];
    let mut h = vec![R::ZERO; BLOCK * hd];
    let mut cache = vec![R::ZERO; BLOCK * cw];
    let mut state = (vec![R::ZERO; hd], vec![R::ZERO; hd]);
    let mut start = 0;
    while start < steps {
        let k = BLOCK.min(steps - start);
        for t in 0..k {
            let at = &mut a[t * width..(t + 1) * width];
            at.copy_from_slice(n.b);
            add_vec_mat(
                &x[(start + t) * ni..(start + t + 1) * ni],
                n.w,
                width,
                0,
                at,
            );
        }
        forward_block(
            cell,
            hd,
            k,
            &a[..k * width],
            n.u,
            n.rb,
            &mut h[..k * hd],
            &mut cache[..k * cw],
            &mut state,
        );
        for t in 0..k {
            let yt = &mut y[(start + t) * no..(start + t + 1) * no];
            yt.copy_from_slice(n.db);
            add_vec_mat(&h[t * hd..(t + 1) * hd], n.d, no, 0, yt);
        }
        start += k;
    }
    y
}

fn infer_fast<R: Real>(n: &Weighted<R>, x: &[R], steps: usize) -> Vec<R> {
    #[cfg(target_arch = "x86_64")]
    if avx2() {
        #[target_feature(enable = "avx2")]
        unsafe fn wide<R: Real>(n: &Weighted<R>, x: &[R], steps: usize) -> Vec<R> {
            infer_group(n, x, steps)
        }
        // SAFETY: the processor supports AVX2.
        return unsafe { wide(n, x, steps) };
    }
    infer_group(n, x, steps)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_chacha::ChaCha8Rng;

    fn random(n: usize, scale: f64, rng: &mut ChaCha8Rng) -> Vec<f64> {
        (0..n).map(|_| rng.random_range(-scale..scale)).collect()
    }

    /// Random projected inputs, recurrent kernel, recurrent bias and hidden-state weights.
    fn case(
        cell: Cell,
        dims: Dims,
        seed: u64,
        scale: f64,
    ) -> (Vec<f64>, Vec<f64>, Vec<f64>, Vec<f64>) {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let width = cell.gates() * dims.hidden;
        let a = random(dims.batch * dims.steps * width, scale, &mut rng);
        let u = random(dims.hidden * width, 0.6, &mut rng);
        let b = random(width, 0.5, &mut rng);
        let w = random(dims.batch * dims.steps * dims.hidden, 1.0, &mut rng);
        (a, u, b, w)
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
            let dims = Dims {
                batch: 2,
                steps: 6,
                hidden: 3,
            };
            let (a, u, b, w) = case(cell, dims, 7, 1.0);
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
                        0 => (
                            loss(cell, dims, &plus, &u, &b, &w),
                            loss(cell, dims, &minus, &u, &b, &w),
                        ),
                        1 => (
                            loss(cell, dims, &a, &plus, &b, &w),
                            loss(cell, dims, &a, &minus, &b, &w),
                        ),
                        _ => (
                            loss(cell, dims, &a, &u, &plus, &w),
                            loss(cell, dims, &a, &u, &minus, &w),
                        ),
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
        let dims = Dims {
            batch: 1,
            steps: 3,
            hidden: 1,
        };
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
        assert!(
            worst.0 < 1e-6 && worst.1 < 1e-6,
            "relative errors: sigmoid {:e}, tanh {:e}",
            worst.0,
            worst.1
        );
        assert_eq!(Real::tanh(0.0f32), 0.0);
        assert_eq!(
            Real::sigmoid(-200.0f32),
            0.0f32.max(Real::sigmoid(-200.0f32))
        );
        assert!(Real::sigmoid(200.0f32) == 1.0 && Real::tanh(-50.0f32) == -1.0);
    }

    /// f32 and f64 kernels agree (the f32 path is what training runs).
    #[test]
    fn f32_kernels_follow_f64() {
        for cell in [Cell::Rnn, Cell::Lstm, Cell::Gru, Cell::GruResetAfter] {
            let dims = Dims {
                batch: 3,
                steps: 50,
                hidden: 5,
            };
            let (a, u, b, dh) = case(cell, dims, 9, 1.5);
            let f32s = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
            let f64s = forward::<f64>(cell, dims, &a, &u, &b);
            let f32f = forward::<f32>(cell, dims, &f32s(&a), &f32s(&u), &f32s(&b));
            let g64 = backward(cell, dims, &u, &f64s, &dh);
            let g32 = backward(cell, dims, &f32s(&u), &f32f, &f32s(&dh));
            let close = |x: &[f64], y: &[f32], what: &str| {
                let scale = x.iter().fold(0.0f64, |m, v| m.max(v.abs())).max(1.0);
                for (k, (p, q)) in x.iter().zip(y).enumerate() {
                    assert!(
                        (p - *q as f64).abs() < 1e-4 * scale,
                        "{cell:?} {what}[{k}]: {p} vs {q}"
                    );
                }
            };
            close(&f64s.h, &f32f.h, "h");
            close(&g64.a, &g32.a, "da");
            close(&g64.u, &g32.u, "du");
            close(&g64.bias, &g32.bias, "dbias");
        }
    }

    /// The lane kernels give the per-sequence f32 results (up to the order of gradient sums).
    #[test]
    fn lanes_follow_single_sequences() {
        for cell in [Cell::Rnn, Cell::Lstm, Cell::Gru, Cell::GruResetAfter] {
            let dims = Dims {
                batch: 11,
                steps: 30,
                hidden: 3,
            };
            let f32s = |v: Vec<f64>| v.into_iter().map(|x| x as f32).collect::<Vec<f32>>();
            let (a, u, b, dh) = case(cell, dims, 4, 1.5);
            let (a, u, b, dh) = (f32s(a), f32s(u), f32s(b), f32s(dh));
            let single = forward::<f32>(cell, dims, &a, &u, &b);
            let lanes = forward_lanes(cell, dims, &a, &u, &b);
            assert_eq!(single.h, lanes.h, "{cell:?}");
            let g1 = backward(cell, dims, &u, &single, &dh);
            let g2 = backward_lanes(cell, dims, &u, &lanes, &dh);
            assert_eq!(g1.a, g2.a, "{cell:?}");
            for (x, y) in g1.u.iter().zip(&g2.u).chain(g1.bias.iter().zip(&g2.bias)) {
                assert!(
                    (x - y).abs() <= 1e-5 * (1.0 + x.abs()),
                    "{cell:?}: {x} vs {y}"
                );
            }
        }
    }
}
