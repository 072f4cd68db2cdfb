//! Point cells defined by LEMS dynamics (NeuroML's `iafCell`, c302's `iafActivityCell` and
//! `cellW2D`): one node each, whose voltage is the type's state `v`, integrated with the
//! network like any compartment.
//!
//! This is how jNeuroML's NEURON export runs them (see `docs/events.md`): the cell is a
//! section whose capacitance is the type's `C`, carrying a point process whose current is
//! C·dv/dt of the type's dynamics with `iSyn` (the sum over its attached synapses) set to
//! zero; the synapses' currents reach the section directly. So here each instance adds the
//! inward current I = C·f(v, states)|_{iSyn = 0} and conductance −∂I/∂v to its node; its
//! other states advance with the synapses' (exponential Euler, half a step ahead); its
//! `<OnCondition>`s are tested at t = 0 and after every step, after the spike check, and
//! may set `v` (a reset) — NEURON's `WATCH` delivered after its `NetCon` threshold check.

use neuroml::lems::{Component, DerivedValue, TypeRegistry};

use crate::dynamics::{Columns, CompiledDynamics, EvalOrder};
use crate::error::{Error, Result};

/// Every instance of one point-cell type.
#[derive(Debug, Clone)]
pub struct PointCells {
    /// The compiled dynamics (`v` external).
    pub dynamics: CompiledDynamics,
    /// Instance columns.
    pub columns: Columns,
    /// Node of each instance.
    pub node: Vec<usize>,
    v: usize,
    capacitance: usize,
    temperature: Option<usize>,
    /// The derived variables the other states' evolution needs.
    state_order: EvalOrder,
    rate: Vec<f64>,
    slope: Vec<f64>,
    /// v of each instance at the last [`Self::add_currents`] (where the node's currents
    /// were linearised).
    v_at_currents: Vec<f64>,
    /// How far the first comparison among the conditions held at the last check, after
    /// its resets (NaN before the first).
    margin: Vec<f64>,
    /// Scratch: the margin now, and which instances fired.
    margin_now: Vec<f64>,
    fired: Vec<bool>,
    v_before: Vec<f64>,
}

/// The slots the synapses' currents arrive through (`select="synapses[*]/i"`): inputs
/// held at zero, since those currents reach the node directly.
fn attachment_selects(registry: &TypeRegistry, type_name: &str) -> Result<Vec<String>> {
    let lineage = registry.lineage(type_name);
    let attachments: Vec<&str> = lineage
        .iter()
        .filter_map(|n| registry.get(n))
        .flat_map(|t| t.attachments.iter().map(|(name, _)| name.as_str()))
        .collect();
    let mut out = Vec::new();
    for d in registry
        .dynamics(type_name)
        .iter()
        .flat_map(|d| &d.derived_variables)
    {
        if let DerivedValue::Select { path, reduce, .. } = &d.value {
            let on_attachment = attachments.iter().any(|a| {
                path.strip_prefix(a)
                    .is_some_and(|rest| rest.starts_with("[*]/"))
            });
            if !on_attachment || reduce.as_deref() != Some("add") {
                return Err(Error::Unsupported {
                    what: format!(
                        "cell type {type_name}: derived variable {} selects '{path}'; only sums over attached synapses (NAME[*]/... with reduce=\"add\") are supported",
                        d.name
                    ),
                });
            }
            out.push(path.clone());
        }
    }
    Ok(out)
}

/// Where the variable `name` of the point cell on `node` lives: (type, instance, slot).
pub fn find_variable(
    cells: &[PointCells],
    node: usize,
    name: &str,
) -> Option<(usize, usize, usize)> {
    cells.iter().enumerate().find_map(|(k, c)| {
        let i = c.node.iter().position(|&n| n == node)?;
        Some((k, i, c.dynamics.slot(name)?))
    })
}

