//! Fused inference: input projection, recurrence and read-out block by block, with nothing
//! kept for a backward pass.

use rayon::prelude::*;

use super::bptt::{avx2, forward_block, STEPS_PER_BLOCK};
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

/// Data units around the network, as [`crate::Scaling`] maps them: each input enters as
/// `(x − offset) / scale`, each output leaves as `y · scale + offset` (per column).
#[derive(Clone, Copy, Debug)]
pub struct Units<'a> {
    /// Per input.
    pub input_offset: &'a [f32],
    /// Per input.
    pub input_scale: &'a [f32],
    /// Per output.
    pub output_offset: &'a [f32],
    /// Per output.
    pub output_scale: &'a [f32],
}

impl Units<'_> {
    #[inline(always)]
    fn input(&self, j: usize, v: f32) -> f32 {
        (v - self.input_offset[j]) / self.input_scale[j]
    }

    #[inline(always)]
    fn output(&self, o: usize, v: f32) -> f32 {
        v * self.output_scale[o] + self.output_offset[o]
    }

    /// [`Self::input`] on every lane at once (the same arithmetic per value).
    #[inline(always)]
    fn input_lanes(&self, j: usize, v: Lane) -> Lane {
        (v - Lane::splat(self.input_offset[j])) / Lane::splat(self.input_scale[j])
    }

    /// [`Self::output`] on every lane at once.
    #[inline(always)]
    fn output_lanes(&self, o: usize, v: Lane) -> Lane {
        v * Lane::splat(self.output_scale[o]) + Lane::splat(self.output_offset[o])
    }
}

