//! End-to-end tests of `celegans dataset`: dataset files (`docs/file-formats.md`) readable by h5py, shapes of the
//! paper's scenarios, byte-identical reruns and shards, one-line errors with no file.

use std::path::Path;
use std::process::Command;

#[path = "common/command.rs"]
mod command;
#[path = "common/scratch.rs"]
mod scratch;
use command::{celegans, ok, p};

fn scratch(name: &str) -> scratch::Scratch {
    scratch::scratch(&format!("dataset-{name}"))
}

/// Shapes, split counts and attributes as h5py reads them (CI installs h5py).
fn h5py_summary(path: &Path) -> serde_json::Value {
    let script = r#"
import h5py, json, sys
f = h5py.File(sys.argv[1], "r")
split = list(f["split"][:])
print(json.dumps({
    "time": list(f["time"].shape), "inputs": list(f["inputs"].shape), "outputs": list(f["outputs"].shape),
    "split": [split.count(0), split.count(1), split.count(2)],
    "input_names": json.loads(f.attrs["input_names"]), "output_names": json.loads(f.attrs["output_names"]),
    "dt_ms": float(f.attrs["dt_ms"]), "stimuli": len(json.loads(f.attrs["stimuli"])),
    "input_unit": f["inputs"].attrs["input_unit"], "finite": bool(abs(f["outputs"][:]).max() < 1e3),
}))
"#;
    let out = Command::new("python3")
        .args(["-c", script, p(path)])
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "h5py could not read {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn fcm_at_half_and_tenth_of_a_millisecond() {
    let dir = scratch("fcm");
    for (dt, t) in [("0.5", 1000), ("0.1", 5000)] {
        let file = dir.join(format!("fcm_{dt}.h5"));
        ok(&celegans(&[
            "dataset",
            "generate",
            "--scenario",
            "fcm",
            "--dt",
            dt,
            "--out",
            p(&file),
        ]));
        let s = h5py_summary(&file);
        assert_eq!(s["inputs"], serde_json::json!([40, t, 4]), "{s}");
        assert_eq!(s["outputs"], serde_json::json!([40, t, 4]), "{s}");
        assert_eq!(s["time"], serde_json::json!([t]));
        assert_eq!(s["split"], serde_json::json!([20, 10, 10]));
        assert_eq!(
            s["input_names"],
            serde_json::json!(["PLML", "PLMR", "AVBL", "AVBR"])
        );
        assert_eq!(
            s["output_names"],
            serde_json::json!(["DB1", "LUAL", "PVR", "VB1"])
        );
        assert_eq!(
            (s["stimuli"].as_u64(), s["input_unit"].as_str()),
            (Some(40), Some("pA"))
        );
        assert_eq!(s["finite"], true);
    }
    let info = celegans(&["dataset", "info", "--json", p(&dir.join("fcm_0.5.h5"))]);
    ok(&info);
    let info: serde_json::Value = serde_json::from_slice(&info.stdout).unwrap();
    assert_eq!(
        info["split"],
        serde_json::json!({"train": 20, "valid": 10, "test": 10})
    );
    // The outputs are driven: every output moves by more than 1 mV in most sequences.
    let script = r#"
import h5py, sys
o = h5py.File(sys.argv[1], "r")["outputs"][:]
r = o.max(axis=1) - o.min(axis=1)
print(int((r > 1.0).sum(axis=0).min()))
"#;
    let out = Command::new("python3")
        .args(["-c", script, p(&dir.join("fcm_0.5.h5"))])
        .output()
        .unwrap();
    let driven: usize = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
    assert!(
        driven >= 20,
        "only {driven} of 40 sequences move every output by > 1 mV"
    );
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn fcm_plus_nictation_has_ten_inputs_and_28_outputs() {
    let dir = scratch("both");
    let file = dir.join("both.h5");
    let args = [
        "dataset",
        "generate",
        "--scenario",
        "fcm+nictation",
        "--duration",
        "20",
        "--settle",
        "20",
    ];
    ok(&celegans(&[&args[..], &["--out", p(&file)]].concat()));
    let s = h5py_summary(&file);
    assert_eq!(s["inputs"], serde_json::json!([80, 40, 10]));
    assert_eq!(s["outputs"], serde_json::json!([80, 40, 28]));
    assert_eq!(s["split"], serde_json::json!([40, 20, 20]));
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn same_seed_same_bytes_also_through_shards() {
    let dir = scratch("shards");
    let base = [
        "dataset",
        "generate",
        "--scenario",
        "fcm",
        "--count",
        "9",
        "--duration",
        "40",
        "--settle",
        "30",
    ];
    let run = |extra: &[&str], name: &str| {
        let file = dir.join(name);
        ok(&celegans(
            &[&base[..], extra, &["--out", p(&file)]].concat(),
        ));
        std::fs::read(file).unwrap()
    };
    let a = run(&["--seed", "11"], "a.h5");
    let b = run(&["--seed", "11"], "b.h5");
    assert!(a == b, "two runs with one seed differ");
    run(&["--seed", "11", "--shard", "1/2"], "s1.h5");
    run(&["--seed", "11", "--shard", "2/2"], "s2.h5");
    let merged = dir.join("merged.h5");
    ok(&celegans(&[
        "dataset",
        "merge",
        p(&dir.join("s2.h5")),
        p(&dir.join("s1.h5")),
        "--out",
        p(&merged),
    ]));
    assert!(
        std::fs::read(&merged).unwrap() == a,
        "shards + merge differ from a single run"
    );
    let other = run(&["--seed", "12"], "c.h5");
    assert!(other != a, "a different seed gave the same file");
    // A missing shard is refused.
    let out = celegans(&[
        "dataset",
        "merge",
        p(&dir.join("s1.h5")),
        "--out",
        p(&dir.join("bad.h5")),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(!dir.join("bad.h5").exists());
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn bad_requests_exit_2_with_one_line_and_no_file() {
    let dir = scratch("bad");
    let file = dir.join("x.h5");
    for (args, needle) in [
        (vec!["--scenario", "crawl"], "unknown scenario 'crawl'"),
        (
            vec!["--scenario", "fcm", "--dt=-1"],
            "dt must be a positive",
        ),
        (
            vec!["--scenario", "fcm", "--dt", "0.3", "--duration", "1"],
            "not a whole number",
        ),
        (vec!["--scenario", "fcm", "--shard", "3/2"], "shard '3/2'"),
        (
            vec!["--scenario", "fcm", "--shard", "slurm"],
            "SLURM_ARRAY_TASK_ID is not set",
        ),
    ] {
        let out = celegans(&[&["dataset", "generate"][..], &args, &["--out", p(&file)]].concat());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(
            err.trim()
                .lines()
                .filter(|l| l.starts_with("error"))
                .count(),
            1,
            "{err}"
        );
        assert!(!file.exists());
    }
    let out = celegans(&["dataset", "info", p(&dir.join("missing.h5"))]);
    assert_eq!(out.status.code(), Some(2));
    std::fs::remove_dir_all(dir).ok();
}

/// A custom scenario from TOML, an explicit split file, and the figures of `dataset plot`.
#[test]
fn custom_scenario_split_file_and_plots() {
    let dir = scratch("custom");
    let toml = dir.join("touch.toml");
    std::fs::write(
        &toml,
        "name = \"touch\"\noutputs = [\"DB1\", \"VB1\", \"AVAL\"]\nablate = [\"AVBL\"]\n\n[[group]]\nname = \"PLM\"\nneurons = [\"PLML\", \"PLMR\"]\namplitude = [100.0, 200.0]\n",
    )
    .unwrap();
    let split = dir.join("split.json");
    std::fs::write(
        &split,
        r#"{"train": [1, 2, 3], "valid": [4], "test": [5, 6]}"#,
    )
    .unwrap();
    let file = dir.join("touch.h5");
    let args = [
        "dataset",
        "generate",
        "--scenario",
        p(&toml),
        "--count",
        "6",
        "--duration",
        "40",
        "--settle",
        "20",
        "--split",
        p(&split),
        "--out",
        p(&file),
    ];
    ok(&celegans(&args));
    let s = h5py_summary(&file);
    assert_eq!(s["inputs"], serde_json::json!([6, 80, 2]), "{s}");
    assert_eq!(s["outputs"], serde_json::json!([6, 80, 3]), "{s}");
    assert_eq!(s["split"], serde_json::json!([3, 1, 2]));
    assert_eq!(s["output_names"], serde_json::json!(["DB1", "VB1", "AVAL"]));

    let figures = dir.join("figures");
    ok(&celegans(&[
        "dataset",
        "plot",
        p(&file),
        "--out",
        p(&figures),
        "--sequences",
        "1,6",
    ]));
    for f in [
        "seq_01_inputs.png",
        "seq_01_outputs.png",
        "seq_06_inputs.png",
        "seq_06_outputs.png",
    ] {
        let bytes = std::fs::read(figures.join(f)).unwrap();
        assert!(bytes.starts_with(b"\x89PNG"), "{f}");
    }

    // Errors: a bad amplitude range names the file and line; an ablated input neuron and a
    // split file that misses a sequence are refused; nothing is written.
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        std::fs::read_to_string(&toml)
            .unwrap()
            .replace("[100.0, 200.0]", "[200.0, 100.0]"),
    )
    .unwrap();
    let ablated = dir.join("ablated.toml");
    std::fs::write(
        &ablated,
        std::fs::read_to_string(&toml)
            .unwrap()
            .replace("\"AVBL\"]", "\"PLMR\"]"),
    )
    .unwrap();
    let short = dir.join("short.json");
    std::fs::write(&short, r#"{"train": [1, 2, 3], "valid": [4], "test": [5]}"#).unwrap();
    let out = dir.join("never.h5");
    for (scenario, split_file, needle) in [
        (p(&bad), p(&split), "bad.toml:8: group PLM: amplitude"),
        (
            p(&ablated),
            p(&split),
            "no neuron 'PLMR' in the network (it is ablated)",
        ),
        (p(&toml), p(&short), "short.json: sequence 6 is in no split"),
    ] {
        let o = celegans(&[
            "dataset",
            "generate",
            "--scenario",
            scenario,
            "--count",
            "6",
            "--duration",
            "40",
            "--settle",
            "20",
            "--split",
            split_file,
            "--out",
            p(&out),
        ]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{err}");
        assert!(err.contains(needle), "{err}");
        assert!(!out.exists());
    }
}

/// A generation killed part-way resumes from its finished sequences and writes the same bytes
/// as an uninterrupted one.
#[test]
fn an_interrupted_generation_resumes() {
    let dir = scratch("resume");
    let args = |out: &Path| -> Vec<String> {
        [
            "dataset",
            "generate",
            "--scenario",
            "fcm",
            "--dt",
            "0.1",
            "--count",
            "8",
            "--duration",
            "150",
            "--settle",
            "20",
            "--out",
            p(out),
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    };
    let whole = dir.join("whole.h5");
    ok(&Command::new(env!("CARGO_BIN_EXE_celegans"))
        .args(args(&whole))
        .output()
        .unwrap());
    let resumed = dir.join("resumed.h5");
    let mut child = Command::new(env!("CARGO_BIN_EXE_celegans"))
        .args(args(&resumed))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let checkpoint = dir.join(".resumed.h5.sequences");
    let start = std::time::Instant::now();
    let finished = || {
        std::fs::read_dir(&checkpoint)
            .map(|d| {
                d.filter_map(|e| e.ok())
                    .filter(|e| e.file_name().to_string_lossy().ends_with(".bin"))
                    .count()
            })
            .unwrap_or(0)
    };
    while finished() == 0 && start.elapsed().as_secs() < 60 {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    if resumed.exists() {
        return; // finished before the kill: nothing to resume on this machine
    }
    assert!(finished() > 0);
    ok(&Command::new(env!("CARGO_BIN_EXE_celegans"))
        .args(args(&resumed))
        .output()
        .unwrap());
    assert!(
        !checkpoint.exists(),
        "the checkpoint folder is removed once the file is written"
    );
    // The files differ only if a sequence changed (the generator attributes are equal).
    let (a, b) = (
        std::fs::read(&whole).unwrap(),
        std::fs::read(&resumed).unwrap(),
    );
    assert!(a == b, "resumed file differs from the uninterrupted one");
}
