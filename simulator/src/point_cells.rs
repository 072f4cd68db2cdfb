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
    pub fn apply_conditions(&mut self, v: &mut [f64], temperature: f64) {
        if !self.dynamics.has_conditions() {
            return;
        }
        self.set_inputs(v, temperature);
        self.dynamics.apply_conditions(&mut self.columns);
        for (&x, &n) in self.columns.data[self.v].iter().zip(&self.node) {
            v[n] = x;
        }
    }

    /// The present value of a variable of every instance (states are up to date; derived
    /// variables as of the last evaluation).
    pub fn variable(&self, name: &str) -> Option<&[f64]> {
        self.dynamics
            .slot(name)
            .map(|k| self.columns.data[k].as_slice())
    }
}
