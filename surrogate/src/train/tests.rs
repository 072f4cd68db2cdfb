use super::*;
use crate::data::Set;

fn synthetic(sequences: usize, steps: usize, seed: u64) -> Set {
    // Output: a leaky integral of the input, a target every cell can learn.
    use rand::Rng;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut x = Vec::new();
    let mut y = Vec::new();
    for _ in 0..sequences {
        let mut state = 0.0f32;
        for _ in 0..steps {
            let u: f32 = if rng.random_bool(0.1) {
                rng.random_range(-1.0..1.0)
            } else {
                0.0
            };
            state = 0.8 * state + 0.5 * u;
            x.push(u);
            y.push(state);
        }
    }
    Set {
        sequences,
        steps,
        inputs: 1,
        outputs: 1,
        x,
        y,
        indices: (0..sequences).collect(),
    }
}

fn splits(seed: u64) -> Splits {
    Splits {
        valid: synthetic(4, 40, seed + 1),
        test: synthetic(4, 40, seed + 2),
        ..around(synthetic(8, 40, seed), 40)
    }
}

/// `train` with synthetic validation and test sets of 4 sequences of `steps` steps (seeds 4
/// and 5).
fn around(train: Set, steps: usize) -> Splits {
    Splits {
        train,
        valid: synthetic(4, steps, 4),
        test: synthetic(4, steps, 5),
        input_names: vec!["u".into()],
        output_names: vec!["y".into()],
    }
}

/// burn's gradients of the whole model (input projection, recurrence node, read-out, loss)
/// agree with finite differences of the loss, for every cell.
#[test]
fn model_gradients_match_finite_differences() {
    for cell in [
        Recurrence::Rnn,
        Recurrence::Lstm,
        Recurrence::Gru,
        Recurrence::GruResetAfter,
    ] {
        let arch = Architecture {
            cell,
            hidden: 3,
            inputs: 2,
            outputs: 2,
        };
        let mut weights = Weights::initial(&arch, 5);
        // Non-zero biases so that every path is exercised.
        weights
            .bias
            .iter_mut()
            .enumerate()
            .for_each(|(k, b)| *b += 0.1 * (k as f32 % 3.0 - 1.0));
        weights
            .recurrent_bias
            .iter_mut()
            .enumerate()
            .for_each(|(k, b)| *b = 0.05 * (k as f32 % 4.0 - 1.5));
        weights.dense_bias = vec![0.2, -0.1];
        let (b, t) = (2, 5);
        let x: Vec<f32> = (0..b * t * 2)
            .map(|k| (k * 7 % 11) as f32 / 5.0 - 1.0)
            .collect();
        let y: Vec<f32> = (0..b * t * 2)
            .map(|k| (k * 5 % 13) as f32 / 6.0 - 1.0)
            .collect();
        let device = Device::flex().autodiff();
        let network = weights.to_network(&arch, &device);
        let loss = loss_of(
            Loss::Mse,
            network.forward(cell, tensor3(x.clone(), [b, t, 2], &device)),
            tensor3(y.clone(), [b, t, 2], &device),
        );
        let analytic = super::keras::gradients(&network, loss);
        let identity = Scaling::identity(2, 2);
        let mse = |w: &Weights| -> f64 {
            let p = predict(&arch, w, &identity, &x, t);
            p.iter()
                .zip(&y)
                .map(|(a, b)| (*a as f64 - *b as f64).powi(2))
                .sum::<f64>()
                / y.len() as f64
        };
        let eps = 1e-2f32;
        type Field = fn(&mut Weights) -> &mut Vec<f32>;
        let fields: [(&str, Field, &Vec<f32>); 6] = [
            ("kernel", |w| &mut w.kernel, &analytic.kernel),
            ("recurrent", |w| &mut w.recurrent, &analytic.recurrent),
            ("bias", |w| &mut w.bias, &analytic.bias),
            (
                "recurrent_bias",
                |w| &mut w.recurrent_bias,
                &analytic.recurrent_bias,
            ),
            ("dense", |w| &mut w.dense, &analytic.dense),
            ("dense_bias", |w| &mut w.dense_bias, &analytic.dense_bias),
        ];
        for (name, field, grad) in fields {
            let n = field(&mut weights.clone()).len();
            assert_eq!(grad.len(), n, "{cell:?} {name}");
            for (k, &g) in grad.iter().enumerate() {
                let (mut plus, mut minus) = (weights.clone(), weights.clone());
                field(&mut plus)[k] += eps;
                field(&mut minus)[k] -= eps;
                let numeric = (mse(&plus) - mse(&minus)) / (2.0 * eps as f64);
                let a = g as f64;
                assert!(
                    (numeric - a).abs() <= 2e-3 + 2e-2 * a.abs(),
                    "{cell:?} d{name}[{k}]: burn {a} vs finite difference {numeric}"
                );
            }
        }
    }
}

