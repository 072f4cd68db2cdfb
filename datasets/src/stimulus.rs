//! Stimulus shapes: the paper's families (pulses of many widths and onsets, pulse trains,
//! ramps, trapezoids, triangles) and more (steps, sines, chirps, smoothed noise,
//! mixtures), drawn reproducibly from a seed.
//!
//! A [`Shape`] is a profile of relative amplitude over time (mostly within \[0, 1\]); an
//! input's current is its amplitude \[pA\] times the profile. Every sequence's
//! [`SequenceSpec`] is stored in the dataset file, so any sequence can be rebuilt.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

pub use crate::shape::Shape;

/// One input's stimulus.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputStimulus {
    /// The input neuron.
    pub neuron: String,
    /// Amplitude \[pA\].
    pub amplitude: f64,
    /// Profile.
    pub shape: Shape,
}

/// Everything needed to rebuild one sequence's inputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SequenceSpec {
    /// Index of the sequence in its dataset (0-based).
    pub index: usize,
    /// The family it was drawn from.
    pub family: String,
    /// The behaviour (scenario part) it drives.
    pub behaviour: String,
    /// One entry per input of the scenario, in order.
    pub inputs: Vec<InputStimulus>,
}

impl SequenceSpec {
    /// Input currents \[pA\] sampled at t = k·dt, k = 0..steps, as `[steps][inputs]`.
    pub fn sample(&self, dt: f64, steps: usize) -> Vec<Vec<f64>> {
        (0..steps)
            .map(|k| {
                let t = k as f64 * dt;
                self.inputs
                    .iter()
                    .map(|i| i.amplitude * i.shape.at(t))
                    .collect()
            })
            .collect()
    }
}

/// A stimulus file (TOML) for one sequence, e.g. for `celegans predict --stimulus`:
///
/// ```toml
/// duration = 500.0                   # ms
/// dt = 0.5                           # ms (optional: the model's)
/// [[input]]
/// neuron = "PLML"
/// amplitude = 150.0                  # pA
/// shape = { kind = "pulse", onset = 100.0, width = 50.0 }
/// ```
/// Shapes are those of [`Shape`] (`kind` = off, pulse, train, trapezoid, sine, chirp, noise,
/// mix), times in ms; inputs not listed stay at zero.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StimulusFile {
    /// Length \[ms\].
    pub duration: f64,
    /// Time step \[ms\].
    #[serde(default)]
    pub dt: Option<f64>,
    /// The driven inputs.
    pub input: Vec<InputStimulus>,
}

