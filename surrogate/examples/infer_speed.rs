//! Times the fused inference path: `cargo run --release -p surrogate --example infer_speed`.
use std::time::Instant;
use surrogate::{Architecture, Recurrence, Scaling, Weights};

fn main() {
    let arch = Architecture {
        cell: Recurrence::Gru,
        hidden: 4,
        inputs: 4,
        outputs: 4,
    };
    let w = Weights::initial(&arch, 0);
    let s = Scaling::identity(4, 4);
    let steps = 5000;
    for n in [1usize, 8, 40] {
        let x: Vec<f32> = (0..n * steps * 4).map(|k| (k % 7) as f32 / 7.0).collect();
        let mut best = f64::MAX;
        for _ in 0..20 {
            let t = Instant::now();
            std::hint::black_box(surrogate::train::predict(&arch, &w, &s, &x, steps));
            best = best.min(t.elapsed().as_secs_f64());
        }
        println!(
            "{n:>3} sequences: {:.3} ms per sequence ({:.1} ns per sequence-step)",
            best / n as f64 * 1e3,
            best / (n * steps) as f64 * 1e9
        );
    }
}
