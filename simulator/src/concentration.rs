//! Intracellular ion concentrations (c302's `CaPool`), one pool per ion species.
//!
//! `fixedFactorConcentrationModel` (NeuroML core, as jNeuroML writes it for NEURON):
//! dC/dt = ρ · i_ion / A − (C − C_rest)/τ, with i_ion the inward ion current of the
//! compartment \[nA\], A its area \[µm²\] and ρ in mol/(m·A·s) (so ρ·i/A is in mM/ms);
//! C never goes below 0.
//!
//! `decayingPoolConcentrationModel`: dC/dt = i_ion / (2 F V_shell) − (C − C_rest)/τ with
//! the shell of the given thickness inside a sphere of the compartment's area.
//!
//! With i_ion held from the current phase, the step is exact:
//! C ← C∞ + (C − C∞) e^{−dt/τ}, C∞ = C_rest + τ · influx.

use neuroml::synapse::ConcentrationModel;

use crate::error::{Error, Result};

/// Faraday's constant \[C/mol\].
const FARADAY: f64 = 96_485.332_12;

/// How influx per nA is computed for one node.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Influx {
    /// ρ / A \[mM/ms per nA\].
    FixedFactor(f64),
    /// 1e6 / (2 F V) \[mM/ms per nA\].
    Shell(f64),
}

/// The concentration of one ion across the nodes where a model governs it.
#[derive(Debug, Clone)]
pub struct IonPool {
    /// The ion (`ca`).
    pub ion: String,
    /// Node of each instance.
    pub node: Vec<usize>,
    /// Concentration per node \[mM\] (every node of the network; 0 where ungoverned).
    pub concentration: Vec<f64>,
    influx: Vec<Influx>,
    resting: Vec<f64>,
    tau: Vec<f64>,
    initial: Vec<f64>,
    /// e^{−dt/τ} per instance, for the step `decay_dt`.
    decay: Vec<f64>,
    decay_dt: f64,
}

impl IonPool {
    /// An empty pool for `ion` over `nodes` nodes.
    pub fn new(ion: &str, nodes: usize) -> IonPool {
        IonPool {
            ion: ion.to_string(),
            node: Vec::new(),
            concentration: vec![0.0; nodes],
            influx: Vec::new(),
            resting: Vec::new(),
            tau: Vec::new(),
            initial: Vec::new(),
            decay: Vec::new(),
            decay_dt: f64::NAN,
        }
    }

    /// Governs `node` (area \[µm²\]) by a model, starting at `initial` \[mM\].
    pub fn push(
        &mut self,
        node: usize,
        area: f64,
        model: &ConcentrationModel,
        initial: f64,
    ) -> Result<()> {
        let (influx, resting, tau) = match model {
            ConcentrationModel::FixedFactor {
                resting_conc,
                decay_constant,
                rho,
                ..
            } => (
                Influx::FixedFactor(rho / area.max(1e-12)),
                *resting_conc,
                *decay_constant,
            ),
            ConcentrationModel::DecayingPool {
                resting_conc,
                decay_constant,
                shell_thickness,
                ..
            } => {
                let r = (area / (4.0 * std::f64::consts::PI)).sqrt();
                let inner = (r - shell_thickness).max(0.0);
                let volume = 4.0 / 3.0 * std::f64::consts::PI * (r.powi(3) - inner.powi(3));
                (
                    Influx::Shell(1e6 / (2.0 * FARADAY * volume.max(1e-12))),
                    *resting_conc,
                    *decay_constant,
                )
            }
            ConcentrationModel::Custom(c) => {
                return Err(Error::Unsupported {
                    what: format!(
                        "concentration model '{}' of LEMS type {} is not supported",
                        c.id.as_deref().unwrap_or(""),
                        c.type_name
                    ),
                })
            }
        };
        self.node.push(node);
        self.influx.push(influx);
        self.resting.push(resting);
        self.tau.push(tau);
        self.initial.push(initial);
        self.concentration[node] = initial;
        Ok(())
    }

    /// Back to the initial concentrations.
    pub fn initialise(&mut self) {
        for (i, &n) in self.node.iter().enumerate() {
            self.concentration[n] = self.initial[i];
        }
    }

    /// Advances every governed concentration by dt with this step's inward ion currents
    /// per node \[nA\].
    pub fn advance(&mut self, dt: f64, current: &[f64]) {
        if self.decay_dt != dt || self.decay.len() != self.node.len() {
            self.decay = self.tau.iter().map(|tau| (-dt / tau).exp()).collect();
            self.decay_dt = dt;
        }
        for i in 0..self.node.len() {
            let n = self.node[i];
            let per_na = match self.influx[i] {
                Influx::FixedFactor(k) | Influx::Shell(k) => k,
            };
            let tau = self.tau[i];
            let c_inf = self.resting[i] + tau * per_na * current[n];
            let c = c_inf + (self.concentration[n] - c_inf) * self.decay[i];
            self.concentration[n] = c.max(0.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relaxes_to_steady_state() {
        let model = ConcentrationModel::FixedFactor {
            id: "CaPool".into(),
            ion: "ca".into(),
            resting_conc: 0.0,
            decay_constant: 10.0,
            rho: 2e-4,
        };
        let mut pool = IonPool::new("ca", 1);
        pool.push(0, 100.0, &model, 0.0).unwrap();
        let current = [0.01]; // 10 pA inward
        for _ in 0..10_000 {
            pool.advance(0.1, &current);
        }
        // C∞ = τ ρ i / A
        let expected = 10.0 * 2e-4 * 0.01 / 100.0;
        assert!((pool.concentration[0] - expected).abs() < 1e-12 * expected.max(1.0));
    }
}
