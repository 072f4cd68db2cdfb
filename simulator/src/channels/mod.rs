//! Ion channels on compartments, one struct of arrays per channel type.
//!
//! A channel instance on a node carries the inward current
//! i = ḡ · Π_gates fcond · (E − v), with ḡ = conductance density × area \[µS\]. Standard
//! gates have fcond = q^instances and relax towards q∞(v) with time constant τ(v):
//! dq/dt = (q∞ − q)/τ, from rates as q∞ = α/(α + β), τ = 1/(α + β) (both divided by the
//! Q10 rate scale). States advance by the exact exponential step NEURON's `cnexp` takes
//! with v held at its new value: q ← q∞ + (q − q∞)·e^{−dt/τ}. Instantaneous gates and
//! LEMS gates without states (c302's `customHGate`, which reads `caConc`) are evaluated
//! when currents are.

use neuroml::channel::{Gate, GateKind, HHFunction, IonChannel, Q10};
use neuroml::lems::TypeRegistry;

use crate::dynamics::{Columns, CompiledDynamics, EvalOrder};
use crate::error::{Error, Result};
use crate::fastmath::exp;

mod rates;
use rates::{Form, Function};

/// A gate of a LEMS type, evaluated column-wise.
#[derive(Debug, Clone)]
struct LemsGate {
    dynamics: CompiledDynamics,
    columns: Columns,
    v: usize,
    ca_conc: Option<usize>,
    temperature: Option<usize>,
    /// `fcond` if defined, else `q`.
    output: usize,
    use_q_power: bool,
    current_order: EvalOrder,
    state_order: EvalOrder,
    stateless: bool,
    /// Whether the current order reads v, caConc and the temperature (a stateless gate
    /// gathers only those before each evaluation).
    current_reads: [bool; 3],
}

/// One gate of a channel type across all its instances.
#[derive(Debug, Clone)]
struct GateArrays {
    instances: i32,
    form: Option<Form>,
    lems: Option<LemsGate>,
    rate_scale: f64,
    /// Gate state per instance.
    q: Vec<f64>,
}

/// Every instance of one ion channel type.
#[derive(Debug, Clone)]
pub struct ChannelArrays {
    /// The channel's id.
    pub channel: String,
    /// Node of each instance.
    pub node: Vec<usize>,
    /// Maximal conductance ḡ \[µS\].
    pub gmax: Vec<f64>,
    /// Reversal potential \[mV\].
    pub erev: Vec<f64>,
    /// Index of the ion pool its current feeds, per instance (`usize::MAX`: none).
    pub pool: Vec<usize>,
    /// The pool every instance feeds, when they all feed the same one (or none).
    common_pool: Option<usize>,
    gates: Vec<GateArrays>,
    /// Open fraction per instance, from the last current evaluation.
    open: Vec<f64>,
    /// Scratch: voltage at each instance, and three work arrays.
    local_v: Vec<f64>,
    work: [Vec<f64>; 3],
}

fn q10_scale(q10: &Option<Q10>, temperature: f64) -> f64 {
    match q10 {
        None => 1.0,
        Some(Q10::Fixed { q10 }) => *q10,
        Some(Q10::ExpTemp {
            q10_factor,
            experimental_temp,
        }) => q10_factor.powf((temperature - experimental_temp) / 10.0),
    }
}

