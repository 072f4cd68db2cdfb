//! Sharded generation: part K of N of a generation (`--shard K/N`) computes exactly the
//! sequences a single run computes at those indices, and [`merge`] joins the parts into the
//! file a single run would have written.

use crate::error::{Error, Result};
use crate::file::Dataset;
use crate::split;

/// Part K of N (1-based K) of a generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This part, 1..=N.
    pub part: usize,
    /// Number of parts.
    pub of: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Shard, String> {
        let bad = || format!("shard '{s}': expected K/N with 1 <= K <= N");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let (part, of) = (
            k.trim().parse().map_err(|_| bad())?,
            n.trim().parse().map_err(|_| bad())?,
        );
        if part == 0 || of == 0 || part > of {
            return Err(bad());
        }
        Ok(Shard { part, of })
    }
}

impl Shard {
    /// This task's part of a SLURM job array (`sbatch --array=MIN-MAX[:STEP]`), read
    /// through `var` (the environment): K = (`SLURM_ARRAY_TASK_ID` − MIN)/STEP + 1 of
    /// N = (MAX − MIN)/STEP + 1, with MIN, MAX and STEP from `SLURM_ARRAY_TASK_MIN`,
    /// `..._MAX` and `..._STEP` (1 when unset); an array with gaps (`SLURM_ARRAY_TASK_COUNT`
    /// smaller than N) is refused. An error names the variable that is missing or does not
    /// fit.
    pub fn from_slurm(var: impl Fn(&str) -> Option<String>) -> std::result::Result<Shard, String> {
        let number = |name: &str| -> std::result::Result<Option<usize>, String> {
            var(name)
                .map(|v| {
                    v.trim()
                        .parse::<usize>()
                        .map_err(|_| format!("--shard slurm: {name}={v:?} is not a whole number"))
                })
                .transpose()
        };
        let required = |name: &str| {
            number(name)?.ok_or_else(|| {
                format!("--shard slurm: {name} is not set (run it as a task of `sbatch --array`)")
            })
        };
        let id = required("SLURM_ARRAY_TASK_ID")?;
        let min = required("SLURM_ARRAY_TASK_MIN")?;
        let max = required("SLURM_ARRAY_TASK_MAX")?;
        let step = number("SLURM_ARRAY_TASK_STEP")?.unwrap_or(1);
        if step == 0 || id < min || id > max || (id - min) % step != 0 {
            return Err(format!(
                "--shard slurm: task {id} is not one of {min}-{max}:{step} (SLURM_ARRAY_TASK_*)"
            ));
        }
        let of = (max - min) / step + 1;
        if let Some(count) = number("SLURM_ARRAY_TASK_COUNT")? {
            if count != of {
                return Err(format!(
                    "--shard slurm: an array of {count} tasks with ids {min}-{max} has gaps (such as --array=1,3,7); give it as --array=MIN-MAX[:STEP]"
                ));
            }
        }
        Ok(Shard {
            part: (id - min) / step + 1,
            of,
        })
    }

    /// The global sequence indices of this shard: every N-th from K − 1.
    pub fn indices(&self, count: usize) -> Vec<usize> {
        (self.part - 1..count).step_by(self.of).collect()
    }
}

/// Merges the shards of one generation into the dataset a single run would have made
/// (the split is computed over all sequences).
pub fn merge(shards: &[Dataset]) -> Result<Dataset> {
    let first = shards
        .first()
        .ok_or_else(|| Error::Invalid("nothing to merge".into()))?;
    let mut parts: Vec<(usize, &Dataset, usize)> = Vec::new();
    for d in shards {
        let (label, indices) = d
            .shard
            .as_ref()
            .ok_or_else(|| Error::Invalid("a file to merge is not a shard".into()))?;
        let same = d.scenario == first.scenario
            && d.dt == first.dt
            && d.seed == first.seed
            && d.model_sha256 == first.model_sha256
            && d.time == first.time
            && d.input_names == first.input_names
            && d.output_names == first.output_names
            && d.cell_names == first.cell_names;
        if !same {
            return Err(Error::Invalid(format!("shard {label} comes from a different generation (scenario, dt, seed, model or names differ)")));
        }
        for (k, &i) in indices.iter().enumerate() {
            parts.push((i, d, k));
        }
    }
    parts.sort_by_key(|p| p.0);
    for w in parts.windows(2) {
        if w[0].0 == w[1].0 {
            return Err(Error::Invalid(format!(
                "sequence {} appears in two shards",
                w[0].0 + 1
            )));
        }
    }
    let total = first
        .shard
        .as_ref()
        .map(|(l, _)| l.clone())
        .unwrap_or_default();
    if parts.iter().enumerate().any(|(k, p)| p.0 != k) {
        return Err(Error::Invalid(format!(
            "shards are missing sequences (have {} of a {total} generation)",
            parts.len()
        )));
    }
    let (t, i, o) = (
        first.steps(),
        first.input_names.len(),
        first.output_names.len(),
    );
    let c = first.cell_names.len();
    let take = |data: &[f32], k: usize, w: usize| data[k * t * w..(k + 1) * t * w].to_vec();
    let mut out = Dataset {
        shard: None,
        sequences: parts.len(),
        inputs: Vec::new(),
        outputs: Vec::new(),
        stimuli: Vec::new(),
        ..first.clone()
    };
    out.voltages = first.voltages.as_ref().map(|_| Vec::new());
    for (_, d, k) in &parts {
        out.inputs.extend(take(&d.inputs, *k, i));
        out.outputs.extend(take(&d.outputs, *k, o));
        if let (Some(v), Some(src)) = (&mut out.voltages, &d.voltages) {
            v.extend(take(src, *k, c));
        }
        out.stimuli.push(d.stimuli[*k].clone());
    }
    out.split = split::split_of(&out);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slurm(vars: &[(&str, &str)]) -> std::result::Result<Shard, String> {
        Shard::from_slurm(|name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| v.to_string())
        })
    }

    fn task(
        id: &str,
        min: &str,
        max: &str,
        step: Option<&str>,
        count: Option<&str>,
    ) -> std::result::Result<Shard, String> {
        let mut vars = vec![
            ("SLURM_ARRAY_TASK_ID", id),
            ("SLURM_ARRAY_TASK_MIN", min),
            ("SLURM_ARRAY_TASK_MAX", max),
        ];
        vars.extend(step.map(|s| ("SLURM_ARRAY_TASK_STEP", s)));
        vars.extend(count.map(|c| ("SLURM_ARRAY_TASK_COUNT", c)));
        slurm(&vars)
    }

    #[test]
    fn a_slurm_array_task_is_its_shard() {
        let shard = |part, of| Ok(Shard { part, of });
        assert_eq!(task("0", "0", "3", None, Some("4")), shard(1, 4));
        assert_eq!(task("3", "0", "3", None, Some("4")), shard(4, 4));
        assert_eq!(task("5", "1", "7", Some("2"), Some("4")), shard(3, 4));
        assert_eq!(task("12", "10", "13", None, None), shard(3, 4));
    }

    #[test]
    fn a_slurm_array_that_cannot_be_split_by_index_is_refused() {
        assert!(task("3", "1", "7", None, Some("3"))
            .unwrap_err()
            .contains("gaps"));
        assert!(task("9", "0", "3", None, None).is_err());
        assert!(task("2", "1", "7", Some("2"), None).is_err());
        assert!(slurm(&[])
            .unwrap_err()
            .contains("SLURM_ARRAY_TASK_ID is not set"));
        assert!(task("x", "0", "3", None, None)
            .unwrap_err()
            .contains("SLURM_ARRAY_TASK_ID=\"x\""));
    }
}
