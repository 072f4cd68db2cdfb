//! Wall time of the simulator against a surrogate for the same stimulus: the simulator runs
//! a model (settled, as for datasets) through one FCM stimulus sequence of 500 ms on one
//! thread; the surrogate predicts the same sequence, alone and in a batch of 40 different
//! sequences.

use std::time::Instant;

use anyhow::Context;
use datasets::{Generation, Prepared, Scenario};
use surrogate::{Architecture, Scaling, Weights};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v[v.len() / 2]
}

/// Median wall time of `f` over repeats filling about `budget` seconds (3 to 50 repeats).
fn time(budget: f64, mut f: impl FnMut()) -> f64 {
    let start = Instant::now();
    f();
    let once = start.elapsed().as_secs_f64();
    let repeats = ((budget / once.max(1e-9)) as usize).clamp(3, 50);
    median(
        (0..repeats)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed().as_secs_f64()
            })
            .collect(),
    )
}

/// Wall times of one FCM sequence of 500 ms at one time step.
pub struct Timing {
    /// Time step \[ms\].
    pub dt: f64,
    /// Steps of the sequence.
    pub steps: usize,
    /// The simulator, one thread \[s\].
    pub simulator: f64,
    /// The surrogate on the sequence alone \[s\].
    pub one: f64,
    /// The surrogate per sequence within a batch of 40 \[s\].
    pub batch: f64,
}

/// Times the simulator (`model`, settled, one FCM sequence, one thread) and a surrogate on
/// the same stimulus, alone and within a batch of 40 different FCM sequences.
pub fn measure(
    model: &neuroml::Model,
    arch: &Architecture,
    weights: &Weights,
    scaling: &Scaling,
    dt: f64,
) -> anyhow::Result<Timing> {
    let g = Generation::new(Scenario::builtin("fcm").context("fcm scenario")?, dt);
    let steps = g.steps()?;
    let prepared = Prepared::new(model, &g)?;
    let start = Instant::now();
    let (inputs, _, _) = prepared.simulate(0)?;
    let simulator = start.elapsed().as_secs_f64();
    let x: Vec<f32> = inputs.iter().flatten().map(|&v| v as f32).collect();
    let batch_x: Vec<f32> = (0..40)
        .flat_map(|k| {
            g.spec(k)
                .sample(dt, steps)
                .into_iter()
                .flatten()
                .map(|v| v as f32)
        })
        .collect();
    let one = time(0.5, || {
        std::hint::black_box(surrogate::train::predict(arch, weights, scaling, &x, steps));
    });
    let batch = time(0.5, || {
        std::hint::black_box(surrogate::train::predict(
            arch, weights, scaling, &batch_x, steps,
        ));
    }) / 40.0;
    Ok(Timing {
        dt,
        steps,
        simulator,
        one,
        batch,
    })
}
