//! The recurrences over whole sequences in `f32` or `f64`, one sequence per thread, and
//! their backward pass (backpropagation through time).

use rayon::prelude::*;

use super::math::Real;
use super::products::{add_outer, add_vec_mat, add_vec_ut};
use super::Recurrence;

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

impl Dims {
    /// The width G·H of `cell`'s projected inputs, after checking a forward call's shapes:
    /// `a_len` values of projected inputs `[B, T, G·H]`, `u_len` of the recurrent kernel.
    pub(super) fn forward_width(self, cell: Recurrence, a_len: usize, u_len: usize) -> usize {
        let width = cell.gates() * self.hidden;
        assert_eq!(a_len, self.batch * self.steps * width, "projected inputs");
        assert_eq!(u_len, self.hidden * width, "recurrent kernel");
        width
    }

    /// Checks a backward call's hidden-state gradient (`dh_len` values, `[B, T, H]`).
    pub(super) fn check_gradient(self, dh_len: usize) {
        assert_eq!(
            dh_len,
            self.batch * self.steps * self.hidden,
            "hidden-state gradient"
        );
    }
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

/// `[rows, cols]` → `[cols, rows]`.
pub(super) fn transpose<T: Copy>(m: &[T], rows: usize, cols: usize) -> Vec<T> {
    let mut t = Vec::with_capacity(m.len());
    for c in 0..cols {
        for r in 0..rows {
            t.push(m[r * cols + c]);
        }
    }
    t
}

/// Whether the AVX2 builds of the kernels can run here (checked once by the standard library).
#[inline(always)]
pub(super) fn avx2() -> bool {
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
/// `#[inline(always)]`, so they are generated inside these functions with 256-bit vectors),
/// and once more for each of the paper's larger layer sizes (16, 32, 64 hidden units), whose
/// loops the compiler then unrolls with the size known (the same arithmetic; 10–15 % off a
/// GRU-32 or LSTM-32 epoch).
#[cfg(target_arch = "x86_64")]
mod wide {
    use super::*;

    /// `$call` with `$size` bound to `$hd`, as a literal for the paper's larger layer sizes
    /// (one build of the inlined kernel each), else as it is.
    macro_rules! fixed_size {
        ($hd:expr, |$size:ident| $call:expr) => {
            match $hd {
                16 => {
                    let $size = 16;
                    $call
                }
                32 => {
                    let $size = 32;
                    $call
                }
                64 => {
                    let $size = 64;
                    $call
                }
                $size => $call,
            }
        };
    }

    #[target_feature(enable = "avx2")]
    #[allow(clippy::too_many_arguments)]
    pub(super) unsafe fn forward_one<R: Real>(
        cell: Recurrence,
        hd: usize,
        steps: usize,
        a: &[R],
        u: &[R::Weight],
        bias: &[R],
        h: &mut [R],
        cache: &mut [R],
    ) {
        fixed_size!(hd, |size| super::forward_one(
            cell, size, steps, a, u, bias, h, cache
        ))
    }

    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn forward_states_one<R: Real>(
        cell: Recurrence,
        hd: usize,
        steps: usize,
        a: &[R],
        u: &[R::Weight],
        bias: &[R],
        h: &mut [R],
    ) {
        fixed_size!(hd, |size| super::forward_states_one(
            cell, size, steps, a, u, bias, h
        ))
    }

    #[target_feature(enable = "avx2")]
    #[allow(clippy::too_many_arguments)]
    pub(super) unsafe fn backward_one<R: Real>(
        cell: Recurrence,
        hd: usize,
        steps: usize,
        ut: &[R::Weight],
        h: &[R],
        cache: &[R],
        dh: &[R],
        da: &mut [R],
    ) -> (Vec<R>, Vec<R>) {
        fixed_size!(hd, |size| super::backward_one(
            cell, size, steps, ut, h, cache, dh, da
        ))
    }
}

/// [`forward_one`], with AVX2 where the processor has it (same numbers: no FMA is introduced).
#[allow(clippy::too_many_arguments)]
pub(super) fn forward_fast<R: Real>(
    cell: Recurrence,
    hd: usize,
    steps: usize,
    a: &[R],
    u: &[R::Weight],
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
pub(super) fn backward_fast<R: Real>(
    cell: Recurrence,
    hd: usize,
    steps: usize,
    ut: &[R::Weight],
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

/// Time steps per block of [`forward_states`] and of the fused inference: one block's gate
/// values are all they keep (they stay in the L1/L2 cache).
pub(super) const STEPS_PER_BLOCK: usize = 64;

/// The hidden states `[B, T, H]` of [`forward`] (the same numbers) without the per-step gate
/// values a backward pass would need: for evaluation (the validation loss each epoch).
pub fn forward_states<R: Real>(
    cell: Recurrence,
    dims: Dims,
    a: &[R],
    u: &[R::Weight],
    bias: &[R],
) -> Vec<R> {
    let Dims {
        batch,
        steps,
        hidden,
    } = dims;
    let width = dims.forward_width(cell, a.len(), u.len());
    let mut h = vec![R::ZERO; batch * steps * hidden];
    h.par_chunks_mut((steps * hidden).max(1))
        .enumerate()
        .for_each(|(b, h)| {
            let a = &a[b * steps * width..(b + 1) * steps * width];
            forward_states_fast(cell, hidden, steps, a, u, bias, h);
        });
    h
}

/// [`forward_states_one`], with AVX2 where the processor has it.
pub(super) fn forward_states_fast<R: Real>(
    cell: Recurrence,
    hd: usize,
    steps: usize,
    a: &[R],
    u: &[R::Weight],
    bias: &[R],
    h: &mut [R],
) {
    #[cfg(target_arch = "x86_64")]
    if avx2() {
        // SAFETY: the processor supports AVX2.
        return unsafe { wide::forward_states_one(cell, hd, steps, a, u, bias, h) };
    }
    forward_states_one(cell, hd, steps, a, u, bias, h)
}

/// One sequence of [`forward_states`]: [`forward_block`] over blocks of [`STEPS_PER_BLOCK`]
/// steps, the state carried from block to block (so each step computes what
/// [`forward_one`] computes).
#[inline(always)]
pub(super) fn forward_states_one<R: Real>(
    cell: Recurrence,
    hd: usize,
    steps: usize,
    a: &[R],
    u: &[R::Weight],
    bias: &[R],
    h: &mut [R],
) {
    let width = cell.gates() * hd;
    let cw = cell.cache_width() * hd;
    let mut cache = vec![R::ZERO; STEPS_PER_BLOCK * cw];
    let mut state = (vec![R::ZERO; hd], vec![R::ZERO; hd]);
    let mut start = 0;
    while start < steps {
        let k = STEPS_PER_BLOCK.min(steps - start);
        forward_block(
            cell,
            hd,
            k,
            &a[start * width..(start + k) * width],
            u,
            bias,
            &mut h[start * hd..(start + k) * hd],
            &mut cache[..k * cw],
            &mut state,
        );
        start += k;
    }
}

/// Runs the recurrence over every sequence: `a` `[B, T, G·H]`, `u` `[H, G·H]`, `bias` `[G·H]`
/// (read only by [`Recurrence::GruResetAfter`]).
pub fn forward<R: Real>(
    cell: Recurrence,
    dims: Dims,
    a: &[R],
    u: &[R::Weight],
    bias: &[R],
) -> Forward<R> {
    let Dims {
        batch,
        steps,
        hidden,
    } = dims;
    let width = dims.forward_width(cell, a.len(), u.len());
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
pub(super) fn forward_one<R: Real>(
    cell: Recurrence,
    hd: usize,
    steps: usize,
    a: &[R],
    u: &[R::Weight],
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
pub(super) fn forward_block<R: Real>(
    cell: Recurrence,
    hd: usize,
    steps: usize,
    a: &[R],
    u: &[R::Weight],
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
            Recurrence::Rnn => {
                s.copy_from_slice(at);
                add_vec_mat(prev, u, width, 0, &mut s);
                for (o, &x) in ht.iter_mut().zip(&s) {
                    *o = x.tanh();
                }
            }
            Recurrence::Lstm => {
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
            Recurrence::Gru => {
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
            Recurrence::GruResetAfter => {
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
    cell: Recurrence,
    dims: Dims,
    u: &[R::Weight],
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
    dims.check_gradient(dh.len());
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

#[allow(clippy::too_many_arguments)]
#[inline(always)]
pub(super) fn backward_one<R: Real>(
    cell: Recurrence,
    hd: usize,
    steps: usize,
    ut: &[R::Weight],
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
            Recurrence::Rnn => {
                for j in 0..hd {
                    ds[j] = dh[j] * (one - ht[j] * ht[j]);
                }
                add_outer(prev, ds, width, 0, &mut du);
                next.fill(R::ZERO);
                add_vec_ut(ds, ut, 0, &mut next);
            }
            Recurrence::Lstm => {
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
                add_vec_ut(ds, ut, 0, &mut next);
            }
            Recurrence::Gru => {
                for j in 0..hd {
                    let (z, r, n) = (ct[j], ct[hd + j], ct[2 * hd + j]);
                    ds[j] = dh[j] * (prev[j] - n) * z * (one - z);
                    ds[2 * hd + j] = dh[j] * (one - z) * (one - n * n);
                    next[j] = dh[j] * z;
                    rh[j] = r * prev[j];
                }
                drh.fill(R::ZERO);
                add_vec_ut(&ds[2 * hd..], ut, 2 * hd, &mut drh);
                add_outer(&rh, &ds[2 * hd..], width, 2 * hd, &mut du);
                for j in 0..hd {
                    let r = ct[hd + j];
                    ds[hd + j] = drh[j] * prev[j] * r * (one - r);
                    next[j] += drh[j] * r;
                }
                add_outer(prev, &ds[..2 * hd], width, 0, &mut du);
                add_vec_ut(&ds[..2 * hd], ut, 0, &mut next);
            }
            Recurrence::GruResetAfter => {
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
                add_vec_ut(&ds[..2 * hd], ut, 0, &mut next);
                add_vec_ut(&dm_h, ut, 2 * hd, &mut next);
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
