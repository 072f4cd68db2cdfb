//! The command line: arguments, dispatch to the commands, and errors as one line with
//! exit code 2.

use crate::{bench, dataset, experiment, learn, model_info, pipeline, simulate};

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Read, simulate and learn the C. elegans connectome (NeuroML2 / c302).
#[derive(Parser)]
#[command(name = "celegans", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The main job in miniature on the bundled model: generate the FCM dataset (40 x 500 ms,
    /// dt 0.5 ms), train a GRU-4 surrogate (1 run x 1000 epochs), report its test RMSE per
    /// output, time the simulator against it and write REPORT.md with figures.
    Pipeline(pipeline::PipelineArgs),
    /// Inspect a NeuroML2/LEMS model.
    Model {
        #[command(subcommand)]
        command: ModelCommand,
    },
    /// Generate, merge and inspect stimulus/response datasets.
    Dataset {
        #[command(subcommand)]
        command: DatasetCommand,
    },
    /// The paper's experiments 1-5 end to end: datasets from the bundled model, surrogates,
    /// tables (Markdown + CSV), figures (PNG) and REPORT.md.
    Experiment(experiment::ExperimentArgs),
    /// Wall time of the simulator against a surrogate for the same stimuli.
    Bench(bench::BenchArgs),
    /// Train recurrent surrogates (RNN, LSTM, GRU + dense read-out) on a dataset file.
    Train(learn::TrainArgs),
    /// RMSE of a trained surrogate on a dataset file, per split and per output.
    Evaluate {
        /// Model directory written by `train`.
        #[arg(long)]
        model: PathBuf,
        /// The dataset file (.h5).
        #[arg(long)]
        data: PathBuf,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Predict outputs from a dataset's inputs or a stimulus file with a trained surrogate (CSV).
    Predict {
        /// Model directory written by `train`.
        #[arg(long)]
        model: PathBuf,
        /// The dataset file (.h5) whose inputs drive the surrogate.
        #[arg(
            long,
            required_unless_present = "stimulus",
            conflicts_with = "stimulus"
        )]
        data: Option<PathBuf>,
        /// A stimulus file (.toml): duration, optional dt, [\[input\]] neuron/amplitude \[pA\]/shape.
        #[arg(long)]
        stimulus: Option<PathBuf>,
        /// CSV file to write: sequence, time_ms, one column per output.
        #[arg(long)]
        out: PathBuf,
    },
    /// Write a dataset file (from `dataset generate` or `simulate --out F.h5`) as an NWB 2
    /// file: membrane potentials and injected currents as TimeSeries, with the model's
    /// provenance (docs/file-formats.md).
    ExportNwb {
        /// The dataset file (.h5).
        file: PathBuf,
        /// The NWB file to write (.nwb).
        #[arg(long)]
        out: PathBuf,
        /// The session's start, the time reference of every series (RFC 3339, e.g.
        /// 2026-12-07T10:00:00Z; default: now). Fixing it makes the file reproducible.
        #[arg(long)]
        session_start: Option<String>,
    },
    /// Run a LEMS `<Simulation>` as `pynml LEMS_FILE -neuron -run -nogui` would, writing
    /// every `<OutputFile>` (time first, SI units).
    Run {
        /// The LEMS file.
        lems_file: PathBuf,
        /// Time step \[ms\] (default: the simulation's step), or `auto`: variable steps
        /// within --rtol (graded networks), the outputs still sampled at the simulation's step.
        #[arg(long, value_parser = parse_step)]
        dt: Option<Step>,
        /// Relative tolerance of each variable step's voltage error (with --dt auto;
        /// default 1e-5).
        #[arg(long)]
        rtol: Option<f64>,
        /// Longest variable step \[ms\] (with --dt auto; default 0.1: longer steps let
        /// calcium concentrations, which the error control does not watch, drift).
        #[arg(long)]
        max_step: Option<f64>,
        /// Duration \[ms\] (default: the simulation's length).
        #[arg(long)]
        duration: Option<f64>,
        /// Where to write the output files (default: beside the LEMS file).
        #[arg(long)]
        out_dir: Option<PathBuf>,
        #[command(flatten)]
        numerics: NumericsArgs,
    },
    /// Simulate a network (the bundled c302 D1 by default) with current steps on chosen
    /// neurons, optionally ablating some, and write the membrane potentials.
    Simulate {
        /// A LEMS or .net.nml model (default: the bundled c302 D1).
        #[arg(long)]
        model: Option<PathBuf>,
        /// A dataset scenario (fcm, nictation, ... or a .toml file): its ablations, its
        /// outputs as the recorded neurons and its inputs as the stimulated ones, unless
        /// --ablate (added), --record or --stimulate say otherwise.
        #[arg(long)]
        scenario: Option<String>,
        /// A stimulus file (.toml, as for `celegans predict`: duration, dt, [\[input\]] neuron,
        /// amplitude in pA, shape) instead of the current step.
        #[arg(long, conflicts_with = "stimulate")]
        stimulus: Option<PathBuf>,
        /// Neurons receiving the current step, e.g. PLML,PLMR,AVBL,AVBR.
        #[arg(long, value_delimiter = ',')]
        stimulate: Vec<String>,
        /// Step amplitude \[pA\].
        #[arg(long, default_value_t = 15.0)]
        amplitude: f64,
        /// Step onset \[ms\].
        #[arg(long, default_value_t = 100.0)]
        delay: f64,
        /// Step length \[ms\].
        #[arg(long, default_value_t = 300.0)]
        width: f64,
        /// Time step \[ms\].
        #[arg(long)]
        dt: Option<f64>,
        /// Duration \[ms\] (a stimulus file gives its own).
        #[arg(long, default_value_t = 500.0)]
        duration: f64,
        /// Run this long with no input first, then record from t = 0 \[ms\] (datasets settle
        /// 1000 ms; the default 0 starts from the model's initial state, as NEURON does).
        #[arg(long, default_value_t = 0.0)]
        settle: f64,
        /// Neurons to remove with their connections.
        #[arg(long, value_delimiter = ',')]
        ablate: Vec<String>,
        /// Neurons to record (or `all`, the default without a scenario).
        #[arg(long, value_delimiter = ',')]
        record: Vec<String>,
        /// Output file: .h5 (one sequence in the dataset layout: inputs pA, outputs mV) or
        /// .csv (time and one column per recorded neuron, mV).
        #[arg(long)]
        out: PathBuf,
        #[command(flatten)]
        numerics: NumericsArgs,
    },
}

