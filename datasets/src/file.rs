//! The dataset file (`docs/file-formats.md` §1, stable):
//!
//! ```text
//! /time      f64 [T]          ms
//! /inputs    f32 [N, T, I]    injected current, unit in attribute `input_unit`
//! /outputs   f32 [N, T, O]    membrane potential, unit in attribute `output_unit`
//! /split     u8  [N]          0 train, 1 valid, 2 test
//! /voltages  f32 [N, T, C]    optional: every neuron; names in attribute `cell_names`
//! attributes: dt_ms, input_names, output_names (JSON lists), scenario, model_sha256,
//!             seed, stimuli (JSON list, one spec per sequence), generator
//! ```
//!
//! Files are written to a temporary name beside the target and renamed when complete.
//! A shard of a generation also carries `shard` ("K/N") and `sequences` (JSON list of the
//! global sequence indices it holds).

use std::path::Path;

use hdf5::types::VarLenUnicode;

use crate::error::{Error, Result};
use crate::split;

/// A dataset in memory; arrays are row-major, sequence first.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// Sample times \[ms\], T of them.
    pub time: Vec<f64>,
    /// Time step \[ms\].
    pub dt: f64,
    /// Number of sequences N.
    pub sequences: usize,
    /// Input currents `[N][T][I]`.
    pub inputs: Vec<f32>,
    /// Recorded outputs `[N][T][O]`.
    pub outputs: Vec<f32>,
    /// Every neuron's voltage `[N][T][C]`, when recorded.
    pub voltages: Option<Vec<f32>>,
    /// 0 train, 1 valid, 2 test, per sequence.
    pub split: Vec<u8>,
    /// Input names, I of them.
    pub input_names: Vec<String>,
    /// Output names, O of them.
    pub output_names: Vec<String>,
    /// Names of the `voltages` columns.
    pub cell_names: Vec<String>,
    /// Unit of the inputs (`pA`).
    pub input_unit: String,
    /// Unit of the outputs (`mV`).
    pub output_unit: String,
    /// Scenario name.
    pub scenario: String,
    /// SHA-256 of the model's files.
    pub model_sha256: String,
    /// Seed of the stimulus draw.
    pub seed: u64,
    /// One JSON spec per sequence.
    pub stimuli: Vec<serde_json::Value>,
    /// Program name and version.
    pub generator: String,
    /// For a shard: ("K/N", global indices of its sequences).
    pub shard: Option<(String, Vec<usize>)>,
}

impl Dataset {
    /// Samples per sequence T.
    pub fn steps(&self) -> usize {
        self.time.len()
    }

