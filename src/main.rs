//! `celegans`: read, simulate and learn the C. elegans connectome.
//!
//! The program only wires the crates together: `neuroml` reads models, `simulator`
//! discretizes and integrates them, `datasets` makes stimulus/response files and
//! `surrogate` trains reduced models on them.

mod bundled;
mod model_info;

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
    /// Inspect a NeuroML2/LEMS model.
    Model {
        #[command(subcommand)]
        command: ModelCommand,
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
    },
}

fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Model { command: ModelCommand::Info { model, json } } => model_info::run(model.as_deref(), json),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