impl ChannelArrays {
    /// Prepares the arrays of a channel type (instances are added with [`Self::push`]).
    pub fn new(
        channel: &IonChannel,
        registry: &TypeRegistry,
        temperature: f64,
    ) -> Result<ChannelArrays> {
        let mut gates = Vec::new();
        for g in &channel.gates {
            let f = |h: &HHFunction| Function::new(h, g);
            let form = match &g.kind {
                GateKind::Rates { forward, reverse } => Some(Form::Rates {
                    alpha: f(forward)?,
                    beta: f(reverse)?,
                    tau: None,
                    inf: None,
                }),
                GateKind::TauInf {
                    time_course,
                    steady_state,
                } => Some(Form::TauInf {
                    tau: f(time_course)?,
                    inf: f(steady_state)?,
                }),
                GateKind::RatesInf {
                    forward,
                    reverse,
                    steady_state,
                } => Some(Form::Rates {
                    alpha: f(forward)?,
                    beta: f(reverse)?,
                    tau: None,
                    inf: Some(f(steady_state)?),
                }),
                GateKind::RatesTau {
                    forward,
                    reverse,
                    time_course,
                } => Some(Form::Rates {
                    alpha: f(forward)?,
                    beta: f(reverse)?,
                    tau: Some(f(time_course)?),
                    inf: None,
                }),
                GateKind::RatesTauInf {
                    forward,
                    reverse,
                    time_course,
                    steady_state,
                } => Some(Form::Rates {
                    alpha: f(forward)?,
                    beta: f(reverse)?,
                    tau: Some(f(time_course)?),
                    inf: Some(f(steady_state)?),
                }),
                GateKind::Instantaneous { steady_state } => Some(Form::Instantaneous {
                    inf: f(steady_state)?,
                }),
                GateKind::Custom(_) => None,
            };
            let lems = match &g.kind {
                GateKind::Custom(c) => Some(lems_gate(registry, &c.type_name, &channel.id, g)?),
                _ => None,
            };
            gates.push(GateArrays {
                instances: g.instances as i32,
                form,
                lems,
                rate_scale: q10_scale(&g.q10, temperature),
                q: Vec::new(),
            });
        }
        Ok(ChannelArrays {
            channel: channel.id.clone(),
            node: Vec::new(),
            gmax: Vec::new(),
            erev: Vec::new(),
            pool: Vec::new(),
            common_pool: None,
            gates,
            open: Vec::new(),
            local_v: Vec::new(),
            work: Default::default(),
        })
    }

    /// Adds an instance.
    pub fn push(
        &mut self,
        node: usize,
        gmax: f64,
        erev: f64,
        pool: usize,
        component_of_gate: &[Option<&neuroml::lems::Component>],
    ) -> Result<()> {
        self.node.push(node);
        self.gmax.push(gmax);
        self.erev.push(erev);
        if self.pool.is_empty() {
            self.common_pool = Some(pool);
        } else if self.common_pool != Some(pool) {
            self.common_pool = None;
        }
        self.pool.push(pool);
        self.open.push(1.0);
        self.local_v.push(0.0);
        for w in &mut self.work {
            w.push(0.0);
        }
        for (g, c) in self.gates.iter_mut().zip(component_of_gate) {
            g.q.push(0.0);
            if let (Some(l), Some(c)) = (&mut g.lems, c) {
                l.dynamics.push(&mut l.columns, c, &[])?;
            }
        }
        Ok(())
    }

    /// Whether the channel has no gates and feeds no ion pool: a constant conductance
    /// per instance, which [`crate::Simulation`] folds into one leak per node.
    pub fn is_plain_leak(&self) -> bool {
        self.gates.is_empty() && self.common_pool == Some(usize::MAX)
    }

    /// Number of instances.
    pub fn len(&self) -> usize {
        self.node.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.node.is_empty()
    }

    /// Sets every gate to its steady state at the nodes' voltages and concentrations.
    pub fn initialise(&mut self, v: &[f64], ca: &[f64], temperature: f64) {
        let nodes = &self.node;
        for g in &mut self.gates {
            if let Some(form) = &g.form {
                for (q, &n) in g.q.iter_mut().zip(nodes) {
                    *q = form.inf_tau(v[n]).0;
                }
            }
            if let Some(l) = &mut g.lems {
                l.set_inputs(nodes, v, ca, temperature);
                l.dynamics.initialise(&mut l.columns);
                if l.stateless {
                    l.dynamics.evaluate(&mut l.columns, &l.current_order);
                }
            }
        }
    }