    /// Checks that the arrays and attributes agree with each other: sizes against names and
    /// sequence counts, split codes, finite values, a positive time step and increasing
    /// times, distinct names, one stimulus spec and (for a shard) one index per sequence.
    /// Returns what is wrong, for a message that names the file.
    pub fn check(&self) -> std::result::Result<(), String> {
        let (n, t) = (self.sequences, self.steps());
        if !(self.dt.is_finite() && self.dt > 0.0) {
            return Err(format!("dt_ms is {}, not a positive number", self.dt));
        }
        if t == 0 {
            return Err("/time is empty".into());
        }
        if let Some(k) = self.time.iter().position(|v| !v.is_finite()) {
            return Err(format!("/time[{k}] is {}", self.time[k]));
        }
        if let Some(k) = self.time.windows(2).position(|w| w[1] <= w[0]) {
            return Err(format!(
                "/time is not increasing at sample {} ({} then {} ms)",
                k + 1,
                self.time[k],
                self.time[k + 1]
            ));
        }
        let arrays = [
            ("inputs", Some(&self.inputs), &self.input_names),
            ("outputs", Some(&self.outputs), &self.output_names),
            ("voltages", self.voltages.as_ref(), &self.cell_names),
        ];
        for (name, data, names) in arrays {
            let Some(data) = data else { continue };
            let width = names.len();
            if data.len() as f64 != limits::product(&[n, t, width]) {
                return Err(format!(
                    "/{name} holds {} values, but {n} sequences x {t} samples x {width} names need {}",
                    data.len(),
                    limits::product(&[n, t, width])
                ));
            }
            if let Some(k) = data.iter().position(|v| !v.is_finite()) {
                let w = width.max(1);
                return Err(format!(
                    "/{name} is {} at sequence {}, sample {}, column {} ({})",
                    data[k],
                    k / (t * w) + 1,
                    k / w % t,
                    k % w + 1,
                    names.get(k % w).map_or("?", |s| s.as_str())
                ));
            }
            let mut sorted: Vec<&String> = names.iter().collect();
            sorted.sort();
            if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
                return Err(format!("/{name}: the name {} appears twice", w[0]));
            }
            if names.iter().any(|s| s.trim().is_empty()) {
                return Err(format!("/{name}: a column has an empty name"));
            }
        }
        if self.output_names.is_empty() {
            return Err("the dataset has no outputs".into());
        }
        if self.split.len() != n {
            return Err(format!(
                "/split has {} entries for {n} sequences",
                self.split.len()
            ));
        }
        if let Some(k) = self.split.iter().position(|&c| c > split::TEST) {
            return Err(format!(
                "/split[{k}] is {}, not 0 (train), 1 (valid) or 2 (test)",
                self.split[k]
            ));
        }
        if self.stimuli.len() != n {
            return Err(format!(
                "attribute 'stimuli' has {} entries for {n} sequences",
                self.stimuli.len()
            ));
        }
        if let Some((label, indices)) = &self.shard {
            if indices.len() != n {
                return Err(format!(
                    "shard {label}: attribute 'sequences' has {} indices for {n} sequences",
                    indices.len()
                ));
            }
        }
        Ok(())
    }

    /// Writes the file atomically (temporary file, then rename: [`persist::write_with`]).
    pub fn write(&self, path: &Path) -> Result<()> {
        self.check()
            .map_err(|e| Error::Invalid(format!("{}: not written: {e}", path.display())))?;
        // Errors name the file asked for, not its hidden temporary, on one line.
        persist::write_with(path, |tmp| self.write_to(tmp)).map_err(|e| match e {
            Error::Hdf5 { message, .. } => Error::Hdf5 {
                path: path.to_path_buf(),
                message: hdf5_write_error(&message),
            },
            other => other,
        })
    }

    fn write_to(&self, path: &Path) -> Result<()> {
        let h5 = |e: hdf5::Error| Error::Hdf5 {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        let (n, t) = (self.sequences, self.steps());
        let file = hdf5::File::create(path).map_err(h5)?;
        file.new_dataset::<f64>()
            .shape([t])
            .create("time")
            .and_then(|d| d.write_raw(&self.time))
            .map_err(h5)?;
        let write3 = |name: &str, data: &[f32], width: usize| -> Result<hdf5::Dataset> {
            let d = file
                .new_dataset::<f32>()
                .shape([n, t, width])
                .create(name)
                .map_err(h5)?;
            d.write_raw(data).map_err(h5)?;
            Ok(d)
        };
        let inputs = write3("inputs", &self.inputs, self.input_names.len())?;
        string_attr(&inputs, "input_unit", &self.input_unit).map_err(h5)?;
        let outputs = write3("outputs", &self.outputs, self.output_names.len())?;
        string_attr(&outputs, "output_unit", &self.output_unit).map_err(h5)?;
        file.new_dataset::<u8>()
            .shape([n])
            .create("split")
            .and_then(|d| d.write_raw(&self.split))
            .map_err(h5)?;
        if let Some(v) = &self.voltages {
            let d = write3("voltages", v, self.cell_names.len())?;
            string_attr(&d, "cell_names", &json(&self.cell_names)).map_err(h5)?;
            string_attr(&d, "unit", &self.output_unit).map_err(h5)?;
        }
        // Units also at the root, so a reader finds every attribute in one place.
        let root: &hdf5::Location = &file;
        root.new_attr::<f64>()
            .create("dt_ms")
            .and_then(|a| a.write_scalar(&self.dt))
            .map_err(h5)?;
        root.new_attr::<u64>()
            .create("seed")
            .and_then(|a| a.write_scalar(&self.seed))
            .map_err(h5)?;
        for (name, value) in [
            ("input_names", json(&self.input_names)),
            ("output_names", json(&self.output_names)),
            ("input_unit", self.input_unit.clone()),
            ("output_unit", self.output_unit.clone()),
            ("scenario", self.scenario.clone()),
            ("model_sha256", self.model_sha256.clone()),
            ("stimuli", json(&self.stimuli)),
            ("generator", self.generator.clone()),
        ] {
            string_attr(root, name, &value).map_err(h5)?;
        }
        if let Some((shard, indices)) = &self.shard {
            string_attr(root, "shard", shard).map_err(h5)?;
            string_attr(root, "sequences", &json(indices)).map_err(h5)?;
        }
        file.close().map_err(h5)?;
        Ok(())
    }

    /// Reads a dataset file.
    pub fn read(path: &Path) -> Result<Dataset> {
        let h5 = |e: hdf5::Error| Error::Hdf5 {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        let bad = |what: String| Error::Invalid(format!("{}: {what}", path.display()));
        if !path.exists() {
            return Err(bad("no such file".into()));
        }
        let file = hdf5::File::open(path).map_err(h5)?;
        let root: &hdf5::Location = &file;
        let text = |loc: &hdf5::Location, name: &str| -> Result<String> {
            let a = loc
                .attr(name)
                .map_err(|_| bad(format!("missing attribute '{name}'")))?;
            Ok(a.read_scalar::<VarLenUnicode>()
                .map_err(h5)?
                .as_str()
                .to_string())
        };
        let list = |loc: &hdf5::Location, name: &str| -> Result<Vec<String>> {
            serde_json::from_str(&text(loc, name)?)
                .map_err(|e| bad(format!("attribute '{name}': {e}")))
        };
        let dataset = |name: &str| {
            file.dataset(name)
                .map_err(|_| bad(format!("missing dataset '/{name}'")))
        };
        // Shapes first: nothing is read that does not fit in memory or agree with the rest.
        let shape = |d: &hdf5::Dataset, name: &str, dims: usize| -> Result<Vec<usize>> {
            let shape = d.shape();
            if shape.len() != dims {
                return Err(bad(format!(
                    "/{name} has {} dimensions ({shape:?}), expected {dims}",
                    shape.len()
                )));
            }
            limits::check(
                || format!("{}: /{name} of shape {shape:?}", path.display()),
                limits::product(&shape) * d.dtype().map_or(8, |t| t.size()) as f64,
            )
            .map_err(|e| Error::Invalid(e.to_string()))?;
            Ok(shape)
        };
        let time_ds = dataset("time")?;
        let t = shape(&time_ds, "time", 1)?[0];
        let inputs_ds = dataset("inputs")?;
        let outputs_ds = dataset("outputs")?;
        let input_names = list(root, "input_names")?;
        let output_names = list(root, "output_names")?;
        let (si, so) = (
            shape(&inputs_ds, "inputs", 3)?,
            shape(&outputs_ds, "outputs", 3)?,
        );
        for (name, s, width, names) in [
            ("inputs", &si, input_names.len(), "input_names"),
            ("outputs", &so, output_names.len(), "output_names"),
        ] {
            if s[1] != t || s[2] != width {
                return Err(bad(format!(
                    "/{name} has shape {s:?}, expected [N, {t}, {width}] ({t} samples in /time, {width} names in '{names}')"
                )));
            }
        }
        if si[0] != so[0] {
            return Err(bad(format!(
                "/inputs holds {} sequences and /outputs {}",
                si[0], so[0]
            )));
        }
        let split_ds = dataset("split")?;
        let sn = shape(&split_ds, "split", 1)?[0];
        if sn != si[0] {
            return Err(bad(format!(
                "/split has {sn} entries for {} sequences",
                si[0]
            )));
        }
        let (voltages, cell_names) = match file.dataset("voltages") {
            Ok(d) => {
                let sv = shape(&d, "voltages", 3)?;
                let names = list(&d, "cell_names")?;
                if sv[0] != si[0] || sv[1] != t || sv[2] != names.len() {
                    return Err(bad(format!(
                        "/voltages has shape {sv:?}, expected [{}, {t}, {}]",
                        si[0],
                        names.len()
                    )));
                }
                (Some(d.read_raw::<f32>().map_err(h5)?), names)
            }
            Err(_) => (None, Vec::new()),
        };
        let time: Vec<f64> = time_ds.read_raw().map_err(h5)?;
        let shard = match root.attr("shard") {
            Ok(_) => {
                let indices: Vec<usize> = serde_json::from_str(&text(root, "sequences")?)
                    .map_err(|e| bad(format!("attribute 'sequences': {e}")))?;
                Some((text(root, "shard")?, indices))
            }
            Err(_) => None,
        };
        let stimuli: Vec<serde_json::Value> = serde_json::from_str(&text(root, "stimuli")?)
            .map_err(|e| bad(format!("attribute 'stimuli': {e}")))?;
        let d = Dataset {
            dt: root
                .attr("dt_ms")
                .and_then(|a| a.read_scalar())
                .map_err(h5)?,
            sequences: si[0],
            inputs: inputs_ds.read_raw().map_err(h5)?,
            outputs: outputs_ds.read_raw().map_err(h5)?,
            voltages,
            split: split_ds.read_raw().map_err(h5)?,
            input_names,
            output_names,
            cell_names,
            input_unit: text(root, "input_unit")?,
            output_unit: text(root, "output_unit")?,
            scenario: text(root, "scenario")?,
            model_sha256: text(root, "model_sha256")?,
            seed: root
                .attr("seed")
                .and_then(|a| a.read_scalar())
                .map_err(h5)?,
            stimuli,
            generator: text(root, "generator")?,
            shard,
            time,
        };
        d.check().map_err(bad)?;
        Ok(d)
    }
}

/// What HDF5 said about a failed write, for people: the operating system's reason where HDF5
/// quotes one ("No space left on device"), else HDF5's own words on one line — never the
/// hidden temporary file's name.
fn hdf5_write_error(message: &str) -> String {
    const QUOTE: &str = "error message = '";
    if let Some(start) = message.find(QUOTE).map(|k| k + QUOTE.len()) {
        if let Some(len) = message[start..].find('\'') {
            return format!("cannot write the file: {}", &message[start..start + len]);
        }
    }
    let one_line = message.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.find("name = '") {
        Some(k) => one_line[..k].trim_end_matches([',', ' ', ':']).to_string(),
        None => one_line,
    }
}

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("serializable")
}

fn string_attr(loc: &hdf5::Location, name: &str, value: &str) -> hdf5::Result<()> {
    let v: VarLenUnicode = value
        .parse()
        .map_err(|e| hdf5::Error::from(format!("attribute {name}: {e}")))?;
    loc.new_attr::<VarLenUnicode>()
        .create(name)?
        .write_scalar(&v)
}
