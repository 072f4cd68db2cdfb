//! Error-controlled variable time steps (`--dt auto --rtol R`) for graded networks.
//!
//! Each step is the fixed step's (Crank–Nicolson voltage, exponential-Euler states half a
//! step ahead), of a length chosen from the local error of the one before:
//!
//! - **Error estimate.** Crank–Nicolson's local error is −h³ v‴/12. v‴ is estimated per
//!   node from the third divided difference of the voltage at the last four step ends
//!   (v‴ ≈ 6·v[t₀, t₁, t₂, t₃]), so the error of a step of h is h³·|v[t₀..t₃]|/2, and
//!   the step is within tolerance where it is at most rtol·(|v| + 1 mV) at every node.
//! - **Next step** h' = h·min(1.5, max(0.2, 0.9·(1/e)^{1/3})), e being the largest ratio of
//!   error to tolerance, kept within [`StepControl::min_step`, `StepControl::max_step`]
//!   (the longest step bounds the error of the states, which the estimate does not watch).
//!   The states are advanced with the next step's length known (to t + h + h'/2), so no
//!   step pays a second current evaluation. A step is never taken back: its error decides
//!   the next one (steps that change slowly; a sudden event costs one large error before
//!   the steps shrink, which is why stimulus edges are met as below).
//! - **Stimulus edges.** Steps end exactly on the onsets and offsets of pulse, sine and
//!   ramp inputs; after an edge the history starts again and the steps restart from
//!   [`StepControl::first_step`]. Steps also end where a sampled input changes value
//!   (without restarting), and at the end of the run.
//! - **Recording.** Samples at multiples of the sampling interval are interpolated between
//!   step ends by the quadratic through the last three (linear after a restart).
//!
//! Spiking networks (threshold events, point cells with conditions) are refused: their
//! discontinuities are not known in advance.

use super::{Probe, Recording, Simulation, Traces, MAX_STEPS};
use crate::error::{Error, Result};

/// How variable steps are chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StepControl {
    /// Relative tolerance of each step's voltage error (of |v| + 1 mV).
    pub rtol: f64,
    /// The first step, and the first after a stimulus edge \[ms\].
    pub first_step: f64,
    /// Smallest step \[ms\].
    pub min_step: f64,
    /// Largest step \[ms\].
    pub max_step: f64,
}

impl StepControl {
    /// Defaults for a relative tolerance: first step 0.01 ms, steps from 1e-4 to 0.1 ms.
    /// The error control watches the voltage only; c302's calcium pools need the steps
    /// bounded: with steps up to 1 ms (or 0.25), their concentrations ended further from
    /// converged NEURON than NEURON's own at the LEMS files' steps on 3 of the 15 graded
    /// configurations of sets D1 and C2, at rtol 1e-5 and 1e-6 alike; up to 0.1 ms, none
    /// (`tests/c302/vs_neuron.rs`).
    pub fn new(rtol: f64) -> Self {
        StepControl {
            rtol,
            first_step: 0.01,
            min_step: 1e-4,
            max_step: 0.1,
        }
    }

    /// Refuses a tolerance that is not a positive number and steps out of order.
    pub fn check(&self) -> Result<()> {
        let positive = |x: f64| x.is_finite() && x > 0.0;
        if !positive(self.rtol) {
            return Err(Error::Invalid(format!(
                "--rtol must be a positive number, not {}",
                self.rtol
            )));
        }
        if !positive(self.max_step) {
            return Err(Error::Invalid(format!(
                "--max-step must be a positive number of ms, not {}",
                self.max_step
            )));
        }
        if self.max_step < self.min_step {
            return Err(Error::Invalid(format!(
                "--max-step must be at least {} ms (the shortest variable step), not {}",
                self.min_step, self.max_step
            )));
        }
        if !(positive(self.min_step)
            && self.min_step <= self.first_step
            && self.first_step <= self.max_step
            && self.max_step.is_finite())
        {
            return Err(Error::Invalid(format!(
                "variable steps need 0 < min_step ≤ first_step ≤ max_step, not {} ≤ {} ≤ {} ms",
                self.min_step, self.first_step, self.max_step
            )));
        }
        Ok(())
    }
}

