//! The small matrix products of the recurrences, register-blocked: a block of outputs is
//! held in a local array (vector registers) for the whole reduction and stored once,
//! instead of being loaded and stored again for every term. Each output is still the sum
//! of the same terms in the same order as the plain loop (no reassociation, no fused
//! multiply-add), so the results are identical bit for bit.

use super::math::Real;

/// Columns per block for a number type of `size` bytes: 256 bytes of accumulators (eight
/// 256-bit registers, enough independent sums to hide the latency of an addition).
macro_rules! blocked {
    ($r:ty, $f:ident, $wide:literal, $narrow:literal, ($($arg:expr),*)) => {
        match std::mem::size_of::<$r>() {
            4 => $f::<$r, { $wide }, { $wide / 4 }>($($arg),*),
            8 => $f::<$r, { $wide / 2 }, { $wide / 8 }>($($arg),*),
            _ => $f::<$r, { $narrow }, { $narrow / 4 }>($($arg),*),
        }
    };
}

/// `out[j] += Σ_k v[k] · m[k, offset + j]` (k ascending) for a row vector `v` and the
/// column block `offset..offset + out.len()` of `m` (`width` columns).
#[inline(always)]
pub(super) fn add_vec_mat<R: Real>(
    v: &[R],
    m: &[R::Weight],
    width: usize,
    offset: usize,
    out: &mut [R],
) {
    blocked!(R, vec_mat, 64, 8, (v, m, width, offset, out))
}

#[inline(always)]
fn vec_mat<R: Real, const C: usize, const S: usize>(
    v: &[R],
    m: &[R::Weight],
    width: usize,
    offset: usize,
    out: &mut [R],
) {
    let mut j0 = 0;
    j0 = vec_mat_block::<R, C>(v, m, width, offset, out, j0);
    j0 = vec_mat_block::<R, S>(v, m, width, offset, out, j0);
    for (k, &vk) in v.iter().enumerate() {
        let row = &m[k * width + offset + j0..k * width + offset + out.len()];
        for (o, &w) in out[j0..].iter_mut().zip(row) {
            *o += vk.mul_weight(w);
        }
    }
}

/// Whole blocks of `C` columns from `j0`; returns the first column left over.
#[inline(always)]
fn vec_mat_block<R: Real, const C: usize>(
    v: &[R],
    m: &[R::Weight],
    width: usize,
    offset: usize,
    out: &mut [R],
    mut j0: usize,
) -> usize {
    while j0 + C <= out.len() {
        let mut acc = [R::ZERO; C];
        acc.copy_from_slice(&out[j0..j0 + C]);
        for (k, &vk) in v.iter().enumerate() {
            let start = k * width + offset + j0;
            let row: &[R::Weight; C] = m[start..start + C].try_into().expect("block");
            for c in 0..C {
                acc[c] += vk.mul_weight(row[c]);
            }
        }
        out[j0..j0 + C].copy_from_slice(&acc);
        j0 += C;
    }
    j0
}

/// `out[i] += Σ_j d[j] · ut[offset + j, i]` (j ascending), i.e. `out += d · U[:, offset..]ᵀ`
/// with `ut` = Uᵀ (`out.len()` columns).
#[inline(always)]
pub(super) fn add_vec_ut<R: Real>(d: &[R], ut: &[R::Weight], offset: usize, out: &mut [R]) {
    let hd = out.len();
    add_vec_mat(d, &ut[offset * hd..], hd, 0, out)
}

/// `g[k, offset + j] += Σ_t left(t)[k] · right(t)[j]` over t = `steps − 1` down to 0: the
/// sum of one outer product per time step, in the order in which a backward pass through
/// time would add them one step at a time. `left(t)` has the rows of `g` (`rows` values),
/// `right(t)` its columns `offset..offset + cols`.
#[inline(always)]
pub(super) fn add_outer_sum<'a, R: Real + 'a>(
    steps: usize,
    left: impl Fn(usize) -> &'a [R] + Copy,
    right: impl Fn(usize) -> &'a [R] + Copy,
    width: usize,
    offset: usize,
    g: &mut [R],
) {
    blocked!(R, outer_sum, 32, 4, (steps, left, right, width, offset, g))
}

#[inline(always)]
fn outer_sum<'a, R: Real + 'a, const C: usize, const S: usize>(
    steps: usize,
    left: impl Fn(usize) -> &'a [R] + Copy,
    right: impl Fn(usize) -> &'a [R] + Copy,
    width: usize,
    offset: usize,
    g: &mut [R],
) {
    if steps == 0 {
        return;
    }
    let rows = left(0).len();
    let cols = right(0).len();
    let mut k = 0;
    // Two rows at a time share each load of `right`.
    while k + 2 <= rows {
        let mut j0 = 0;
        j0 = outer_block::<R, 2, C>(steps, left, right, width, offset, g, k, j0);
        j0 = outer_block::<R, 2, S>(steps, left, right, width, offset, g, k, j0);
        outer_rest(steps, left, right, width, offset, g, k..k + 2, j0..cols);
        k += 2;
    }
    if k < rows {
        let mut j0 = 0;
        j0 = outer_block::<R, 1, C>(steps, left, right, width, offset, g, k, j0);
        j0 = outer_block::<R, 1, S>(steps, left, right, width, offset, g, k, j0);
        outer_rest(steps, left, right, width, offset, g, k..k + 1, j0..cols);
    }
}

/// Rows `k0..k0 + K`, whole blocks of `C` columns from `j0`; returns the first column left.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn outer_block<'a, R: Real + 'a, const K: usize, const C: usize>(
    steps: usize,
    left: impl Fn(usize) -> &'a [R],
    right: impl Fn(usize) -> &'a [R],
    width: usize,
    offset: usize,
    g: &mut [R],
    k0: usize,
    mut j0: usize,
) -> usize {
    let cols = right(0).len();
    while j0 + C <= cols {
        let mut acc = [[R::ZERO; C]; K];
        for (r, a) in acc.iter_mut().enumerate() {
            let start = (k0 + r) * width + offset + j0;
            a.copy_from_slice(&g[start..start + C]);
        }
        for t in (0..steps).rev() {
            let l = left(t);
            let d: &[R; C] = right(t)[j0..j0 + C].try_into().expect("block");
            for (r, a) in acc.iter_mut().enumerate() {
                let lk = l[k0 + r];
                for c in 0..C {
                    a[c] += lk * d[c];
                }
            }
        }
        for (r, a) in acc.iter().enumerate() {
            let start = (k0 + r) * width + offset + j0;
            g[start..start + C].copy_from_slice(a);
        }
        j0 += C;
    }
    j0
}

/// The rows `ks` and columns `js` that no block covers, one output at a time.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
fn outer_rest<'a, R: Real + 'a>(
    steps: usize,
    left: impl Fn(usize) -> &'a [R],
    right: impl Fn(usize) -> &'a [R],
    width: usize,
    offset: usize,
    g: &mut [R],
    ks: std::ops::Range<usize>,
    js: std::ops::Range<usize>,
) {
    for k in ks {
        for j in js.clone() {
            let mut acc = g[k * width + offset + j];
            for t in (0..steps).rev() {
                acc += left(t)[k] * right(t)[j];
            }
            g[k * width + offset + j] = acc;
        }
    }
}
