//! Messages: physical parameters refused at their line, OS errors once, no megabyte echoes.

use super::*;

/// Physical parameters with impossible signs are refused where they are read, naming the
/// file and line, instead of ending later as a "runaway voltage".
#[test]
fn a_negative_capacitance_is_refused_at_its_line() {
    let dir = scratch("capacitance");
    let lems = edited_model(&dir, "PLML_D.cell.nml", |t| {
        t.replace(
            r#"<specificCapacitance value="1 uF_per_cm2"/>"#,
            r#"<specificCapacitance value="-1 uF_per_cm2"/>"#,
        )
    });
    for args in [
        vec!["model", "info", p(&lems)],
        vec!["run", p(&lems), "--out-dir", p(&dir.join("r"))],
    ] {
        refused(
            &celegans(&args),
            &[
                "PLML_D.cell.nml:",
                "specificCapacitance value must be positive, not -",
            ],
        );
    }
}

/// An OS error is said once, with the file it concerns.
#[test]
fn os_errors_are_printed_once() {
    let dir = scratch("os");
    let missing = dir.join("missing.h5");
    let out = celegans(&["dataset", "info", p(&missing)]);
    refused(&out, &[p(&missing)]);
    let err = stderr(&out);
    let stripped = err.replacen("No such file or directory", "", 1);
    assert!(!stripped.contains("No such file or directory"), "{err}");
    let stimulus = dir.join("missing.toml");
    let model = model(&dir);
    let out = celegans(&[
        "predict",
        "--model",
        p(&model),
        "--stimulus",
        p(&stimulus),
        "--out",
        p(&dir.join("p.csv")),
    ]);
    refused(&out, &[p(&stimulus)]);
    let err = stderr(&out);
    assert_eq!(err.matches("os error 2").count(), 1, "{err}");
}

/// A megabyte-long attribute value is not echoed whole into the message.
#[test]
fn a_huge_attribute_value_is_not_echoed_whole() {
    let dir = scratch("huge");
    let lems = edited_model(&dir, "PLML_D.cell.nml", |t| {
        let huge = format!("1{} uF_per_cm2", "0".repeat(5 << 20));
        t.replace(
            r#"<specificCapacitance value="1 uF_per_cm2"/>"#,
            &format!(r#"<specificCapacitance value="{huge}"/>"#),
        )
    });
    let out = celegans(&["model", "info", p(&lems)]);
    refused(&out, &["PLML_D.cell.nml:"]);
    assert!(
        out.stderr.len() < 2000,
        "{} bytes of stderr",
        out.stderr.len()
    );
}
