//! Current injected into compartments: NeuroML's pulse, sine, ramp and compound
//! generators, and sampled waveforms for dataset stimuli.
//!
//! Positive current depolarizes. As in NEURON's fixed step, an input is evaluated at the
//! middle of each step, t + dt/2.

use neuroml::synapse::InputSource;

use crate::error::{Error, Result};

/// A current waveform I(t) \[nA\], t in ms.
#[derive(Debug, Clone, PartialEq)]
pub enum Waveform {
    /// `amplitude` during [delay, delay + duration).
    Pulse {
        /// Onset \[ms\].
        delay: f64,
        /// Duration \[ms\].
        duration: f64,
        /// Amplitude \[nA\].
        amplitude: f64,
    },
    /// `amplitude · sin(2π (t − delay)/period + phase)` during the pulse, 0 outside.
    Sine {
        /// Onset \[ms\].
        delay: f64,
        /// Duration \[ms\].
        duration: f64,
        /// Amplitude \[nA\].
        amplitude: f64,
        /// Period \[ms\].
        period: f64,
        /// Phase \[rad\].
        phase: f64,
    },
    /// Linear from `start` to `finish` during the pulse, `baseline` outside.
    Ramp {
        /// Onset \[ms\].
        delay: f64,
        /// Duration \[ms\].
        duration: f64,
        /// Amplitude at onset \[nA\].
        start: f64,
        /// Amplitude at the end \[nA\].
        finish: f64,
        /// Amplitude outside the pulse \[nA\].
        baseline: f64,
    },
    /// The sum of several waveforms.
    Sum(Vec<Waveform>),
    /// Samples `values[k]` holding over [k·dt, (k+1)·dt), 0 after the last one.
    Sampled {
        /// Sampling interval \[ms\].
        dt: f64,
        /// Values \[nA\].
        values: Vec<f64>,
    },
}

impl Waveform {
    /// The waveform of a NeuroML input source.
    pub fn from_source(source: &InputSource) -> Result<Waveform> {
        Ok(match source {
            InputSource::Pulse {
                delay,
                duration,
                amplitude,
                ..
            } => Waveform::Pulse {
                delay: *delay,
                duration: *duration,
                amplitude: *amplitude,
            },
            InputSource::Sine {
                delay,
                duration,
                amplitude,
                period,
                phase,
                ..
            } => Waveform::Sine {
                delay: *delay,
                duration: *duration,
                amplitude: *amplitude,
                period: *period,
                phase: *phase,
            },
            InputSource::Ramp {
                delay,
                duration,
                start_amplitude,
                finish_amplitude,
                baseline_amplitude,
                ..
            } => Waveform::Ramp {
                delay: *delay,
                duration: *duration,
                start: *start_amplitude,
                finish: *finish_amplitude,
                baseline: *baseline_amplitude,
            },
            InputSource::Compound { parts, .. } => Waveform::Sum(
                parts
                    .iter()
                    .map(Waveform::from_source)
                    .collect::<Result<_>>()?,
            ),
            InputSource::Custom(c) => {
                return Err(Error::Unsupported {
                    what: format!(
                        "input '{}' of LEMS type {} is not supported",
                        c.id.as_deref().unwrap_or(""),
                        c.type_name
                    ),
                })
            }
        })
    }

    /// The current at time t \[nA\].
    pub fn at(&self, t: f64) -> f64 {
        let on = |delay: f64, duration: f64| t >= delay && t < delay + duration;
        match self {
            Waveform::Pulse {
                delay,
                duration,
                amplitude,
            } => {
                if on(*delay, *duration) {
                    *amplitude
                } else {
                    0.0
                }
            }
            Waveform::Sine {
                delay,
                duration,
                amplitude,
                period,
                phase,
            } => {
                if on(*delay, *duration) {
                    amplitude * (2.0 * std::f64::consts::PI * (t - delay) / period + phase).sin()
                } else {
                    0.0
                }
            }
            Waveform::Ramp {
                delay,
                duration,
                start,
                finish,
                baseline,
            } => {
                if on(*delay, *duration) {
                    start + (finish - start) * (t - delay) / duration
                } else {
                    *baseline
                }
            }
            Waveform::Sum(parts) => parts.iter().map(|w| w.at(t)).sum(),
            Waveform::Sampled { dt, values } => {
                if t < 0.0 {
                    return 0.0;
                }
                values
                    .get((t / dt).floor() as usize)
                    .copied()
                    .unwrap_or(0.0)
            }
        }
    }
}

/// Where a waveform changes abruptly: a time and whether the change is an onset or offset
/// of the waveform's own (`true`: pulse, sine and ramp edges) rather than the next held
/// value of a sampled one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Break {
    /// Time \[ms\].
    pub time: f64,
    /// An edge of a pulse, sine or ramp.
    pub edge: bool,
}

