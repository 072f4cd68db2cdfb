//! Stimulus profiles ([`Shape`]): what each family looks like over time, what makes one
//! valid, and the shortest feature a sampling step must resolve.

use serde::{Deserialize, Serialize};

/// A stimulus profile; times in ms, values relative to the input's amplitude.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Shape {
    /// Zero throughout.
    Off,
    /// 1 during [onset, onset + width).
    Pulse {
        /// Onset \[ms\].
        onset: f64,
        /// Width \[ms\].
        width: f64,
    },
    /// `count` pulses of `width` every `period` from `onset`.
    Train {
        /// Onset \[ms\].
        onset: f64,
        /// Pulse width \[ms\].
        width: f64,
        /// Pulse period \[ms\].
        period: f64,
        /// Number of pulses.
        count: u32,
    },
    /// Rises linearly from 0 to 1 over `rise`, holds for `hold`, falls to 0 over `fall`
    /// (ramps, trapezoids and triangles).
    Trapezoid {
        /// Onset \[ms\].
        onset: f64,
        /// Rise time \[ms\].
        rise: f64,
        /// Plateau \[ms\].
        hold: f64,
        /// Fall time \[ms\].
        fall: f64,
    },
    /// (1 − cos(2π (t − onset)/period))/2 during [onset, onset + duration).
    Sine {
        /// Onset \[ms\].
        onset: f64,
        /// Duration \[ms\].
        duration: f64,
        /// Period \[ms\].
        period: f64,
    },
    /// A raised cosine whose frequency sweeps linearly from `f0` to `f1` \[1/ms\].
    Chirp {
        /// Onset \[ms\].
        onset: f64,
        /// Duration \[ms\].
        duration: f64,
        /// Start frequency \[1/ms\].
        f0: f64,
        /// End frequency \[1/ms\].
        f1: f64,
    },
    /// Piecewise-linear noise: independent uniform \[0, 1\] knots every `knot` ms from
    /// `onset`, for `duration`.
    Noise {
        /// Onset \[ms\].
        onset: f64,
        /// Duration \[ms\].
        duration: f64,
        /// Knot spacing \[ms\].
        knot: f64,
        /// Knot values.
        knots: Vec<f64>,
    },
    /// Weighted sum of shapes.
    Mix {
        /// (weight, shape) pairs.
        parts: Vec<(f64, Shape)>,
    },
}

impl Shape {
    /// Checks the parameters: finite numbers, non-negative onsets' companions (widths,
    /// durations, rise, hold and fall times), positive periods and knot spacings, at least
    /// one pulse. Returns what is wrong.
    pub fn check(&self) -> Result<(), String> {
        let finite = |name: &str, v: f64| {
            if v.is_finite() {
                Ok(())
            } else {
                Err(format!("{name} is {v}, not a number of ms"))
            }
        };
        let positive = |name: &str, v: f64| {
            finite(name, v)?;
            if v > 0.0 {
                Ok(())
            } else {
                Err(format!("{name} must be positive, not {v}"))
            }
        };
        let non_negative = |name: &str, v: f64| {
            finite(name, v)?;
            if v >= 0.0 {
                Ok(())
            } else {
                Err(format!("{name} must not be negative, not {v}"))
            }
        };
        match self {
            Shape::Off => Ok(()),
            Shape::Pulse { onset, width } => {
                finite("onset", *onset)?;
                positive("width", *width)
            }
            Shape::Train {
                onset,
                width,
                period,
                count,
            } => {
                finite("onset", *onset)?;
                positive("width", *width)?;
                positive("period", *period)?;
                if *count == 0 {
                    return Err("count must be at least 1".into());
                }
                if width > period {
                    return Err(format!("width {width} is longer than the period {period}"));
                }
                Ok(())
            }
            Shape::Trapezoid {
                onset,
                rise,
                hold,
                fall,
            } => {
                finite("onset", *onset)?;
                non_negative("rise", *rise)?;
                non_negative("hold", *hold)?;
                non_negative("fall", *fall)?;
                if rise + hold + fall == 0.0 {
                    return Err("rise, hold and fall are all 0".into());
                }
                Ok(())
            }
            Shape::Sine {
                onset,
                duration,
                period,
            } => {
                finite("onset", *onset)?;
                positive("duration", *duration)?;
                positive("period", *period)
            }
            Shape::Chirp {
                onset,
                duration,
                f0,
                f1,
            } => {
                finite("onset", *onset)?;
                positive("duration", *duration)?;
                non_negative("f0", *f0)?;
                non_negative("f1", *f1)
            }
            Shape::Noise {
                onset,
                duration,
                knot,
                knots,
            } => {
                finite("onset", *onset)?;
                positive("duration", *duration)?;
                positive("knot", *knot)?;
                if let Some(k) = knots.iter().position(|v| !v.is_finite()) {
                    return Err(format!("knots[{k}] is {}", knots[k]));
                }
                Ok(())
            }
            Shape::Mix { parts } => {
                for (k, (w, part)) in parts.iter().enumerate() {
                    if !w.is_finite() {
                        return Err(format!("parts[{k}]: weight {w} is not a number"));
                    }
                    part.check().map_err(|e| format!("parts[{k}]: {e}"))?;
                }
                Ok(())
            }
        }
    }

