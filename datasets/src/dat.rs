//! The authors' published format (`docs/file-formats.md` §2): a folder with one whitespace-separated text file
//! per sequence (`Sequence_01.dat`, …), rows `index time[s] outputs… inputs…`, and an
//! optional `split.json` `{"train": [..], "valid": [..], "test": [..]}` of 1-based sequence
//! numbers (numbers in file-name order).
//!
//! Imported values keep their published numbers; no unit is stated in the authors' data, so
//! the unit attributes read `unknown` unless given.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::file::Dataset;

/// `split.json`: 1-based sequence numbers per split.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SplitFile {
    /// Training sequences.
    pub train: Vec<usize>,
    /// Validation sequences.
    pub valid: Vec<usize>,
    /// Test sequences.
    pub test: Vec<usize>,
}

impl SplitFile {
    /// Reads and checks a split file for `count` sequences: every sequence in exactly one split.
    pub fn read(path: &Path, count: usize) -> Result<Vec<u8>> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let file: SplitFile = serde_json::from_str(&text)
            .map_err(|e| Error::Invalid(format!("{}: line {}: {e}", path.display(), e.line())))?;
        file.to_split(count)
            .map_err(|m| Error::Invalid(format!("{}: {m}", path.display())))
    }

    /// The `/split` vector (0 train, 1 valid, 2 test).
    pub fn to_split(&self, count: usize) -> std::result::Result<Vec<u8>, String> {
        let mut split = vec![u8::MAX; count];
        for (code, list) in [(0u8, &self.train), (1, &self.valid), (2, &self.test)] {
            for &n in list {
                if n == 0 || n > count {
                    return Err(format!("sequence {n} is out of range 1..={count}"));
                }
                if split[n - 1] != u8::MAX {
                    return Err(format!("sequence {n} is listed twice"));
                }
                split[n - 1] = code;
            }
        }
        if let Some(k) = split.iter().position(|&s| s == u8::MAX) {
            return Err(format!("sequence {} is in no split", k + 1));
        }
        Ok(split)
    }

    /// The split file of a `/split` vector.
    pub fn from_split(split: &[u8]) -> Self {
        let pick = |code: u8| {
            split
                .iter()
                .enumerate()
                .filter(|(_, &s)| s == code)
                .map(|(k, _)| k + 1)
                .collect()
        };
        SplitFile {
            train: pick(0),
            valid: pick(1),
            test: pick(2),
        }
    }
}

/// What `import-dat` needs besides the folder.
#[derive(Clone, Debug)]
pub struct Import {
    /// Input names, in column order after the outputs.
    pub inputs: Vec<String>,
    /// Output names, in column order after time.
    pub outputs: Vec<String>,
    /// A split file; without one, the diverse automatic split is used.
    pub split: Option<PathBuf>,
    /// Unit attribute of the inputs.
    pub input_unit: String,
    /// Unit attribute of the outputs.
    pub output_unit: String,
    /// `generator` attribute.
    pub generator: String,
}

/// The `.dat` files of `dir`, ordered by the number in their names (then by name).
fn dat_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let entries = std::fs::read_dir(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("dat"))
        .collect();
    let number = |p: &PathBuf| -> Option<u64> {
        let name = p.file_stem()?.to_str()?;
        let digits: String = name
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_digit())
            .collect();
        digits.chars().rev().collect::<String>().parse().ok()
    };
    files.sort_by(|a, b| number(a).cmp(&number(b)).then_with(|| a.cmp(b)));
    if files.is_empty() {
        return Err(Error::Invalid(format!("{}: no .dat files", dir.display())));
    }
    Ok(files)
}

