//! The small matrix products of the recurrences, register-blocked: a block of outputs is
//! held in a local array (vector registers) for the whole reduction and stored once,
//! instead of being loaded and stored again for every term. Each output is still the sum
//! of the same terms in the same order as the plain loop (no reassociation, no fused
//! multiply-add), so the results are identical bit for bit.

use super::math::Real;

/// `out[j] += Σ_k v[k] · m[k, offset + j]` (k ascending) for a row vector `v` and the
/// column block `offset..offset + out.len()` of `m` (`width` columns). Columns go in blocks
/// of 256 bytes of accumulators (eight 256-bit registers, enough independent sums to hide
/// the latency of an addition: 64 f32, 32 f64, 8 lanes), then half and a quarter of that.
#[inline(always)]
pub(super) fn add_vec_mat<R: Real>(
    v: &[R],
    m: &[R::Weight],
    width: usize,
    offset: usize,
    out: &mut [R],
) {
    match std::mem::size_of::<R>() {
        4 => vec_mat::<R, 64, 32, 16>(v, m, width, offset, out),
        8 => vec_mat::<R, 32, 16, 8>(v, m, width, offset, out),
        _ => vec_mat::<R, 8, 4, 2>(v, m, width, offset, out),
    }
}

#[inline(always)]
fn vec_mat<R: Real, const C: usize, const M: usize, const S: usize>(
    v: &[R],
    m: &[R::Weight],
    width: usize,
    offset: usize,
    out: &mut [R],
) {
    let mut j0 = 0;
    j0 = vec_mat_block::<R, C>(v, m, width, offset, out, j0);
    j0 = vec_mat_block::<R, M>(v, m, width, offset, out, j0);
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

/// `g[k, offset + j] += v[k] · d[j]`: an outer product into a column block. (Not blocked:
/// each output takes one term, so there is no sum to hold in registers; a deferred sum over
/// all steps, held in registers, measured slower on 2026-12-07.)
#[inline(always)]
pub(super) fn add_outer<R: Real>(v: &[R], d: &[R], width: usize, offset: usize, g: &mut [R]) {
    for (k, &vk) in v.iter().enumerate() {
        let row = &mut g[k * width + offset..k * width + offset + d.len()];
        for (o, &dj) in row.iter_mut().zip(d) {
            *o += vk * dj;
        }
    }
}
