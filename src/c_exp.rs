//! Numbers as C's `printf("%e")` writes them (six decimals, a signed exponent of at least
//! two digits), the format of jNeuroML's NEURON export's output files.
//!
//! `celegans run` writes millions of them (c302's Full networks: hundreds of columns at
//! every step), and Rust's exact formatter (`{:.6e}`, then re-spelling the exponent) took
//! most of such a run's wall time. The seven significant digits are computed here from
//! `|x|·10^(6−e)` in f64, which is within a few units in the last place of the true value
//! (below 10⁻⁸ in absolute terms, the scaled value being below 10⁷): its rounding to an
//! integer is the correctly rounded one unless the fraction is within 10⁻⁶ of a half.
//! Those values, and zeros, non-finite and extreme values, go through Rust's exact
//! formatter, so every output is the correctly rounded one, as C's.

/// 10^k for k = 0..=22, each exact in f64.
const POWERS: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
    1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
];

/// Appends `x` as `%e` formats it. `scratch` is reused between calls (for the values the
/// fast path leaves to Rust's formatter), so a file of millions of values costs no
/// allocation per value.
pub fn push_c_exp(line: &mut Vec<u8>, scratch: &mut String, x: f64) {
    if !push_fast(line, x) {
        push_exact(line, scratch, x);
    }
}

/// `a·10^k`, rounded at most twice (|k| ≤ 44).
fn scale(a: f64, k: i32) -> f64 {
    let p = |k: i32| POWERS[k as usize];
    match k {
        0..=22 => a * p(k),
        23.. => a * p(22) * p(k - 22),
        -22..=-1 => a / p(-k),
        _ => a / p(22) / p(-k - 22),
    }
}

/// The fast path: false (nothing appended) where it cannot vouch for the rounding.
fn push_fast(line: &mut Vec<u8>, x: f64) -> bool {
    let a = x.abs();
    if !(1e-30..1e30).contains(&a) {
        return false;
    }
    // ⌊log₁₀ a⌋ or one less, from the binary exponent (⌊e₂·log₁₀2⌋ as ⌊e₂·78913/2¹⁸⌋).
    let e2 = ((a.to_bits() >> 52) as i32) - 1023;
    let mut e = (e2 * 78_913) >> 18;
    let mut scaled = scale(a, 6 - e);
    if scaled < 1e6 {
        e -= 1;
        scaled = scale(a, 6 - e);
    } else if scaled >= 1e7 {
        e += 1;
        scaled = scale(a, 6 - e);
    }
    let whole = scaled as u32;
    let fraction = scaled - f64::from(whole);
    if (fraction - 0.5).abs() < 1e-6 {
        return false;
    }
    let mut digits = whole + u32::from(fraction > 0.5);
    if digits >= 10_000_000 {
        digits /= 10;
        e += 1;
    }
    let mut put = |b: u8| line.push(b);
    if x < 0.0 {
        put(b'-');
    }
    let d = itoa_7(digits);
    put(d[0]);
    put(b'.');
    d[1..].iter().for_each(|&b| put(b));
    put(b'e');
    put(if e < 0 { b'-' } else { b'+' });
    let e = e.unsigned_abs();
    if e >= 100 {
        put(b'0' + (e / 100) as u8);
    }
    put(b'0' + (e / 10 % 10) as u8);
    put(b'0' + (e % 10) as u8);
    true
}

/// The seven decimal digits of `n` (< 10⁷), leading zeros kept.
fn itoa_7(mut n: u32) -> [u8; 7] {
    let mut out = [b'0'; 7];
    for d in out.iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
    out
}

/// Through Rust's exact formatter, the exponent re-spelled as C's.
fn push_exact(line: &mut Vec<u8>, scratch: &mut String, x: f64) {
    use std::fmt::Write as _;
    scratch.clear();
    write!(scratch, "{x:.6e}").expect("formatting into a String");
    match scratch.split_once('e') {
        Some((mantissa, exp)) => {
            line.extend_from_slice(mantissa.as_bytes());
            line.push(b'e');
            let digits = match exp.strip_prefix('-') {
                Some(d) => {
                    line.push(b'-');
                    d
                }
                None => {
                    line.push(b'+');
                    exp
                }
            };
            if digits.len() < 2 {
                line.push(b'0');
            }
            line.extend_from_slice(digits.as_bytes());
        }
        None => line.extend_from_slice(scratch.as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c_exp(x: f64) -> String {
        let (mut line, mut scratch) = (b"|".to_vec(), String::new());
        push_c_exp(&mut line, &mut scratch, x);
        String::from_utf8(line).unwrap()
    }

    fn exact(x: f64) -> String {
        let (mut line, mut scratch) = (b"|".to_vec(), String::new());
        push_exact(&mut line, &mut scratch, x);
        String::from_utf8(line).unwrap()
    }

    #[test]
    fn c_style_exponent() {
        assert_eq!(c_exp(0.0001), "|1.000000e-04");
        assert_eq!(c_exp(-0.045), "|-4.500000e-02");
        assert_eq!(c_exp(0.0), "|0.000000e+00");
        assert_eq!(c_exp(123.0), "|1.230000e+02");
        assert_eq!(c_exp(-1.5e-123), "|-1.500000e-123");
        assert_eq!(c_exp(9.9999996), "|1.000000e+01");
        assert_eq!(c_exp(1e100), "|1.000000e+100");
        assert_eq!(c_exp(f64::NAN), "|NaN");
    }

    /// The fast path agrees with the exact formatter on values of every kind a run writes
    /// (voltages, times, concentrations, decimal steps) and on random bit patterns, and
    /// takes most of them.
    #[test]
    fn fast_path_is_exact() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut values: Vec<f64> = Vec::new();
        for k in 0..200_000 {
            values.push(k as f64 * 0.05e-3); // times in s at dt 0.05 ms
            values.push(-0.07 + k as f64 * 1e-7); // voltages in V
            values.push(1.2345675e-3 + (k as f64 - 1e5) * 1e-19); // near a tie
            values.push(f64::from_bits(next())); // anything
            let u = (next() >> 11) as f64 / (1u64 << 53) as f64;
            values.push((u * 80.0 - 40.0).exp2() * if k % 2 == 0 { 1.0 } else { -1.0 });
        }
        let mut fast = 0;
        for &x in &values {
            let mut line = b"|".to_vec();
            if push_fast(&mut line, x) {
                fast += 1;
                assert_eq!(
                    String::from_utf8(line).unwrap(),
                    exact(x),
                    "{x:e} ({:#x})",
                    x.to_bits()
                );
            }
            assert_eq!(c_exp(x), exact(x), "{x:e}");
        }
        assert!(fast > values.len() * 3 / 4, "{fast} of {}", values.len());
    }
}
