//! Recording a run's probes: [`Traces`], and the [`Recording`] that fills them.
//!
//! A network run records hundreds of probes (c302's Full networks: every cell's voltage
//! and calcium). Appending each sample to each probe's series stores into hundreds of
//! buffers at once; the allocator lays equal buffers out at equal alignments, so those
//! stores compete for the same cache sets (with mimalloc, recording took a third of
//! `c302_B_Full`'s simulate phase). A [`Recording`] writes each sample's values side by
//! side in a small block of rows instead, and copies a full block into the series, one
//! series at a time.

use crate::error::{Error, Result};

/// Recorded series.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Traces {
    /// Sample times \[ms\].
    pub time: Vec<f64>,
    /// One series per probe, in the probe's unit (mV, mM).
    pub values: Vec<Vec<f64>>,
}

/// Samples per block of rows (a block of 800 probes is 1.6 MB, within the L2 cache).
const BLOCK: usize = 256;

/// The series of a run being recorded.
#[derive(Debug)]
pub(super) struct Recording {
    traces: Traces,
    /// The samples not yet copied into `traces`, one row of every probe per sample.
    rows: Vec<f64>,
}

impl Recording {
    /// Empty series for `probes` probes with room for `samples` samples each, refused when
    /// they would not fit in memory: no series grows by copying during a run.
    pub(super) fn with_room(probes: usize, samples: f64) -> Result<Recording> {
        limits::check(
            || format!("recording {} series of {samples:.3e} samples", probes + 1),
            samples * (probes + 1) as f64 * 8.0,
        )
        .map_err(|e| Error::Invalid(e.to_string()))?;
        let capacity = samples as usize;
        Ok(Recording {
            traces: Traces {
                time: Vec::with_capacity(capacity),
                values: (0..probes).map(|_| Vec::with_capacity(capacity)).collect(),
            },
            rows: Vec::with_capacity(BLOCK.min(capacity) * probes),
        })
    }

    /// Records a sample at `t`: one value per probe, in the probes' order.
    pub(super) fn push(&mut self, t: f64, values: impl IntoIterator<Item = f64>) {
        self.traces.time.push(t);
        let before = self.rows.len();
        self.rows.extend(values);
        debug_assert_eq!(self.rows.len() - before, self.traces.values.len());
        if self.rows.len() >= BLOCK * self.traces.values.len() {
            self.flush();
        }
    }

    /// Copies the rows into the series.
    fn flush(&mut self) {
        let width = self.traces.values.len();
        if !self.rows.is_empty() {
            for (p, series) in self.traces.values.iter_mut().enumerate() {
                series.extend(self.rows[p..].iter().step_by(width));
            }
        }
        self.rows.clear();
    }

    /// The series recorded.
    pub(super) fn finish(mut self) -> Traces {
        self.flush();
        self.traces
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_become_series_across_blocks() {
        for (probes, samples) in [
            (0, 3),
            (1, 1),
            (3, BLOCK - 1),
            (3, BLOCK),
            (5, 2 * BLOCK + 7),
        ] {
            let mut r = Recording::with_room(probes, samples as f64).unwrap();
            for s in 0..samples {
                r.push(s as f64, (0..probes).map(|p| (1000 * p + s) as f64));
            }
            let traces = r.finish();
            assert_eq!(
                traces.time,
                (0..samples).map(|s| s as f64).collect::<Vec<_>>()
            );
            assert_eq!(traces.values.len(), probes);
            for (p, series) in traces.values.iter().enumerate() {
                let expected: Vec<f64> = (0..samples).map(|s| (1000 * p + s) as f64).collect();
                assert_eq!(
                    series, &expected,
                    "probes {probes}, samples {samples}, probe {p}"
                );
            }
        }
    }
}