/// What a variable-step run did.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct StepStats {
    /// Steps taken.
    pub steps: usize,
    /// Shortest step \[ms\].
    pub shortest: f64,
    /// Longest step \[ms\].
    pub longest: f64,
}

/// The voltage at up to four step ends, newest last.
struct History {
    time: Vec<f64>,
    v: Vec<Vec<f64>>,
}

impl History {
    fn restart(&mut self, t: f64, v: &[f64]) {
        self.time.clear();
        self.v.clear();
        self.push(t, v);
    }

    fn push(&mut self, t: f64, v: &[f64]) {
        if self.time.len() == 4 {
            self.time.remove(0);
            let mut oldest = self.v.remove(0);
            oldest.copy_from_slice(v);
            self.v.push(oldest);
        } else {
            self.v.push(v.to_vec());
        }
        self.time.push(t);
    }

    /// The largest ratio of the last step's estimated error to the tolerance, once four
    /// step ends are known.
    fn error(&self, rtol: f64) -> Option<f64> {
        let [t0, t1, t2, t3] = self.time[..] else {
            return None;
        };
        let h = t3 - t2;
        let c = h * h * h / 2.0;
        let (v0, v1, v2, v3) = (&self.v[0], &self.v[1], &self.v[2], &self.v[3]);
        // The divided differences' denominators, once per step.
        let (i01, i12, i23) = (1.0 / (t1 - t0), 1.0 / (t2 - t1), 1.0 / (t3 - t2));
        let (i02, i13, i03) = (1.0 / (t2 - t0), 1.0 / (t3 - t1), 1.0 / (t3 - t0));
        let mut worst = 0.0f64;
        for k in 0..v3.len() {
            let f01 = (v1[k] - v0[k]) * i01;
            let f12 = (v2[k] - v1[k]) * i12;
            let f23 = (v3[k] - v2[k]) * i23;
            let f0123 = ((f23 - f12) * i13 - (f12 - f01) * i02) * i03;
            worst = worst.max(f0123.abs() / (v3[k].abs() + 1.0));
        }
        Some(worst * c / rtol)
    }
}

/// The probes' values at up to three step ends, for interpolating samples.
struct Recent {
    time: Vec<f64>,
    values: Vec<Vec<f64>>,
}

impl Recent {
    fn restart(&mut self) {
        let keep = self.time.len().saturating_sub(1);
        self.time.drain(..keep);
        self.values.drain(..keep);
    }

    fn push(&mut self, t: f64, values: Vec<f64>) {
        if self.time.len() == 3 {
            self.time.remove(0);
            self.values.remove(0);
        }
        self.time.push(t);
        self.values.push(values);
    }

    /// Probe `p` at time `s` within the last step: the Lagrange polynomial through the
    /// known step ends (a line through two, a quadratic through three).
    fn at(&self, p: usize, s: f64) -> f64 {
        let n = self.time.len();
        let mut sum = 0.0;
        for i in 0..n {
            let mut w = 1.0;
            for j in (0..n).filter(|&j| j != i) {
                w *= (s - self.time[j]) / (self.time[i] - self.time[j]);
            }
            sum += w * self.values[i][p];
        }
        sum
    }
}

impl Simulation {
    /// Runs for `duration` ms with variable steps chosen by `control`, recording the probes
    /// at t = 0 and every `sample` ms (see the module's notes). Crank–Nicolson whatever
    /// [`Simulation::method`] says (it is left as it is). Refused for spiking networks, and for runs that would
    /// record too much or step more than [`MAX_STEPS`] times.
    pub fn run_adaptive(
        &mut self,
        duration: f64,
        probes: &[Probe],
        sample: f64,
        control: &StepControl,
    ) -> Result<(Traces, StepStats)> {
        control.check()?;
        super::check_duration(duration)?;
        if !(sample.is_finite() && sample > 0.0) {
            return Err(Error::Invalid(format!(
                "the sampling interval must be a positive number of ms, not {sample}"
            )));
        }
        self.check_variable_steps()?;
        let samples = (duration / sample).round();
        let recording = Recording::with_room(probes.len(), samples + 1.0)?;
        let result = self.variable_steps(
            recording,
            duration,
            probes,
            sample,
            samples as usize,
            control,
        );
        // A fixed step after this one counts its steps from here (t is kept).
        self.set_dt(self.dt);
        result
    }

