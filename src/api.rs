//! What the command line and the Python package share: requests in, arrays out. Errors are
//! `anyhow` errors whose chain [`crate::cli::one_line`] prints as the command line does.

use std::path::Path;

use anyhow::{anyhow, bail, Context};
use neuroml::lems::EventFormat;
use simulator::inputs::Waveform;
use simulator::{build, Discretization, Method, Options, Probe, Simulation};

use paper::bundled;

pub use crate::simulate::{parse_discretization, parse_method};

/// How to integrate: the time step (None: the request's default), the voltage method and
/// the compartments.
#[derive(Debug, Clone, Copy)]
pub struct Numerics {
    /// Time step \[ms\]; with `rtol`, the sampling interval of the recordings.
    pub dt: Option<f64>,
    /// Variable steps (`--dt auto --rtol R`, graded networks only), Crank–Nicolson
    /// whatever `method` says.
    pub variable: Option<simulator::StepControl>,
    /// Voltage method.
    pub method: Method,
    /// Compartments.
    pub discretization: Discretization,
}

/// The relative tolerance of `--dt auto` without `--rtol`: more accurate against
/// converged NEURON than the fixed step of 0.1 ms on the full model, at about its cost
/// (`docs/simulator.md`).
pub const DEFAULT_RTOL: f64 = 1e-5;

impl Default for Numerics {
    fn default() -> Self {
        Numerics {
            dt: None,
            variable: None,
            method: Method::default(),
            discretization: Discretization::PerCable,
        }
    }
}

/// `x` as a positive, finite number of ms, or an error naming `--name`.
pub fn check_positive(name: &str, x: f64) -> anyhow::Result<f64> {
    if !(x > 0.0 && x.is_finite()) {
        bail!("--{name} must be a positive number of ms, not {x}");
    }
    Ok(x)
}

/// The bundled model (None) or the LEMS / NeuroML file at `path`.
pub fn load_model(path: Option<&Path>) -> anyhow::Result<neuroml::Model> {
    Ok(bundled::load_model(path)?)
}

/// What `celegans model info --json` prints about `model`, loaded from `path` (None: the
/// bundled model) in `parse_seconds`, as a JSON value.
pub fn describe_model(
    model: &neuroml::Model,
    path: Option<&Path>,
    parse_seconds: f64,
) -> anyhow::Result<serde_json::Value> {
    let info = crate::model_info::describe(model, path, parse_seconds, Discretization::PerCable);
    Ok(serde_json::to_value(info)?)
}

/// One `<OutputFile>` of a LEMS simulation.
pub struct OutputFile {
    /// Its file name.
    pub file_name: String,
    /// Its columns' LEMS quantities (`AVBL/0/AVBL/v`), in order.
    pub quantities: Vec<String>,
    probes: Vec<Probe>,
    /// Factor from each probe's unit to SI (mV → V; mM is mol/m³ already).
    scales: Vec<f64>,
}

/// One `<EventOutputFile>`: its file name, format and (selection id, spike source) pairs.
pub struct EventFile {
    /// Its file name.
    pub file_name: String,
    /// Id–time or time–id lines.
    pub format: EventFormat,
    /// For each selection: its id and the simulation's spike source.
    pub sources: Vec<(u64, usize)>,
}

/// A LEMS file's target `<Simulation>`, built and ready to run (`celegans run`,
/// `celegans.run_lems`).
pub struct LemsSimulation {
    /// The network.
    pub sim: Simulation,
    /// Time step \[ms\] (with `rtol`, the sampling interval).
    pub dt: f64,
    /// Variable steps.
    pub variable: Option<simulator::StepControl>,
    /// Duration \[ms\].
    pub duration: f64,
    /// The `<OutputFile>`s.
    pub output_files: Vec<OutputFile>,
    /// The `<EventOutputFile>`s.
    pub event_files: Vec<EventFile>,
}

