//! The standard (HH) forms of a gate: rates and variables as functions of v (exponential,
//! sigmoid, exponential-linear, constant) and how q∞ and τ follow from them.

use neuroml::channel::{Gate, HHFunction, HHShape};

use crate::error::{Error, Result};
use crate::fastmath::{exp, sigmoid_slice};

/// A standard rate or variable as a function of v.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Function {
    Exponential {
        rate: f64,
        midpoint: f64,
        scale: f64,
    },
    Sigmoid {
        rate: f64,
        midpoint: f64,
        scale: f64,
    },
    ExponentialLinear {
        rate: f64,
        midpoint: f64,
        scale: f64,
    },
    Constant(f64),
}

impl Function {
    pub(super) fn new(f: &HHFunction, gate: &Gate) -> Result<Function> {
        Ok(match f {
            HHFunction::Standard {
                shape,
                rate,
                midpoint,
                scale,
            } => {
                let (rate, midpoint, scale) = (*rate, *midpoint, *scale);
                match shape {
                    HHShape::Exponential => Function::Exponential {
                        rate,
                        midpoint,
                        scale,
                    },
                    HHShape::Sigmoid => Function::Sigmoid {
                        rate,
                        midpoint,
                        scale,
                    },
                    HHShape::ExponentialLinear => Function::ExponentialLinear {
                        rate,
                        midpoint,
                        scale,
                    },
                }
            }
            HHFunction::FixedTimeCourse { tau } => Function::Constant(*tau),
            HHFunction::Custom(c) => {
                return Err(Error::Unsupported {
                    what: format!(
                        "gate {}: rate/variable of LEMS type {} is not supported yet",
                        gate.id, c.type_name
                    ),
                })
            }
        })
    }

    #[inline]
    pub(super) fn at(&self, v: f64) -> f64 {
        match *self {
            Function::Exponential {
                rate,
                midpoint,
                scale,
            } => rate * exp((v - midpoint) / scale),
            Function::Sigmoid {
                rate,
                midpoint,
                scale,
            } => rate / (1.0 + exp(-(v - midpoint) / scale)),
            Function::ExponentialLinear {
                rate,
                midpoint,
                scale,
            } => {
                let x = (v - midpoint) / scale;
                if x.abs() < 1e-6 {
                    rate * (1.0 + x / 2.0)
                } else {
                    rate * x / (1.0 - exp(-x))
                }
            }
            Function::Constant(c) => c,
        }
    }

    /// `out[i] = f(v[i])`, one shape per loop so that the loop vectorizes.
    pub(super) fn eval_slice(&self, v: &[f64], out: &mut [f64]) {
        match *self {
            Function::Exponential {
                rate,
                midpoint,
                scale,
            } => {
                for (o, &x) in out.iter_mut().zip(v) {
                    *o = rate * exp((x - midpoint) / scale);
                }
            }
            Function::Sigmoid {
                rate,
                midpoint,
                scale,
            } => sigmoid_slice(v, out, rate, midpoint, scale),
            Function::ExponentialLinear { .. } => {
                for (o, &x) in out.iter_mut().zip(v) {
                    *o = self.at(x);
                }
            }
            Function::Constant(c) => out.iter_mut().for_each(|o| *o = c),
        }
    }

    pub(super) fn is_constant(&self) -> bool {
        matches!(self, Function::Constant(_))
    }
}

/// How a gate's q∞ and τ follow from v.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Form {
    /// From rates α, β, optionally overridden by an explicit τ and/or q∞.
    Rates {
        alpha: Function,
        beta: Function,
        tau: Option<Function>,
        inf: Option<Function>,
    },
    /// From τ and q∞.
    TauInf { tau: Function, inf: Function },
    /// q = q∞(v) at all times.
    Instantaneous { inf: Function },
}

impl Form {
    /// q∞ and τ (before rate scaling) for every voltage; `work` is scratch.
    pub(super) fn inf_tau_slice(
        &self,
        v: &[f64],
        inf: &mut [f64],
        tau: &mut [f64],
        work: &mut [f64],
    ) {
        match self {
            Form::Rates {
                alpha,
                beta,
                tau: tau_f,
                inf: inf_f,
            } => {
                alpha.eval_slice(v, inf);
                beta.eval_slice(v, work);
                for i in 0..v.len() {
                    let sum = inf[i] + work[i];
                    tau[i] = 1.0 / sum;
                    inf[i] /= sum;
                }
                if let Some(f) = inf_f {
                    f.eval_slice(v, inf);
                }
                if let Some(f) = tau_f {
                    f.eval_slice(v, tau);
                }
            }
            Form::TauInf {
                tau: tau_f,
                inf: inf_f,
            } => {
                inf_f.eval_slice(v, inf);
                tau_f.eval_slice(v, tau);
            }
            Form::Instantaneous { inf: inf_f } => {
                inf_f.eval_slice(v, inf);
                tau.iter_mut().for_each(|t| *t = 0.0);
            }
        }
    }

    /// q∞ alone for every voltage (τ fixed); `work` is scratch.
    pub(super) fn inf_slice(&self, v: &[f64], inf: &mut [f64], work: &mut [f64]) {
        match self {
            Form::Rates { inf: Some(f), .. }
            | Form::TauInf { inf: f, .. }
            | Form::Instantaneous { inf: f } => f.eval_slice(v, inf),
            Form::Rates {
                alpha,
                beta,
                inf: None,
                ..
            } => {
                alpha.eval_slice(v, inf);
                beta.eval_slice(v, work);
                for (q, &b) in inf.iter_mut().zip(work.iter()) {
                    *q /= *q + b;
                }
            }
        }
    }

    /// (q∞, τ before rate scaling) at v.
    #[inline]
    pub(super) fn inf_tau(&self, v: f64) -> (f64, f64) {
        match self {
            Form::Rates {
                alpha,
                beta,
                tau,
                inf,
            } => {
                let (a, b) = (alpha.at(v), beta.at(v));
                let q = inf.map_or(a / (a + b), |f| f.at(v));
                let t = tau.map_or(1.0 / (a + b), |f| f.at(v));
                (q, t)
            }
            Form::TauInf { tau, inf } => (inf.at(v), tau.at(v)),
            Form::Instantaneous { inf } => (inf.at(v), 0.0),
        }
    }
}
