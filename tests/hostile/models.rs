//! Model directories and training requests: damaged scaling, sizes beyond memory, runaway training.

use super::*;

/// A model directory whose model.json was edited by hand or damaged.
fn damaged_model(dir: &Path, edit: impl FnOnce(&mut serde_json::Value)) -> PathBuf {
    let model = model(dir);
    let file = model.join("model.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(&file, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    model
}

#[test]
fn damaged_scaling_in_model_json() {
    let dir = scratch("scaling");
    let data = dir.join("good.h5");
    for (edit, what) in [
        (
            (|v: &mut serde_json::Value| v["scaling"]["output_scale"] = serde_json::json!([1.0]))
                as fn(&mut serde_json::Value),
            "scaling.output_scale has 1 values for 2 outputs",
        ),
        (
            |v: &mut serde_json::Value| v["scaling"]["input_scale"][1] = serde_json::json!(0.0),
            "scaling.input_scale[1] is 0",
        ),
    ] {
        let model = damaged_model(&dir, edit);
        let out = celegans(&["evaluate", "--model", p(&model), "--data", p(&data)]);
        refused(&out, &[p(&model.join("model.json")), what]);
    }
}

#[test]
fn a_model_too_large_for_memory_is_refused_before_training() {
    let dir = scratch("hidden");
    let data = dir.join("good.h5");
    dataset(&SPLIT).write(&data).unwrap();
    let out = train_gru(
        &data,
        &dir.join("m"),
        &["--hidden", "100000", "--epochs", "1"],
    );
    refused(
        &out,
        &[
            "a GRU-100000 with 2 inputs and 2 outputs",
            "of memory;",
            "is available",
        ],
    );
    assert!(!dir.join("m").exists());
}

/// A learning rate far too large: the loss runs away without becoming NaN. The training
/// ends with one line saying so, not with a model 10⁸ times worse than the mean.
#[test]
fn a_runaway_training_is_an_error_not_a_model() {
    let dir = scratch("lr");
    let data = dir.join("good.h5");
    dataset(&SPLIT).write(&data).unwrap();
    let model = dir.join("m");
    let out = train_gru(
        &data,
        &model,
        &[
            "--hidden", "4", "--epochs", "5", "--runs", "2", "--lr", "1e9",
        ],
    );
    // The training's own header comes first; the error is the last line.
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let last = err.trim_end().lines().last().unwrap();
    assert!(
        last.starts_with("error: training diverged: the best run's validation RMSE is"),
        "{err}"
    );
    assert!(last.ends_with("try a smaller --lr (it is 1e9)"), "{err}");
    assert!(!model.exists());
}