/// What a [`LemsSimulation`] recorded.
pub struct LemsResult {
    /// Sample times \[ms\]: t = 0 and every step.
    pub time_ms: Vec<f64>,
    /// Per output file, per column: the values in SI units (V, mol/m³, ...).
    pub columns: Vec<Vec<Vec<f64>>>,
    /// Per event output file: the spike times \[s\] of each selection.
    pub spikes: Vec<Vec<Vec<f64>>>,
    /// The steps a variable-step run took (None for a fixed step).
    pub steps: Option<simulator::StepStats>,
}

impl LemsSimulation {
    /// Reads the LEMS file at `path` and builds its target simulation, with `numerics.dt`
    /// and `duration` \[ms\] instead of the file's when given.
    pub fn load(
        path: &Path,
        duration: Option<f64>,
        numerics: Numerics,
    ) -> anyhow::Result<LemsSimulation> {
        let model = load_model(Some(path))?;
        let target = model
            .target
            .clone()
            .ok_or_else(|| anyhow!("{}: no <Target> simulation to run", path.display()))?;
        let spec = model.simulation(&target).cloned().ok_or_else(|| {
            anyhow!(
                "{}: target simulation '{target}' is not defined",
                path.display()
            )
        })?;
        let dt = check_positive("dt", numerics.dt.unwrap_or(spec.step))?;
        let duration = check_positive("duration", duration.unwrap_or(spec.length))?;
        if let Some(c) = numerics.variable {
            c.check()?;
        }
        let options = Options {
            dt,
            method: numerics.method,
            discretization: numerics.discretization,
            ..Options::default()
        };
        let mut sim = build(&model, &options)?;
        let mut output_files = Vec::new();
        for file in &spec.output_files {
            let probes = file
                .columns
                .iter()
                .map(|c| {
                    sim.probe(&c.quantity)
                        .with_context(|| format!("output file {} column {}", file.id, c.id))
                })
                .collect::<anyhow::Result<Vec<_>>>()?;
            // SI: V for voltages, mol/m³ (= mM) for concentrations.
            let scales = probes
                .iter()
                .map(|p| {
                    if matches!(p.quantity, simulator::Quantity::Voltage) {
                        1e-3
                    } else {
                        1.0
                    }
                })
                .collect();
            output_files.push(OutputFile {
                file_name: file.file_name.clone(),
                quantities: file.columns.iter().map(|c| c.quantity.clone()).collect(),
                probes,
                scales,
            });
        }
        // Spike times: one source per selection, with the threshold a NetCon would have.
        let mut event_files = Vec::new();
        for file in &spec.event_output_files {
            let mut sources = Vec::new();
            for sel in &file.selections {
                if sel.event_port != "spike" {
                    bail!(
                        "event output file {} selection {}: event port '{}' (only 'spike' can be recorded)",
                        file.id,
                        sel.id,
                        sel.event_port
                    );
                }
                let source = simulator::watch_spikes(&model, &mut sim, &sel.select)
                    .with_context(|| format!("event output file {}", file.id))?;
                sources.push((sel.id, source));
            }
            event_files.push(EventFile {
                file_name: file.file_name.clone(),
                format: file.format,
                sources,
            });
        }
        if numerics.variable.is_some() {
            sim.check_variable_steps()?;
        }
        Ok(LemsSimulation {
            sim,
            dt,
            variable: numerics.variable,
            duration,
            output_files,
            event_files,
        })
    }

    /// Runs the simulation from t = 0 for its duration.
    pub fn run(&mut self) -> anyhow::Result<LemsResult> {
        let probes: Vec<Probe> = self
            .output_files
            .iter()
            .flat_map(|f| f.probes.iter().cloned())
            .collect();
        let (mut traces, steps) = match self.variable {
            None => (self.sim.run(self.duration, &probes, 1)?, None),
            Some(control) => {
                let (traces, stats) =
                    self.sim
                        .run_adaptive(self.duration, &probes, self.dt, &control)?;
                (traces, Some(stats))
            }
        };
        let mut series = traces.values.drain(..);
        let columns = self
            .output_files
            .iter()
            .map(|f| {
                f.scales
                    .iter()
                    .map(|s| {
                        let mut values = series.next().expect("one series per probe");
                        values.iter_mut().for_each(|v| *v *= s);
                        values
                    })
                    .collect()
            })
            .collect();
        let spikes = self
            .event_files
            .iter()
            .map(|f| {
                f.sources
                    .iter()
                    .map(|&(_, source)| {
                        self.sim.events.spikes[source]
                            .iter()
                            .map(|t| t * 1e-3)
                            .collect()
                    })
                    .collect()
            })
            .collect();
        Ok(LemsResult {
            time_ms: traces.time,
            columns,
            spikes,
            steps,
        })
    }
}

