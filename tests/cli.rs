//! End-to-end tests of the `celegans` program.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn celegans(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_celegans")).args(args).output().expect("run celegans")
}

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
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(info["cells"], 302);
    assert_eq!(info["compartments"], 2041);
    assert_eq!(info["chemical_synapses"], 2279);
    assert_eq!(info["gap_junctions"], 1084);
    assert_eq!(info["segments"], 13_869);
    assert_eq!(info["cables"], 2041);
    assert_eq!(info["channel_kinds"], serde_json::json!(["Leak", "k_slow", "k_fast", "ca_boyle"]));
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
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!((info["cells"].as_u64(), info["segments"].as_u64(), info["cables"].as_u64()), (Some(1), Some(66), Some(5)));
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
    assert!(err.contains("unknown_channel.nml:8: channelDensity k_all: unknown ion channel 'k_nowhere'"), "{err}");
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