/// Outputs `[B, T, O]` of a surrogate for inputs `[B, T, I]`, fused on the host: input
/// projection, recurrence and read-out block by block, nothing kept for a backward pass;
/// with `units`, inputs and outputs are in data units, mapped as they are read and written
/// (else network units). Batches run [`LANES`] sequences at a time in vector lanes (groups in
/// parallel, each reading its sequences' inputs and writing their outputs step by step); a
/// single sequence runs alone.
pub fn infer(net: &Net, x: &[f32], steps: usize, units: Option<&Units>) -> Vec<f32> {
    let (ni, no) = (net.inputs, net.outputs);
    let batch = x.len() / (steps * ni).max(1);
    if batch == 0 || steps == 0 {
        // No sequence (an empty split): no outputs.
        return Vec::new();
    }
    let mut y = vec![0.0; batch * steps * no];
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
        let load = |t: usize, xt: &mut [f32]| {
            xt.copy_from_slice(&x[t * ni..(t + 1) * ni]);
            if let Some(u) = units {
                xt.iter_mut()
                    .enumerate()
                    .for_each(|(j, v)| *v = u.input(j, *v));
            }
        };
        let store = |t: usize, yt: &[f32]| {
            let out = &mut y[t * no..(t + 1) * no];
            out.copy_from_slice(yt);
            if let Some(u) = units {
                out.iter_mut()
                    .enumerate()
                    .for_each(|(o, v)| *v = u.output(o, *v));
            }
        };
        infer_fast(&plain, steps, load, store);
        return y;
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
    // Group g holds sequences g·LANES.. (fewer in the last group; its other lanes run on
    // zero inputs and are not written), whose outputs are one contiguous part of y.
    y.par_chunks_mut(LANES * steps * no)
        .enumerate()
        .for_each(|(g, y)| {
            let sequences = batch.min((g + 1) * LANES) - g * LANES;
            let x = &x[g * LANES * steps * ni..(g * LANES + sequences) * steps * ni];
            // The units are mapped on whole lanes (lanes past the group's sequences are
            // mapped too, and never written out).
            let load = |t: usize, xt: &mut [Lane]| {
                for l in 0..sequences {
                    let row = &x[(l * steps + t) * ni..(l * steps + t + 1) * ni];
                    for (lanes, &v) in xt.iter_mut().zip(row) {
                        lanes.0[l] = v;
                    }
                }
                if let Some(u) = units {
                    for (j, lanes) in xt.iter_mut().enumerate() {
                        *lanes = u.input_lanes(j, *lanes);
                    }
                }
            };
            let mut out = vec![Lane::ZERO; no];
            let store = |t: usize, yt: &[Lane]| {
                out.copy_from_slice(yt);
                if let Some(u) = units {
                    for (o, lanes) in out.iter_mut().enumerate() {
                        *lanes = u.output_lanes(o, *lanes);
                    }
                }
                for l in 0..sequences {
                    let row = &mut y[(l * steps + t) * no..(l * steps + t + 1) * no];
                    for (v, lanes) in row.iter_mut().zip(&out) {
                        *v = lanes.0[l];
                    }
                }
            };
            infer_fast(&lanes, steps, load, store);
        });
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

/// The inference of one sequence or group: `load(t, x_t)` gives the inputs of step t (network
/// units), `store(t, y_t)` takes its outputs.
///
/// `H` is the number of hidden units when it is fixed at compile time (then the loops over
/// them are unrolled; the same arithmetic), 0 where it is read from the network.
#[inline(always)]
fn infer_group<R: Real, const H: usize>(
    n: &Weighted<R>,
    steps: usize,
    mut load: impl FnMut(usize, &mut [R]),
    mut store: impl FnMut(usize, &[R]),
) {
    let Net {
        cell,
        inputs: ni,
        outputs: no,
        ..
    } = n.net;
    let hd = if H == 0 { n.net.hidden } else { H };
    let width = cell.gates() * hd;
    let cw = cell.cache_width() * hd;
    let mut xt = vec![R::ZERO; ni];
    let mut yt = vec![R::ZERO; no];
    let mut a = vec![R::ZERO; STEPS_PER_BLOCK * width];
    let mut h = vec![R::ZERO; STEPS_PER_BLOCK * hd];
    let mut cache = vec![R::ZERO; STEPS_PER_BLOCK * cw];
    let mut state = (vec![R::ZERO; hd], vec![R::ZERO; hd]);
    let mut start = 0;
    while start < steps {
        let k = STEPS_PER_BLOCK.min(steps - start);
        for t in 0..k {
            load(start + t, &mut xt);
            let at = &mut a[t * width..(t + 1) * width];
            at.copy_from_slice(n.b);
            add_vec_mat(&xt, n.w, width, 0, at);
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
            yt.copy_from_slice(n.db);
            add_vec_mat(&h[t * hd..(t + 1) * hd], n.d, no, 0, &mut yt);
            store(start + t, &yt);
        }
        start += k;
    }
}

fn infer_fast<R: Real>(
    n: &Weighted<R>,
    steps: usize,
    load: impl FnMut(usize, &mut [R]),
    store: impl FnMut(usize, &[R]),
) {
    #[cfg(target_arch = "x86_64")]
    if avx2() {
        #[target_feature(enable = "avx2")]
        unsafe fn wide<R: Real>(
            n: &Weighted<R>,
            steps: usize,
            load: impl FnMut(usize, &mut [R]),
            store: impl FnMut(usize, &[R]),
        ) {
            // The paper's smallest models, whose per-step loops are shortest.
            match n.net.hidden {
                2 => infer_group::<R, 2>(n, steps, load, store),
                4 => infer_group::<R, 4>(n, steps, load, store),
                8 => infer_group::<R, 8>(n, steps, load, store),
                _ => infer_group::<R, 0>(n, steps, load, store),
            }
        }
        // SAFETY: the processor supports AVX2.
        return unsafe { wide(n, steps, load, store) };
    }
    infer_group::<R, 0>(n, steps, load, store)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The builds for a fixed number of hidden units give the general build's numbers, bit
    /// for bit, for every cell, on one sequence and on a group in lanes.
    #[test]
    fn fixed_hidden_sizes_give_the_general_numbers() {
        fn run<R: Real, const H: usize>(n: &Weighted<R>, x: &[R], steps: usize) -> Vec<R> {
            let (ni, no) = (n.net.inputs, n.net.outputs);
            let mut y = vec![R::ZERO; steps * no];
            infer_group::<R, H>(
                n,
                steps,
                |t, xt| xt.copy_from_slice(&x[t * ni..(t + 1) * ni]),
                |t, yt| y[t * no..(t + 1) * no].copy_from_slice(yt),
            );
            y
        }
        let cells = [
            Recurrence::Rnn,
            Recurrence::Lstm,
            Recurrence::Gru,
            Recurrence::GruResetAfter,
        ];
        for cell in cells {
            for hidden in [2, 4, 8] {
                let (ni, no, steps) = (3, 2, 150);
                let g = cell.gates() * hidden;
                let value = |k: usize, m: usize| ((k * 37 + m) % 19) as f32 / 19.0 - 0.5;
                let kernel: Vec<f32> = (0..ni * g).map(|k| value(k, 1)).collect();
                let recurrent: Vec<f32> = (0..hidden * g).map(|k| value(k, 2)).collect();
                let bias: Vec<f32> = (0..g).map(|k| value(k, 3)).collect();
                let recurrent_bias: Vec<f32> = (0..g).map(|k| value(k, 4)).collect();
                let dense: Vec<f32> = (0..hidden * no).map(|k| value(k, 5)).collect();
                let dense_bias = vec![0.1, -0.2];
                let net = Net {
                    cell,
                    hidden,
                    inputs: ni,
                    outputs: no,
                    kernel: &kernel,
                    recurrent: &recurrent,
                    bias: &bias,
                    recurrent_bias: &recurrent_bias,
                    dense: &dense,
                    dense_bias: &dense_bias,
                };
                let plain = Weighted {
                    net,
                    w: &kernel,
                    u: &recurrent,
                    b: &bias,
                    rb: &recurrent_bias,
                    d: &dense,
                    db: &dense_bias,
                };
                let x: Vec<f32> = (0..steps * ni).map(|k| 3.0 * value(k, 6)).collect();
                let fixed = match hidden {
                    2 => run::<f32, 2>(&plain, &x, steps),
                    4 => run::<f32, 4>(&plain, &x, steps),
                    _ => run::<f32, 8>(&plain, &x, steps),
                };
                assert_eq!(fixed, run::<f32, 0>(&plain, &x, steps), "{cell:?}-{hidden}");
                let lane = |v: &[f32]| v.iter().map(|&x| Lane::splat(x)).collect::<Vec<_>>();
                let (b, rb, db) = (lane(&bias), lane(&recurrent_bias), lane(&dense_bias));
                let lanes = Weighted {
                    net,
                    w: &kernel,
                    u: &recurrent,
                    b: &b,
                    rb: &rb,
                    d: &dense,
                    db: &db,
                };
                let xl: Vec<Lane> = x
                    .iter()
                    .enumerate()
                    .map(|(k, &v)| {
                        Lane(std::array::from_fn(|l| {
                            v + 0.1 * l as f32 + k as f32 * 1e-3
                        }))
                    })
                    .collect();
                let fixed = match hidden {
                    2 => run::<Lane, 2>(&lanes, &xl, steps),
                    4 => run::<Lane, 4>(&lanes, &xl, steps),
                    _ => run::<Lane, 8>(&lanes, &xl, steps),
                };
                assert_eq!(
                    fixed,
                    run::<Lane, 0>(&lanes, &xl, steps),
                    "{cell:?}-{hidden} lanes"
                );
            }
        }
    }
}