/// `--dt`: a time step in ms or `auto`.
#[derive(Clone, Copy, Debug)]
enum Step {
    Fixed(f64),
    Auto,
}

fn parse_step(s: &str) -> Result<Step, String> {
    if s == "auto" {
        return Ok(Step::Auto);
    }
    s.parse()
        .map(Step::Fixed)
        .map_err(|_| format!("'{s}' is neither a time step in ms nor 'auto'"))
}

/// Numerical choices shared by `run` and `simulate`.
#[derive(clap::Args)]
struct NumericsArgs {
    /// Voltage method: cn (Crank–Nicolson, second order) or be (backward Euler, as NEURON).
    #[arg(long, default_value = "cn", value_parser = simulate::parse_method)]
    method: simulator::Method,
    /// Compartments: per-cable (as jNeuroML/NEURON), per-segment, fixed:N, max-length:UM.
    #[arg(long, default_value = "per-cable", value_parser = simulate::parse_discretization)]
    discretization: simulator::Discretization,
}

#[derive(Subcommand)]
enum DatasetCommand {
    /// Simulate a scenario's stimulus/response sequences into an HDF5 dataset.
    Generate(dataset::GenerateArgs),
    /// Merge the shards of one generation into the file a single run would have written.
    Merge {
        /// Shard files.
        #[arg(required = true)]
        shards: Vec<PathBuf>,
        /// The merged file (.h5).
        #[arg(long)]
        out: PathBuf,
        /// Use this split instead of the automatic one (1-based sequence numbers).
        #[arg(long)]
        split: Option<PathBuf>,
    },
    /// Read the authors' published format (a folder of .dat files) into a dataset file.
    ImportDat(dataset::ImportArgs),
    /// Write a dataset file in the authors' format (Sequence_NN.dat + split.json).
    ExportDat {
        /// The dataset file.
        file: PathBuf,
        /// Folder to write.
        #[arg(long)]
        out: PathBuf,
    },
    /// PNG figures of chosen sequences' inputs and outputs.
    Plot {
        /// The dataset file.
        file: PathBuf,
        /// Folder for the figures.
        #[arg(long)]
        out: PathBuf,
        /// 1-based sequence numbers (default: all).
        #[arg(long, value_delimiter = ',')]
        sequences: Vec<usize>,
    },
    /// Shapes, names, units, split and stimulus summary of a dataset file.
    Info {
        /// The dataset file.
        file: PathBuf,
        /// Print one JSON object.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ModelCommand {
    /// Cells, compartments, channels, synapses, gap junctions, inputs and LEMS types of a
    /// model (the bundled c302 D1 connectome when MODEL is omitted).
    Info {
        /// A LEMS file, a `.net.nml` or a `.cell.nml`.
        model: Option<PathBuf>,
        /// Print one JSON object instead of a table.
        #[arg(long)]
        json: bool,
        /// Compartments: per-cable (as jNeuroML/NEURON), per-segment, fixed:N, max-length:UM.
        #[arg(long, default_value = "per-cable", value_parser = simulate::parse_discretization)]
        discretization: simulator::Discretization,
    },
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Model {
            command:
                ModelCommand::Info {
                    model,
                    json,
                    discretization,
                },
        } => model_info::run(model.as_deref(), json, discretization),
        Command::Dataset { command } => match command {
            DatasetCommand::Generate(args) => dataset::generate(args),
            DatasetCommand::Merge { shards, out, split } => {
                dataset::merge(&shards, &out, split.as_deref())
            }
            DatasetCommand::Info { file, json } => dataset::info(&file, json),
            DatasetCommand::ImportDat(args) => dataset::import_dat(args),
            DatasetCommand::Plot {
                file,
                out,
                sequences,
            } => dataset::plot(&file, &out, &sequences),
            DatasetCommand::ExportDat { file, out } => dataset::export_dat(&file, &out),
        },
        Command::ExportNwb {
            file,
            out,
            session_start,
        } => dataset::export_nwb(&file, &out, session_start.as_deref()),
        Command::Train(args) => learn::train(args),
        Command::Pipeline(args) => pipeline::run(args),
        Command::Bench(args) => bench::run(args),
        Command::Experiment(args) => experiment::run(args),
        Command::Evaluate { model, data, json } => learn::evaluate(&model, &data, json),
        Command::Predict {
            model,
            data,
            stimulus,
            out,
        } => match (data, stimulus) {
            (Some(data), _) => learn::predict(&model, &data, &out),
            (None, Some(stimulus)) => learn::predict_stimulus(&model, &stimulus, &out),
            (None, None) => unreachable!("clap requires --data or --stimulus"),
        },
        Command::Run {
            lems_file,
            dt,
            rtol,
            max_step,
            duration,
            out_dir,
            numerics,
        } => {
            let (dt, variable) = match dt {
                Some(Step::Auto) => {
                    let mut control =
                        simulator::StepControl::new(rtol.unwrap_or(crate::api::DEFAULT_RTOL));
                    control.max_step = max_step.unwrap_or(control.max_step);
                    control.first_step = control.first_step.min(control.max_step);
                    (None, Some(control))
                }
                _ if rtol.is_some() || max_step.is_some() => {
                    anyhow::bail!("--rtol and --max-step go with --dt auto (variable steps)")
                }
                Some(Step::Fixed(dt)) => (Some(dt), None),
                None => (None, None),
            };
            simulate::run_lems(
                &lems_file,
                duration,
                out_dir.as_deref(),
                crate::api::Numerics {
                    dt,
                    variable,
                    method: numerics.method,
                    discretization: numerics.discretization,
                },
            )
        }
        Command::Simulate {
            model,
            scenario,
            stimulus,
            stimulate,
            amplitude,
            delay,
            width,
            dt,
            duration,
            settle,
            ablate,
            record,
            out,
            numerics,
        } => simulate::simulate(
            simulate::SimulateArgs {
                model,
                scenario,
                stimulus,
                stimulate,
                amplitude_pa: amplitude,
                delay,
                width,
                duration,
                settle,
                ablate,
                record,
                out,
            },
            crate::api::Numerics {
                dt,
                variable: None,
                method: numerics.method,
                discretization: numerics.discretization,
            },
        ),
    }
}

/// Runs the command line: parses the arguments, runs the command, prints an error as one
/// line and returns exit code 2 for it.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            ExitCode::from(2)
        }
    }
}

/// Longest error message printed \[characters\]: a hostile file can put megabytes into a
/// value the message quotes.
const MESSAGE_LIMIT: usize = 1000;

/// The error and its causes on one line, each cause once (a cause whose text the message
/// already holds, as an OS error a file error quotes, is not repeated), at most
/// `MESSAGE_LIMIT` characters.
pub fn one_line(e: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if message.contains(&text) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&text);
    }
    let message = message.replace(['\n', '\r'], " ");
    let total = message.chars().count();
    if total <= MESSAGE_LIMIT {
        return message;
    }
    let head: String = message.chars().take(MESSAGE_LIMIT).collect();
    format!("{head}... ({} more characters)", total - MESSAGE_LIMIT)
}
