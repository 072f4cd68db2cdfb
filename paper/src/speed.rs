//! Wall time of the simulator against a surrogate for the same stimuli: the simulator runs
//! a model (settled, as for datasets) through one FCM stimulus sequence of 500 ms on one
//! thread while the surrogate predicts the same sequence alone; then a batch of different
//! sequences is generated as a dataset on all cores while the surrogate predicts the same
//! batch on all cores.

use std::time::Instant;

use anyhow::Context;
use datasets::{Generation, Prepared, Scenario};
use surrogate::data::Set;
use surrogate::{Architecture, ScaleMode, Scaling, Weights};

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

/// Wall times of one FCM sequence of 500 ms at one time step, and of a batch of them.
pub struct Timing {
    /// Time step \[ms\].
    pub dt: f64,
    /// Steps of the sequence.
    pub steps: usize,
    /// The simulator, one sequence on one thread \[s\].
    pub simulator: f64,
    /// The surrogate on the sequence alone \[s\].
    pub one: f64,
    /// The batch, both sides on all cores.
    pub batch: Batch,
}

/// Wall times of `sequences` different FCM sequences, each side using every core.
pub struct Batch {
    /// Sequences in the batch.
    pub sequences: usize,
    /// The simulator: the whole dataset generation of the batch (settling the network once,
    /// then the sequences in parallel, as `celegans dataset generate`) \[s\].
    pub simulator: f64,
    /// The surrogate predicting the batch's recorded inputs in one call \[s\].
    pub surrogate: f64,
}

/// Times the simulator (`model`, settled, one FCM sequence, one thread) and a surrogate on
/// the same stimulus alone; then `sequences` different FCM sequences generated as a
/// dataset on all cores against the surrogate predicting the same inputs on all cores.
/// Without a `scaling` (a surrogate not trained on these data), the surrogate's scaling is
/// fitted to the first sequence as `celegans train` fits it to a training split (its default,
/// `auto`: standardized, the inputs being currents of tens to hundreds of pA), so that the
/// network sees values of the size a trained one sees. `progress` hears what is being timed.
pub fn measure(
    model: &neuroml::Model,
    arch: &Architecture,
    weights: &Weights,
    scaling: Option<&Scaling>,
    dt: f64,
    sequences: usize,
    progress: &dyn Fn(&str),
) -> anyhow::Result<Timing> {
    let mut g = Generation::new(Scenario::builtin("fcm").context("fcm scenario")?, dt);
    let steps = g.steps()?;
    progress("building and settling the network");
    let prepared = Prepared::new(model, &g)?;
    progress("one sequence on one thread");
    let start = Instant::now();
    let (inputs, outputs, _) = prepared.simulate(0)?;
    let simulator = start.elapsed().as_secs_f64();
    let x: Vec<f32> = inputs.iter().flatten().map(|&v| v as f32).collect();
    let fitted;
    let scaling = match scaling {
        Some(s) => s,
        None => {
            fitted = Scaling::fit(
                ScaleMode::Auto,
                &Set {
                    sequences: 1,
                    steps,
                    inputs: arch.inputs,
                    outputs: arch.outputs,
                    x: x.clone(),
                    y: outputs.iter().flatten().map(|&v| v as f32).collect(),
                    indices: vec![0],
                },
            );
            &fitted
        }
    };
    let one = time(0.5, || {
        std::hint::black_box(surrogate::train::predict(arch, weights, scaling, &x, steps));
    });
    g.count = sequences;
    progress(&format!("{sequences} sequences on all cores"));
    let start = Instant::now();
    let dataset = datasets::generate(model, &g, &|_| {})?;
    let batch_simulator = start.elapsed().as_secs_f64();
    let batch_surrogate = time(0.5, || {
        std::hint::black_box(surrogate::train::predict(
            arch,
            weights,
            scaling,
            &dataset.inputs,
            steps,
        ));
    });
    Ok(Timing {
        dt,
        steps,
        simulator,
        one,
        batch: Batch {
            sequences,
            simulator: batch_simulator,
            surrogate: batch_surrogate,
        },
    })
}
