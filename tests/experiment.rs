//! `celegans experiment all --quick`: every experiment runs end to end (datasets from the
//! bundled model, surrogates, tables, figures, REPORT.md) with finite numbers.

use std::process::Command;

#[path = "common/scratch.rs"]
mod scratch;

#[test]
fn all_experiments_quick() {
    let scratch = scratch::scratch("experiment");
    let out = scratch.join("out");
    let run = Command::new(env!("CARGO_BIN_EXE_celegans"))
        .args([
            "experiment",
            "all",
            "--quick",
            "--out",
            out.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let report = std::fs::read_to_string(out.join("REPORT.md")).unwrap();
    for k in 1..=5 {
        assert!(
            report.contains(&format!("## Experiment {k}:")),
            "experiment {k} missing from the report"
        );
        let csv = std::fs::read_to_string(out.join(format!("exp{k}/table.csv"))).unwrap();
        let rows: Vec<&str> = csv.lines().collect();
        assert!(rows.len() >= 3, "exp{k}: {csv}");
        for row in &rows[1..] {
            for cell in row.split(',') {
                let number = cell.split(" ± ").next().unwrap().trim();
                if let Ok(v) = number.parse::<f64>() {
                    assert!(v.is_finite(), "exp{k}: {row}");
                }
                assert!(
                    !cell.to_lowercase().contains("nan") && !cell.contains("inf"),
                    "exp{k}: {row}"
                );
            }
        }
        assert!(out.join(format!("exp{k}/table.md")).is_file());
    }
    // Experiment 1: six models; experiment 2: six sizes of GRU and LSTM; experiment 4: 18 models.
    let count = |k: usize| {
        std::fs::read_to_string(out.join(format!("exp{k}/table.csv")))
            .unwrap()
            .lines()
            .count()
            - 1
    };
    assert_eq!(
        (count(1), count(2), count(3), count(4), count(5)),
        (6, 12, 4, 18, 6)
    );
    let mut figures = 0;
    for line in report.lines().filter(|l| l.starts_with("![")) {
        let file = &line[line.find("](").unwrap() + 2..line.len() - 1];
        let bytes =
            std::fs::read(out.join(file)).unwrap_or_else(|_| panic!("missing figure {file}"));
        assert!(
            bytes.starts_with(b"\x89PNG") && bytes.len() > 2000,
            "{file} is not a PNG with content"
        );
        figures += 1;
    }
    // Learning curves (7), traces (6), RMSE vs size (1), saliency (4).
    assert!(figures >= 18, "{figures} figures");

    // Finished runs are kept per model and reused: a second invocation asking for the same
    // runs trains nothing and writes the same RMSE columns; asking for two runs trains only
    // the second (run 1 is the same whatever the number of runs).
    let rmse_columns = |csv: &str| -> Vec<String> {
        csv.lines()
            .map(|l| l.split(',').take(5).collect::<Vec<_>>().join(","))
            .collect()
    };
    let table2 = |runs: &str| {
        let again = Command::new(env!("CARGO_BIN_EXE_celegans"))
            .args([
                "experiment",
                "2",
                "--quick",
                "--runs",
                runs,
                "--out",
                out.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        assert!(
            again.status.success(),
            "{}",
            String::from_utf8_lossy(&again.stderr)
        );
        std::fs::read_to_string(out.join("exp2/table.csv")).unwrap()
    };
    let first = std::fs::read_to_string(out.join("exp2/table.csv")).unwrap();
    assert_eq!(rmse_columns(&table2("1")), rmse_columns(&first));
    let two = table2("2");
    assert!(
        two.contains(" ± ") && !two.contains("± 0.0e0"),
        "two runs give a spread: {two}"
    );
    let gru4 = out.join("runs/fcm_0.5ms_quick_gru-4/runs");
    assert!(gru4.join("01.json").is_file() && gru4.join("02.json").is_file());
}

/// `celegans pipeline` (README's first command) with its real settings: the FCM dataset,
/// GRU-4 trained for 1000 epochs, a summary per output, and a report with its figures; a
/// second invocation reuses the dataset and the run and prints the same numbers.
#[test]
fn pipeline_does_the_main_job() {
    let scratch = scratch::scratch("pipeline");
    let out = scratch.join("out");
    let run = || {
        let r = Command::new(env!("CARGO_BIN_EXE_celegans"))
            .args(["pipeline", "--out", out.to_str().unwrap()])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&r.stderr).into_owned();
        assert!(r.status.success(), "{err}");
        (String::from_utf8_lossy(&r.stdout).into_owned(), err)
    };
    let (first, _) = run();
    let rmse = |name: &str| -> f64 {
        let line = first
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no {name} row in:\n{first}"));
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    // The outputs swing by several mV; a trained GRU-4 follows them to well under 1.5 mV.
    for name in ["DB1", "LUAL", "PVR", "VB1", "all"] {
        let e = rmse(name);
        assert!(e.is_finite() && e > 0.0 && e < 1.5, "{name}: {e}\n{first}");
    }
    assert!(first.contains("x faster"), "{first}");
    let report = std::fs::read_to_string(out.join("REPORT.md")).unwrap();
    for figure in ["curves.png", "trace_DB1.png", "trace_VB1.png"] {
        assert!(report.contains(figure), "{figure} not in the report");
        assert!(
            out.join(figure).metadata().unwrap().len() > 1000,
            "{figure}"
        );
    }
    let (second, err) = run();
    assert!(err.contains("reusing"), "{err}");
    let table = |s: &str| s.lines().take(6).collect::<Vec<_>>().join("\n");
    assert_eq!(table(&first), table(&second));
}
