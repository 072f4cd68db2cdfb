//! Stimulus and scenario files (TOML), `.dat` folders and split files, mutated from valid ones.

use super::*;

const STIMULI: &[&str] = &[
    "duration = 20.0\n[[input]]\nneuron = \"A\"\namplitude = 10.0\nshape = { kind = \"pulse\", onset = 5.0, width = 5.0 }\n",
    "duration = 40.0\ndt = 0.5\n[[input]]\nneuron = \"A\"\namplitude = 10.0\nshape = { kind = \"train\", onset = 2.0, width = 1.0, period = 4.0, count = 3 }\n[[input]]\nneuron = \"B\"\namplitude = -5.0\nshape = { kind = \"trapezoid\", onset = 1.0, rise = 2.0, hold = 3.0, fall = 4.0 }\n",
    "duration = 30.0\n[[input]]\nneuron = \"B\"\namplitude = 3.0\nshape = { kind = \"sine\", onset = 0.0, duration = 20.0, period = 5.0 }\n[[input]]\nneuron = \"A\"\namplitude = 3.0\nshape = { kind = \"chirp\", onset = 0.0, duration = 20.0, f0 = 0.01, f1 = 0.2 }\n",
    "duration = 30.0\n[[input]]\nneuron = \"A\"\namplitude = 3.0\nshape = { kind = \"noise\", onset = 1.0, duration = 20.0, knot = 2.0, knots = [0.1, 0.5, 0.9] }\n",
    "duration = 30.0\n[[input]]\nneuron = \"A\"\namplitude = 3.0\nshape = { kind = \"mix\", parts = [[0.5, { kind = \"pulse\", onset = 1.0, width = 2.0 }], [0.5, { kind = \"off\" }]] }\n",
];

#[test]
fn stimulus_files() {
    let dir = scratch("stimuli");
    let mut rng = rng(3);
    let names = vec!["A".to_string(), "B".to_string()];
    hunt("stimulus files", &dir, |input| {
        let path = input.join("stimulus.toml");
        let seed = STIMULI[rng.random_range(0..STIMULI.len())];
        std::fs::write(&path, mutate(seed, &mut rng)).unwrap();
        let Ok(file) = StimulusFile::read(&path) else {
            return Ok(false);
        };
        for dt in [file.dt.unwrap_or(0.5), 0.5, 0.1, 7.0] {
            if let Ok(rows) = file.sample(&names, dt) {
                if rows.iter().flatten().any(|v| !v.is_finite()) {
                    return Err(format!("a non-finite current at dt {dt}"));
                }
            }
        }
        Ok(true)
    });
}

const SCENARIOS: &[&str] = &[
    "name = \"touch\"\noutputs = [\"DB1\", \"VB1\"]\nablate = [\"AVBL\"]\n\n[[group]]\nname = \"PLM\"\nneurons = [\"PLML\", \"PLMR\"]\namplitude = [100.0, 200.0]\n",
    "name = \"two\"\noutputs = [\"DB1\"]\n\n[[group]]\nname = \"PLM\"\nneurons = [\"PLML\"]\namplitude = [50.0, 250.0]\n\n[[group]]\nname = \"AVB\"\nneurons = [\"AVBL\", \"AVBR\"]\namplitude = [1.0, 2.0]\n\n[[behaviour]]\nname = \"touch\"\ngroups = [\"PLM\"]\n\n[[behaviour]]\nname = \"drive\"\ngroups = [\"AVB\", \"PLM\"]\n",
];

#[test]
fn scenario_files() {
    let dir = scratch("scenarios");
    let mut rng = rng(4);
    hunt("scenario files", &dir, |input| {
        let path = input.join("scenario.toml");
        let seed = SCENARIOS[rng.random_range(0..SCENARIOS.len())];
        std::fs::write(&path, mutate(seed, &mut rng)).unwrap();
        let Ok(scenario) = Scenario::from_toml(&path) else {
            return Ok(false);
        };
        let mut g = Generation::new(scenario, 0.5);
        (g.count, g.duration) = (6, 50.0);
        let steps = g
            .steps()
            .map_err(|e| format!("a read scenario cannot size a generation: {e}"))?;
        for k in 0..g.count {
            let rows = g.spec(k).sample(g.dt, steps);
            if rows.iter().flatten().any(|v| !v.is_finite()) {
                return Err(format!("sequence {k} has a non-finite current"));
            }
        }
        Ok(true)
    });
}

const DAT: &str = "0 0.0 -0.05 1e-12 2e-12\n1 0.0005 -0.051 1e-12 2e-12\n2 0.001 -0.052 0 2e-12\n3 0.0015 -0.05 1e-12 0\n";

#[test]
fn dat_folders() {
    let dir = scratch("dat");
    let mut rng = rng(5);
    hunt(".dat folders", &dir, |input| {
        let files = rng.random_range(1..5);
        for k in 1..=files {
            let text = if rng.random_bool(0.6) {
                mutate(DAT, &mut rng)
            } else {
                DAT.as_bytes().to_vec()
            };
            std::fs::write(input.join(format!("Sequence_{k:02}.dat")), text).unwrap();
        }
        let import = Import {
            inputs: vec!["U1".into(), "U2".into()],
            outputs: vec!["Y".into()],
            split: None,
            input_unit: "A".into(),
            output_unit: "V".into(),
            generator: "tests/fuzz.rs".into(),
        };
        let Ok(d) = datasets::dat::import_dat(input, &import) else {
            return Ok(false);
        };
        d.check()
            .map_err(|e| format!("imported, but its check fails: {e}"))?;
        Ok(true)
    });
}

#[test]
fn split_files() {
    let dir = scratch("splits");
    let mut rng = rng(6);
    let seed = r#"{"train": [1, 2, 3], "valid": [4], "test": [5, 6]}"#;
    hunt("split files", &dir, |input| {
        let path = input.join("split.json");
        std::fs::write(&path, mutate(seed, &mut rng)).unwrap();
        let count = if rng.random_bool(0.7) {
            6
        } else {
            rng.random_range(0..9)
        };
        let Ok(split) = SplitFile::read(&path, count) else {
            return Ok(false);
        };
        if split.len() != count || split.iter().any(|&c| c > 2) {
            return Err(format!("{split:?} for {count} sequences"));
        }
        Ok(true)
    });
}