impl StimulusFile {
    /// Reads a stimulus file; errors name the file and line.
    pub fn read(path: &std::path::Path) -> crate::Result<StimulusFile> {
        let text = std::fs::read_to_string(path).map_err(|source| crate::Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let file: StimulusFile = toml::from_str(&text).map_err(|e| {
            let line = e
                .span()
                .map(|s| {
                    format!(
                        ":{}",
                        text[..s.start.min(text.len())].matches('\n').count() + 1
                    )
                })
                .unwrap_or_default();
            crate::Error::Invalid(format!("{}{line}: {}", path.display(), e.message().trim()))
        })?;
        file.check()
            .map_err(|e| crate::Error::Invalid(format!("{}: {e}", path.display())))?;
        Ok(file)
    }

    /// Checks the values: positive duration and dt, at least one input, each neuron once,
    /// finite amplitudes, valid shapes. Returns what is wrong.
    pub fn check(&self) -> Result<(), String> {
        if !(self.duration.is_finite() && self.duration > 0.0)
            || self.dt.is_some_and(|dt| !(dt.is_finite() && dt > 0.0))
        {
            return Err("duration and dt must be positive numbers of ms".into());
        }
        for (k, i) in self.input.iter().enumerate() {
            let at = format!("input {} ({})", k + 1, i.neuron);
            if self.input[..k].iter().any(|j| j.neuron == i.neuron) {
                return Err(format!(
                    "{at}: {} is listed twice (give it one input; a sum of shapes is kind = \"mix\")",
                    i.neuron
                ));
            }
            if !i.amplitude.is_finite() {
                return Err(format!(
                    "{at}: amplitude is {}, not a number of pA",
                    i.amplitude
                ));
            }
            i.shape.check().map_err(|e| format!("{at}: {e}"))?;
        }
        Ok(())
    }

    /// Input currents \[pA\] `[steps][names]` for the inputs `names` at steps of `dt`.
    /// Refused (with what is wrong): a listed neuron not among `names`, a `dt` that does not
    /// divide the duration or is longer than a stimulus feature (it would be missed or
    /// distorted), or more samples than fit in memory.
    pub fn sample(&self, names: &[String], dt: f64) -> Result<Vec<Vec<f64>>, String> {
        if let Some(i) = self.input.iter().find(|i| !names.contains(&i.neuron)) {
            return Err(format!(
                "'{}' is not an input of the model ({})",
                i.neuron,
                names.join(", ")
            ));
        }
        let steps = whole_steps(self.duration, dt)?;
        for i in &self.input {
            check_resolved(&i.neuron, &i.shape, dt)?;
        }
        // One row (a vector: 8 bytes per value and ~64 of its own) per sample.
        limits::check(
            || format!("{steps} samples x {} inputs", names.len()),
            steps as f64 * (names.len() as f64 * 8.0 + 64.0),
        )
        .map_err(|e| e.to_string())?;
        let rows: Vec<Vec<f64>> = (0..steps)
            .map(|k| {
                let t = k as f64 * dt;
                names
                    .iter()
                    .map(|n| {
                        self.input
                            .iter()
                            .filter(|i| &i.neuron == n)
                            .map(|i| i.amplitude * i.shape.at(t))
                            .sum()
                    })
                    .collect()
            })
            .collect();
        // Amplitude times profile can overflow even when both are finite.
        for (k, row) in rows.iter().enumerate() {
            if let Some(c) = row.iter().position(|v| !v.is_finite()) {
                return Err(format!(
                    "{}'s current is {} pA at t = {} ms (amplitude x shape overflows)",
                    names[c],
                    row[c],
                    k as f64 * dt
                ));
            }
        }
        Ok(rows)
    }
}

/// The number of steps of `dt` in `duration`, which must be a whole number.
pub fn whole_steps(duration: f64, dt: f64) -> Result<usize, String> {
    if !(dt.is_finite() && dt > 0.0 && duration.is_finite() && duration > 0.0) {
        return Err(format!(
            "duration {duration} ms and dt {dt} ms must be positive numbers"
        ));
    }
    let steps = (duration / dt).round();
    if steps < 1.0 || (steps * dt - duration).abs() > 1e-9 * duration {
        return Err(format!(
            "dt {dt} ms does not divide the duration {duration} ms into whole steps"
        ));
    }
    Ok(steps as usize)
}

/// Refuses a `dt` longer than the shortest feature of `neuron`'s stimulus `shape`.
pub fn check_resolved(neuron: &str, shape: &Shape, dt: f64) -> Result<(), String> {
    match shape.shortest_feature() {
        Some((what, length)) if dt > length => Err(format!(
            "dt {dt} ms is longer than the {what} ({length} ms) of {neuron}'s stimulus: it would be missed or distorted"
        )),
        _ => Ok(()),
    }
}

/// The families the library cycles through, so that any 40 consecutive sequences hold
/// each several times.
pub const FAMILIES: [&str; 10] = [
    "pulse",
    "train",
    "ramp",
    "trapezoid",
    "triangle",
    "step",
    "sine",
    "chirp",
    "noise",
    "mixture",
];

/// Draws a random shape of `family` for a sequence of `duration` ms.
pub fn draw_shape(family: &str, duration: f64, rng: &mut ChaCha8Rng) -> Shape {
    // Onsets at 100 ms (as most of the paper's sequences) or anywhere in the first half.
    let onset = |rng: &mut ChaCha8Rng| {
        if rng.random_bool(0.5) {
            0.2 * duration
        } else {
            (rng.random_range(0.0..0.5) * duration / 5.0).round() * 5.0
        }
    };
    let rest = |onset: f64| duration - onset;
    match family {
        "pulse" => {
            let o = onset(rng);
            Shape::Pulse {
                onset: o,
                width: rng.random_range(0.02..0.8) * rest(o),
            }
        }
        "train" => {
            let o = onset(rng);
            let period = rng.random_range(0.06..0.25) * duration;
            let width = rng.random_range(0.2..0.7) * period;
            let count = ((rest(o) / period).floor() as u32).max(1);
            Shape::Train {
                onset: o,
                width,
                period,
                count: rng.random_range(1..=count),
            }
        }
        "ramp" => {
            let o = onset(rng);
            let rise = rng.random_range(0.2..1.0) * rest(o);
            if rng.random_bool(0.5) {
                Shape::Trapezoid {
                    onset: o,
                    rise,
                    hold: rest(o),
                    fall: 0.0,
                }
            } else {
                // Down-ramp: jumps to 1, falls to 0.
                Shape::Trapezoid {
                    onset: o,
                    rise: 0.0,
                    hold: 0.0,
                    fall: rise,
                }
            }
        }
        "trapezoid" => {
            let o = onset(rng);
            let r = rest(o);
            let (rise, hold) = (
                rng.random_range(0.05..0.3) * r,
                rng.random_range(0.1..0.4) * r,
            );
            Shape::Trapezoid {
                onset: o,
                rise,
                hold,
                fall: rng.random_range(0.05..0.3) * r,
            }
        }
        "triangle" => {
            let o = onset(rng);
            let r = rest(o);
            Shape::Trapezoid {
                onset: o,
                rise: rng.random_range(0.1..0.5) * r,
                hold: 0.0,
                fall: rng.random_range(0.1..0.5) * r,
            }
        }
        "step" => Shape::Pulse {
            onset: onset(rng),
            width: duration,
        },
        "sine" => {
            let o = onset(rng);
            Shape::Sine {
                onset: o,
                duration: rest(o),
                period: rng.random_range(0.04..0.5) * duration,
            }
        }
        "chirp" => {
            let o = onset(rng);
            let (a, b) = (
                rng.random_range(1.0..4.0) / duration,
                rng.random_range(4.0..25.0) / duration,
            );
            let (f0, f1) = if rng.random_bool(0.5) { (a, b) } else { (b, a) };
            Shape::Chirp {
                onset: o,
                duration: rest(o),
                f0,
                f1,
            }
        }
        "noise" => {
            let o = onset(rng);
            let knot = rng.random_range(0.01..0.08) * duration;
            let n = (rest(o) / knot).ceil() as usize + 1;
            let knots = (0..n).map(|_| rng.random_range(0.0..1.0)).collect();
            Shape::Noise {
                onset: o,
                duration: rest(o),
                knot,
                knots,
            }
        }
        _ => {
            let a = FAMILIES[rng.random_range(0..8)];
            let b = FAMILIES[rng.random_range(0..8)];
            let w = rng.random_range(0.3..0.7);
            Shape::Mix {
                parts: vec![
                    (w, draw_shape(a, duration, rng)),
                    (1.0 - w, draw_shape(b, duration, rng)),
                ],
            }
        }
    }
}

/// The random stream of sequence `index` under `seed`: independent of every other
/// sequence, so shards draw exactly what a single run draws.
pub fn stream(seed: u64, index: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(index as u64);
    rng
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_have_their_profiles() {
        let p = Shape::Pulse {
            onset: 100.0,
            width: 50.0,
        };
        assert_eq!(
            (p.at(99.9), p.at(100.0), p.at(149.9), p.at(150.0)),
            (0.0, 1.0, 1.0, 0.0)
        );
        let tr = Shape::Trapezoid {
            onset: 0.0,
            rise: 10.0,
            hold: 5.0,
            fall: 10.0,
        };
        assert!(
            (tr.at(5.0) - 0.5).abs() < 1e-12
                && tr.at(12.0) == 1.0
                && (tr.at(20.0) - 0.5).abs() < 1e-12
        );
        let train = Shape::Train {
            onset: 10.0,
            width: 2.0,
            period: 10.0,
            count: 2,
        };
        assert_eq!(
            (
                train.at(11.0),
                train.at(13.0),
                train.at(21.0),
                train.at(31.0)
            ),
            (1.0, 0.0, 1.0, 0.0)
        );
        let s = Shape::Sine {
            onset: 0.0,
            duration: 100.0,
            period: 20.0,
        };
        assert!((s.at(10.0) - 1.0).abs() < 1e-12 && s.at(0.0).abs() < 1e-12);
    }

    #[test]
    fn draws_are_reproducible_and_bounded() {
        for (i, family) in FAMILIES.iter().enumerate() {
            let a = draw_shape(family, 500.0, &mut stream(7, i));
            let b = draw_shape(family, 500.0, &mut stream(7, i));
            assert_eq!(a, b);
            let values: Vec<f64> = (0..1000).map(|k| a.at(k as f64 * 0.5)).collect();
            assert!(
                values.iter().all(|v| (-1e-12..=1.0 + 1e-12).contains(v)),
                "{family}: {a:?}"
            );
            assert!(values.iter().any(|&v| v > 0.0), "{family} never on: {a:?}");
        }
        assert_ne!(
            draw_shape("noise", 500.0, &mut stream(7, 0)),
            draw_shape("noise", 500.0, &mut stream(7, 1))
        );
    }
}
