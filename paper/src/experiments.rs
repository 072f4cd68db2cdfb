//! The paper's five experiments end to end, from the bundled model's datasets to tables
//! (Markdown + CSV), figures (PNG) and `OUT/REPORT.md`.

use std::fmt::Write as _;
use std::time::Instant;

use datasets::Scenario;
use surrogate::Recurrence;

use crate::figures::{self, Series};
use crate::plan::Plan;
use crate::table::{sci, today, Table};
use crate::trained::Trained;

/// One section of the report.
struct Section {
    title: String,
    lines: Vec<String>,
    table: Table,
    figures: Vec<(String, String)>,
}

/// `GRU-8` and the like.
fn name(cell: Recurrence, hidden: usize) -> String {
    format!("{}-{hidden}", cell.layer().to_uppercase())
}

/// Paper's reported test RMSE (their data, their units) for a model, where the paper gives it.
fn paper_test(label: &str) -> &'static str {
    match label {
        "RNN-16" => "1.34e-1",
        "LSTM-8" => "1.49e-2",
        "GRU-8" => "1.00e-2",
        "RNN-64" => "9.54e-2",
        "LSTM-32" => "1.52e-2",
        "GRU-32" => "1.23e-2",
        "GRU-2" => "6.00e-2",
        "GRU-4" => "1.18e-2",
        "GRU-16" => "9.36e-3",
        "GRU-64" => "1.68e-2",
        _ => "-",
    }
}

fn standard_row(t: &Trained) -> Vec<String> {
    vec![
        t.label.clone(),
        t.arch.parameters().to_string(),
        t.rmse(|e| &e.train),
        t.rmse(|e| &e.valid),
        t.rmse(|e| &e.test),
        format!("{:.1}", t.seconds),
        format!("{:.1}", t.seconds_per_epoch() * 1e3),
    ]
}

const STANDARD: [&str; 7] = [
    "model",
    "params",
    "train RMSE",
    "valid RMSE",
    "test RMSE",
    "training [s]",
    "ms/epoch",
];

fn experiment1(plan: &Plan) -> anyhow::Result<Section> {
    eprintln!("experiment 1: layer types on FCM at 0.5 ms");
    let dir = plan.folder(1)?;
    let src = plan.dataset("fcm", 0.5)?;
    let data = &src.d;
    let splits = crate::splits(data, &[])?;
    let mut header: Vec<&str> = STANDARD.to_vec();
    let outs: Vec<String> = splits
        .output_names
        .iter()
        .map(|o| format!("test {o}"))
        .collect();
    header.extend(outs.iter().map(|s| s.as_str()));
    header.push("paper test (their data)");
    let mut table = Table::new(&header);
    let mut figs = Vec::new();
    let mut gru8 = None;
    for (cell, hidden) in [
        (Recurrence::Rnn, 16),
        (Recurrence::Lstm, 8),
        (Recurrence::Gru, 8),
        (Recurrence::Rnn, 64),
        (Recurrence::Lstm, 32),
        (Recurrence::Gru, 32),
    ] {
        let label = name(cell, hidden);
        let t = plan.train(&src, &[], &splits, cell, hidden, &label)?;
        let mut row = standard_row(&t);
        row.extend((0..splits.output_names.len()).map(|o| sci(t.test_output(o))));
        row.push(paper_test(&label).into());
        table.rows.push(row);
        let file = format!("curves_{}.png", label.to_lowercase());
        figures::learning_curves(&dir.join(&file), &format!("{label}, FCM 0.5 ms"), &t.runs)?;
        figs.push((file, format!("{label} learning curves")));
        if label == "GRU-8" {
            gru8 = Some(t);
        }
    }
    if let Some(t) = &gru8 {
        figs.extend(t.trace_figures(&dir, "trace_gru-8", data, &splits)?);
    }
    Ok(Section {
        title: "Experiment 1: RNN, LSTM and GRU (paper Table 1, Figs. 5-6)".into(),
        lines: vec![
            format!("FCM dataset, dt 0.5 ms, {} sequences ({} train / {} valid / {} test), outputs in {}.", data.sequences, splits.train.sequences, splits.valid.sequences, splits.test.sequences, data.output_unit),
            "RMSE is mean ± std over runs, in the dataset's units; the paper's column is its own data (unscaled, unknown units), for orientation only.".into(),
        ],
        table,
        figures: figs,
    })
}