    /// Evaluates the open fraction of every instance at the present v and states (and
    /// instantaneous gates); [`Self::add_currents`] then adds the currents. Touches only
    /// this channel's arrays, so channels can be updated in parallel.
    pub fn update_open(&mut self, v: &[f64], ca: &[f64], temperature: f64) {
        self.open.iter_mut().for_each(|o| *o = 1.0);
        for (x, &n) in self.local_v.iter_mut().zip(&self.node) {
            *x = v[n];
        }
        for g in &mut self.gates {
            if let Some(Form::Instantaneous { inf }) = &g.form {
                inf.eval_slice(&self.local_v, &mut g.q);
            }
            if let Some(l) = &mut g.lems {
                if l.stateless {
                    let which = l.current_reads;
                    l.set_some_inputs(&self.node, v, ca, temperature, which);
                    l.dynamics.evaluate(&mut l.columns, &l.current_order);
                }
                let out = &l.columns.data[l.output];
                for (o, &x) in self.open.iter_mut().zip(out) {
                    *o *= if l.use_q_power {
                        x.powi(g.instances)
                    } else {
                        x
                    };
                }
            } else {
                multiply_powers(&mut self.open, &g.q, g.instances);
            }
        }
    }

    /// Adds the currents of the last [`Self::update_open`]:
    /// `inward[n] += ḡ·f·(E − v)`, `conductance[n] += ḡ·f`; ion currents go to
    /// `ion_currents[pool][node]`.
    pub fn add_currents(
        &self,
        inward: &mut [f64],
        conductance: &mut [f64],
        ion_currents: &mut [Vec<f64>],
        ion_conductances: &mut [Vec<f64>],
    ) {
        let instances = self
            .node
            .iter()
            .zip(&self.local_v)
            .zip(self.gmax.iter().zip(&self.open))
            .zip(&self.erev);
        match self.common_pool {
            Some(usize::MAX) => {
                for (((&n, &v), (&gmax, &open)), &erev) in instances {
                    let g = gmax * open;
                    inward[n] += g * (erev - v);
                    conductance[n] += g;
                }
            }
            Some(pool) => {
                let ion = &mut ion_currents[pool];
                let ion_g = &mut ion_conductances[pool];
                for (((&n, &v), (&gmax, &open)), &erev) in instances {
                    let g = gmax * open;
                    let current = g * (erev - v);
                    inward[n] += current;
                    conductance[n] += g;
                    ion[n] += current;
                    ion_g[n] += g;
                }
            }
            None => {
                for ((((&n, &v), (&gmax, &open)), &erev), &pool) in instances.zip(&self.pool) {
                    let g = gmax * open;
                    let current = g * (erev - v);
                    inward[n] += current;
                    conductance[n] += g;
                    if pool != usize::MAX {
                        ion_currents[pool][n] += current;
                        ion_conductances[pool][n] += g;
                    }
                }
            }
        }
    }

    /// Advances the gate states by dt with the new voltages.
    pub fn advance(&mut self, v: &[f64], ca: &[f64], temperature: f64, dt: f64) {
        for (x, &n) in self.local_v.iter_mut().zip(&self.node) {
            *x = v[n];
        }
        for g in &mut self.gates {
            if let Some(l) = &mut g.lems {
                if !l.stateless {
                    l.set_inputs(&self.node, v, ca, temperature);
                    l.dynamics.advance(&mut l.columns, &l.state_order, dt);
                    l.dynamics.evaluate(&mut l.columns, &l.current_order);
                }
                continue;
            }
            let Some(form) = &g.form else { continue };
            if matches!(form, Form::Instantaneous { .. }) {
                continue;
            }
            let scale = g.rate_scale;
            // e^{−dt/τ} once for the gate when τ does not depend on v.
            let fixed = match form {
                Form::TauInf { tau, .. } if tau.is_constant() => {
                    Some((-dt * scale / tau.at(0.0)).exp())
                }
                Form::Rates { tau: Some(tau), .. } if tau.is_constant() => {
                    Some((-dt * scale / tau.at(0.0)).exp())
                }
                _ => None,
            };
            let [inf, tau, work] = &mut self.work;
            match fixed {
                Some(d) => {
                    form.inf_slice(&self.local_v, inf, work);
                    for (q, &inf) in g.q.iter_mut().zip(inf.iter()) {
                        *q = inf + (*q - inf) * d;
                    }
                }
                None => {
                    form.inf_tau_slice(&self.local_v, inf, tau, work);
                    for ((q, &inf), &tau) in g.q.iter_mut().zip(inf.iter()).zip(tau.iter()) {
                        let decay = if tau > 0.0 {
                            exp(-dt * scale / tau)
                        } else {
                            0.0
                        };
                        *q = inf + (*q - inf) * decay;
                    }
                }
            }
        }
    }
}

