//! Outputs: one writer each, merge never overwrites its inputs, all of a run's files or none.

use super::*;

/// Two jobs writing the same output: the second fails at once, the first's result stands.
#[test]
fn one_writer_per_output() {
    let dir = scratch("writers");
    let out = dir.join("data.h5");
    let args = |seed: &str| {
        vec![
            "dataset".to_string(),
            "generate".into(),
            "--scenario".into(),
            "fcm".into(),
            "--count".into(),
            "40".into(),
            "--seed".into(),
            seed.into(),
            "--out".into(),
            p(&out).into(),
        ]
    };
    let mut first = Command::new(env!("CARGO_BIN_EXE_celegans"))
        .args(args("1"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let lock = dir.join(".data.h5.lock");
    let start = std::time::Instant::now();
    while !lock.exists() && start.elapsed().as_secs() < 60 {
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let second = Command::new(env!("CARGO_BIN_EXE_celegans"))
        .args(args("2"))
        .output()
        .unwrap();
    assert!(first.wait().unwrap().success());
    refused(
        &second,
        &[p(&out), "another process is writing this output"],
    );
    let d = Dataset::read(&out).unwrap();
    assert_eq!(d.seed, 1, "the first job's dataset was replaced");
    assert!(!lock.exists(), "the lock file is removed when the job ends");
}

#[test]
fn merge_never_overwrites_its_inputs_and_names_a_file_that_is_not_a_shard() {
    let dir = scratch("merge");
    let whole = dir.join("whole.h5");
    dataset(&SPLIT).write(&whole).unwrap();
    let before = std::fs::read(&whole).unwrap();
    refused(
        &celegans(&["dataset", "merge", p(&whole), p(&whole), "--out", p(&whole)]),
        &["it is one of the files to merge"],
    );
    assert_eq!(std::fs::read(&whole).unwrap(), before);
    let out = dir.join("merged.h5");
    refused(
        &celegans(&["dataset", "merge", p(&whole), "--out", p(&out)]),
        &[&format!("{}: not a shard", p(&whole))],
    );
    assert!(!out.exists());
}

/// `run` with an output file that cannot be written fails before simulating, and writes no
/// other output file: all of a run's outputs or none.
#[test]
fn run_writes_all_its_output_files_or_none() {
    let dir = scratch("outputs");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/c302_D1/LEMS_c302_D1.xml");
    let lems = edited_model(&dir, "PLML_D.cell.nml", |t| {
        t.replacen("<cell ", "<cell  ", 1)
    });
    // (a copy of the bundled model, so that its LEMS file can be edited)
    let text = std::fs::read_to_string(&src).unwrap();
    // The second output file goes under a regular file: no folder can be made there.
    let blocker = dir.join("blocker");
    std::fs::write(&blocker, "a file, not a folder").unwrap();
    let edited = text.replace(
        r#"fileName="c302_D1.activity.dat""#,
        &format!(r#"fileName="{}/activity.dat""#, p(&blocker)),
    );
    std::fs::write(&lems, edited).unwrap();
    let out_dir = dir.join("r");
    let out = celegans(&[
        "run",
        p(&lems),
        "--duration",
        "400",
        "--out-dir",
        p(&out_dir),
    ]);
    // One line: refused before the network is even set up and run.
    refused(&out, &["activity.dat"]);
    assert!(
        !out_dir.join("c302_D1.dat").exists(),
        "the first output was written"
    );
}
