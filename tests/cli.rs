//! End-to-end tests of the `celegans` program.

use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "common/command.rs"]
mod command;
#[path = "common/scratch.rs"]
mod scratch;
use command::celegans;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

#[test]
fn model_info_json_on_the_bundled_model() {
    // Run from a directory with no model in it: the bundled model is inside the program.
    let out = Command::new(env!("CARGO_BIN_EXE_celegans"))
        .args(["model", "info", "--json"])
        .current_dir(std::env::temp_dir())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(info["cells"], 302);
    assert_eq!(info["compartments"], 2041);
    assert_eq!(info["chemical_synapses"], 2279);
    assert_eq!(info["gap_junctions"], 1084);
    assert_eq!(info["segments"], 13_869);
    assert_eq!(info["cables"], 2041);
    assert_eq!(
        info["channel_kinds"],
        serde_json::json!(["Leak", "k_slow", "k_fast", "ca_boyle"])
    );
}

#[test]
fn model_info_table_names_the_counts() {
    let out = celegans(&["model", "info"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("cells              302"), "{text}");
    assert!(text.contains("gap junctions      1084"), "{text}");
}

#[test]
fn model_info_reads_a_network_file_and_a_lone_cell_file() {
    let net = repo().join("models/c302_D1/c302_D1.net.nml");
    let out = celegans(&["model", "info", "--json", net.to_str().unwrap()]);
    assert!(out.status.success());
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(info["cells"], 302);

    let cell = repo().join("models/c302_D1/cells/AVBL_D.cell.nml");
    let out = celegans(&["model", "info", "--json", cell.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (
            info["cells"].as_u64(),
            info["segments"].as_u64(),
            info["cables"].as_u64()
        ),
        (Some(1), Some(66), Some(5))
    );
    // Its channels live in the network's cell_C.xml: reported, not fatal.
    assert_eq!(info["unresolved"].as_array().unwrap().len(), 5);
}

#[test]
fn malformed_input_exits_2_with_file_and_line() {
    let bad = repo().join("neuroml/tests/malformed/unknown_channel.nml");
    let out = celegans(&["model", "info", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.contains(
            "unknown_channel.nml:8: channelDensity k_all: unknown ion channel 'k_nowhere'"
        ),
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn missing_file_and_bad_flags_exit_2() {
    let out = celegans(&["model", "info", "/no/such/model.net.nml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/no/such/model.net.nml"));
    let out = celegans(&["model", "info", "--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2));
}

fn scratch(name: &str) -> scratch::Scratch {
    scratch::scratch(&format!("cli-{name}"))
}

#[test]
fn run_writes_the_lems_output_files_in_si_units() {
    let out = scratch("run");
    let lems =
        repo().join("simulator/tests/reference/single_AVBL/model/LEMS_c302_D1_single_AVBL.xml");
    let o = celegans(&[
        "run",
        lems.to_str().unwrap(),
        "--out-dir",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let v = std::fs::read_to_string(out.join("c302_D1_single_AVBL.dat")).unwrap();
    let rows: Vec<Vec<f64>> = v
        .lines()
        .map(|l| l.split_whitespace().map(|x| x.parse().unwrap()).collect())
        .collect();
    // 500 ms at 0.1 ms: 5001 rows of time [s] and AVBL's v [V], as jNeuroML's NEURON export.
    assert_eq!(rows.len(), 5001);
    assert_eq!(rows[0], vec![0.0, -0.045]);
    assert!((rows[5000][0] - 0.5).abs() < 1e-12);
    let peak = rows.iter().map(|r| r[1]).fold(f64::MIN, f64::max);
    assert!(
        peak > 0.01 && peak < 0.06,
        "the 15 pA step makes AVBL fire: peak {peak} V"
    );
    let ca = std::fs::read_to_string(out.join("c302_D1_single_AVBL.activity.dat")).unwrap();
    assert_eq!(ca.lines().count(), 5001);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("simulated 500 ms"), "{stderr}");
}

#[test]
fn simulate_records_chosen_neurons_and_rejects_unknown_ones() {
    let out = scratch("simulate");
    let csv = out.join("fcm.csv");
    let o = celegans(&[
        "simulate",
        "--stimulate",
        "PLML,PLMR,AVBL,AVBR",
        "--record",
        "DB1,VB1",
        "--duration",
        "150",
        "--out",
        csv.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next().unwrap(), "time_ms,DB1_mV,VB1_mV");
    assert_eq!(lines.count(), 1501);

    let bad = out.join("bad.csv");
    let o = celegans(&[
        "simulate",
        "--stimulate",
        "NOPE",
        "--out",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        stderr.trim(),
        "error: --stimulate NOPE: no cell 'NOPE' in the network"
    );
    assert!(!bad.exists());
    let o = celegans(&[
        "simulate",
        "--ablate",
        "AVBL,NOPE",
        "--out",
        bad.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("cannot ablate 'NOPE'"));
    let o = celegans(&["simulate", "--dt", "-1", "--out", bad.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!bad.exists());
}

#[test]
fn simulate_a_scenario_with_a_stimulus_file_into_hdf5() {
    let out = scratch("simulate-h5");
    let stim = out.join("stim.toml");
    std::fs::write(
        &stim,
        "duration = 200.0\ndt = 0.5\n[[input]]\nneuron = \"PLML\"\namplitude = 150.0\nshape = { kind = \"pulse\", onset = 50.0, width = 80.0 }\n\
         [[input]]\nneuron = \"AVBL\"\namplitude = 100.0\nshape = { kind = \"pulse\", onset = 20.0, width = 100.0 }\n",
    )
    .unwrap();
    let (h5, csv) = (out.join("sim.h5"), out.join("sim.csv"));
    for file in [&h5, &csv] {
        let o = celegans(&[
            "simulate",
            "--scenario",
            "fcm",
            "--stimulus",
            stim.to_str().unwrap(),
            "--out",
            file.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let d = datasets::Dataset::read(&h5).unwrap();
    assert_eq!((d.sequences, d.steps(), d.dt), (1, 400, 0.5));
    assert_eq!(d.input_names, ["PLML", "AVBL"]);
    assert_eq!(d.output_names, ["DB1", "LUAL", "PVR", "VB1"]);
    // Row k is the current during step k: PLML from 50 ms to 130 ms, AVBL from 20 to 120.
    let plml: Vec<f32> = d.inputs.iter().step_by(2).copied().collect();
    assert_eq!(
        (plml[99], plml[100], plml[259], plml[260]),
        (0.0, 150.0, 150.0, 0.0)
    );
    assert_eq!((d.inputs[2 * 39 + 1], d.inputs[2 * 40 + 1]), (0.0, 100.0));
    // The same voltages as the CSV (which has one more row, t = 200 ms).
    let text = std::fs::read_to_string(&csv).unwrap();
    let rows: Vec<Vec<f64>> = text
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(|x| x.parse().unwrap()).collect())
        .collect();
    assert_eq!(rows.len(), 401);
    for (k, row) in rows.iter().take(400).enumerate() {
        for o in 0..4 {
            assert!(
                (row[o + 1] - d.outputs[k * 4 + o] as f64).abs() < 1e-4,
                "row {k}"
            );
        }
    }
    let moved = (0..4).all(|o| {
        let v: Vec<f32> = d.outputs.iter().skip(o).step_by(4).copied().collect();
        v.iter().cloned().fold(f32::MIN, f32::max) - v.iter().cloned().fold(f32::MAX, f32::min)
            > 0.5
    });
    assert!(moved, "every FCM output responds to the stimulus");
    let o = celegans(&[
        "simulate",
        "--scenario",
        "nope",
        "--out",
        out.join("x.h5").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(!out.join("x.h5").exists());
}

#[test]
fn bench_times_one_sequence_and_a_batch_on_both_sides() {
    let out = celegans(&["bench", "--batch", "2", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["surrogate"], "GRU-4");
    assert!(v["cores"].as_u64().unwrap() >= 1);
    for (dt, steps) in [("dt_0.5", 1000), ("dt_0.1", 5000)] {
        assert_eq!(v[dt]["steps"], steps, "{v}");
        assert_eq!(v[dt]["batch"]["sequences"], 2, "{v}");
        for side in ["one", "batch"] {
            let r = &v[dt][side];
            let (sim, sur) = (
                r["simulator_seconds"].as_f64().unwrap(),
                r["surrogate_seconds"].as_f64().unwrap(),
            );
            assert!(sim > 0.0 && sur > 0.0, "{dt} {side}: {r}");
            // A ratio, not a speed claim: timings are noisy, only the arithmetic is checked.
            let ratio = r["ratio"].as_f64().unwrap();
            assert!(
                (ratio - sim / sur).abs() <= 1e-9 * ratio,
                "{dt} {side}: {r}"
            );
        }
    }
    let bad = celegans(&["bench", "--batch", "0"]);
    assert_eq!(bad.status.code(), Some(2));
    let text = String::from_utf8_lossy(&bad.stderr);
    assert!(text.contains("--batch"), "{text}");
}