/// A small GRU learns a leaky integrator far below the loss of predicting its mean, and
/// the same seed gives the same weights.
#[test]
fn a_tiny_gru_learns_a_leaky_integrator_reproducibly() {
    let data = splits(11);
    let mut settings = Settings::paper(Recurrence::Gru, 4);
    settings.epochs = 60;
    settings.runs = 1;
    settings.lr = 0.02;
    let (_, runs) = train(&settings, &data, &mut ()).unwrap();
    let target = &data.test.y;
    let mean = target.iter().sum::<f32>() / target.len() as f32;
    let baseline = (target.iter().map(|v| (v - mean).powi(2)).sum::<f32>() / target.len() as f32)
        .sqrt() as f64;
    let test = runs[0].errors.test.rmse.unwrap();
    assert!(
        test < 0.3 * baseline,
        "test RMSE {test} vs predicting the mean {baseline}"
    );
    assert!(runs[0].curve.last().unwrap().train_loss < runs[0].curve[0].train_loss);
    let (_, again) = train(&settings, &data, &mut ()).unwrap();
    assert_eq!(runs[0].weights, again[0].weights);
    assert_eq!(runs[0].best_epoch, again[0].best_epoch);
}

/// A loss that overflows ends the training with a typed error, not NaN results.
#[test]
fn a_diverging_run_is_an_error() {
    let mut data = splits(3);
    data.train.y.iter_mut().for_each(|v| *v *= 1e25);
    let mut settings = Settings::paper(Recurrence::Rnn, 2);
    settings.scale = ScaleMode::None;
    settings.epochs = 5;
    settings.runs = 1;
    settings.loss = Loss::Mse;
    let e = train(&settings, &data, &mut ()).unwrap_err();
    assert!(matches!(e, Error::Diverged { run: 1, .. }), "{e}");
    // Diverging from the first epoch leaves nothing to keep, even when asked to.
    settings.keep_best_on_divergence = true;
    assert!(train(&settings, &data, &mut ()).is_err());
}

/// Saliency equals finite differences of each output's sum with respect to each input,
/// in data units (with a non-trivial scaling).
#[test]
fn saliency_matches_finite_differences() {
    let arch = Architecture {
        cell: Recurrence::Gru,
        hidden: 3,
        inputs: 2,
        outputs: 2,
    };
    let weights = Weights::initial(&arch, 8);
    let scaling = Scaling {
        input_offset: vec![1.0, -2.0],
        input_scale: vec![2.0, 0.5],
        output_offset: vec![-60.0, 3.0],
        output_scale: vec![10.0, 4.0],
    };
    let steps = 6;
    let x: Vec<f32> = (0..steps * 2)
        .map(|k| (k * 3 % 7) as f32 / 3.0 - 1.0)
        .collect();
    let s = saliency(&arch, &weights, &scaling, &x, steps);
    assert_eq!(s.len(), 2 * steps * 2);
    let sum = |x: &[f32], o: usize| -> f64 {
        predict(&arch, &weights, &scaling, x, steps)
            .iter()
            .skip(o)
            .step_by(2)
            .map(|&v| v as f64)
            .sum()
    };
    let eps = 1e-2f32;
    for o in 0..2 {
        for k in 0..steps * 2 {
            let (mut plus, mut minus) = (x.clone(), x.clone());
            plus[k] += eps;
            minus[k] -= eps;
            let numeric = (sum(&plus, o) - sum(&minus, o)) / (2.0 * eps as f64);
            let a = s[o * steps * 2 + k] as f64;
            assert!(
                (numeric - a).abs() <= 2e-3 + 2e-2 * a.abs(),
                "output {o}, input value {k}: {a} vs {numeric}"
            );
        }
    }
}