impl PointCells {
    /// Compiles a point-cell type: it must have a state `v` and a capacitance `C`.
    pub fn new(registry: &TypeRegistry, type_name: &str) -> Result<PointCells> {
        let selects = attachment_selects(registry, type_name)?;
        let mut inputs: Vec<&str> = vec!["temperature"];
        inputs.extend(selects.iter().map(String::as_str));
        let dynamics = CompiledDynamics::compile_external(registry, type_name, &inputs, &["v"])?;
        if dynamics.external_names() != ["v"] {
            return Err(Error::Unsupported {
                what: format!("cell type {type_name}: no <TimeDerivative> of v"),
            });
        }
        let capacitance = dynamics.slot("C").ok_or_else(|| Error::Unsupported {
            what: format!(
                "cell type {type_name}: no capacitance C (it must extend baseCellMembPotCap)"
            ),
        })?;
        Ok(PointCells {
            columns: dynamics.columns(),
            node: Vec::new(),
            v: dynamics.slot("v").expect("v is external"),
            capacitance,
            temperature: dynamics.slot("temperature"),
            state_order: dynamics.state_order(),
            rate: Vec::new(),
            slope: Vec::new(),
            v_at_currents: Vec::new(),
            margin: Vec::new(),
            margin_now: Vec::new(),
            fired: Vec::new(),
            v_before: Vec::new(),
            dynamics,
        })
    }

    /// Adds an instance of `component` on `node`; returns its index.
    pub fn push(&mut self, component: &Component, node: usize) -> Result<usize> {
        let i = self.dynamics.push(&mut self.columns, component, &[])?;
        self.node.push(node);
        let c = self.columns.data[self.capacitance][i];
        if !(c > 0.0 && c.is_finite()) {
            return Err(Error::Invalid(format!(
                "{} '{}': capacitance C must be positive, not {c} nF",
                component.type_name,
                component.id.as_deref().unwrap_or("")
            )));
        }
        Ok(i)
    }

    /// Capacitance of each instance \[nF\].
    pub fn capacitance(&self) -> &[f64] {
        &self.columns.data[self.capacitance]
    }

    /// Writes the nodes' voltages (and the temperature) into the columns.
    fn set_inputs(&mut self, v: &[f64], temperature: f64) {
        for (x, &n) in self.columns.data[self.v].iter_mut().zip(&self.node) {
            *x = v[n];
        }
        if let Some(k) = self.temperature {
            self.columns.data[k]
                .iter_mut()
                .for_each(|x| *x = temperature);
        }
    }

    /// States from `OnStart`; the voltages `OnStart` gives (or those in `v`) are written to
    /// the nodes.
    pub fn initialise(&mut self, v: &mut [f64], temperature: f64) {
        let n = self.node.len();
        self.margin = vec![f64::NAN; n];
        self.v_at_currents = vec![f64::NAN; n];
        self.set_inputs(v, temperature);
        self.dynamics.initialise(&mut self.columns);
        for (&x, &n) in self.columns.data[self.v].iter().zip(&self.node) {
            v[n] = x;
        }
    }

    /// Adds each instance's inward current C·dv/dt (with no synaptic current) and its
    /// conductance −∂I/∂v at the present v and states.
    pub fn add_currents(
        &mut self,
        v: &[f64],
        temperature: f64,
        inward: &mut [f64],
        conductance: &mut [f64],
    ) {
        let n = self.node.len();
        self.rate.resize(n, 0.0);
        self.slope.resize(n, 0.0);
        self.set_inputs(v, temperature);
        self.dynamics
            .external_rate(&mut self.columns, 0, &mut self.rate, &mut self.slope);
        let c = &self.columns.data[self.capacitance];
        for i in 0..n {
            inward[self.node[i]] += c[i] * self.rate[i];
            conductance[self.node[i]] -= c[i] * self.slope[i];
        }
        self.v_at_currents.clear();
        self.v_at_currents
            .extend_from_slice(&self.columns.data[self.v]);
    }

