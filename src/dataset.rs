//! `celegans dataset generate | merge | info`.

use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context};
use datasets::{Dataset, Generation, Scenario, Shard};

use paper::bundled;

/// Arguments of `dataset generate`.
#[derive(clap::Args)]
pub struct GenerateArgs {
    /// fcm, fcm16, nictation, fcm+nictation, fcm-no-avb, fcm-no-ava, or a scenario file
    /// (.toml: name, outputs, ablate, [\[group\]] name/neurons/amplitude, [\[behaviour\]]).
    #[arg(long)]
    pub scenario: String,
    /// Use this split instead of the automatic one: {"train": \[..\], "valid": \[..\], "test":
    /// \[..\]} with 1-based sequence numbers covering every sequence.
    #[arg(long)]
    pub split: Option<PathBuf>,
    /// Time step \[ms\] (the paper used 0.5 and 0.1).
    #[arg(long, default_value_t = 0.5)]
    pub dt: f64,
    /// Sequence length \[ms\].
    #[arg(long, default_value_t = 500.0)]
    pub duration: f64,
    /// Number of sequences (default: 40 per behaviour).
    #[arg(long)]
    pub count: Option<usize>,
    /// Seed of the stimulus draw.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Also record every neuron's voltage (/voltages).
    #[arg(long)]
    pub record_all: bool,
    /// Settling time with no input before each sequence \[ms\].
    #[arg(long, default_value_t = 1000.0)]
    pub settle: f64,
    /// Only part K of N of the sequences (merge the parts with `dataset merge`); `slurm`:
    /// this task's part of a SLURM job array (`sbatch --array=MIN-MAX`, docs/cluster.md).
    #[arg(long)]
    pub shard: Option<ShardArg>,
    /// Voltage method: cn (Crank–Nicolson, second order) or be (backward Euler, as NEURON).
    #[arg(long, default_value = "cn", value_parser = crate::simulate::parse_method)]
    pub method: simulator::Method,
    /// A LEMS or .net.nml model (default: the bundled c302 D1).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// The dataset file (.h5).
    #[arg(long)]
    pub out: PathBuf,
}

/// `--shard K/N`, or `--shard slurm` for the part a SLURM array task is.
#[derive(Debug, Clone, Copy)]
pub enum ShardArg {
    /// Part K of N.
    Part(Shard),
    /// From the array task's `SLURM_ARRAY_TASK_*` variables.
    Slurm,
}

impl std::str::FromStr for ShardArg {
    type Err = String;
    fn from_str(s: &str) -> Result<ShardArg, String> {
        if s == "slurm" {
            return Ok(ShardArg::Slurm);
        }
        s.parse()
            .map(ShardArg::Part)
            .map_err(|e: String| format!("{e}, or slurm"))
    }
}

impl ShardArg {
    /// The part, reading the SLURM variables for `slurm`.
    fn resolve(self) -> anyhow::Result<Shard> {
        match self {
            ShardArg::Part(shard) => Ok(shard),
            ShardArg::Slurm => {
                Shard::from_slurm(|name| std::env::var(name).ok()).map_err(anyhow::Error::msg)
            }
        }
    }
}

/// The scenario `--scenario NAME` names: a built-in one, or a `.toml` file.
pub fn scenario(name: &str) -> anyhow::Result<Scenario> {
    if name.ends_with(".toml") {
        return Ok(Scenario::from_toml(Path::new(name))?);
    }
    Scenario::builtin(name).with_context(|| {
        format!(
            "--scenario: unknown scenario '{name}' (one of {}, or a .toml file)",
            Scenario::BUILTIN.join(", ")
        )
    })
}

pub fn generate(a: GenerateArgs) -> anyhow::Result<()> {
    generate_with(a, &|_, _| {})
}

