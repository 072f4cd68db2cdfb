//! The train/valid/test split: 50/25/25, with validation and test chosen to be diverse
//! and demanding.
//!
//! Each sequence is described by features of its stimulus and response: per input, the
//! mean and standard deviation of the current and the number of on/off switches; per
//! output, the mean, standard deviation and range of the response and the mean absolute
//! rate of change. Features are standardized (z-scores). Starting from the sequence
//! farthest from the mean, farthest-point selection repeatedly takes the sequence whose
//! distance to the nearest one already taken is largest; the picks go alternately to test
//! and validation until each holds a quarter. What remains trains. Ties go to the lower
//! index, so the split is a deterministic function of the data.

/// Split labels.
pub const TRAIN: u8 = 0;
/// Validation.
pub const VALID: u8 = 1;
/// Test.
pub const TEST: u8 = 2;

/// Features of one sequence from its inputs and outputs, each `[T][channels]`.
pub fn features(inputs: &[Vec<f64>], outputs: &[Vec<f64>]) -> Vec<f64> {
    let mut f = Vec::new();
    for (columns, is_input) in [(inputs, true), (outputs, false)] {
        let channels = columns.first().map_or(0, |r| r.len());
        for c in 0..channels {
            let x: Vec<f64> = columns.iter().map(|r| r[c]).collect();
            let n = x.len().max(1) as f64;
            let mean = x.iter().sum::<f64>() / n;
            let std = (x.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt();
            f.push(mean);
            f.push(std);
            if is_input {
                let switches = x
                    .windows(2)
                    .filter(|w| (w[0] == 0.0) != (w[1] == 0.0))
                    .count();
                f.push(switches as f64);
            } else {
                let (lo, hi) = x
                    .iter()
                    .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                        (a.min(v), b.max(v))
                    });
                f.push(hi - lo);
                f.push(x.windows(2).map(|w| (w[1] - w[0]).abs()).sum::<f64>() / n);
            }
        }
    }
    f
}

/// Labels (0 train, 1 valid, 2 test) for sequences with the given features.
pub fn diverse_split(features: &[Vec<f64>]) -> Vec<u8> {
    let n = features.len();
    let mut labels = vec![TRAIN; n];
    if n == 0 {
        return labels;
    }
    let dims = features[0].len();
    // Standardize each feature.
    let mut z = features.to_vec();
    for d in 0..dims {
        let mean = features.iter().map(|f| f[d]).sum::<f64>() / n as f64;
        let std = (features.iter().map(|f| (f[d] - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
        for row in &mut z {
            row[d] = if std > 0.0 {
                (row[d] - mean) / std
            } else {
                0.0
            };
        }
    }
    let dist = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| (x - y).powi(2)).sum::<f64>();
    let quarter = n / 4;
    let origin = vec![0.0; dims];
    // Distance of every sequence to the nearest pick (initially: to the mean).
    let mut nearest: Vec<f64> = z.iter().map(|row| dist(row, &origin)).collect();
    let mut taken = vec![false; n];
    let (mut valid, mut test) = (0, 0);
    while valid < quarter || test < quarter {
        let mut best = None;
        for i in 0..n {
            if !taken[i] && best.is_none_or(|b: usize| nearest[i] > nearest[b]) {
                best = Some(i);
            }
        }
        let Some(pick) = best else { break };
        taken[pick] = true;
        if test <= valid && test < quarter {
            labels[pick] = TEST;
            test += 1;
        } else {
            labels[pick] = VALID;
            valid += 1;
        }
        for i in 0..n {
            nearest[i] = nearest[i].min(dist(&z[i], &z[pick]));
        }
    }
    labels
}

/// The split of a whole dataset, from its stored (f32) inputs and outputs, so that a
/// single run and merged shards agree.
pub(crate) fn split_of(d: &crate::Dataset) -> Vec<u8> {
    let (t, i, o) = (d.steps(), d.input_names.len(), d.output_names.len());
    let rows = |x: &[f32], w: usize| {
        x.chunks(w)
            .map(|r| r.iter().map(|&v| f64::from(v)).collect())
            .collect::<Vec<Vec<f64>>>()
    };
    let features: Vec<Vec<f64>> = (0..d.sequences)
        .map(|k| {
            features(
                &rows(&d.inputs[k * t * i..(k + 1) * t * i], i),
                &rows(&d.outputs[k * t * o..(k + 1) * t * o], o),
            )
        })
        .collect();
    diverse_split(&features)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quarters_go_to_valid_and_test_and_outliers_are_held_out() {
        // 40 sequences on a line, one far outlier.
        let mut f: Vec<Vec<f64>> = (0..40).map(|i| vec![i as f64 * 0.01]).collect();
        f[17][0] = 100.0;
        let labels = diverse_split(&f);
        let count = |l| labels.iter().filter(|&&x| x == l).count();
        assert_eq!((count(TRAIN), count(VALID), count(TEST)), (20, 10, 10));
        assert_eq!(labels[17], TEST, "the most unusual sequence is tested on");
        assert_eq!(diverse_split(&f), labels, "deterministic");
    }

    #[test]
    fn features_see_switches_and_ranges() {
        let inputs = vec![vec![0.0], vec![1.0], vec![1.0], vec![0.0]];
        let outputs = vec![vec![-60.0], vec![-50.0], vec![-40.0], vec![-60.0]];
        let f = features(&inputs, &outputs);
        assert_eq!(f[2], 2.0);
        assert_eq!(f[5], 20.0);
    }
}
