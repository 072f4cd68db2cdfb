//! A branch-free exponential that the compiler vectorizes over slices. Gates and
//! synapses need tens of thousands of exponentials per step; libm's `exp` is called one
//! value at a time.
//!
//! e^x = 2^n · e^r with n = round(x / ln 2), r = x − n ln 2 (|r| ≤ ln 2 / 2, ln 2 split
//! in two parts for exactness), e^r by its Taylor polynomial to degree 13 (truncation
//! error below 2·10⁻¹⁶ relative), 2^n assembled from the exponent bits. Arguments are
//! clamped to [−708, 709]: beyond, e^x overflows f64 or is below 10⁻³⁰⁷ (returned
//! as ≈ 3·10⁻³⁰⁸, which no gate or synapse can tell from 0).

const LOG2E: f64 = std::f64::consts::LOG2_E;
/// ln 2's high part (fdlibm's `ln2_hi`, exact in f64).
const LN2_HI: f64 = f64::from_bits(0x3fe6_2e42_fee0_0000);
/// ln 2 − LN2_HI (fdlibm's `ln2_lo`).
const LN2_LO: f64 = f64::from_bits(0x3dea_39ef_3579_3c76);
/// 1.5 · 2⁵²: adding it rounds to an integer held in the low mantissa bits.
const ROUND: f64 = 6_755_399_441_055_744.0;

/// e^x, accurate to a few ulp.
#[inline(always)]
#[allow(clippy::manual_clamp)] // f64::clamp kept the loops from vectorizing
pub fn exp(x: f64) -> f64 {
    let x = x.max(-708.0).min(709.0);
    let k = x * LOG2E + ROUND;
    let n = k - ROUND;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    // Degree 13 by Estrin's scheme (short dependency chains).
    let r2 = r * r;
    let r4 = r2 * r2;
    let r8 = r4 * r4;
    let c = |a: f64, b: f64| a + b * r;
    let p01 = c(1.0, 1.0);
    let p23 = c(1.0 / 2.0, 1.0 / 6.0);
    let p45 = c(1.0 / 24.0, 1.0 / 120.0);
    let p67 = c(1.0 / 720.0, 1.0 / 5_040.0);
    let p89 = c(1.0 / 40_320.0, 1.0 / 362_880.0);
    let p1011 = c(1.0 / 3_628_800.0, 1.0 / 39_916_800.0);
    let p1213 = c(1.0 / 479_001_600.0, 1.0 / 6_227_020_800.0);
    let low = (p01 + p23 * r2) + (p45 + p67 * r2) * r4;
    let high = (p89 + p1011 * r2) + p1213 * r4;
    let p = low + high * r8;
    // n (in [−1022, 1023]) sits in the low bits of k's mantissa; 2^n from its exponent
    // bits. Only adds and logical shifts, so the loop vectorizes.
    let n = (k.to_bits() as i64).wrapping_sub(ROUND.to_bits() as i64);
    p * f64::from_bits(((n + 1023) as u64) << 52)
}

/// `out[i] = rate / (1 + e^{−(v[i] − midpoint)/scale})`, the HH sigmoid, over a slice;
/// uses AVX2 + FMA where the processor has them.
pub fn sigmoid_slice(v: &[f64], out: &mut [f64], rate: f64, midpoint: f64, scale: f64) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the feature was detected at run time.
            unsafe { sigmoid_avx512(v, out, rate, midpoint, scale) };
            return;
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the features were detected at run time.
            unsafe { sigmoid_avx2(v, out, rate, midpoint, scale) };
            return;
        }
    }
    sigmoid_generic(v, out, rate, midpoint, scale)
}

/// Replaces every value by its exponential (AVX2 + FMA where available).
pub fn exp_slice(xs: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            // SAFETY: the feature was detected at run time.
            unsafe { exp_avx512(xs) };
            return;
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the features were detected at run time.
            unsafe { exp_avx2(xs) };
            return;
        }
    }
    exp_generic(xs)
}