/// A batch predicted in vector lanes (full and partial groups, data units mapped as the
/// lanes are loaded and stored) gives each sequence's prediction alone, bit for bit, and
/// the data-unit mapping is the scaling's own arithmetic.
#[test]
fn batched_prediction_equals_each_sequence_alone() {
    for (cell, hidden) in [
        (Recurrence::Gru, 4),
        (Recurrence::Lstm, 9),
        (Recurrence::Rnn, 16),
    ] {
        let arch = Architecture {
            cell,
            hidden,
            inputs: 3,
            outputs: 2,
        };
        let weights = Weights::initial(&arch, 5);
        let scaling = Scaling {
            input_offset: vec![1.0, 0.0, -1.0],
            input_scale: vec![2.0, 0.3, 0.5],
            output_offset: vec![-60.0, 0.1],
            output_scale: vec![5.0, 0.7],
        };
        let (n, steps) = (11, 70);
        let x: Vec<f32> = (0..n * steps * 3)
            .map(|k| (k * 29 % 23) as f32 / 7.0 - 1.5)
            .collect();
        let batch = predict(&arch, &weights, &scaling, &x, steps);
        let network = predict(
            &arch,
            &weights,
            &Scaling::identity(3, 2),
            &scaling.inputs(&x),
            steps,
        );
        assert_eq!(batch, scaling.unscale_outputs(&network), "{cell:?}");
        for b in 0..n {
            let alone = predict(
                &arch,
                &weights,
                &scaling,
                &x[b * steps * 3..(b + 1) * steps * 3],
                steps,
            );
            assert_eq!(
                alone,
                batch[b * steps * 2..(b + 1) * steps * 2],
                "{cell:?} {b}"
            );
        }
    }
}

/// The fused inference path gives what burn's operations give, for every cell.
#[test]
fn fused_prediction_equals_burns() {
    for cell in [
        Recurrence::Rnn,
        Recurrence::Lstm,
        Recurrence::Gru,
        Recurrence::GruResetAfter,
    ] {
        let arch = Architecture {
            cell,
            hidden: 5,
            inputs: 3,
            outputs: 2,
        };
        let mut weights = Weights::initial(&arch, 2);
        weights
            .bias
            .iter_mut()
            .enumerate()
            .for_each(|(k, b)| *b = 0.1 * (k % 3) as f32);
        weights.recurrent_bias.iter_mut().for_each(|b| *b = -0.05);
        let scaling = Scaling {
            input_offset: vec![1.0, 0.0, -1.0],
            input_scale: vec![2.0, 1.0, 0.5],
            output_offset: vec![-60.0, 0.0],
            output_scale: vec![5.0, 1.0],
        };
        // One sequence runs alone, eleven in vector lanes (a full group and a partial one).
        for n in [1, 11] {
            let steps = 150;
            let x: Vec<f32> = (0..n * steps * 3)
                .map(|k| (k * 13 % 17) as f32 / 8.0 - 1.0)
                .collect();
            let fused = predict(&arch, &weights, &scaling, &x, steps);
            let reference = predict_burn(&arch, &weights, &scaling, &x, steps);
            assert_eq!(fused.len(), reference.len());
            for (a, b) in fused.iter().zip(&reference) {
                assert!(
                    (a - b).abs() <= 1e-4 * (1.0 + b.abs()),
                    "{cell:?}, {n} sequences: {a} vs {b}"
                );
            }
        }
    }
}

/// All runs of `settings`, with no checkpoint.
fn train(settings: &Settings, splits: &Splits, _: &mut ()) -> Result<(Scaling, Vec<Run>), Error> {
    crate::runs::train_runs(settings, splits, None, &|_, _| {}).map(|t| (t.scaling, t.runs))
}

/// Resuming from a checkpoint folder reuses runs only when they are intact and were trained
/// on the same data: a run file damaged in place, or data of the same shape with other
/// values, trains again (and gives what a fresh training gives).
#[test]
fn resume_reuses_only_intact_runs_of_the_same_data() {
    let mut settings = Settings::paper(Recurrence::Gru, 2);
    (settings.epochs, settings.runs) = (3, 2);
    let tmp = tempfile::tempdir().unwrap();
    let folder = tmp.path().join("resume-checks");
    let extra = serde_json::json!({});
    let train = |splits: &Splits| {
        let c = crate::runs::Checkpoint {
            folder: &folder,
            extra: &extra,
        };
        crate::runs::train_runs(&settings, splits, Some(c), &|_, _| {}).unwrap()
    };
    let (a, b) = (splits(1), splits(7));
    let first = train(&a);
    assert_eq!(first.resumed, 0);
    assert_eq!(
        train(&a).resumed,
        2,
        "intact runs of the same data are reused"
    );

    // A digit of a weight changed in place: run 1 (and every run after it) trains again.
    let file = folder.join("runs/01.json");
    let text = std::fs::read_to_string(&file).unwrap();
    let at = text.find("\"weights\"").unwrap()
        + text[text.find("\"weights\"").unwrap()..]
            .find(|c: char| c.is_ascii_digit())
            .unwrap();
    let digit = text.as_bytes()[at];
    let mut damaged = text.clone().into_bytes();
    damaged[at] = if digit == b'9' { b'8' } else { digit + 1 };
    std::fs::write(&file, damaged).unwrap();
    let again = train(&a);
    assert_eq!(again.resumed, 0, "a damaged run was reused");
    assert_eq!(again.runs[0].weights, first.runs[0].weights);

    // Other data of the same shape: nothing is reused.
    let other = train(&b);
    assert_eq!(other.resumed, 0, "runs of other data were reused");
    let fresh = crate::runs::train_runs(&settings, &b, None, &|_, _| {}).unwrap();
    assert_eq!(other.runs[1].weights, fresh.runs[1].weights);
}

