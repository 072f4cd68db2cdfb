//! Dataset files and `.dat` folders: inconsistent shapes, split codes, names and values.

use super::*;

/// A valid dataset file, then changed in place by `edit` (raw HDF5, as another program or a
/// damaged copy could leave it).
fn damaged(dir: &Path, name: &str, edit: impl FnOnce(&hdf5::File)) -> PathBuf {
    let path = dir.join(name);
    dataset(&SPLIT).write(&path).unwrap();
    let file = hdf5::File::open_rw(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    edit(&file);
    file.close().unwrap();
    path
}

fn replace_array(file: &hdf5::File, name: &str, shape: &[usize], values: &[f32]) {
    file.unlink(name).unwrap();
    file.new_dataset::<f32>()
        .shape(shape)
        .create(name)
        .unwrap()
        .write_raw(values)
        .unwrap();
}

fn replace_text_attr(file: &hdf5::File, name: &str, value: &str) {
    file.delete_attr(name).unwrap();
    let v: hdf5::types::VarLenUnicode = value.parse().unwrap();
    file.new_attr::<hdf5::types::VarLenUnicode>()
        .create(name)
        .unwrap()
        .write_scalar(&v)
        .unwrap();
}

/// Every command that reads a dataset refuses `file` with a line naming it and `what`;
/// the commands that write folders leave none behind.
fn every_reader_refuses(dir: &Path, file: &Path, what: &str) {
    let model = model(dir);
    let name = p(file);
    let (plots, dat, csv) = (dir.join("plots"), dir.join("dat"), dir.join("p.csv"));
    for args in [
        vec!["dataset", "info", name],
        vec!["dataset", "plot", name, "--out", p(&plots)],
        vec!["dataset", "export-dat", name, "--out", p(&dat)],
        vec![
            "train",
            "--data",
            name,
            "--arch",
            "gru",
            "--hidden",
            "2",
            "--epochs",
            "1",
            "--out",
            p(&dir.join("m")),
        ],
        vec!["evaluate", "--model", p(&model), "--data", name],
        vec![
            "predict",
            "--model",
            p(&model),
            "--data",
            name,
            "--out",
            p(&csv),
        ],
    ] {
        let out = celegans(&args);
        refused(&out, &[name, what]);
    }
    assert!(!plots.exists() && !dat.exists() && !csv.exists());
}

#[test]
fn inputs_and_outputs_with_different_sequence_counts() {
    let dir = scratch("counts");
    let file = damaged(&dir, "counts.h5", |f| {
        replace_array(f, "outputs", &[7, 40, 2], &vec![0.0; 7 * 40 * 2])
    });
    every_reader_refuses(&dir, &file, "/inputs holds 8 sequences and /outputs 7");
}

#[test]
fn outputs_shorter_than_time() {
    let dir = scratch("length");
    let file = damaged(&dir, "length.h5", |f| {
        replace_array(f, "outputs", &[8, 39, 2], &vec![0.0; 8 * 39 * 2])
    });
    every_reader_refuses(
        &dir,
        &file,
        "/outputs has shape [8, 39, 2], expected [N, 40, 2]",
    );
}

#[test]
fn split_code_other_than_0_1_2() {
    let dir = scratch("split");
    let file = damaged(&dir, "split.h5", |f| {
        f.dataset("split")
            .unwrap()
            .write_raw(&[0u8, 0, 0, 3, 1, 1, 2, 2])
            .unwrap()
    });
    every_reader_refuses(&dir, &file, "/split[3] is 3");
}

#[test]
fn fewer_names_than_columns() {
    let dir = scratch("names");
    let file = damaged(&dir, "names.h5", |f| {
        replace_text_attr(f, "input_names", r#"["A"]"#)
    });
    every_reader_refuses(&dir, &file, "expected [N, 40, 1]");
}

#[test]
fn not_a_number_in_the_outputs() {
    let dir = scratch("nan");
    let file = damaged(&dir, "nan.h5", |f| {
        let mut y = vec![-50.0f32; 8 * 40 * 2];
        y[3 * 80 + 2 * 2 + 1] = f32::NAN;
        replace_array(f, "outputs", &[8, 40, 2], &y)
    });
    every_reader_refuses(
        &dir,
        &file,
        "/outputs is NaN at sequence 4, sample 2, column 2 (Y)",
    );
}

#[test]
fn import_dat_refuses_non_finite_numbers() {
    let dir = scratch("dat");
    let dat = dir.join("dat");
    std::fs::create_dir_all(&dat).unwrap();
    for k in 1..=4 {
        let mut text = String::new();
        for i in 0..10 {
            let y = if k == 3 && i == 5 {
                "nan".to_string()
            } else {
                "-0.05".into()
            };
            text += &format!("{i} {} {y} 1e-12\n", i as f64 * 5e-4);
        }
        std::fs::write(dat.join(format!("Sequence_{k:02}.dat")), text).unwrap();
    }
    let out = dir.join("imported.h5");
    let result = celegans(&[
        "dataset",
        "import-dat",
        p(&dat),
        "--inputs",
        "A",
        "--outputs",
        "X",
        "--out",
        p(&out),
    ]);
    refused(
        &result,
        &["Sequence_03.dat: line 6: 'nan' is not a finite number"],
    );
    assert!(!out.exists());
}

/// Files this program writes itself with too few sequences for three splits (count 1 and 2)
/// train and evaluate: an empty validation set keeps the last epoch, an empty split has no
/// RMSE ("-").
#[test]
fn empty_splits_train_and_evaluate() {
    let dir = scratch("empty");
    for split in [&[0u8][..], &[0, 0], &[0, 0, 2]] {
        let data = dir.join(format!("n{}.h5", split.len()));
        dataset(split).write(&data).unwrap();
        let model = dir.join(format!("m{}", split.len()));
        ok(&train_gru(
            &data,
            &model,
            &["--hidden", "2", "--epochs", "2", "--runs", "2"],
        ));
        let out = celegans(&[
            "evaluate",
            "--model",
            p(&model),
            "--data",
            p(&data),
            "--json",
        ]);
        ok(&out);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert!(v["rmse"]["train"].as_f64().unwrap().is_finite(), "{v}");
        assert!(v["rmse"]["valid"].is_null(), "{v}");
    }
    // No training sequence at all: one line, not a panic.
    let data = dir.join("no-train.h5");
    dataset(&[1, 2, 2]).write(&data).unwrap();
    let out = train_gru(&data, &dir.join("m"), &["--hidden", "2", "--epochs", "1"]);
    refused(&out, &["no training sequences"]);
}

/// A failed HDF5 write names the file asked for (not its hidden temporary), on one line.
#[test]
fn a_failed_dataset_write_names_the_file_asked_for() {
    let dir = scratch("write");
    let blocker = dir.join("blocker");
    std::fs::write(&blocker, "a file, not a folder").unwrap();
    let target = blocker.join("x.h5");
    let err = dataset(&SPLIT).write(&target).unwrap_err().to_string();
    assert!(err.starts_with(&format!("{}:", p(&target))), "{err}");
    assert!(!err.contains("partial") && !err.contains('\n'), "{err}");
}