fn experiment2(plan: &Plan) -> anyhow::Result<Section> {
    eprintln!("experiment 2: hidden size on FCM at 0.5 ms");
    let dir = plan.folder(2)?;
    let src = plan.dataset("fcm", 0.5)?;
    let data = &src.d;
    let splits = crate::splits(data, &[])?;
    let mut header = STANDARD.to_vec();
    header.push("paper test (their data)");
    let mut table = Table::new(&header);
    let sizes = [2, 4, 8, 16, 32, 64];
    let mut series = Vec::new();
    for cell in [Recurrence::Gru, Recurrence::Lstm] {
        let mut points = Vec::new();
        for hidden in sizes {
            let label = name(cell, hidden);
            let t = plan.train(&src, &[], &splits, cell, hidden, &label)?;
            let mut row = standard_row(&t);
            row.push(paper_test(&label).into());
            table.rows.push(row);
            if let Some((m, _)) = t.stat(|r| r.errors.test.rmse) {
                points.push(((hidden as f64).log2(), m));
            }
        }
        series.push(Series {
            name: cell.layer().to_uppercase(),
            points,
            color: None,
        });
    }
    let file = "rmse_vs_size.png".to_string();
    figures::line_chart(
        &dir.join(&file),
        "test RMSE vs hidden units",
        "log2(hidden units)",
        &format!("test RMSE [{}]", data.output_unit),
        &series,
    )?;
    Ok(Section {
        title: "Experiment 2: hidden size (paper Table 2, Figs. 7-8)".into(),
        lines: vec!["GRU and LSTM with 2 to 64 hidden units on the FCM 0.5 ms dataset.".into()],
        table,
        figures: vec![(file, "test RMSE against hidden size".into())],
    })
}

fn experiment3(plan: &Plan) -> anyhow::Result<Section> {
    eprintln!("experiment 3: 0.5 ms vs 0.1 ms");
    let dir = plan.folder(3)?;
    let mut header = vec!["dt [ms]", "steps"];
    header.extend(STANDARD);
    let mut table = Table::new(&header);
    let mut figs = Vec::new();
    for dt in [0.5, 0.1] {
        let src = plan.dataset("fcm", dt)?;
        let data = &src.d;
        let splits = crate::splits(data, &[])?;
        for hidden in [4, 8] {
            let label = name(Recurrence::Gru, hidden);
            let t = plan.train(
                &src,
                &[],
                &splits,
                Recurrence::Gru,
                hidden,
                &format!("{label} dt {dt}"),
            )?;
            let mut row = vec![dt.to_string(), data.steps().to_string()];
            row.extend(standard_row(&t));
            row[2] = label.clone() + &t.dagger();
            table.rows.push(row);
            if hidden == 8 {
                let prefix = format!("trace_gru-8_dt{dt}");
                figs.extend(
                    t.trace_figures(&dir, &prefix, data, &splits)?
                        .into_iter()
                        .take(1),
                );
            }
        }
    }
    Ok(Section {
        title: "Experiment 3: time step 0.5 ms vs 0.1 ms (paper Table 3, Figs. 9-10)".into(),
        lines: vec![
            "The same stimuli simulated at both time steps (same seed), GRU-4 and GRU-8.".into(),
        ],
        table,
        figures: figs,
    })
}

