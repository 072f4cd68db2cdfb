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
        assert_eq!(Waveform::Sum(vec![p, sampled]).at(0.25), 1.0);
    }
}