    /// Whether this network can take variable steps: not with spike sources (spiking
    /// synapses or recorded spikes) or point cells with conditions (resets).
    pub fn check_variable_steps(&self) -> Result<()> {
        if !self.events.is_empty() || self.point_cells.iter().any(|c| c.dynamics.has_conditions()) {
            return Err(Error::Invalid(
                "variable steps (--dt auto) are for graded networks; this one has spiking cells, spiking synapses or recorded spikes: give a fixed --dt".into(),
            ));
        }
        Ok(())
    }

    /// The run of [`Simulation::run_adaptive`], recording into `recording` (empty, with room).
    fn variable_steps(
        &mut self,
        mut recording: Recording,
        duration: f64,
        probes: &[Probe],
        sample: f64,
        samples: usize,
        control: &StepControl,
    ) -> Result<(Traces, StepStats)> {
        let read = |sim: &Simulation| probes.iter().map(|p| sim.read(p)).collect::<Vec<_>>();
        recording.push(self.t, read(self));
        let start = self.t;
        let end = start + duration;
        let mut history = History {
            time: Vec::new(),
            v: Vec::new(),
        };
        history.restart(self.t, &self.v);
        let mut recent = Recent {
            time: Vec::new(),
            values: Vec::new(),
        };
        recent.push(self.t, read(self));
        let mut stats = StepStats {
            steps: 0,
            shortest: f64::INFINITY,
            longest: 0.0,
        };
        let mut next_sample = 1;
        // A step of about `h` from `t`: to the next input edge or break or the end when
        // that is within h (then the time it lands on, and whether it is an edge), evenly
        // halfway when within 2h.
        let fit = |t: f64, h: f64, sim: &Simulation| -> (f64, Option<(f64, bool)>) {
            let (stop, edge) = match sim.inputs.next_break(t - start) {
                Some(b) if start + b.time < end => (start + b.time, b.edge),
                _ => (end, false),
            };
            let room = stop - t;
            if room <= h * (1.0 + 1e-9) {
                (room, Some((stop, edge)))
            } else if room < 2.0 * h {
                (room / 2.0, None)
            } else {
                (h, None)
            }
        };
        // The step to take next, as `fit` gave it, and the length it was asked for.
        let mut h = control.first_step;
        let mut planned = fit(self.t, h, self);
        while end - self.t > 1e-9 * control.min_step {
            if stats.steps as f64 >= MAX_STEPS {
                return Err(Error::Invalid(format!(
                    "variable steps: more than {MAX_STEPS:e} steps by t = {} ms; loosen rtol",
                    self.t
                )));
            }
            if stats.steps % 256 == 255 && limits::interrupt::requested() {
                return Err(Error::Interrupted { time: self.t });
            }
            let (step, lands) = planned;
            let edge = lands.is_some_and(|(_, edge)| edge);
            self.advance_voltage(step, super::Method::CrankNicolson)?;
            let t = lands.map_or(self.t + step, |(stop, _)| stop);
            history.push(t, &self.v);
            // The step that would have met 0.9³ of the tolerance, within 0.2–1.5 times the
            // step asked for (the one taken may have been cut short to land).
            let wanted = match history.error(control.rtol) {
                Some(e) if e > 0.0 => step * 0.9 * e.powf(-1.0 / 3.0),
                Some(_) => f64::INFINITY,
                None => h,
            };
            let next = if edge {
                control.first_step
            } else {
                wanted
                    .clamp(0.2 * h, 1.5 * h)
                    .clamp(control.min_step, control.max_step)
            };
            planned = fit(t, next, self);
            self.advance_states_past(step, planned.0);
            self.t = t;
            stats.steps += 1;
            stats.shortest = stats.shortest.min(step);
            stats.longest = stats.longest.max(step);
            recent.push(t, read(self));
            while next_sample <= samples {
                let s = start + next_sample as f64 * sample;
                if s > t + 1e-9 * sample {
                    break;
                }
                recording.push(s, (0..probes.len()).map(|p| recent.at(p, s)));
                next_sample += 1;
            }
            if edge {
                history.restart(t, &self.v);
                recent.restart();
            }
            h = next;
            self.check()?;
        }
        Ok((recording.finish(), stats))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Samples between step ends come from the quadratic through the last three, exact
    /// for a quadratic; two points give the line.
    #[test]
    fn interpolation_is_exact_for_quadratics() {
        let f = |t: f64| 3.0 - 2.0 * t + 0.5 * t * t;
        let mut recent = Recent {
            time: Vec::new(),
            values: Vec::new(),
        };
        for t in [0.0, 0.3, 1.0, 1.7] {
            recent.push(t, vec![f(t), 2.0 * t]);
        }
        assert_eq!(recent.time, [0.3, 1.0, 1.7]);
        for s in [1.0, 1.2, 1.7] {
            assert!((recent.at(0, s) - f(s)).abs() < 1e-12);
            assert!((recent.at(1, s) - 2.0 * s).abs() < 1e-12);
        }
        recent.restart();
        recent.push(2.0, vec![f(2.0), 4.0]);
        assert!((recent.at(0, 1.85) - (f(1.7) + f(2.0)) / 2.0).abs() < 1e-12);
    }

    /// The error estimate is zero for a quadratic voltage (Crank–Nicolson is exact there)
    /// and h³|v‴|/12 for a cubic, per tolerance.
    #[test]
    fn error_estimate_is_crank_nicolsons_local_error() {
        let mut history = History {
            time: Vec::new(),
            v: Vec::new(),
        };
        let cubic = |t: f64| -60.0 + t * t * t;
        history.restart(0.0, &[-60.0, cubic(0.0)]);
        for t in [0.1, 0.25, 0.35] {
            assert_eq!(history.error(1e-3), None);
            history.push(t, &[-60.0 + t * t, cubic(t)]);
        }
        let h: f64 = 0.1;
        let expected = h.powi(3) * 6.0 / 12.0 / (1e-3 * (cubic(0.35).abs() + 1.0));
        let e = history.error(1e-3).unwrap();
        assert!((e - expected).abs() < 1e-9 * expected, "{e} vs {expected}");
    }

    #[test]
    fn spiking_networks_and_bad_controls_are_refused() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let model = neuroml::load(root.join("tests/models/iaf_pair.nml")).unwrap();
        let mut sim = crate::build(&model, &crate::Options::default()).unwrap();
        let err = sim
            .run_adaptive(10.0, &[], 1.0, &StepControl::new(1e-4))
            .unwrap_err();
        assert!(err.to_string().contains("graded networks"), "{err}");
        let model = neuroml::load(root.join("tests/models/passive.nml")).unwrap();
        let mut sim = crate::build(&model, &crate::Options::default()).unwrap();
        for (control, why) in [
            (StepControl::new(0.0), "rtol"),
            (StepControl::new(f64::NAN), "rtol"),
            (
                StepControl {
                    first_step: 2.0,
                    ..StepControl::new(1e-4)
                },
                "min_step",
            ),
        ] {
            let err = sim.run_adaptive(10.0, &[], 1.0, &control).unwrap_err();
            assert!(err.to_string().contains(why), "{err}");
        }
        let err = sim
            .run_adaptive(10.0, &[], 0.0, &StepControl::new(1e-4))
            .unwrap_err();
        assert!(err.to_string().contains("sampling interval"), "{err}");
    }
}
