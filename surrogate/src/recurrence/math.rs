//! The number types the recurrences run on ([`Real`]: `f64`, `f32` and the lanes of
//! [`super::Lane`]) and branch-free `exp`/`tanh` for `f32`, written once: the scalar and the
//! lane versions call the same steps, so both give the same numbers.

use std::ops::{Add, AddAssign, Div, Mul, Neg, Sub};

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
    /// A weight the values are multiplied by: the value type itself, or for vector lanes
    /// one `f32` shared by every lane (kept scalar so that a weight matrix stays its size).
    type Weight: Copy + Send + Sync;
    /// `self · w`.
    fn mul_weight(self, w: Self::Weight) -> Self;
    /// Logistic function.
    fn sigmoid(self) -> Self;
    /// Hyperbolic tangent.
    fn tanh(self) -> Self;
}

impl Real for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    type Weight = f64;
    #[inline(always)]
    fn mul_weight(self, w: f64) -> f64 {
        self * w
    }
    #[inline(always)]
    fn sigmoid(self) -> Self {
        1.0 / (1.0 + (-self).exp())
    }
    #[inline(always)]
    fn tanh(self) -> Self {
        f64::tanh(self)
    }
}

/// 1.5·2²³: adding it rounds a float of magnitude < 2²² to an integer held in the low
/// mantissa bits.
const ROUNDING: f32 = 12_582_912.0;

/// Range reduction of Cephes `expf`: `x` clamped to \[−87, 88\] is `n·ln 2 + r`; returns `t`
/// (n in its low mantissa bits, see [`exp_scale`]) and `r`. Rounding x·log2(e) with the
/// [`ROUNDING`] trick needs no float-to-int conversion, so every operation vectorizes.
#[inline(always)]
pub(super) fn exp_reduce(x: f32) -> (f32, f32) {
    let x = x.clamp(-87.0, 88.0);
    let t = x * std::f32::consts::LOG2_E + ROUNDING;
    let n = t - ROUNDING;
    (t, x - n * 0.693_359_4 + n * 2.121_944_4e-4)
}

/// `2^n` for the `t` of [`exp_reduce`].
#[inline(always)]
pub(super) fn exp_scale(t: f32) -> f32 {
    let n = t.to_bits().wrapping_sub(ROUNDING.to_bits()) as i32;
    f32::from_bits(((n + 127) as u32) << 23)
}

/// `e^r` for the reduced `r` of [`exp_reduce`]: Cephes `expf`'s degree-5 polynomial.
#[inline(always)]
pub(super) fn exp_poly(r: f32) -> f32 {
    let p = 1.987_569_1e-4f32;
    let p = p * r + 1.398_199_9e-3;
    let p = p * r + 8.333_452e-3;
    let p = p * r + 4.166_579_6e-2;
    let p = p * r + 1.666_666_5e-1;
    let p = p * r + 0.5;
    p * r * r + r + 1.0
}

/// `e^x` for f32 without branches (Cephes `expf`: range reduction by ln 2, degree-5
/// polynomial; relative error ≤ 2 ulp on \[−87, 88\], clamped outside).
#[inline(always)]
fn exp_f32(x: f32) -> f32 {
    let (t, r) = exp_reduce(x);
    exp_poly(r) * exp_scale(t)
}

/// `tanh x` for |x| < 0.625: Cephes `tanhf`'s odd polynomial.
#[inline(always)]
pub(super) fn tanh_small(x: f32) -> f32 {
    let z = x * x;
    ((((-5.704_988_7e-3 * z + 2.063_908_3e-2) * z - 5.373_971_5e-2) * z + 1.333_144_4e-1) * z
        - 3.333_328e-1)
        * z
        * x
        + x
}

/// `tanh x` from `e = e^{2|x|}`: `1 − 2/(e + 1)` with the sign of `x`.
#[inline(always)]
pub(super) fn tanh_large(x: f32, e: f32) -> f32 {
    let large = 1.0 - 2.0 / (e + 1.0);
    if x < 0.0 {
        -large
    } else {
        large
    }
}

impl Real for f32 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;
    type Weight = f32;
    #[inline(always)]
    fn mul_weight(self, w: f32) -> f32 {
        self * w
    }
    #[inline(always)]
    fn sigmoid(self) -> Self {
        1.0 / (1.0 + exp_f32(-self))
    }
    #[inline(always)]
    fn tanh(self) -> Self {
        let a = self.abs();
        let small = tanh_small(self);
        let large = tanh_large(self, exp_f32(2.0 * a));
        if a < 0.625 {
            small
        } else {
            large
        }
    }
}
