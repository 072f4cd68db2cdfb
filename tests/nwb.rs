//! `celegans export-nwb`: a dataset file as NWB 2, read back with pynwb (every series equal
//! to the dataset's arrays, units, rates and provenance as documented) and checked by
//! nwbinspector (nothing above a best-practice suggestion); bad requests end in one line,
//! exit 2, no file. Needs Python's `pynwb` and `nwbinspector` (`.ci/run` installs them).

use std::path::Path;
use std::process::Command;

#[path = "common/command.rs"]
mod command;
#[path = "common/scratch.rs"]
mod scratch;
use command::{celegans, ok, p};

/// What pynwb and nwbinspector say about the NWB file against its dataset file.
const CHECK: &str = r#"
import json, sys
import h5py, numpy as np
from pynwb import NWBHDF5IO
from nwbinspector import inspect_nwbfile, Importance

nwb_path, data_path = sys.argv[1], sys.argv[2]
d = h5py.File(data_path, "r")
names = lambda key: json.loads(d.attrs[key])
report = {}
with NWBHDF5IO(nwb_path, "r") as io:
    f = io.read()
    n = d["outputs"].shape[0]
    width = len(str(n))
    equal = True
    for k in range(n):
        label = str(k + 1).zfill(width)
        v = f.acquisition["membrane_potential_" + label]
        i = f.stimulus["injected_current_" + label]
        equal &= np.array_equal(v.data[:], d["outputs"][k]) and np.array_equal(i.data[:], d["inputs"][k])
        if "voltages" in d:
            a = f.acquisition["all_membrane_potentials_" + label]
            equal &= np.array_equal(a.data[:], d["voltages"][k])
    v = f.acquisition["membrane_potential_" + "1".zfill(width)]
    i = f.stimulus["injected_current_" + "1".zfill(width)]
    notes = json.loads(f.notes)
    report = {
        "equal": bool(equal),
        "series": len(f.acquisition) + len(f.stimulus),
        "v_unit": v.unit, "v_conversion": v.conversion, "rate": v.rate,
        "i_unit": i.unit, "i_conversion": i.conversion,
        "columns_named": all(x in v.description for x in names("output_names")),
        "species": f.subject.species, "sex": f.subject.sex,
        "start": f.session_start_time.isoformat(),
        "model_sha256": notes["model_sha256"] == d.attrs["model_sha256"],
        "split": notes["split"],
        "identifier": f.identifier,
    }
serious = [m for m in inspect_nwbfile(nwbfile_path=nwb_path)
           if m.importance not in (Importance.BEST_PRACTICE_SUGGESTION,)]
report["inspector"] = [f"{m.importance.name}: {m.check_function_name}: {m.message}" for m in serious]
print(json.dumps(report))
"#;

fn check(nwb: &Path, data: &Path) -> serde_json::Value {
    let out = Command::new("python3")
        .args(["-c", CHECK, p(nwb), p(data)])
        .output()
        .expect("python3");
    assert!(
        out.status.success(),
        "pynwb / nwbinspector on {}: {}",
        nwb.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn a_dataset_exports_to_nwb_that_pynwb_reads_and_nwbinspector_passes() {
    let dir = scratch::scratch("nwb");
    let data = dir.join("fcm.h5");
    ok(&celegans(&[
        "dataset",
        "generate",
        "--scenario",
        "fcm",
        "--count",
        "4",
        "--duration",
        "200",
        "--settle",
        "20",
        "--dt",
        "0.5",
        "--record-all",
        "--out",
        p(&data),
    ]));
    let nwb = dir.join("fcm.nwb");
    let start = "2026-12-07T10:00:00Z";
    ok(&celegans(&[
        "export-nwb",
        p(&data),
        "--out",
        p(&nwb),
        "--session-start",
        start,
    ]));
    let r = check(&nwb, &data);
    assert_eq!(r["equal"], true, "{r}");
    // 4 sequences: outputs, every neuron's voltage and the currents (400 samples: time is
    // the longest dimension, as nwbinspector expects, also beside 302 neurons).
    assert_eq!(r["series"], 12, "{r}");
    assert_eq!(r["v_unit"], "volts");
    assert_eq!(r["v_conversion"], 1e-3);
    assert_eq!(r["i_unit"], "amperes");
    assert_eq!(r["i_conversion"], 1e-12);
    assert_eq!(r["rate"], 2000.0);
    assert_eq!(r["columns_named"], true);
    assert_eq!(r["species"], "Caenorhabditis elegans");
    assert_eq!(r["sex"], "XX");
    assert_eq!(r["start"], "2026-12-07T10:00:00+00:00");
    assert_eq!(r["model_sha256"], true);
    assert_eq!(r["split"].as_array().unwrap().len(), 4);
    assert_eq!(r["inspector"], serde_json::json!([]), "{r}");
    // The same dataset gives the same identifier; a simulate result exports too.
    let again = dir.join("again.nwb");
    ok(&celegans(&["export-nwb", p(&data), "--out", p(&again)]));
    assert_eq!(check(&again, &data)["identifier"], r["identifier"]);
    let sim = dir.join("sim.h5");
    ok(&celegans(&[
        "simulate",
        "--stimulate",
        "AVBL",
        "--duration",
        "50",
        "--settle",
        "10",
        "--out",
        p(&sim),
    ]));
    let sim_nwb = dir.join("sim.nwb");
    ok(&celegans(&["export-nwb", p(&sim), "--out", p(&sim_nwb)]));
    let s = check(&sim_nwb, &sim);
    assert_eq!(
        (s["equal"].clone(), s["series"].clone()),
        (true.into(), 2.into()),
        "{s}"
    );
}

#[test]
fn bad_export_requests_exit_2_with_one_line_and_no_file() {
    let dir = scratch::scratch("nwb-bad");
    let data = dir.join("d.h5");
    ok(&celegans(&[
        "dataset",
        "generate",
        "--scenario",
        "fcm",
        "--count",
        "2",
        "--duration",
        "20",
        "--settle",
        "10",
        "--out",
        p(&data),
    ]));
    // The authors' format has no units: NWB needs them.
    let dat = dir.join("dat");
    ok(&celegans(&[
        "dataset",
        "export-dat",
        p(&data),
        "--out",
        p(&dat),
    ]));
    let unitless = dir.join("unitless.h5");
    ok(&celegans(&[
        "dataset",
        "import-dat",
        p(&dat),
        "--inputs",
        "PLML,PLMR,AVBL,AVBR",
        "--outputs",
        "DB1,LUAL,PVR,VB1",
        "--out",
        p(&unitless),
    ]));
    let nwb = dir.join("x.nwb");
    for (args, needle) in [
        (
            vec![p(&data), "--out", p(&dir.join("x.h5"))],
            "must end in .nwb",
        ),
        (
            vec![p(&data), "--out", p(&nwb), "--session-start", "yesterday"],
            "--session-start 'yesterday'",
        ),
        (
            vec![p(&dir.join("missing.h5")), "--out", p(&nwb)],
            "missing.h5",
        ),
        (
            vec![p(&unitless), "--out", p(&nwb)],
            "not one NWB can convert",
        ),
    ] {
        let out = celegans(&[&["export-nwb"][..], &args].concat());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(!nwb.exists() && !dir.join("x.h5").exists());
    }
}