/// A simulation of a model with chosen current inputs, ablations and recordings
/// (`celegans simulate`, `Model.simulate`).
pub struct SimulateRequest {
    /// Current input per neuron (at the soma's middle), in nA.
    pub inputs: Vec<(String, Waveform)>,
    /// Neurons whose soma potential is recorded.
    pub record: Vec<String>,
    /// Neurons removed with all their connections and inputs.
    pub ablate: Vec<String>,
    /// Time step \[ms\].
    pub dt: f64,
    /// Recorded time \[ms\].
    pub duration: f64,
    /// Time with no input before the recording \[ms\].
    pub settle: f64,
    /// Voltage method and compartments (`dt` above is the step).
    pub numerics: Numerics,
    /// How errors name the inputs and the recordings (`--stimulate`, `--record`).
    pub labels: (&'static str, &'static str),
}

/// The recording of a [`SimulateRequest`].
pub struct SimulateResult {
    /// Sample times \[ms\] from 0: every step.
    pub time_ms: Vec<f64>,
    /// The recorded neurons, in order.
    pub names: Vec<String>,
    /// Their soma potentials \[mV\], one series per neuron.
    pub v_mv: Vec<Vec<f64>>,
}

/// Every neuron of a built network, by population name.
pub fn cell_names(sim: &Simulation) -> Vec<String> {
    sim.layout
        .cells
        .iter()
        .map(|c| c.name().trim_end_matches("[0]").to_string())
        .collect()
}