fn experiment4(plan: &Plan) -> anyhow::Result<Section> {
    eprintln!("experiment 4: input importance");
    let dir = plan.folder(4)?;
    let src = plan.dataset("fcm", 0.5)?;
    let data = &src.d;
    let variants: [(&str, Vec<String>); 3] = [
        ("all", vec![]),
        ("no AVB", vec!["AVBL".into(), "AVBR".into()]),
        ("no PLM", vec!["PLML".into(), "PLMR".into()]),
    ];
    let outs: Vec<String> = data
        .output_names
        .iter()
        .map(|o| format!("test {o}"))
        .collect();
    let mut header = vec![
        "model",
        "inputs",
        "params",
        "training [s]",
        "ms/epoch",
        "test RMSE",
    ];
    header.extend(outs.iter().map(|s| s.as_str()));
    let mut table = Table::new(&header);
    let mut figs = Vec::new();
    for cell in [Recurrence::Lstm, Recurrence::Gru] {
        for hidden in [8, 16, 32] {
            for (what, drop) in &variants {
                let splits = crate::splits(data, drop)?;
                let label = name(cell, hidden);
                let t = plan.train(
                    &src,
                    drop,
                    &splits,
                    cell,
                    hidden,
                    &format!("{label} {what}"),
                )?;
                let mut row = vec![
                    label.clone() + &t.dagger(),
                    what.to_string(),
                    t.arch.parameters().to_string(),
                    format!("{:.1}", t.seconds),
                    format!("{:.1}", t.seconds_per_epoch() * 1e3),
                    t.rmse(|e| &e.test),
                ];
                row.extend((0..data.output_names.len()).map(|o| sci(t.test_output(o))));
                table.rows.push(row);
                if cell == Recurrence::Gru && hidden == 8 && drop.is_empty() {
                    figs.extend(t.saliency_figures(&dir, data, &splits)?);
                }
            }
        }
    }
    Ok(Section {
        title: "Experiment 4: input importance (paper Table 4, Fig. 11)".into(),
        lines: vec![
            "Models trained without the AVB inputs (AVBL, AVBR) or without the PLM inputs (PLML, PLMR); a larger test RMSE for an output means it depends on the missing inputs.".into(),
            "Saliency (beyond the paper): gradient of each output's sum over time with respect to each input at each time, GRU-8 with all inputs, first test sequence.".into(),
        ],
        table,
        figures: figs,
    })
}

fn experiment5(plan: &Plan) -> anyhow::Result<Section> {
    eprintln!("experiment 5: FCM + nictation");
    let dir = plan.folder(5)?;
    let src = plan.dataset("fcm+nictation", 0.5)?;
    let data = &src.d;
    let splits = crate::splits(data, &[])?;
    let fcm16 = Scenario::builtin("fcm16").expect("built in").outputs;
    let (fcm, nict): (Vec<usize>, Vec<usize>) =
        (0..data.output_names.len()).partition(|&o| fcm16.contains(&data.output_names[o]));
    let mut header = STANDARD.to_vec();
    header.extend(["test RMSE FCM outputs", "test RMSE nictation outputs"]);
    let mut table = Table::new(&header);
    let mut figs = Vec::new();
    for cell in [Recurrence::Lstm, Recurrence::Gru] {
        for hidden in [8, 16, 32] {
            let label = name(cell, hidden);
            let t = plan.train(&src, &[], &splits, cell, hidden, &label)?;
            let mut row = standard_row(&t);
            row.push(sci(t.test_group(&fcm)));
            row.push(sci(t.test_group(&nict)));
            table.rows.push(row);
            if cell == Recurrence::Gru && hidden == 32 {
                let file = "curves_gru-32.png".to_string();
                figures::learning_curves(&dir.join(&file), "GRU-32, FCM + nictation", &t.runs)?;
                figs.push((file, "GRU-32 learning curves".into()));
            }
        }
    }
    Ok(Section {
        title: "Experiment 5: forward crawling and nictation in one model (paper Table 5, Fig. 12)".into(),
        lines: vec![format!(
            "{} sequences (half FCM, half nictation, the other behaviour's inputs at zero), {} inputs, {} outputs ({} FCM, {} nictation).",
            data.sequences,
            data.input_names.len(),
            data.output_names.len(),
            fcm.len(),
            nict.len()
        )],
        table,
        figures: figs,
    })
}

