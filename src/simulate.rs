//! `celegans run` (a LEMS `<Simulation>`, as `pynml LEMS -neuron -run` would) and
//! `celegans simulate` (the bundled model with chosen stimuli, ablations and recordings).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use neuroml::lems::EventFormat;
use simulator::inputs::Waveform;
use simulator::{Discretization, Method};

use paper::bundled;

pub use crate::api::Numerics;
use crate::api::{self, check_positive};
use crate::c_exp::push_c_exp;

/// Parses `be`/`cn`.
pub fn parse_method(s: &str) -> Result<Method, String> {
    match s {
        "be" | "backward-euler" => Ok(Method::BackwardEuler),
        "cn" | "crank-nicolson" => Ok(Method::CrankNicolson),
        _ => Err(format!("unknown method '{s}' (be or cn)")),
    }
}

/// Parses `per-cable`, `per-segment`, `fixed:N`, `max-length:UM`.
pub fn parse_discretization(s: &str) -> Result<Discretization, String> {
    let bad =
        || format!("unknown discretization '{s}' (per-cable, per-segment, fixed:N, max-length:UM)");
    Ok(match s.split_once(':') {
        None if s == "per-cable" => Discretization::PerCable,
        None if s == "per-segment" => Discretization::PerSegment,
        Some(("fixed", n)) => {
            Discretization::FixedPerCable(n.parse().ok().filter(|&n| n > 0).ok_or_else(bad)?)
        }
        Some(("max-length", x)) => {
            Discretization::MaxLength(x.parse().ok().filter(|&x: &f64| x > 0.0).ok_or_else(bad)?)
        }
        _ => return Err(bad()),
    })
}

