//! Fused inference: input projection, recurrence and read-out block by block, with nothing
//! kept for a backward pass.

use rayon::prelude::*;

use super::bptt::{avx2, forward_block, STEPS_PER_BLOCK};
use super::lanes::{gather, scatter};
use super::lanes::{Lane, LANES};
use super::math::Real;
use super::products::add_vec_mat;
use super::Recurrence;

/// Weights of a whole surrogate, row-major, for [`infer`].
#[derive(Clone, Copy, Debug)]
pub struct Net<'w> {
    /// Recurrent cell.
    pub cell: Recurrence,
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

/// Outputs `[B, T, O]` of a surrogate for inputs `[B, T, I]` (network units), fused on the
/// host: input projection, recurrence and read-out block by block, nothing kept for a
/// backward pass. Batches run [`LANES`] sequences at a time in vector lanes (groups in
/// parallel); a single sequence runs alone.
pub fn infer(net: &Net, x: &[f32], steps: usize) -> Vec<f32> {
    let (ni, no) = (net.inputs, net.outputs);
    let batch = x.len() / (steps * ni).max(1);
    if batch == 0 || steps == 0 {
        // No sequence (an empty split): no outputs.
        return Vec::new();
    }
    if batch == 1 {
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
    let (b, rb, db) = (
        lane(net.bias),
        lane(net.recurrent_bias),
        lane(net.dense_bias),
    );
    let lanes = Weighted {
        net: *net,
        w: net.kernel,
        u: net.recurrent,
        b: &b,
        rb: &rb,
        d: net.dense,
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

/// [`Net`]'s weights for the kernels' type: the matrices as weights ([`Real::Weight`]), the
/// biases as values (splatted to lanes).
struct Weighted<'a, R: Real> {
    net: Net<'a>,
    w: &'a [R::Weight],
    u: &'a [R::Weight],
    b: &'a [R],
    rb: &'a [R],
    d: &'a [R::Weight],
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
    let mut a = vec![R::ZERO; STEPS_PER_BLOCK * width];
    let mut h = vec![R::ZERO; STEPS_PER_BLOCK * hd];
    let mut cache = vec![R::ZERO; STEPS_PER_BLOCK * cw];
    let mut state = (vec![R::ZERO; hd], vec![R::ZERO; hd]);
    let mut start = 0;
    while start < steps {
        let k = STEPS_PER_BLOCK.min(steps - start);
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