/// `generate`, with `on_sequence` called as sequences finish: (done, to do).
pub(crate) fn generate_with(
    a: GenerateArgs,
    on_sequence: &(dyn Fn(usize, usize) + Sync),
) -> anyhow::Result<()> {
    let scenario = scenario(&a.scenario)?;
    if a.split.is_some() && a.shard.is_some() {
        bail!(
            "--split applies to a whole dataset: give it to `dataset merge` instead of each shard"
        );
    }
    if a.out.extension().and_then(|e| e.to_str()) != Some("h5") {
        bail!(
            "--out {}: the dataset file must end in .h5",
            a.out.display()
        );
    }
    let mut g = Generation::new(scenario, a.dt);
    g.duration = a.duration;
    g.count = a.count.unwrap_or(g.count);
    g.seed = a.seed;
    g.record_all = a.record_all;
    g.settle = a.settle;
    g.shard = a.shard.map(ShardArg::resolve).transpose()?;
    g.method = a.method;
    // The method is part of how the data were made: kept with the generator's name.
    g.generator = format!(
        "celegans {} (--method {})",
        env!("CARGO_PKG_VERSION"),
        match g.method {
            simulator::Method::CrankNicolson => "cn",
            simulator::Method::BackwardEuler => "be",
        }
    );
    let steps = g.steps()?;
    let _lock = persist::lock(&a.out)?;
    persist::check_writable(&a.out)?;
    let t0 = Instant::now();
    let model = bundled::load_model(a.model.as_deref())?;
    g.model_sha256 = paper::bundled::model_sha256(&model, a.model.is_none())?;
    let todo = g.shard.map_or(g.count, |s| s.indices(g.count).len());
    eprintln!(
        "{}: {todo} sequences x {} ms at dt {} ms ({steps} samples), {} inputs, {} outputs, seed {}",
        g.scenario.name,
        g.duration,
        g.dt,
        g.scenario.inputs().len(),
        g.scenario.outputs.len(),
        g.seed
    );
    let bar = indicatif::ProgressBar::new(todo as u64).with_style(
        indicatif::ProgressStyle::with_template(
            "{bar:40} {pos}/{len} sequences, {elapsed} elapsed, ETA {eta}",
        )
        .expect("valid template"),
    );
    // Finished sequences are kept beside the output until the file is written, so that the
    // same command resumes an interrupted generation.
    let name = a
        .out
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let checkpoint = a.out.with_file_name(format!(".{name}.sequences"));
    let mut dataset = datasets::generate_resumable(&model, &g, Some(&checkpoint), &|done| {
        bar.set_position(done as u64);
        on_sequence(done, todo);
    })?;
    bar.finish_and_clear();
    if let Some(path) = &a.split {
        dataset.split = datasets::dat::SplitFile::read(path, dataset.sequences)?;
    }
    dataset.write(&a.out)?;
    let _ = std::fs::remove_dir_all(&checkpoint);
    eprintln!(
        "wrote {} ({} sequences) in {:.1} s",
        a.out.display(),
        dataset.sequences,
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

pub fn merge(shards: &[PathBuf], out: &Path, split: Option<&Path>) -> anyhow::Result<()> {
    let same = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if let Some(input) = shards.iter().find(|s| same(s, out)) {
        bail!(
            "--out {}: it is one of the files to merge ({}); write the merged dataset elsewhere",
            out.display(),
            input.display()
        );
    }
    let _lock = persist::lock(out)?;
    let parts = shards
        .iter()
        .map(|p| {
            let d = Dataset::read(p)?;
            if d.shard.is_none() {
                bail!(
                    "{}: not a shard (it was not written by `dataset generate --shard K/N`)",
                    p.display()
                );
            }
            Ok(d)
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut merged = datasets::merge(&parts)?;
    if let Some(path) = split {
        merged.split = datasets::dat::SplitFile::read(path, merged.sequences)?;
    }
    merged.write(out)?;
    eprintln!(
        "wrote {} ({} sequences from {} shards)",
        out.display(),
        merged.sequences,
        parts.len()
    );
    Ok(())
}

pub fn info(file: &Path, json: bool) -> anyhow::Result<()> {
    let d = Dataset::read(file)?;
    let count = |l: u8| d.split.iter().filter(|&&x| x == l).count();
    let mut families: Vec<(String, usize)> = Vec::new();
    for s in &d.stimuli {
        let f = s
            .get("family")
            .and_then(|f| f.as_str())
            .unwrap_or("?")
            .to_string();
        match families.iter_mut().find(|(n, _)| *n == f) {
            Some((_, c)) => *c += 1,
            None => families.push((f, 1)),
        }
    }
    let (i, o) = (d.input_names.len(), d.output_names.len());
    if json {
        let value = serde_json::json!({
            "file": file.display().to_string(),
            "scenario": d.scenario,
            "dt_ms": d.dt,
            "inputs": [d.sequences, d.steps(), i],
            "outputs": [d.sequences, d.steps(), o],
            "voltages": d.voltages.as_ref().map(|_| [d.sequences, d.steps(), d.cell_names.len()]),
            "input_names": d.input_names,
            "output_names": d.output_names,
            "input_unit": d.input_unit,
            "output_unit": d.output_unit,
            "split": {"train": count(0), "valid": count(1), "test": count(2)},
            "families": families.iter().map(|(f, c)| (f.clone(), serde_json::Value::from(*c))).collect::<serde_json::Map<_, _>>(),
            "seed": d.seed,
            "model_sha256": d.model_sha256,
            "generator": d.generator,
            "shard": d.shard.as_ref().map(|s| s.0.clone()),
        });
        println!("{value}");
        return Ok(());
    }
    println!("{}", file.display());
    println!(
        "  scenario     {}  (seed {}, {})",
        d.scenario, d.seed, d.generator
    );
    let last = d.time.last().copied().unwrap_or(0.0);
    println!(
        "  time         {} samples, dt {} ms, 0 .. {} ms",
        d.steps(),
        d.dt,
        (last * 1e6).round() / 1e6
    );
    println!(
        "  inputs       [{}, {}, {}] {}: {}",
        d.sequences,
        d.steps(),
        i,
        d.input_unit,
        d.input_names.join(" ")
    );
    println!(
        "  outputs      [{}, {}, {}] {}: {}",
        d.sequences,
        d.steps(),
        o,
        d.output_unit,
        d.output_names.join(" ")
    );
    if d.voltages.is_some() {
        println!(
            "  voltages     [{}, {}, {}] {}",
            d.sequences,
            d.steps(),
            d.cell_names.len(),
            d.output_unit
        );
    }
    println!(
        "  split        {} train / {} valid / {} test",
        count(0),
        count(1),
        count(2)
    );
    let fam: Vec<String> = families.iter().map(|(f, c)| format!("{f} {c}")).collect();
    println!("  stimuli      {}", fam.join(", "));
    if let Some((label, _)) = &d.shard {
        println!("  shard        {label} (merge the shards with `celegans dataset merge`)");
    }
    Ok(())
}

/// Arguments of `dataset import-dat`.
#[derive(clap::Args)]
pub struct ImportArgs {
    /// Folder of `.dat` files (one per sequence: index, time \[s\], outputs, inputs).
    pub dir: PathBuf,
    /// Input column names, in file order after the outputs.
    #[arg(long, value_delimiter = ',', required = true)]
    pub inputs: Vec<String>,
    /// Output column names, in file order after time.
    #[arg(long, value_delimiter = ',', required = true)]
    pub outputs: Vec<String>,
    /// `{"train": [..], "valid": [..], "test": [..]}` with 1-based sequence numbers
    /// (default: the diverse automatic split).
    #[arg(long)]
    pub split: Option<PathBuf>,
    /// Unit of the input columns (the authors' files state none).
    #[arg(long, default_value = "unknown")]
    pub input_unit: String,
    /// Unit of the output columns.
    #[arg(long, default_value = "unknown")]
    pub output_unit: String,
    /// The dataset file (.h5).
    #[arg(long)]
    pub out: PathBuf,
}

pub fn import_dat(a: ImportArgs) -> anyhow::Result<()> {
    if a.out.extension().and_then(|e| e.to_str()) != Some("h5") {
        bail!(
            "--out {}: the dataset file must end in .h5",
            a.out.display()
        );
    }
    let _lock = persist::lock(&a.out)?;
    let import = datasets::dat::Import {
        inputs: a.inputs,
        outputs: a.outputs,
        split: a.split,
        input_unit: a.input_unit,
        output_unit: a.output_unit,
        generator: format!("celegans {}", env!("CARGO_PKG_VERSION")),
    };
    let d = datasets::dat::import_dat(&a.dir, &import)?;
    d.write(&a.out)?;
    let count = |l: u8| d.split.iter().filter(|&&x| x == l).count();
    eprintln!(
        "wrote {}: {} sequences x {} samples (dt {} ms), split {}/{}/{}",
        a.out.display(),
        d.sequences,
        d.steps(),
        d.dt,
        count(0),
        count(1),
        count(2)
    );
    Ok(())
}

pub fn export_dat(file: &Path, out: &Path) -> anyhow::Result<()> {
    let d = Dataset::read(file)?;
    let _lock = persist::lock(out)?;
    let written = datasets::dat::export_dat(&d, out)?;
    eprintln!("wrote {} files to {}", written.len(), out.display());
    Ok(())
}

/// `export-nwb`: the dataset file as an NWB 2 file (`datasets::nwb`).
pub fn export_nwb(file: &Path, out: &Path, session_start: Option<&str>) -> anyhow::Result<()> {
    check_nwb_name(out)?;
    let d = Dataset::read(file)?;
    write_nwb(&d, out, session_start)
}

fn check_nwb_name(out: &Path) -> anyhow::Result<()> {
    if out.extension().and_then(|e| e.to_str()) != Some("nwb") {
        bail!("--out {}: the NWB file must end in .nwb", out.display());
    }
    Ok(())
}

/// Writes `d` as an NWB 2 file, the session starting at `session_start` (RFC 3339; None:
/// now).
pub fn write_nwb(d: &Dataset, out: &Path, session_start: Option<&str>) -> anyhow::Result<()> {
    use time::format_description::well_known::Rfc3339;
    check_nwb_name(out)?;
    let now = time::OffsetDateTime::now_utc();
    let start = match session_start {
        Some(s) => time::OffsetDateTime::parse(s, &Rfc3339).map_err(|e| {
            anyhow::anyhow!(
                "--session-start '{s}': not an RFC 3339 time such as 2026-12-07T10:00:00Z ({e})"
            )
        })?,
        None => now,
    };
    let text = |t: time::OffsetDateTime| t.format(&Rfc3339).expect("formattable time");
    let _lock = persist::lock(out)?;
    datasets::nwb::write_nwb(d, out, &text(start), &text(now))?;
    eprintln!(
        "wrote {} (NWB {}: {} sequences)",
        out.display(),
        datasets::nwb::NWB_VERSION,
        d.sequences
    );
    Ok(())
}

/// `dataset plot`: inputs and outputs of chosen sequences as PNG figures (like the paper's
/// Fig. 4), `DIR/seq_NN_inputs.png` and `DIR/seq_NN_outputs.png`.
pub fn plot(file: &Path, out: &Path, sequences: &[usize]) -> anyhow::Result<()> {
    let d = Dataset::read(file)?;
    let _lock = persist::lock(out)?;
    let chosen: Vec<usize> = if sequences.is_empty() {
        (1..=d.sequences).collect()
    } else {
        sequences.to_vec()
    };
    if let Some(&bad) = chosen.iter().find(|&&n| n == 0 || n > d.sequences) {
        bail!(
            "--sequences: {bad} is not a sequence of {} (1..={})",
            file.display(),
            d.sequences
        );
    }
    std::fs::create_dir_all(out).with_context(|| format!("{}", out.display()))?;
    let t = d.steps();
    let split_name = |k: usize| {
        ["train", "valid", "test"]
            .get(d.split[k] as usize)
            .copied()
            .unwrap_or("?")
    };
    // All figures or none: each is drawn to a temporary name, renamed when all are drawn.
    let kinds = ["inputs", "outputs"];
    let figures: Vec<(usize, &str)> = chosen
        .iter()
        .flat_map(|&n| kinds.iter().map(move |&what| (n, what)))
        .collect();
    let paths: Vec<PathBuf> = figures
        .iter()
        .map(|(n, what)| out.join(format!("seq_{n:02}_{what}.png")))
        .collect();
    persist::write_group(&paths, |f, tmp| -> anyhow::Result<()> {
        let (n, what) = figures[f];
        let k = n - 1;
        let family = d
            .stimuli
            .get(k)
            .and_then(|s| s.get("family"))
            .and_then(|f| f.as_str())
            .unwrap_or("");
        let (values, names, unit) = if what == "inputs" {
            (&d.inputs, &d.input_names, &d.input_unit)
        } else {
            (&d.outputs, &d.output_names, &d.output_unit)
        };
        let c = names.len();
        let series: Vec<paper::figures::Series> = names
            .iter()
            .enumerate()
            .map(|(i, name)| paper::figures::Series {
                name: name.clone(),
                points: (0..t)
                    .map(|s| (d.time[s], values[(k * t + s) * c + i] as f64))
                    .collect(),
                color: None,
            })
            .collect();
        let title = format!(
            "sequence {n} ({} split, {family} stimulus): {what}",
            split_name(k)
        );
        paper::figures::line_chart(
            tmp,
            &title,
            "time [ms]",
            &format!("{what} [{unit}]"),
            &series,
        )
    })?;
    eprintln!("wrote {} figures to {}", 2 * chosen.len(), out.display());
    Ok(())
}