/// `celegans run`.
pub fn run_lems(
    path: &Path,
    duration: Option<f64>,
    out_dir: Option<&Path>,
    numerics: Numerics,
) -> anyhow::Result<()> {
    let setup = Instant::now();
    let mut run = api::LemsSimulation::load(path, duration, numerics)?;
    let base = out_dir.map(Path::to_path_buf).unwrap_or_else(|| {
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        if dir.starts_with(bundled::ROOT) {
            PathBuf::from(".")
        } else {
            dir
        }
    });
    // Every output can be written, and is this process's alone, before the run starts.
    let outputs: Vec<PathBuf> = run
        .output_files
        .iter()
        .map(|f| base.join(&f.file_name))
        .chain(run.event_files.iter().map(|f| base.join(&f.file_name)))
        .collect();
    let _locks = outputs
        .iter()
        .map(|out| {
            persist::check_writable(out)?;
            Ok(persist::lock(out)?)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    eprintln!(
        "set up {} compartments ({} nodes) in {:.3} s",
        run.sim.layout.compartments,
        run.sim.nodes(),
        setup.elapsed().as_secs_f64()
    );
    let start = Instant::now();
    let result = run.run()?;
    let seconds = start.elapsed().as_secs_f64();
    match (run.variable, result.steps) {
        (Some(control), Some(steps)) => eprintln!(
            "simulated {} ms in {} variable steps of {:.2e} to {:.2e} ms (rtol {:e}, Crank–Nicolson), sampled every {} ms, in {seconds:.3} s",
            run.duration, steps.steps, steps.shortest, steps.longest, control.rtol, run.dt
        ),
        _ => eprintln!(
            "simulated {} ms at dt {} ms ({:?}) in {seconds:.3} s",
            run.duration, run.dt, numerics.method
        ),
    }
    // All output files or none.
    let files = run.output_files.len();
    persist::write_group(&outputs, |k, tmp| -> anyhow::Result<()> {
        if k >= files {
            let f = &run.event_files[k - files];
            return persist::stream_into(tmp, |w| {
                write_events(w, f.format, &f.sources, &result.spikes[k - files])
            })
            .with_context(|| outputs[k].display().to_string());
        }
        let columns = &result.columns[k];
        persist::stream_into(tmp, |w| {
            let (mut line, mut scratch) = (Vec::new(), String::new());
            for (i, t) in result.time_ms.iter().enumerate() {
                line.clear();
                push_c_exp(&mut line, &mut scratch, t * 1e-3);
                line.push(b'\t');
                for column in columns {
                    push_c_exp(&mut line, &mut scratch, column[i]);
                    line.push(b'\t');
                }
                line.push(b'\n');
                w.write_all(&line)?;
            }
            Ok(())
        })
        .with_context(|| outputs[k].display().to_string())
    })?;
    for out in &outputs {
        eprintln!("wrote {}", out.display());
    }
    Ok(())
}

/// Writes an `<EventOutputFile>` as jNeuroML's NEURON export does: one line per spike in
/// time order (ties in selection order), `ID<TAB>TIME` or `TIME<TAB>ID`, time in seconds
/// (`spikes`: per selection, its times in seconds).
fn write_events(
    w: &mut dyn Write,
    format: EventFormat,
    sources: &[(u64, usize)],
    spikes: &[Vec<f64>],
) -> std::io::Result<()> {
    let mut events: Vec<(f64, usize, u64)> = sources
        .iter()
        .zip(spikes)
        .enumerate()
        .flat_map(|(order, (&(id, _), times))| times.iter().map(move |&t| (t, order, id)))
        .collect();
    events.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    for (t, _, id) in events {
        match format {
            EventFormat::IdTime => writeln!(w, "{id}\t{t}")?,
            EventFormat::TimeId => writeln!(w, "{t}\t{id}")?,
        }
    }
    Ok(())
}

/// What `celegans simulate` does.
pub struct SimulateArgs {
    pub model: Option<PathBuf>,
    pub scenario: Option<String>,
    pub stimulus: Option<PathBuf>,
    pub stimulate: Vec<String>,
    pub amplitude_pa: f64,
    pub delay: f64,
    pub width: f64,
    pub duration: f64,
    pub settle: f64,
    pub ablate: Vec<String>,
    pub record: Vec<String>,
    pub out: PathBuf,
}

/// The stimulus of a `simulate` run: neurons, and the current each receives.
struct Stimulus {
    neurons: Vec<String>,
    waveforms: Vec<Waveform>,
    /// The stimulus as stored in an HDF5 file's `stimuli` attribute.
    spec: serde_json::Value,
}

/// `celegans simulate`.
pub fn simulate(args: SimulateArgs, numerics: Numerics) -> anyhow::Result<()> {
    let ext = args.out.extension().and_then(|e| e.to_str()).unwrap_or("");
    if ext != "csv" && ext != "h5" {
        bail!(
            "--out {}: the output file must end in .h5 (HDF5, the dataset layout) or .csv",
            args.out.display()
        );
    }
    let _lock = persist::lock(&args.out)?;
    persist::check_writable(&args.out)?;
    let scenario = args
        .scenario
        .as_deref()
        .map(crate::dataset::scenario)
        .transpose()?;
    let file = args
        .stimulus
        .as_deref()
        .map(datasets::StimulusFile::read)
        .transpose()?;
    let dt = check_positive(
        "dt",
        numerics
            .dt
            .or(file.as_ref().and_then(|f| f.dt))
            .unwrap_or(0.1),
    )?;
    // A stimulus file says how long it lasts.
    let duration = check_positive(
        "duration",
        file.as_ref().map_or(args.duration, |f| f.duration),
    )?;
    datasets::stimulus::whole_steps(duration, dt).map_err(|e| anyhow::anyhow!("--dt: {e}"))?;
    if !(args.settle >= 0.0 && args.settle.is_finite()) {
        bail!(
            "--settle must be a non-negative number of ms, not {}",
            args.settle
        );
    }
    let mut ablate = scenario
        .as_ref()
        .map(|s| s.ablate.clone())
        .unwrap_or_default();
    ablate.extend(
        args.ablate
            .iter()
            .filter(|n| !ablate.contains(n))
            .cloned()
            .collect::<Vec<_>>(),
    );
    let model = bundled::load_model(args.model.as_deref())?;
    let stimulus = match &file {
        Some(f) => {
            let mut neurons: Vec<String> = Vec::new();
            for i in &f.input {
                if !neurons.contains(&i.neuron) {
                    neurons.push(i.neuron.clone());
                }
            }
            let rows = f.sample(&neurons, dt).map_err(|e| {
                let path = args.stimulus.as_deref().unwrap_or(Path::new("--stimulus"));
                anyhow::anyhow!("{}: {e}", path.display())
            })?;
            let waveforms = (0..neurons.len())
                .map(|c| Waveform::Sampled {
                    dt,
                    values: rows.iter().map(|r| r[c] * 1e-3).collect(),
                })
                .collect();
            let mut spec = serde_json::to_value(f).expect("serializable");
            spec["family"] = "stimulus file".into();
            Stimulus {
                neurons,
                waveforms,
                spec,
            }
        }
        None => {
            let neurons = if args.stimulate.is_empty() {
                scenario.as_ref().map(|s| s.inputs()).unwrap_or_default()
            } else {
                args.stimulate.clone()
            };
            let shape = datasets::Shape::Pulse {
                onset: args.delay,
                width: args.width,
            };
            shape
                .check()
                .map_err(|e| anyhow::anyhow!("--delay/--width: {e}"))?;
            if !args.amplitude_pa.is_finite() {
                bail!("--amplitude is {}, not a number of pA", args.amplitude_pa);
            }
            for n in &neurons {
                datasets::stimulus::check_resolved(n, &shape, dt)
                    .map_err(|e| anyhow::anyhow!("--dt: {e}"))?;
            }
            let pulse = Waveform::Pulse {
                delay: args.delay,
                duration: args.width,
                amplitude: args.amplitude_pa * 1e-3,
            };
            let spec = serde_json::json!({"family": "step", "pulse": {"delay_ms": args.delay, "width_ms": args.width, "amplitude_pA": args.amplitude_pa}, "neurons": neurons});
            Stimulus {
                waveforms: vec![pulse; neurons.len()],
                neurons,
                spec,
            }
        }
    };
    // Every neuron unless some are named (or a scenario names its outputs).
    let record: Vec<String> = if args.record.iter().any(|r| r == "all")
        || (args.record.is_empty() && scenario.is_none())
    {
        Vec::new()
    } else if args.record.is_empty() {
        scenario
            .as_ref()
            .map(|s| s.outputs.clone())
            .unwrap_or_default()
    } else {
        args.record.clone()
    };
    let request = api::SimulateRequest {
        inputs: stimulus
            .neurons
            .iter()
            .cloned()
            .zip(stimulus.waveforms.iter().cloned())
            .collect(),
        record,
        ablate,
        dt,
        duration,
        settle: args.settle,
        numerics,
        labels: (
            if file.is_some() {
                "--stimulus"
            } else {
                "--stimulate"
            },
            "--record",
        ),
    };
    let start = Instant::now();
    let result = api::simulate(&model, &request)?;
    eprintln!(
        "settled {} ms and simulated {duration} ms at dt {dt} ms in {:.3} s",
        args.settle,
        start.elapsed().as_secs_f64()
    );
    let names = result.names;
    let traces = simulator::Traces {
        time: result.time_ms,
        values: result.v_mv,
    };
    if ext == "h5" {
        let steps = (duration / dt).round() as usize;
        // As in datasets: T = duration/dt samples from t = 0; input row k is the current
        // during the step from t_k to t_k+1 (the middle of the step, as the simulator reads it).
        let inputs: Vec<f64> = (0..steps)
            .flat_map(|k| {
                stimulus
                    .waveforms
                    .iter()
                    .map(move |w| w.at((k as f64 + 0.5) * dt) * 1e3)
            })
            .collect();
        let v: Vec<f64> = (0..steps)
            .flat_map(|k| traces.values.iter().map(move |s| s[k]))
            .collect();
        let d = api::Recording {
            dt,
            inputs: &inputs,
            input_names: &stimulus.neurons,
            v: &v,
            names: &names,
            model_sha256: &paper::bundled::model_sha256(&model, args.model.is_none())?,
            scenario: scenario.as_ref().map_or("simulate", |s| s.name.as_str()),
            stimulus: &stimulus.spec,
        }
        .dataset()?;
        d.write(&args.out)?;
    } else {
        persist::write_stream(&args.out, |w| {
            write!(w, "time_ms")?;
            for n in &names {
                write!(w, ",{n}_mV")?;
            }
            writeln!(w)?;
            for (k, t) in traces.time.iter().enumerate() {
                write!(w, "{t}")?;
                for series in &traces.values {
                    write!(w, ",{:.6}", series[k])?;
                }
                writeln!(w)?;
            }
            Ok(())
        })?;
    }
    eprintln!("wrote {}", args.out.display());
    Ok(())
}