/// A step whose gradient cannot be squared in f32 is not applied and is recorded; the run
/// goes on with finite weights (here one sequence of twelve has targets of 1e30, so every
/// epoch skips exactly its step).
#[test]
fn a_non_finite_step_is_skipped_and_recorded() {
    let mut train = synthetic(12, 20, 3);
    train.y[..20].iter_mut().for_each(|v| *v = 1e30);
    let splits = around(train, 20);
    let mut settings = Settings::paper(Recurrence::Gru, 3);
    (settings.epochs, settings.batch, settings.scale) = (3, 1, ScaleMode::None);
    let scaling = Scaling::fit(settings.scale, &splits.train);
    let run = train_run(&settings, &splits, &scaling, 0, 0, &mut ()).unwrap();
    assert_eq!(run.skipped_steps.len(), 3, "{:?}", run.skipped_steps);
    assert_eq!(
        run.skipped_steps.iter().map(|s| s.0).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    assert!(run.weights.iter().all(f32::is_finite));
    assert_eq!(run.diverged_at, None);
    // Each epoch's point says how many of its steps were skipped, curves.csv which.
    assert_eq!(
        run.curve.iter().map(|e| e.skipped).collect::<Vec<_>>(),
        [1, 1, 1]
    );
    let csv = crate::store::curves_csv(std::slice::from_ref(&run));
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows[0], "run,epoch,train_loss,valid_loss,skipped_steps");
    for (row, (epoch, step)) in rows[1..].iter().zip(&run.skipped_steps) {
        assert!(row.starts_with(&format!("1,{epoch},")), "{row}");
        assert!(row.ends_with(&format!(",{step}")), "{row}");
    }
}

/// The default learning rate: the paper's on data trained unscaled, 0.02 for LSTM/GRU on
/// standardized data (`--scale auto` on values beyond 10, or `--scale standard`), RNN's
/// 0.001 either way.
#[test]
fn the_default_learning_rate_follows_the_scaling() {
    let small = synthetic(4, 20, 1);
    let mut large = small.clone();
    large.y.iter_mut().for_each(|y| *y = *y * 100.0 - 60.0); // mV-like
    for (cell, unscaled, standardized) in [
        (Recurrence::Gru, 0.05, 0.02),
        (Recurrence::Lstm, 0.05, 0.02),
        (Recurrence::Rnn, 0.001, 0.001),
    ] {
        let mut s = Settings::paper(cell, 4);
        assert_eq!(s.lr, unscaled, "{cell:?}: the paper's");
        assert_eq!(
            s.default_lr(&small),
            unscaled,
            "{cell:?} auto, small values"
        );
        assert_eq!(s.default_lr(&large), standardized, "{cell:?} auto, mV");
        s.scale = ScaleMode::None;
        assert_eq!(s.default_lr(&large), unscaled, "{cell:?} none");
        s.scale = ScaleMode::Standard;
        assert_eq!(s.default_lr(&small), standardized, "{cell:?} standard");
    }
}

/// Records what a training reports.
#[derive(Default)]
struct Reported(Vec<Epoch>);

impl Progress for Reported {
    fn epoch(&mut self, _: usize, e: &Epoch) {
        self.0.push(*e);
    }
}