/// One file's rows: (time \[s\], outputs, inputs).
fn read_dat(path: &Path, outputs: usize, inputs: usize) -> Result<(Vec<f64>, Vec<f32>, Vec<f32>)> {
    let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let columns = 2 + outputs + inputs;
    let (mut time, mut out, mut inp) = (Vec::new(), Vec::new(), Vec::new());
    for (k, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.len() != columns {
            return Err(Error::Invalid(format!(
                "{}: line {}: {} columns, expected {columns} (index, time, {outputs} outputs, {inputs} inputs)",
                path.display(),
                k + 1,
                fields.len()
            )));
        }
        let mut values = Vec::with_capacity(columns);
        for f in &fields {
            let v: f64 = f
                .parse()
                .ok()
                .filter(|v: &f64| v.is_finite() && v.abs() <= f64::from(f32::MAX))
                .ok_or_else(|| {
                    Error::Invalid(format!(
                        "{}: line {}: '{f}' is not a finite number",
                        path.display(),
                        k + 1
                    ))
                })?;
            values.push(v);
        }
        if let Some(&last) = time.last() {
            if values[1] <= last {
                return Err(Error::Invalid(format!(
                    "{}: line {}: time {} s does not follow {last} s (times must increase)",
                    path.display(),
                    k + 1,
                    values[1]
                )));
            }
        }
        time.push(values[1]);
        out.extend(values[2..2 + outputs].iter().map(|&v| v as f32));
        inp.extend(values[2 + outputs..].iter().map(|&v| v as f32));
    }
    Ok((time, out, inp))
}

/// Reads a folder of `.dat` files into a dataset.
pub fn import_dat(dir: &Path, import: &Import) -> Result<Dataset> {
    if import.inputs.is_empty() || import.outputs.is_empty() {
        return Err(Error::Invalid(
            "--inputs and --outputs must each name at least one column".into(),
        ));
    }
    let files = dat_files(dir)?;
    let (no, ni) = (import.outputs.len(), import.inputs.len());
    let mut time_s: Option<Vec<f64>> = None;
    let (mut inputs, mut outputs) = (Vec::new(), Vec::new());
    for f in &files {
        let (t, o, i) = read_dat(f, no, ni)?;
        match &time_s {
            None => {
                if t.len() < 2 {
                    return Err(Error::Invalid(format!(
                        "{}: fewer than two rows",
                        f.display()
                    )));
                }
                time_s = Some(t);
            }
            Some(first) => {
                if first.len() != t.len() || first.iter().zip(&t).any(|(a, b)| (a - b).abs() > 1e-9)
                {
                    return Err(Error::Invalid(format!(
                        "{}: its time column differs from {}'s",
                        f.display(),
                        files[0].display()
                    )));
                }
            }
        }
        inputs.extend(i);
        outputs.extend(o);
    }
    let time: Vec<f64> = time_s
        .unwrap_or_default()
        .iter()
        .map(|t| (t * 1e12).round() / 1e9)
        .collect();
    let dt = ((time[1] - time[0]) * 1e9).round() / 1e9;
    let sequences = files.len();
    let mut d = Dataset {
        time,
        dt,
        sequences,
        inputs,
        outputs,
        voltages: None,
        split: Vec::new(),
        input_names: import.inputs.clone(),
        output_names: import.outputs.clone(),
        cell_names: Vec::new(),
        input_unit: import.input_unit.clone(),
        output_unit: import.output_unit.clone(),
        scenario: format!("imported from {}", dir.display()),
        model_sha256: String::new(),
        seed: 0,
        stimuli: files
            .iter()
            .map(|f| serde_json::json!({ "file": f.file_name().map(|n| n.to_string_lossy().into_owned()) }))
            .collect(),
        generator: import.generator.clone(),
        shard: None,
    };
    d.split = match &import.split {
        Some(path) => SplitFile::read(path, sequences)?,
        None => crate::split::split_of(&d),
    };
    // Times too close to tell apart at the file format's resolution (1e-9 ms), and anything
    // else a dataset may not hold, are refused here, naming the folder.
    d.check()
        .map_err(|e| Error::Invalid(format!("{}: {e}", dir.display())))?;
    Ok(d)
}

