use super::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

fn random(n: usize, scale: f64, rng: &mut ChaCha8Rng) -> Vec<f64> {
    (0..n).map(|_| rng.random_range(-scale..scale)).collect()
}

/// Random projected inputs, recurrent kernel, recurrent bias and hidden-state weights.
fn case(
    cell: Recurrence,
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

/// [`case`] in f32.
fn case_f32(cell: Recurrence, dims: Dims, seed: u64) -> (Vec<f32>, Vec<f32>, Vec<f32>, Vec<f32>) {
    let f32s = |v: Vec<f64>| v.into_iter().map(|x| x as f32).collect::<Vec<f32>>();
    let (a, u, b, w) = case(cell, dims, seed, 1.5);
    (f32s(a), f32s(u), f32s(b), f32s(w))
}

/// Every cell.
const CELLS: [Recurrence; 4] = [
    Recurrence::Rnn,
    Recurrence::Lstm,
    Recurrence::Gru,
    Recurrence::GruResetAfter,
];

/// Loss Σ w ∘ h for fixed random weights w: its gradient with respect to h is w.
fn loss(cell: Recurrence, dims: Dims, a: &[f64], u: &[f64], b: &[f64], w: &[f64]) -> f64 {
    let f = forward::<f64>(cell, dims, a, u, b);
    f.h.iter().zip(w).map(|(h, w)| h * w).sum()
}

/// Every gradient of every cell agrees with central finite differences.
#[test]
fn gradients_match_finite_differences() {
    for cell in CELLS {
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
    let f = forward::<f64>(Recurrence::Rnn, dims, &[0.5, -1.0, 2.0], &[0.0], &[0.0]);
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
    for cell in CELLS {
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
    for cell in CELLS {
        let dims = Dims {
            batch: 11,
            steps: 30,
            hidden: 3,
        };
        let (a, u, b, dh) = case_f32(cell, dims, 4);
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

/// The register-blocked products give the plain loops' numbers bit for bit (same terms in
/// the same order), for shapes that leave partial blocks, in f32, f64 and lanes.
#[test]
fn blocked_products_equal_the_plain_loops() {
    use super::products::{add_vec_mat, add_vec_ut};
    fn check<R: Real>(
        to: impl Fn(f64) -> R,
        weight: impl Fn(f64) -> R::Weight,
        mul: fn(R, R::Weight) -> R,
    ) {
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        for (rows, width, offset) in [(5, 83, 7), (32, 96, 0), (3, 200, 64), (1, 9, 0)] {
            let cols = width - offset;
            let v: Vec<R> = random(rows, 1.0, &mut rng).into_iter().map(&to).collect();
            let m: Vec<R::Weight> = random(rows * width, 1.0, &mut rng)
                .into_iter()
                .map(&weight)
                .collect();
            let start: Vec<R> = random(cols, 1.0, &mut rng).into_iter().map(&to).collect();
            let mut blocked = start.clone();
            add_vec_mat(&v, &m, width, offset, &mut blocked);
            let mut plain = start.clone();
            for (k, &vk) in v.iter().enumerate() {
                for (j, o) in plain.iter_mut().enumerate() {
                    *o += mul(vk, m[k * width + offset + j]);
                }
            }
            assert_eq!(blocked, plain, "vec-mat {rows}x{width}+{offset}");
            // Uᵀ is [width, rows]: a product with rows `offset..` of it.
            let d: Vec<R> = random(width - offset, 1.0, &mut rng)
                .into_iter()
                .map(&to)
                .collect();
            let mut blocked = v.clone();
            add_vec_ut(&d, &m, offset, &mut blocked);
            let mut plain = v.clone();
            for (j, &dj) in d.iter().enumerate() {
                for (i, o) in plain.iter_mut().enumerate() {
                    *o += mul(dj, m[(offset + j) * rows + i]);
                }
            }
            assert_eq!(blocked, plain, "vec-ut {rows}x{width}+{offset}");
        }
    }
    check::<f32>(|x| x as f32, |x| x as f32, |a, b| a * b);
    check::<f64>(|x| x, |x| x, |a, b| a * b);
    check::<Lane>(
        |x| Lane(std::array::from_fn(|l| (x * (l as f64 + 1.0)) as f32)),
        |x| x as f32,
        |a, b| a * Lane::splat(b),
    );
}

/// The states-only forward pass (evaluation) gives the training forward's states bit for
/// bit, across block boundaries, for every cell.
#[test]
fn states_only_forward_equals_the_training_forward() {
    for cell in CELLS {
        let dims = Dims {
            batch: 3,
            steps: 150,
            hidden: 5,
        };
        let (a, u, b, _) = case_f32(cell, dims, 6);
        let full = forward::<f32>(cell, dims, &a, &u, &b);
        assert_eq!(forward_states(cell, dims, &a, &u, &b), full.h, "{cell:?}");
    }
}

/// The builds for fixed layer sizes (16, 32, 64 hidden units, chosen by the kernels'
/// dispatch) give the general build's numbers, bit for bit: forward, states-only forward
/// and backward, every cell.
#[test]
fn fixed_layer_sizes_give_the_general_numbers() {
    use bptt::{
        backward_fast, backward_one, forward_fast, forward_one, forward_states_fast,
        forward_states_one, transpose,
    };
    for cell in CELLS {
        for hidden in [16, 32, 64] {
            let dims = Dims {
                batch: 1,
                steps: 40,
                hidden,
            };
            let (a, u, b, w) = case_f32(cell, dims, 11);
            let (width, cw) = (cell.gates() * hidden, cell.cache_width() * hidden);
            let run = |fast: bool| {
                let mut h = vec![0.0f32; dims.steps * hidden];
                let mut cache = vec![0.0f32; dims.steps * cw];
                let mut states = vec![0.0f32; dims.steps * hidden];
                if fast {
                    forward_fast(cell, hidden, dims.steps, &a, &u, &b, &mut h, &mut cache);
                } else {
                    forward_one(cell, hidden, dims.steps, &a, &u, &b, &mut h, &mut cache);
                }
                if fast {
                    forward_states_fast(cell, hidden, dims.steps, &a, &u, &b, &mut states);
                } else {
                    forward_states_one(cell, hidden, dims.steps, &a, &u, &b, &mut states);
                }
                let ut = transpose(&u, hidden, width);
                let mut da = vec![0.0f32; dims.steps * width];
                let (du, db) = if fast {
                    backward_fast(cell, hidden, dims.steps, &ut, &h, &cache, &w, &mut da)
                } else {
                    backward_one(cell, hidden, dims.steps, &ut, &h, &cache, &w, &mut da)
                };
                (h, cache, states, da, du, db)
            };
            let (general, fixed) = (run(false), run(true));
            assert_eq!(general, fixed, "{cell:?}-{hidden}");
            assert_eq!(
                general.0, general.2,
                "{cell:?}-{hidden}: states-only forward"
            );
        }
    }
}
