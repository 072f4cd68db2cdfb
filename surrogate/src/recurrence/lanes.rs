//! [`LANES`] sequences advanced together in the lanes of one vector: the [`Lane`] number
//! type and the batched forward and backward passes built on it.

use std::ops::{Add, AddAssign, Div, Mul, Neg, Sub};

use rayon::prelude::*;

use super::bptt::{backward_fast, forward_fast, transpose, Dims, Forward, Gradients};
use super::math::{exp_poly, exp_reduce, exp_scale, tanh_large, tanh_small, Real};
use super::Recurrence;

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
pub(super) fn exp_lane(x: Lane) -> Lane {
    let mut t = [0.0f32; LANES];
    let mut r = [0.0f32; LANES];
    let mut scale = [0.0f32; LANES];
    for l in 0..LANES {
        (t[l], r[l]) = exp_reduce(x.0[l]);
    }
    for l in 0..LANES {
        scale[l] = exp_scale(t[l]);
    }
    let mut out = [0.0f32; LANES];
    for l in 0..LANES {
        out[l] = exp_poly(r[l]) * scale[l];
    }
    Lane(out)
}

impl Real for Lane {
    const ZERO: Self = Lane([0.0; LANES]);
    const ONE: Self = Lane([1.0; LANES]);
    type Weight = f32;
    #[inline(always)]
    fn mul_weight(self, w: f32) -> Lane {
        self.map(|x| x * w)
    }
    #[inline(always)]
    fn sigmoid(self) -> Self {
        exp_lane(-self).map(|e| 1.0 / (1.0 + e))
    }
    #[inline(always)]
    fn tanh(self) -> Self {
        let mut a = [0.0f32; LANES];
        let mut small = [0.0f32; LANES];
        for l in 0..LANES {
            a[l] = self.0[l].abs();
            small[l] = tanh_small(self.0[l]);
        }
        let e = exp_lane(Lane(a) + Lane(a));
        let mut out = [0.0f32; LANES];
        for l in 0..LANES {
            let large = tanh_large(self.0[l], e.0[l]);
            out[l] = if a[l] < 0.625 { small[l] } else { large };
        }
        Lane(out)
    }
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
pub(super) fn gather(x: &[f32], batch: usize, n: usize, group: usize) -> Vec<Lane> {
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
pub(super) fn scatter(lanes: &[Lane], x: &mut [f32], batch: usize, n: usize, group: usize) {
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

/// As [`forward`](super::bptt::forward) in f32, with [`LANES`] sequences at a time in vector lanes: the fast path
/// for batches (groups run in parallel).
pub fn forward_lanes(
    cell: Recurrence,
    dims: Dims,
    a: &[f32],
    u: &[f32],
    bias: &[f32],
) -> LaneForward {
    let Dims {
        batch,
        steps,
        hidden,
    } = dims;
    let width = dims.forward_width(cell, a.len(), u.len());
    let cw = cell.cache_width() * hidden;
    let bl: Vec<Lane> = bias.iter().map(|&x| Lane::splat(x)).collect();
    let groups: Vec<Forward<Lane>> = (0..batch.div_ceil(LANES))
        .into_par_iter()
        .map(|g| {
            let al = gather(a, batch, steps * width, g);
            let mut h = vec![Lane::ZERO; steps * hidden];
            let mut cache = vec![Lane::ZERO; steps * cw];
            forward_fast(cell, hidden, steps, &al, u, &bl, &mut h, &mut cache);
            Forward { h, cache }
        })
        .collect();
    let mut h = vec![0.0; batch * steps * hidden];
    for (g, f) in groups.iter().enumerate() {
        scatter(&f.h, &mut h, batch, steps * hidden, g);
    }
    LaneForward { h, groups }
}

/// As [`backward`](super::bptt::backward) for a [`forward_lanes`] pass. Gradient sums run over lanes, then groups,
/// in a fixed order.
pub fn backward_lanes(
    cell: Recurrence,
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
    dims.check_gradient(dh.len());
    let ut = transpose(u, hidden, width);
    let parts: Vec<(Vec<Lane>, Vec<Lane>, Vec<Lane>)> = fwd
        .groups
        .par_iter()
        .enumerate()
        .map(|(g, f)| {
            let dhl = gather(dh, batch, steps * hidden, g);
            let mut da = vec![Lane::ZERO; steps * width];
            let (du, db) = backward_fast(cell, hidden, steps, &ut, &f.h, &f.cache, &dhl, &mut da);
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