/// A deliberately exploding configuration (GRU-16 at lr 1 on 400-step sequences: its
/// gradient overflows f32 from epoch 5 on) recovers: the run is restored to its best epoch
/// and goes on at half the rate, the event is reported (progress, `Run::recoveries`), the
/// run ends with finite weights and improves after it; the same seed recovers the same way.
/// Without recoveries the same run ends as diverged.
#[test]
fn an_exploding_run_recovers_at_half_the_rate() {
    let splits = around(synthetic(8, 400, 3), 400);
    let mut settings = Settings::paper(Recurrence::Gru, 16);
    (settings.epochs, settings.batch, settings.scale) = (30, 8, ScaleMode::None);
    settings.lr = 1.0;
    let scaling = Scaling::fit(settings.scale, &splits.train);
    let mut reported = Reported::default();
    let run = train_run(&settings, &splits, &scaling, 0, 0, &mut reported).unwrap();
    assert_eq!(run.diverged_at, None);
    let first = *run
        .recoveries
        .first()
        .expect("the run exploded and recovered");
    assert_eq!(first.lr, 0.5);
    assert!(first.restored < first.epoch);
    // Ten skipped steps (one per epoch here) up to the epoch of the recovery.
    let skipped: Vec<usize> = run.skipped_steps.iter().map(|s| s.0).collect();
    assert_eq!(
        skipped[..10],
        (first.epoch - 9..=first.epoch).collect::<Vec<_>>()
    );
    // Reported to progress in that epoch, which has no point on the learning curve.
    let at = reported.0.iter().find(|e| e.epoch == first.epoch).unwrap();
    assert_eq!(at.recovery, Some(first));
    assert!(run
        .curve
        .iter()
        .all(|e| e.epoch != first.epoch && e.train_loss.is_finite()));
    assert!(run.weights.iter().all(f32::is_finite));
    assert!(
        run.best_epoch > first.epoch,
        "no better epoch after the recovery"
    );
    let again = train_run(&settings, &splits, &scaling, 0, 0, &mut ()).unwrap();
    assert_eq!(again.weights, run.weights);
    assert_eq!(again.recoveries, run.recoveries);

    settings.recoveries = 0;
    let e = train_run(&settings, &splits, &scaling, 0, 0, &mut ()).unwrap_err();
    assert!(
        matches!(e, Error::Diverged { run: 1, epoch } if epoch == first.epoch),
        "{e}"
    );
}

/// Saving the model directory never costs the checkpoint of finished runs: a save that fails
/// part-way (as a kill during the final write leaves it) keeps every run for the next
/// attempt; a stale assembly folder does not leak into the model; a successful save leaves
/// the model and removes both hidden folders.
#[test]
fn a_failed_final_write_keeps_the_finished_runs() {
    use crate::store::{self, ModelFile};
    let mut settings = Settings::paper(Recurrence::Gru, 2);
    (settings.epochs, settings.runs) = (3, 2);
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("model");
    let folder = store::partial_dir(&out);
    let extra = serde_json::json!({});
    let data = splits(1);
    let train = || {
        let c = crate::runs::Checkpoint {
            folder: &folder,
            extra: &extra,
        };
        crate::runs::train_runs(&settings, &data, Some(c), &|_, _| {}).unwrap()
    };
    let trained = train();
    let arch = architecture(&settings, &data);
    let model = ModelFile {
        format: store::FORMAT.into(),
        architecture: arch,
        params: arch.parameters(),
        input_names: data.input_names.clone(),
        output_names: data.output_names.clone(),
        input_unit: "pA".into(),
        output_unit: "mV".into(),
        dt_ms: 0.5,
        scaling: trained.scaling.clone(),
        settings: settings.clone(),
        dropped_inputs: Vec::new(),
        data: "synthetic".into(),
        seed: 0,
        best_epoch: trained.runs[0].best_epoch,
        errors: trained.runs[0].errors.clone(),
        generator: "test".into(),
    };
    let failed = store::save_with(&out, &model, &trained.runs, |_| {
        Err(crate::Error::Invalid("interrupted".into()))
    });
    assert!(failed.is_err());
    assert!(!out.exists(), "a failed save left a model");
    assert_eq!(train().resumed, 2, "a failed save cost the finished runs");

    // What a save killed part-way leaves behind (a failure cleans up after itself; a kill
    // cannot).
    let assembly = tmp.path().join(".model.partial.model");
    std::fs::create_dir_all(assembly.join("runs")).unwrap();
    std::fs::write(assembly.join("runs/09.json"), "stale").unwrap();
    store::save_with(&out, &model, &trained.runs, |_| Ok(())).unwrap();
    let mut files: Vec<String> = walk(&out);
    files.sort();
    assert_eq!(
        files,
        [
            "curves.csv",
            "model.json",
            "runs/01.json",
            "runs/02.json",
            "weights.json"
        ]
    );
    assert!(
        !folder.exists() && !assembly.exists(),
        "hidden folders left"
    );
}

/// The files below `dir`, as paths relative to it.
fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            out.extend(walk(&path).into_iter().map(|f| format!("{name}/{f}")));
        } else {
            out.push(name);
        }
    }
    out
}