#[inline(always)]
fn exp_generic(xs: &mut [f64]) {
    for x in xs {
        *x = exp(*x);
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn exp_avx2(xs: &mut [f64]) {
    exp_generic(xs)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn exp_avx512(xs: &mut [f64]) {
    exp_generic(xs)
}

/// e^x − 1, accurate also for small x.
#[inline(always)]
pub fn exp_m1(x: f64) -> f64 {
    if x.abs() < 1e-2 {
        // Taylor to x⁶: relative error below 2·10⁻¹⁶ for |x| < 0.01.
        x * (1.0 + x * (0.5 + x * (1.0 / 6.0 + x * (1.0 / 24.0 + x * (1.0 / 120.0 + x / 720.0)))))
    } else {
        exp(x) - 1.0
    }
}

#[inline(always)]
fn sigmoid_generic(v: &[f64], out: &mut [f64], rate: f64, midpoint: f64, scale: f64) {
    let k = -1.0 / scale;
    for (o, &x) in out.iter_mut().zip(v) {
        *o = rate / (1.0 + exp((x - midpoint) * k));
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
unsafe fn sigmoid_avx2(v: &[f64], out: &mut [f64], rate: f64, midpoint: f64, scale: f64) {
    sigmoid_generic(v, out, rate, midpoint, scale)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn sigmoid_avx512(v: &[f64], out: &mut [f64], rate: f64, midpoint: f64, scale: f64) {
    sigmoid_generic(v, out, rate, midpoint, scale)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_std_exp() {
        let mut worst = 0.0f64;
        let mut x = -745.0;
        while x < 709.0 {
            let (a, b) = (exp(x), x.exp());
            if b > 1e-300 {
                worst = worst.max(((a - b) / b).abs());
            }
            x += 0.0137;
        }
        assert!(worst < 1e-14, "worst relative error {worst:e}");
        assert_eq!(exp(0.0), 1.0);
        assert!(exp(-1e9) < 1e-307);
        assert!(exp(1e9).is_finite());
        for x in [-0.5, -1e-3, -1e-9, 0.0, 1e-7, 5e-3, 0.02, 3.0] {
            let (a, b) = (exp_m1(x), f64::exp_m1(x));
            assert!(
                (a - b).abs() <= 1e-13 * b.abs().max(1e-300),
                "{x}: {a} vs {b}"
            );
        }
    }
}

#[cfg(test)]
mod speed {
    #[test]
    #[ignore]
    fn sigmoid_speed() {
        let v: Vec<f64> = (0..2041).map(|i| -60.0 + 0.01 * i as f64).collect();
        let mut out = vec![0.0; 2041];
        let t = std::time::Instant::now();
        for _ in 0..10000 {
            for (o, &x) in out.iter_mut().zip(&v) {
                *o = 1.0 / (1.0 + super::exp(-(x - 3.0) / 6.7));
            }
            std::hint::black_box(&mut out);
        }
        println!(
            "fast scalar: {:.2} ns per sigmoid",
            t.elapsed().as_nanos() as f64 / 2041e4
        );
        let t = std::time::Instant::now();
        for _ in 0..10000 {
            super::sigmoid_slice(&v, &mut out, 1.0, 3.0, 6.7);
            std::hint::black_box(&mut out);
        }
        let e = t.elapsed();
        println!("fast: {:.2} ns per sigmoid", e.as_nanos() as f64 / 2041e4);
        let t = std::time::Instant::now();
        for _ in 0..10000 {
            for (o, &x) in out.iter_mut().zip(&v) {
                *o = 1.0 / (1.0 + (-(x - 3.0) / 6.7f64).exp());
            }
            std::hint::black_box(&mut out);
        }
        println!(
            "std: {:.2} ns per sigmoid",
            t.elapsed().as_nanos() as f64 / 2041e4
        );
    }
}