    /// Advances the states other than v by `h` with the present voltages.
    pub fn advance(&mut self, v: &[f64], temperature: f64, h: f64) {
        self.set_inputs(v, temperature);
        self.dynamics
            .advance(&mut self.columns, &self.state_order, h);
    }

    /// Tests the conditions at the present voltages and states and makes their assignments,
    /// writing any new v (a reset) to the nodes. The cell's spikes are not taken from its
    /// `<EventOut>`: as in jNeuroML's export, a threshold source on its v sees them
    /// (`crate::events`), checked just before.
    ///
    /// A reset acts at the time its condition became true, not at the check `h` after the
    /// previous one that sees it (where NEURON's fixed step resets): when the condition is a
    /// comparison (`v > thresh`), that time is where its margin crossed zero, linearly
    /// between the two checks, and the reset voltage is advanced from then to now with the
    /// node's currents of the last step (`inward`, `conductance`, linear in v), by the
    /// exponential step. Otherwise every period would be rounded up to whole steps.
    ///
    /// The cell's other states, which live `lead` ahead of v and were advanced with the
    /// voltage before the reset, are taken back to the crossing with it and brought
    /// forward again with the voltage after (when the reset assigns only v).
    pub fn apply_conditions(
        &mut self,
        v: &mut [f64],
        temperature: f64,
        h: f64,
        lead: f64,
        inward: &[f64],
        conductance: &[f64],
    ) {
        if !self.dynamics.has_conditions() {
            return;
        }
        let n = self.node.len();
        self.set_inputs(v, temperature);
        self.margin_now.resize(n, 0.0);
        let reset = self.dynamics.condition_setting(self.v);
        if let Some(k) = reset {
            self.dynamics
                .condition_margin(&mut self.columns, k, &mut self.margin_now);
        }
        self.fired.clear();
        self.fired.resize(n, false);
        self.v_before.clear();
        self.v_before.extend_from_slice(&self.columns.data[self.v]);
        self.dynamics
            .apply_conditions(&mut self.columns, reset, &mut self.fired);
        let rewind = reset.is_some_and(|k| self.dynamics.condition_assigns_only(k, self.v));
        let mut any = false;
        for i in (0..n).filter(|&i| self.fired[i]) {
            any = true;
            let (before, now) = (self.margin[i], self.margin_now[i]);
            if !(h > 0.0 && before < 0.0 && now >= 0.0) {
                continue;
            }
            let since = h * now / (now - before);
            let node = self.node[i];
            let reset = self.columns.data[self.v][i];
            let current = inward[node] - conductance[node] * (reset - self.v_at_currents[i]);
            let c = self.columns.data[self.capacitance][i];
            let (rate, slope) = (current / c, -conductance[node] / c);
            let after = reset + crate::dynamics::exponential_step(rate, slope, since);
            if rewind {
                let late = lead + since;
                self.columns.data[self.v][i] = self.v_before[i];
                self.dynamics
                    .advance_one(&mut self.columns, &self.state_order, i, -late);
                self.columns.data[self.v][i] = after;
                self.dynamics
                    .advance_one(&mut self.columns, &self.state_order, i, late);
            }
            self.columns.data[self.v][i] = after;
        }
        for (&x, &n) in self.columns.data[self.v].iter().zip(&self.node) {
            v[n] = x;
        }
        let Some(k) = reset else {
            return;
        };
        if any {
            self.dynamics
                .condition_margin(&mut self.columns, k, &mut self.margin_now);
        }
        std::mem::swap(&mut self.margin, &mut self.margin_now);
    }

    /// The present value of a variable of every instance (states are up to date; derived
    /// variables as of the last evaluation).
    pub fn variable(&self, name: &str) -> Option<&[f64]> {
        self.dynamics
            .slot(name)
            .map(|k| self.columns.data[k].as_slice())
    }
}