/// `open[i] *= q[i]^instances`, with the common small powers unrolled.
fn multiply_powers(open: &mut [f64], q: &[f64], instances: i32) {
    match instances {
        1 => open.iter_mut().zip(q).for_each(|(o, &q)| *o *= q),
        2 => open.iter_mut().zip(q).for_each(|(o, &q)| *o *= q * q),
        3 => open.iter_mut().zip(q).for_each(|(o, &q)| *o *= q * q * q),
        4 => open.iter_mut().zip(q).for_each(|(o, &q)| {
            let q2 = q * q;
            *o *= q2 * q2
        }),
        n => open.iter_mut().zip(q).for_each(|(o, &q)| *o *= q.powi(n)),
    }
}

impl LemsGate {
    fn set_inputs(&mut self, nodes: &[usize], v: &[f64], ca: &[f64], temperature: f64) {
        self.set_some_inputs(nodes, v, ca, temperature, [true; 3]);
    }

    /// Gathers the inputs marked in `which` (v, caConc, temperature).
    fn set_some_inputs(
        &mut self,
        nodes: &[usize],
        v: &[f64],
        ca: &[f64],
        temperature: f64,
        which: [bool; 3],
    ) {
        if which[0] {
            for (x, &n) in self.columns.data[self.v].iter_mut().zip(nodes) {
                *x = v[n];
            }
        }
        if let Some(c) = self.ca_conc.filter(|_| which[1]) {
            for (x, &n) in self.columns.data[c].iter_mut().zip(nodes) {
                *x = ca[n];
            }
        }
        if let Some(t) = self.temperature.filter(|_| which[2]) {
            self.columns.data[t]
                .iter_mut()
                .for_each(|x| *x = temperature);
        }
    }
}

fn lems_gate(
    registry: &TypeRegistry,
    type_name: &str,
    channel: &str,
    gate: &Gate,
) -> Result<LemsGate> {
    let dynamics = CompiledDynamics::compile(registry, type_name, &["v", "caConc", "temperature"])?;
    let output = dynamics
        .slot("fcond")
        .or_else(|| dynamics.slot("q"))
        .ok_or_else(|| Error::Unsupported {
            what: format!(
                "channel {channel}: gate {} of type {type_name} defines neither fcond nor q",
                gate.id
            ),
        })?;
    let use_q_power = dynamics.slot("fcond").is_none();
    let stateless = dynamics.state_names().is_empty();
    let current_order = dynamics.order_for(&[output]);
    let state_order = dynamics.state_order();
    let reads = |slot: Option<usize>| slot.is_some_and(|k| dynamics.reads(&current_order, None, k));
    let current_reads = [
        reads(dynamics.slot("v")),
        reads(dynamics.slot("caConc")),
        reads(dynamics.slot("temperature")),
    ];
    Ok(LemsGate {
        current_reads,
        columns: dynamics.columns(),
        v: dynamics.slot("v").unwrap(),
        ca_conc: dynamics.slot("caConc"),
        temperature: dynamics.slot("temperature"),
        output,
        use_q_power,
        current_order,
        state_order,
        stateless,
        dynamics,
    })
}