/// Runs the experiments `which` (each 1 to 5) under `plan`, writing OUT/expN/table.{md,csv},
/// the figures and OUT/REPORT.md; `command` is the invocation the report quotes. Returns
/// the report's path.
pub fn run(plan: &Plan, which: &[usize], command: &str) -> anyhow::Result<std::path::PathBuf> {
    let start = Instant::now();
    let mut sections = Vec::new();
    for &k in which {
        let mut section = match k {
            1 => experiment1(plan)?,
            2 => experiment2(plan)?,
            3 => experiment3(plan)?,
            4 => experiment4(plan)?,
            5 => experiment5(plan)?,
            _ => anyhow::bail!("experiment: '{k}' is not 1, 2, 3, 4 or 5"),
        };
        if section.table.rows.iter().flatten().any(|c| c.contains('†')) {
            section.lines.push(
                "† (k): k runs ended early with a NaN loss; each keeps its best epoch before that, as the paper's Keras ModelCheckpoint does.".into(),
            );
        }
        if section.table.rows.iter().flatten().any(|c| c.contains('‡')) {
            section.lines.push(
                "‡ (k): k runs exploded (ten optimizer steps in a row with a non-finite gradient) and were restored to their best epoch and continued at half the learning rate with Adam's moments reset (`surrogate::train::Recovery`, listed in OUT/runs/MODEL/runs/NN.json).".into(),
            );
        }
        let dir = plan.folder(k)?;
        persist::write_atomic(&dir.join("table.md"), section.table.markdown())?;
        persist::write_atomic(&dir.join("table.csv"), section.table.csv())?;
        sections.push((k, section));
    }
    let mut report = format!(
        "# Experiments\n\n`{command}`: {} runs x {} epochs per model, {} sequences per behaviour x {} ms; celegans {}, {} (UTC).\n\nTraining: Adam, lr {} for LSTM/GRU and {} for RNN on standardized data{}, batch 32, RMSE loss, the best epoch on validation kept; a run that explodes is restored to its best epoch and continued at half the rate, at most {} times (‡). {} distinct models, {:.2} h in total (the sum of their runs' wall times; a model's runs train side by side on {} threads, so the wall time is about half). \"training [s]\" is the sum of a model's runs' wall times. Runs finished earlier (in OUT/runs, by an earlier experiment or an interrupted invocation) are reused: this invocation took {:.0} s.\n\n",
        plan.runs,
        plan.epochs,
        plan.count,
        plan.duration,
        env!("CARGO_PKG_VERSION"),
        today(),
        plan.gated_lr
            .unwrap_or(surrogate::train::STANDARDIZED_GATED_LR),
        surrogate::train::PAPER_RNN_LR,
        match plan.gated_lr {
            None => format!(
                " (the paper's {} makes runs explode there, `docs/keras-equivalence.md`)",
                surrogate::train::PAPER_GATED_LR
            ),
            Some(_) => " (--lr)".to_string(),
        },
        surrogate::train::DEFAULT_RECOVERIES,
        plan.trained.borrow().len(),
        plan.trained.borrow().values().sum::<f64>() / 3600.0,
        rayon::current_num_threads(),
        start.elapsed().as_secs_f64()
    );
    for (k, s) in &sections {
        let _ = writeln!(report, "## {}\n", s.title);
        for l in &s.lines {
            let _ = writeln!(report, "{l}");
        }
        let _ = writeln!(report, "\n{}", s.table.markdown());
        for (file, caption) in &s.figures {
            let _ = writeln!(report, "![{caption}](exp{k}/{file})");
        }
        report.push('\n');
    }
    let path = plan.out.join("REPORT.md");
    persist::write_atomic(&path, &report)?;
    Ok(path)
}