    /// The shortest feature a sampling step must resolve (a pulse's width, a train's gap, a
    /// ramp's rise, half a period, a knot spacing), with its name; None for `off`.
    pub fn shortest_feature(&self) -> Option<(&'static str, f64)> {
        let least = |features: &[(&'static str, f64)]| {
            features
                .iter()
                .copied()
                .filter(|(_, v)| *v > 0.0)
                .min_by(|a, b| a.1.total_cmp(&b.1))
        };
        match self {
            Shape::Off => None,
            Shape::Pulse { width, .. } => least(&[("pulse width", *width)]),
            Shape::Train { width, period, .. } => least(&[
                ("pulse width", *width),
                ("gap between pulses", period - width),
            ]),
            Shape::Trapezoid {
                rise, hold, fall, ..
            } => least(&[("rise", *rise), ("hold", *hold), ("fall", *fall)]),
            Shape::Sine { period, .. } => least(&[("half period", period / 2.0)]),
            Shape::Chirp { f0, f1, .. } => {
                least(&[("half period at the highest frequency", 0.5 / f0.max(*f1))])
            }
            Shape::Noise { knot, .. } => least(&[("knot spacing", *knot)]),
            Shape::Mix { parts } => parts
                .iter()
                .filter_map(|(_, p)| p.shortest_feature())
                .min_by(|a, b| a.1.total_cmp(&b.1)),
        }
    }

    /// The profile at time t \[ms\].
    pub fn at(&self, t: f64) -> f64 {
        match self {
            Shape::Off => 0.0,
            Shape::Pulse { onset, width } => f64::from(t >= *onset && t < onset + width),
            Shape::Train {
                onset,
                width,
                period,
                count,
            } => {
                if t < *onset {
                    return 0.0;
                }
                let k = ((t - onset) / period).floor();
                f64::from(k < f64::from(*count) && t - onset - k * period < *width)
            }
            Shape::Trapezoid {
                onset,
                rise,
                hold,
                fall,
            } => {
                let x = t - onset;
                if x < 0.0 {
                    0.0
                } else if x < *rise {
                    x / rise
                } else if x < rise + hold {
                    1.0
                } else if x < rise + hold + fall {
                    1.0 - (x - rise - hold) / fall
                } else {
                    0.0
                }
            }
            Shape::Sine {
                onset,
                duration,
                period,
            } => {
                let x = t - onset;
                if x < 0.0 || x >= *duration {
                    0.0
                } else {
                    0.5 * (1.0 - (std::f64::consts::TAU * x / period).cos())
                }
            }
            Shape::Chirp {
                onset,
                duration,
                f0,
                f1,
            } => {
                let x = t - onset;
                if x < 0.0 || x >= *duration {
                    0.0
                } else {
                    let phase =
                        std::f64::consts::TAU * (f0 * x + 0.5 * (f1 - f0) / duration * x * x);
                    0.5 * (1.0 - phase.cos())
                }
            }
            Shape::Noise {
                onset,
                duration,
                knot,
                knots,
            } => {
                let x = t - onset;
                if x < 0.0 || x >= *duration || knots.is_empty() {
                    return 0.0;
                }
                let k = (x / knot).floor() as usize;
                let frac = x / knot - k as f64;
                let a = knots[k.min(knots.len() - 1)];
                let b = knots[(k + 1).min(knots.len() - 1)];
                a + (b - a) * frac
            }
            Shape::Mix { parts } => parts.iter().map(|(w, s)| w * s.at(t)).sum(),
        }
    }
}