/// Writes a dataset as the authors' format: `Sequence_NN.dat` per sequence (index, time \[s\],
/// outputs, inputs) and `split.json`. Files are written under a temporary name first.
pub fn export_dat(d: &Dataset, dir: &Path) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let (t, ni, no) = (d.steps(), d.input_names.len(), d.output_names.len());
    let digits = d.sequences.to_string().len().max(2);
    let mut paths: Vec<PathBuf> = (0..d.sequences)
        .map(|n| dir.join(format!("Sequence_{:0digits$}.dat", n + 1)))
        .collect();
    paths.push(dir.join("split.json"));
    // All files or none.
    persist::write_group(&paths, |n, tmp| -> Result<()> {
        let text = if n == d.sequences {
            serde_json::to_string(&SplitFile::from_split(&d.split)).expect("serializable") + "\n"
        } else {
            let mut text = String::with_capacity(t * 80);
            for k in 0..t {
                let _ = write!(text, "{k} {}", d.time[k] / 1000.0);
                for v in &d.outputs[(n * t + k) * no..(n * t + k + 1) * no] {
                    let _ = write!(text, " {v}");
                }
                for v in &d.inputs[(n * t + k) * ni..(n * t + k + 1) * ni] {
                    let _ = write!(text, " {v}");
                }
                text.push('\n');
            }
            text
        };
        std::fs::write(tmp, text).map_err(|source| Error::Io {
            path: paths[n].clone(),
            source,
        })
    })?;
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_files_must_cover_every_sequence_once() {
        let f = SplitFile {
            train: vec![1, 3],
            valid: vec![2],
            test: vec![4],
        };
        assert_eq!(f.to_split(4).unwrap(), vec![0, 1, 0, 2]);
        assert_eq!(SplitFile::from_split(&[0, 1, 0, 2]), f);
        assert!(f
            .to_split(5)
            .unwrap_err()
            .contains("sequence 5 is in no split"));
        assert!(f.to_split(3).unwrap_err().contains("out of range"));
        let twice = SplitFile {
            train: vec![1, 1],
            valid: vec![],
            test: vec![],
        };
        assert!(twice.to_split(1).unwrap_err().contains("twice"));
    }

    #[test]
    fn export_then_import_gives_the_same_dataset() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("dat");
        let d = Dataset {
            time: vec![0.0, 0.5, 1.0],
            dt: 0.5,
            sequences: 2,
            inputs: vec![0.0, 1.4, 1.4, 2.3, 0.25, 1e-5, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0],
            outputs: vec![-0.065, -0.06, 1.350501, -0.065, -0.065, -0.065],
            voltages: None,
            split: vec![2, 0],
            input_names: vec!["PLML".into(), "AVBL".into()],
            output_names: vec!["DB1".into()],
            cell_names: vec![],
            input_unit: "unknown".into(),
            output_unit: "unknown".into(),
            scenario: "test".into(),
            model_sha256: String::new(),
            seed: 0,
            stimuli: vec![],
            generator: "test".into(),
            shard: None,
        };
        export_dat(&d, &dir).unwrap();
        let import = Import {
            inputs: d.input_names.clone(),
            outputs: d.output_names.clone(),
            split: Some(dir.join("split.json")),
            input_unit: "unknown".into(),
            output_unit: "unknown".into(),
            generator: "test".into(),
        };
        let back = import_dat(&dir, &import).unwrap();
        assert_eq!(back.inputs, d.inputs);
        assert_eq!(back.outputs, d.outputs);
        assert_eq!(back.split, d.split);
        assert_eq!(back.time, d.time);
        assert_eq!(back.dt, 0.5);
        let wrong = Import {
            inputs: vec!["A".into()],
            ..import
        };
        let e = import_dat(&dir, &wrong).unwrap_err().to_string();
        assert!(
            e.contains("Sequence_01.dat: line 1: 5 columns, expected 4"),
            "{e}"
        );
    }
}
