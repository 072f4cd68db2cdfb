//! Model directories: a trained model's `model.json` and `weights.json`, mutated.

use super::*;

/// A small model directory trained by the program itself.
fn trained_model(dir: &Path) -> PathBuf {
    let data = dir.join("train.h5");
    let (n, t) = (6, 20);
    let d = Dataset {
        time: (0..t).map(|k| k as f64 * 0.5).collect(),
        dt: 0.5,
        sequences: n,
        inputs: (0..n * t * 2).map(|k| (k as f32 * 0.37).sin()).collect(),
        outputs: (0..n * t).map(|k| (k as f32 * 0.11).cos()).collect(),
        voltages: None,
        split: vec![0, 0, 0, 1, 2, 2],
        input_names: vec!["A".into(), "B".into()],
        output_names: vec!["Y".into()],
        cell_names: Vec::new(),
        input_unit: "pA".into(),
        output_unit: "mV".into(),
        scenario: "fuzz".into(),
        model_sha256: String::new(),
        seed: 0,
        stimuli: vec![serde_json::Value::Null; n],
        generator: "tests/fuzz.rs".into(),
        shard: None,
    };
    d.write(&data).unwrap();
    let model = dir.join("model");
    let out = Command::new(env!("CARGO_BIN_EXE_celegans"))
        .args([
            "train",
            "--data",
            data.to_str().unwrap(),
            "--arch",
            "lstm",
            "--hidden",
            "2",
        ])
        .args([
            "--epochs",
            "2",
            "--runs",
            "1",
            "--out",
            model.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    model
}

#[test]
fn model_directories() {
    let dir = scratch("models");
    let model = trained_model(&dir);
    let texts: Vec<(String, String)> = ["model.json", "weights.json"]
        .iter()
        .map(|f| {
            (
                f.to_string(),
                std::fs::read_to_string(model.join(f)).unwrap(),
            )
        })
        .collect();
    let mut rng = rng(2);
    hunt("model directories", &dir, |input| {
        let pick = rng.random_range(0..texts.len());
        for (k, (name, text)) in texts.iter().enumerate() {
            let bytes = if k == pick {
                mutate(text, &mut rng)
            } else {
                text.clone().into_bytes()
            };
            std::fs::write(input.join(name), bytes).unwrap();
        }
        let Ok((m, w)) = surrogate::store::load(input) else {
            return Ok(false);
        };
        let arch = m.architecture;
        let x = vec![0.5f32; 2 * 5 * arch.inputs];
        let y = surrogate::train::predict(&arch, &w, &m.scaling, &x, 5);
        if y.len() != 2 * 5 * arch.outputs {
            return Err(format!("{} outputs for 2 x 5 x {}", y.len(), arch.outputs));
        }
        Ok(true)
    });
}