impl Waveform {
    /// The first abrupt change strictly after `t`, if any.
    pub fn next_break(&self, t: f64) -> Option<Break> {
        let edges = |delay: f64, duration: f64| {
            [delay, delay + duration]
                .into_iter()
                .find(|&e| e > t)
                .map(|time| Break { time, edge: true })
        };
        match self {
            Waveform::Pulse {
                delay, duration, ..
            }
            | Waveform::Sine {
                delay, duration, ..
            }
            | Waveform::Ramp {
                delay, duration, ..
            } => edges(*delay, *duration),
            Waveform::Sum(parts) => earliest_break(parts, t),
            Waveform::Sampled { dt, values } => {
                // Boundaries k·dt (k ≥ 1, and the end) where the held value changes.
                let first = ((t / dt).floor() as usize + 1).max(1);
                (first..=values.len())
                    .find(|&k| values.get(k).copied().unwrap_or(0.0) != values[k - 1])
                    .map(|k| Break {
                        time: k as f64 * dt,
                        edge: false,
                    })
            }
        }
    }
}

/// The first abrupt change strictly after `t` of any of `waveforms`.
fn earliest_break(waveforms: &[Waveform], t: f64) -> Option<Break> {
    waveforms
        .iter()
        .filter_map(|w| w.next_break(t))
        .min_by(|a, b| a.time.total_cmp(&b.time))
}

/// Every current input of a simulation, as arrays.
#[derive(Debug, Clone, Default)]
pub struct CurrentInputs {
    /// Target node.
    pub node: Vec<usize>,
    /// Scale (the input's `weight`).
    pub weight: Vec<f64>,
    /// Waveform.
    pub waveform: Vec<Waveform>,
}

impl CurrentInputs {
    /// Adds an input.
    pub fn push(&mut self, node: usize, weight: f64, waveform: Waveform) {
        self.node.push(node);
        self.weight.push(weight);
        self.waveform.push(waveform);
    }

    /// The first abrupt change of any input strictly after `t`.
    pub fn next_break(&self, t: f64) -> Option<Break> {
        earliest_break(&self.waveform, t)
    }

    /// Adds each input's current at time t to `inward` \[nA\].
    pub fn add_currents(&self, t: f64, inward: &mut [f64]) {
        for ((&n, &w), f) in self.node.iter().zip(&self.weight).zip(&self.waveform) {
            inward[n] += w * f.at(t);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let p = Waveform::Pulse {
            delay: 100.0,
            duration: 300.0,
            amplitude: 0.015,
        };
        assert_eq!(p.at(99.95), 0.0);
        assert_eq!(p.at(100.0), 0.015);
        assert_eq!(p.at(400.0), 0.0);
        let r = Waveform::Ramp {
            delay: 10.0,
            duration: 10.0,
            start: 0.0,
            finish: 1.0,
            baseline: 0.5,
        };
        assert_eq!(r.at(5.0), 0.5);
        assert!((r.at(15.0) - 0.5).abs() < 1e-12);
        let s = Waveform::Sine {
            delay: 0.0,
            duration: 100.0,
            amplitude: 2.0,
            period: 40.0,
            phase: 0.0,
        };
        assert!((s.at(10.0) - 2.0).abs() < 1e-12);
        let sampled = Waveform::Sampled {
            dt: 0.5,
            values: vec![1.0, 2.0, 3.0],
        };
        assert_eq!(sampled.at(0.75), 2.0);
        assert_eq!(sampled.at(2.0), 0.0);
        assert_eq!(
            Waveform::Sum(vec![p.clone(), sampled.clone()]).at(0.25),
            1.0
        );
    }

    #[test]
    fn breaks() {
        let p = Waveform::Pulse {
            delay: 100.0,
            duration: 300.0,
            amplitude: 0.015,
        };
        let edge = |time| Some(Break { time, edge: true });
        assert_eq!(p.next_break(0.0), edge(100.0));
        assert_eq!(p.next_break(100.0), edge(400.0));
        assert_eq!(p.next_break(400.0), None);
        let sampled = Waveform::Sampled {
            dt: 0.5,
            values: vec![1.0, 1.0, 3.0],
        };
        let held = |time| Some(Break { time, edge: false });
        // Zero before the first sample is not a change; 1 → 1 is none; 1 → 3; 3 → 0 at the end.
        assert_eq!(sampled.next_break(0.0), held(1.0));
        assert_eq!(sampled.next_break(1.0), held(1.5));
        assert_eq!(sampled.next_break(1.5), None);
        let both = Waveform::Sum(vec![p, sampled]);
        assert_eq!(both.next_break(0.2), held(1.0));
        assert_eq!(both.next_break(2.0), edge(100.0));
    }
}