/// Builds `model` with the request's ablations, lets it settle with no input, then runs
/// it with the inputs for the duration, recording the soma potentials (every neuron when
/// `record` is empty).
pub fn simulate(model: &neuroml::Model, req: &SimulateRequest) -> anyhow::Result<SimulateResult> {
    check_positive("dt", req.dt)?;
    check_positive("duration", req.duration)?;
    if !(req.settle >= 0.0 && req.settle.is_finite()) {
        bail!(
            "--settle must be a non-negative number of ms, not {}",
            req.settle
        );
    }
    let options = Options {
        dt: req.dt,
        method: req.numerics.method,
        discretization: req.numerics.discretization,
        ablate: req.ablate.clone(),
        ..Options::default()
    };
    let mut sim = build(model, &options)?;
    if req.settle > 0.0 {
        sim.run(req.settle, &[], usize::MAX)?;
        sim.restart_clock();
    }
    for (cell, w) in &req.inputs {
        sim.add_input(cell, 0, 0.5, 1.0, w.clone())
            .with_context(|| format!("{} {cell}", req.labels.0))?;
    }
    let names = if req.record.is_empty() {
        cell_names(&sim)
    } else {
        req.record.clone()
    };
    let probes = names
        .iter()
        .map(|n| {
            sim.probe(&format!("{n}/v"))
                .with_context(|| format!("{} {n}", req.labels.1))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let traces = sim.run(req.duration, &probes, 1)?;
    Ok(SimulateResult {
        time_ms: traces.time,
        names,
        v_mv: traces.values,
    })
}

/// A scenario's dataset (`celegans dataset generate`, `celegans.dataset.generate`).
pub struct GenerateRequest {
    /// A built-in scenario (`fcm`, ...) or a scenario file (`.toml`).
    pub scenario: String,
    /// Time step \[ms\].
    pub dt: f64,
    /// Number of sequences (None: 40 per behaviour).
    pub count: Option<usize>,
    /// Seed of the stimulus draw.
    pub seed: u64,
    /// Sequence length \[ms\].
    pub duration: f64,
    /// Settling time with no input before each sequence \[ms\].
    pub settle: f64,
    /// Voltage method.
    pub method: Method,
    /// A LEMS or `.net.nml` model (None: the bundled c302 D1).
    pub model: Option<std::path::PathBuf>,
}

/// Generates the dataset of `req` into the dataset file `out` (`.h5`), as
/// `celegans dataset generate` does (in parallel, resuming an interrupted run);
/// `progress(done, total)` is called as sequences finish.
pub fn generate_dataset(
    req: &GenerateRequest,
    out: &Path,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> anyhow::Result<()> {
    let args = crate::dataset::GenerateArgs {
        scenario: req.scenario.clone(),
        split: None,
        dt: req.dt,
        duration: req.duration,
        count: req.count,
        seed: req.seed,
        record_all: false,
        settle: req.settle,
        shard: None,
        method: req.method,
        model: req.model.clone(),
        out: out.to_path_buf(),
    };
    crate::dataset::generate_with(args, progress)
}

/// Writes the dataset file `source` as an NWB 2 file at `out` (`celegans export-nwb`);
/// `session_start` in RFC 3339 (None: now).
pub fn export_nwb(source: &Path, out: &Path, session_start: Option<&str>) -> anyhow::Result<()> {
    crate::dataset::export_nwb(source, out, session_start)
}

/// The model files' SHA-256 (`bundled`: the bundled model's, as datasets record it).
pub fn model_sha256(model: &neuroml::Model, bundled: bool) -> anyhow::Result<String> {
    bundled::model_sha256(model, bundled)
}

/// A simulation's recording as one sequence in the dataset layout (inputs pA, outputs mV,
/// T samples from t = 0, `inputs` and `v` row-major (T, I) and (T, O)): what
/// `celegans simulate --out F.h5` writes and the NWB export of a simulation reads.
pub struct Recording<'a> {
    /// Time step \[ms\].
    pub dt: f64,
    /// Input currents \[pA\], (T, I).
    pub inputs: &'a [f64],
    /// The inputs' neurons.
    pub input_names: &'a [String],
    /// Soma potentials \[mV\], (T, O).
    pub v: &'a [f64],
    /// The recorded neurons.
    pub names: &'a [String],
    /// The model files' SHA-256.
    pub model_sha256: &'a str,
    /// The scenario the stimuli came from (`simulate` when none).
    pub scenario: &'a str,
    /// How the stimulus was made (JSON, as a dataset's `stimuli` entry).
    pub stimulus: &'a serde_json::Value,
}

impl Recording<'_> {
    /// As a one-sequence dataset.
    pub fn dataset(&self) -> anyhow::Result<datasets::Dataset> {
        let (i, o) = (self.input_names.len(), self.names.len());
        let t = self
            .v
            .len()
            .checked_div(o)
            .unwrap_or(self.inputs.len() / i.max(1));
        if self.v.len() != t * o || self.inputs.len() != t * i {
            bail!(
                "a recording of {t} samples needs {} input and {} output values, not {} and {}",
                t * i,
                t * o,
                self.inputs.len(),
                self.v.len()
            );
        }
        let d = datasets::Dataset {
            time: (0..t).map(|k| k as f64 * self.dt).collect(),
            dt: self.dt,
            sequences: 1,
            inputs: self.inputs.iter().map(|&x| x as f32).collect(),
            outputs: self.v.iter().map(|&x| x as f32).collect(),
            voltages: None,
            split: vec![0],
            input_names: self.input_names.to_vec(),
            output_names: self.names.to_vec(),
            cell_names: Vec::new(),
            input_unit: "pA".into(),
            output_unit: "mV".into(),
            scenario: self.scenario.to_string(),
            model_sha256: self.model_sha256.to_string(),
            seed: 0,
            stimuli: vec![self.stimulus.clone()],
            generator: format!("celegans {}", env!("CARGO_PKG_VERSION")),
            shard: None,
        };
        d.check().map_err(anyhow::Error::msg)?;
        Ok(d)
    }
}

/// Writes a dataset as an NWB 2 file at `out`; `session_start` in RFC 3339 (None: now).
pub fn write_nwb(
    d: &datasets::Dataset,
    out: &Path,
    session_start: Option<&str>,
) -> anyhow::Result<()> {
    crate::dataset::write_nwb(d, out, session_start)
}

/// Training surrogates on a dataset file (`celegans train`, `celegans.Surrogate.train`).
pub struct TrainRequest {
    /// The dataset file.
    pub data: std::path::PathBuf,
    /// `rnn`, `lstm` or `gru`.
    pub arch: String,
    /// Hidden units.
    pub hidden: usize,
    /// GRU with the reset gate after the recurrent product.
    pub reset_after: bool,
    /// Epochs per run.
    pub epochs: usize,
    /// Independent runs; the best on validation is kept.
    pub runs: usize,
    /// Seed of the first run.
    pub seed: u64,
    /// Adam learning rate (None: `surrogate::train::Settings::default_lr`).
    pub lr: Option<f64>,
    /// Sequences per batch.
    pub batch: usize,
    /// `rmse` or `mse`.
    pub loss: String,
    /// `none`, `standard` or `auto`.
    pub scale: String,
    /// Recoveries allowed per run (`surrogate::train::Settings::recoveries`).
    pub recoveries: usize,
    /// The model directory to write.
    pub out: std::path::PathBuf,
}

/// Recoveries a training run is allowed by default (`celegans train --recoveries`).
pub const DEFAULT_RECOVERIES: usize = surrogate::train::DEFAULT_RECOVERIES;

/// Trains as `celegans train` does, quietly; returns what `train --json` prints.
/// `progress(done, total)` is called after every epoch of every run.
pub fn train(
    req: &TrainRequest,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> anyhow::Result<serde_json::Value> {
    let args = crate::learn::TrainArgs {
        data: req.data.clone(),
        arch: req.arch.clone(),
        hidden: req.hidden,
        reset_after: req.reset_after,
        epochs: req.epochs,
        batch: req.batch,
        lr: req.lr,
        runs: req.runs,
        seed: req.seed,
        loss: req.loss.parse().map_err(|e: String| anyhow!("loss: {e}"))?,
        scale: req
            .scale
            .parse()
            .map_err(|e: String| anyhow!("scale: {e}"))?,
        adam_epsilon: Default::default(),
        recoveries: req.recoveries,
        drop_inputs: Vec::new(),
        backend: Default::default(),
        out: req.out.clone(),
        json: false,
    };
    crate::learn::train_quietly(args, true, progress)
}

/// A trained surrogate, loaded from its model directory.
pub struct Surrogate {
    /// What the directory's `model.json` says (architecture, names, units, scaling, ...).
    pub model: surrogate::store::ModelFile,
    weights: surrogate::model::Weights,
}

impl Surrogate {
    /// Loads the model directory `dir` (written by `celegans train`).
    pub fn load(dir: &Path) -> anyhow::Result<Surrogate> {
        let (model, weights) = surrogate::store::load(dir)?;
        Ok(Surrogate { model, weights })
    }

    /// Outputs (N, T, O) for inputs `x` (N, T, I) in the model's input order and units,
    /// row-major; `steps` is T.
    pub fn predict(&self, x: &[f32], steps: usize) -> anyhow::Result<Vec<f32>> {
        let i = self.model.input_names.len();
        if steps == 0 || i == 0 || !x.len().is_multiple_of(steps * i) {
            bail!(
                "inputs: {} values are not sequences of {steps} steps x {i} inputs ({})",
                x.len(),
                self.model.input_names.join(", ")
            );
        }
        Ok(surrogate::train::predict(
            &self.model.architecture,
            &self.weights,
            &self.model.scaling,
            x,
            steps,
        ))
    }
}

/// What `celegans evaluate MODEL --data FILE --json` prints: RMSE per split and output.
pub fn evaluate(model_dir: &Path, data: &Path) -> anyhow::Result<serde_json::Value> {
    crate::learn::evaluate_json(model_dir, data, false)
}
