//! `celegans model info`.

use std::path::Path;
use std::time::Instant;

use serde::Serialize;
use simulator::Discretization;

use paper::bundled;

#[derive(Serialize)]
pub(crate) struct Info {
    model: String,
    #[serde(flatten)]
    summary: neuroml::Summary,
    compartments: usize,
    discretization: String,
    parse_seconds: f64,
    unresolved: Vec<String>,
}

fn defined_by_network(e: &neuroml::Error) -> bool {
    matches!(e.kind.as_ref(), neuroml::ErrorKind::UnknownReference { what, .. } if what == "ion channel" || what == "concentration model")
}

fn info(path: Option<&Path>, discretization: Discretization) -> anyhow::Result<Info> {
    let start = Instant::now();
    let model = match path {
        // A lone cell file conventionally leaves its channels and concentration models to
        // the network that includes it: report those as unresolved, fail on anything else.
        Some(p) if p.to_string_lossy().ends_with(".cell.nml") => {
            let model = neuroml::load_partial(p)?;
            if let Some(e) = model.unresolved.iter().find(|e| !defined_by_network(e)) {
                return Err(e.clone().into());
            }
            model
        }
        other => bundled::load_model(other)?,
    };
    Ok(describe(
        &model,
        path,
        start.elapsed().as_secs_f64(),
        discretization,
    ))
}

/// What `model info` says of `model`, read from `path` (None: the bundled model) in
/// `parse_seconds`.
pub(crate) fn describe(
    model: &neuroml::Model,
    path: Option<&Path>,
    parse_seconds: f64,
    discretization: Discretization,
) -> Info {
    Info {
        model: path
            .map(|p| p.display().to_string())
            .unwrap_or_else(|| bundled::lems_path().display().to_string()),
        summary: model.summary(),
        compartments: discretization.model_compartments(model),
        discretization: match discretization {
            Discretization::PerCable => "per-cable (jNeuroML/NEURON default)".to_string(),
            Discretization::PerSegment => "per-segment".to_string(),
            Discretization::FixedPerCable(n) => format!("fixed:{n}"),
            Discretization::MaxLength(x) => format!("max-length:{x}"),
        },
        parse_seconds,
        unresolved: model.unresolved.iter().map(|e| e.to_string()).collect(),
    }
}

pub fn run(path: Option<&Path>, json: bool, discretization: Discretization) -> anyhow::Result<()> {
    let info = info(path, discretization)?;
    if json {
        println!("{}", serde_json::to_string_pretty(&info)?);
        return Ok(());
    }
    let s = &info.summary;
    println!("model              {}", info.model);
    println!(
        "network            {}",
        s.network.as_deref().unwrap_or("(none)")
    );
    let point = if s.point_cells > 0 {
        format!(", {} of them point cells", s.point_cells)
    } else {
        String::new()
    };
    println!(
        "cells              {} ({} cell types defined{point})",
        s.cells, s.cell_types
    );
    println!("segments           {}", s.segments);
    println!("cables             {}", s.cables);
    println!(
        "compartments       {} ({})",
        info.compartments, info.discretization
    );
    println!("channel kinds      {}", s.channel_kinds.join(", "));
    println!("chemical synapses  {}", s.chemical_synapses);
    println!("gap junctions      {}", s.gap_junctions);
    println!("inputs             {}", s.inputs);
    println!("component types    {}", s.component_types.join(", "));
    println!(
        "files read         {} in {:.3} s",
        s.files, info.parse_seconds
    );
    if !info.unresolved.is_empty() {
        println!(
            "unresolved         {} references to things no file read defines:",
            info.unresolved.len()
        );
        for e in &info.unresolved {
            println!("  {e}");
        }
    }
    Ok(())
}
