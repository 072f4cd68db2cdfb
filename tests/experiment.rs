//! `celegans experiment all --quick`: every experiment runs end to end (datasets from the
//! bundled model, surrogates, tables, figures, REPORT.md) with finite numbers.

use std::process::Command;

#[test]
fn all_experiments_quick() {
    let out = std::env::temp_dir().join(format!("celegans-experiment-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&out);
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
    let _ = std::fs::remove_dir_all(&out);
}
