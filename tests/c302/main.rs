//! c302's own networks run by `celegans run`, checked against c302's regression tests
//! (OMV) and NEURON: the evidence of #14 that fits in CI. Fixtures are c302's files,
//! verbatim, in `tests/fixtures/` (see the README beside them).

#[path = "../common/c302_examples.rs"]
mod c302_examples;
mod omv;
mod vs_neuron;

use std::path::{Path, PathBuf};
use std::process::Command;

/// A folder of fixtures.
#[path = "../common/scratch.rs"]
mod scratch;

fn fixtures(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// c302's published `examples/` folder, verbatim (networks, cells, OMV tests), unpacked once
/// per test run from `tests/fixtures/c302_examples/c302-examples.tar.xz` (see its README).
fn examples() -> &'static Path {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        // In cargo's scratch folder for tests (target/tmp), replaced on every run: a static
        // is never dropped, so a removed-on-drop folder would be left behind.
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("c302-examples");
        let _ = std::fs::remove_dir_all(&dir);
        c302_examples::unpack(&dir, &[]);
        dir
    })
}

/// A fresh scratch folder for one test.
fn scratch(name: &str) -> scratch::Scratch {
    scratch::scratch(&format!("c302-{name}"))
}

/// Runs `celegans ARGS`; panics with its stderr on failure.
fn celegans(args: &[&std::ffi::OsStr]) -> std::process::Output {
    let result = Command::new(env!("CARGO_BIN_EXE_celegans"))
        .args(args)
        .output()
        .expect("run celegans");
    assert!(
        result.status.success(),
        "celegans {args:?}: {}",
        String::from_utf8_lossy(&result.stderr)
    );
    result
}

/// Runs `celegans run LEMS --out-dir OUT` with extra arguments; panics with its stderr on
/// failure.
fn run_lems(lems: &Path, out: &Path, extra: &[&str]) {
    let mut args = vec![
        "run".as_ref(),
        lems.as_os_str(),
        "--out-dir".as_ref(),
        out.as_os_str(),
    ];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    celegans(&args);
}

/// The rows of a LEMS output file (`time v1 v2 ...`, SI units), as written by `run`.
fn read_dat(path: &Path) -> Vec<Vec<f64>> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| l.split_whitespace().map(|x| x.parse().unwrap()).collect())
        .collect()
}

/// Upward crossings of `threshold` \[mV\] in `column` (V), as OMV detects them: the time
/// \[ms\] of the first sample above.
fn spike_times(rows: &[Vec<f64>], column: usize, threshold: f64) -> Vec<f64> {
    rows.windows(2)
        .filter(|w| w[0][column] * 1e3 <= threshold && w[1][column] * 1e3 > threshold)
        .map(|w| w[1][0] * 1e3)
        .collect()
}

/// `<EventOutputFile>`s are written as jNeuroML's NEURON export writes them, in both
/// formats, with the spikes NEURON finds for the same model, each at the first step after
/// the exact crossing (P: an `iafCell` charging towards −25 mV with τ = 30 ms from −50 mV
/// at 20 ms, threshold −30 mV, so every 30·ln 5 = 48.283 ms). NEURON resets at the step
/// after the crossing, so its periods are rounded up to whole steps (48.30 ms) and its
/// spikes fall behind; ours resets at the crossing and are never later than NEURON's.
#[test]
fn event_output_files_hold_neurons_spike_times() {
    let dir = fixtures("iaf_events");
    let out = scratch("events");
    run_lems(&dir.join("LEMS_iaf_events.xml"), &out, &[]);
    let lines = |path: &Path| -> Vec<(String, String)> {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|l| {
                let (a, b) = l.split_once('\t').unwrap();
                (a.to_string(), b.to_string())
            })
            .collect()
    };
    let neuron = lines(&dir.join("neuron-9.0.2_dt0.01.time_id.spikes"));
    let ours = lines(&out.join("iaf_events.time_id.spikes"));
    assert_eq!(neuron.len(), 5);
    assert_eq!(ours.len(), neuron.len(), "{ours:?}");
    let (step, period) = (1e-5, 30e-3 * 5f64.ln()); // s
    for (k, ((t, id), (nt, nid))) in ours.iter().zip(&neuron).enumerate() {
        assert_eq!(id, nid);
        let (t, nt): (f64, f64) = (t.parse().unwrap(), nt.parse().unwrap());
        let exact = 20e-3 + (k + 1) as f64 * period;
        assert!(
            exact <= t && t <= exact + step + 1e-12 && t <= nt + 1e-12,
            "spike {k}: {t} s, exact {exact} s, NEURON {nt} s"
        );
    }
    // ID_TIME: the same spikes under P's id 0; Q (id 1) stays below threshold.
    let by_id = lines(&out.join("iaf_events.spikes"));
    assert_eq!(by_id.len(), 5);
    for ((id, t), (ot, _)) in by_id.iter().zip(&ours) {
        assert_eq!(id, "0");
        assert_eq!(t, ot);
    }
}

/// `model info` counts point cells (one compartment each) with the other cells.
#[test]
fn model_info_counts_point_cells() {
    let lems = examples().join("LEMS_c302_A_Pharyngeal.xml");
    let out = celegans(&[
        "model".as_ref(),
        "info".as_ref(),
        "--json".as_ref(),
        lems.as_os_str(),
    ]);
    let info: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(info["cells"], 20);
    assert_eq!(info["point_cells"], 20);
    assert_eq!(info["compartments"], 20);
}

/// Datasets can be made from any c302 network: here the spiking `c302_C_Syns`, whose
/// SMDDR answers URYDL's spikes through an `expTwoSynapse`.
#[test]
fn a_dataset_from_a_spiking_network() {
    let dir = scratch("dataset");
    let scenario = dir.join("syns.toml");
    std::fs::write(
        &scenario,
        "name = \"syns\"\noutputs = [\"SMDDR\", \"VB11\"]\nablate = []\n\n[[group]]\nname = \"URY\"\nneurons = [\"URYDL\"]\namplitude = [5.0, 10.0]\n",
    )
    .unwrap();
    let out = dir.join("syns.h5");
    let model = examples().join("LEMS_c302_C_Syns.xml");
    let args = [
        "dataset",
        "generate",
        "--count",
        "4",
        "--dt",
        "0.05",
        "--duration",
        "300",
        "--settle",
        "50",
    ];
    let mut args: Vec<&std::ffi::OsStr> = args.iter().map(std::ffi::OsStr::new).collect();
    args.extend([
        "--model".as_ref(),
        model.as_os_str(),
        "--scenario".as_ref(),
        scenario.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    celegans(&args);
    let data = datasets::Dataset::read(&out).unwrap();
    assert_eq!((data.sequences, data.output_names.len()), (4, 2));
    // URYDL spikes in every sequence (its stimuli reach 5-10 pA) and SMDDR, settled near
    // -57 mV, depolarises by some 26 mV through the synapse.
    let t = data.time.len();
    let smddr_range = (0..data.sequences).map(|s| {
        let v: Vec<f32> = (0..t).map(|k| data.outputs[(s * t + k) * 2]).collect();
        v.iter().cloned().fold(f32::MIN, f32::max) - v.iter().cloned().fold(f32::MAX, f32::min)
    });
    assert!(
        smddr_range.clone().all(|r| r > 10.0),
        "{:?}",
        smddr_range.collect::<Vec<_>>()
    );
}
