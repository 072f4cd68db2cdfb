//! Synapses between cells: gap junctions (in the implicit matrix) and graded chemical
//! synapses (NeuroML's core `gradedSynapse` natively; LEMS types such as c302's
//! `gradedSynapse2` through compiled [`CompiledDynamics`]s, one per type, evaluated over every
//! instance at once).
//!
//! A graded synapse on node n with peer node p carries an inward current i(v_n, v_p, s).
//! It enters the step linearised in v_n (conductance −∂i/∂v by a difference quotient, as
//! NEURON does) with v_p from the start of the step; its states then advance by
//! exponential Euler with the new voltages.

use neuroml::lems::{Component, TypeRegistry};

use crate::dynamics::{Columns, CompiledDynamics, EvalOrder, PartialDerivative};
use crate::error::{Error, Result};

/// Every gap junction: i_a = g (v_b − v_a) and i_b = g (v_a − v_b), coupled implicitly.
#[derive(Debug, Clone, Default)]
pub struct GapJunctions {
    /// One side's node.
    pub a: Vec<usize>,
    /// Other side's node.
    pub b: Vec<usize>,
    /// Conductance × weight \[µS\].
    pub conductance: Vec<f64>,
}

impl GapJunctions {
    /// Adds a junction.
    pub fn push(&mut self, a: usize, b: usize, conductance: f64) {
        self.a.push(a);
        self.b.push(b);
        self.conductance.push(conductance);
    }
}

/// NeuroML's core `gradedSynapse` (Kunert et al.):
/// s∞ = 1/(1 + e^{(V_th − v_peer)/δ}), τ = (1 − s∞)/k, ds/dt = (s∞ − s)/τ,
/// i = w·g·s·(E − v).
#[derive(Debug, Clone, Default)]
pub struct CoreGraded {
    /// Post node.
    pub node: Vec<usize>,
    /// Pre node.
    pub peer: Vec<usize>,
    /// w·g \[µS\].
    pub conductance: Vec<f64>,
    /// δ \[mV\].
    pub delta: Vec<f64>,
    /// k \[1/ms\].
    pub k: Vec<f64>,
    /// V_th \[mV\].
    pub vth: Vec<f64>,
    /// E \[mV\].
    pub erev: Vec<f64>,
    /// Activation.
    pub s: Vec<f64>,
    /// Synapses with the same presynaptic node, δ, k and V_th have the same activation:
    /// each group's is advanced once and copied to its synapses, with the same arithmetic
    /// (c302_C1_Muscles: 1,175 synapses in 232 groups or fewer). Made by [`Self::initialise`].
    groups: ActivationGroups,
}

/// The groups of [`CoreGraded`] synapses that share their activation.
#[derive(Debug, Clone, Default)]
struct ActivationGroups {
    /// Group of each synapse.
    of: Vec<usize>,
    /// A synapse of each group, whose parameters and peer the group's step reads.
    representative: Vec<usize>,
    /// Each group's activation.
    s: Vec<f64>,
}

impl CoreGraded {
    /// Adds the inward currents and conductances.
    pub fn add_currents(&self, v: &[f64], inward: &mut [f64], conductance: &mut [f64]) {
        for i in 0..self.node.len() {
            let n = self.node[i];
            let g = self.conductance[i] * self.s[i];
            inward[n] += g * (self.erev[i] - v[n]);
            conductance[n] += g;
        }
    }

    /// Advances s by dt with the new voltages: once per group, then copied to its synapses.
    pub fn advance(&mut self, v: &[f64], dt: f64) {
        let groups = &mut self.groups;
        for (s, &i) in groups.s.iter_mut().zip(&groups.representative) {
            let inf = 1.0 / (1.0 + ((self.vth[i] - v[self.peer[i]]) / self.delta[i]).exp());
            let tau = (1.0 - inf) / self.k[i];
            *s = if tau > 0.0 {
                inf + (*s - inf) * (-dt / tau).exp()
            } else {
                inf
            };
        }
        for (s, &g) in self.s.iter_mut().zip(&groups.of) {
            *s = groups.s[g];
        }
    }

    /// Initial activation: 0; groups the synapses that share their activation.
    pub fn initialise(&mut self) {
        self.s.iter_mut().for_each(|s| *s = 0.0);
        let mut index = std::collections::HashMap::new();
        let mut representative = Vec::new();
        let of = (0..self.node.len())
            .map(|i| {
                let key = (
                    self.peer[i],
                    self.delta[i].to_bits(),
                    self.k[i].to_bits(),
                    self.vth[i].to_bits(),
                );
                *index.entry(key).or_insert_with(|| {
                    representative.push(i);
                    representative.len() - 1
                })
            })
            .collect();
        self.groups = ActivationGroups {
            of,
            s: vec![0.0; representative.len()],
            representative,
        };
    }
}

/// Writes the peer voltage and temperature inputs of `cols`.
fn set_peer_inputs(
    cols: &mut Columns,
    peer: &[usize],
    vpeer: Option<usize>,
    temperature_slot: Option<usize>,
    v: &[f64],
    temperature: f64,
) {
    if let Some(k) = vpeer {
        for (x, &p) in cols.data[k].iter_mut().zip(peer) {
            *x = if p == usize::MAX { 0.0 } else { v[p] };
        }
    }
    if let Some(k) = temperature_slot {
        cols.data[k].iter_mut().for_each(|x| *x = temperature);
    }
}

/// Every instance of one LEMS synapse type.
#[derive(Debug, Clone)]
pub struct LemsSynapses {
    /// The compiled dynamics.
    pub dynamics: CompiledDynamics,
    /// Instance columns.
    pub columns: Columns,
    /// Node each instance sits on.
    pub node: Vec<usize>,
    /// Its peer's node (`usize::MAX`: none).
    pub peer: Vec<usize>,
    v: usize,
    vpeer: Option<usize>,
    temperature: Option<usize>,
    i: usize,
    current_order: EvalOrder,
    current_v_order: EvalOrder,
    /// ∂i/∂v, when symbolic.
    di_dv: Option<PartialDerivative>,
    state_order: EvalOrder,
    /// Inward current \[nA\] and conductance −∂i/∂v \[µS\] per instance, from the last
    /// [`Self::update_currents`].
    current: Vec<f64>,
    slope: Vec<f64>,
    /// Instances whose states evolve identically, advanced once per group.
    shared: Option<SharedStates>,
    /// Whether the current (or its derivative) reads the peer's voltage.
    currents_read_peer: bool,
    /// Whether the states' evolution reads v, the peer's v or the temperature (an
    /// `expTwoSynapse`'s does not: its inputs need not be gathered to advance it).
    states_read_inputs: bool,
    /// Variables of the peer cell other than v that the type reads (`peer/output` of
    /// c302's `outputSynapse`, the presynaptic `cellW2D`'s output): (slot, name).
    pub peer_variables: Vec<(usize, String)>,
    /// Per peer variable, per instance: where to read it (point-cell type, instance, slot).
    peer_sources: Vec<Vec<(usize, usize, usize)>>,
    /// Whether instances whose states are all zero (an event-driven synapse that has not
    /// received an event, or whose conductance has decayed to exactly zero) are left out
    /// of each step: they pass no current and their states stay zero
    /// ([`CompiledDynamics::quiet_at_rest`]), so the results are unchanged.
    skip_resting: bool,
    /// The instances of the last [`Self::update_currents`] that were not resting.
    active: Vec<std::ops::Range<usize>>,
    /// The `weight` slot: set from each event's connection before its handler runs.
    weight: Option<usize>,
    /// For a type whose instances on one node superpose
    /// ([`CompiledDynamics::superposable`]): the instance of each node and parameter set
    /// (every fixed slot but `weight`), which receives the events of all its connections.
    /// None: one instance per connection.
    merged: Option<std::collections::HashMap<(usize, Vec<u64>), usize>>,
    /// For a superposable type: its state slots, and room for one instance's states. An
    /// event then adds its increment advanced by how late it is, leaving the rest of the
    /// states as they are (see [`Self::receive`]).
    superposed_states: Option<(Vec<usize>, Vec<f64>)>,
}

/// Instances of a synapse type grouped by what their states depend on. When the states
/// read only parameters, the peer's voltage and the temperature (as c302's graded
/// synapses: s follows the presynaptic cell), every synapse of one presynaptic cell and one
/// parameter set has the same states: the groups are advanced once each and their states
/// copied to the instances, with the same arithmetic, so the results are unchanged
/// (2,279 synapses → 271 groups in c302 D1).
#[derive(Debug, Clone)]
struct SharedStates {
    /// One instance per group (copies of a representative's slots).
    columns: Columns,
    /// Group of each instance.
    group_of: Vec<usize>,
    /// Peer node of each group.
    peer: Vec<usize>,
    /// State slots.
    states: Vec<usize>,
}

impl SharedStates {
    /// Groups the instances, or None when the states read something else (such as `v`)
    /// or grouping would not save work.
    fn new(
        dynamics: &CompiledDynamics,
        cols: &Columns,
        peer: &[usize],
        vpeer: Option<usize>,
        temperature: Option<usize>,
    ) -> Option<SharedStates> {
        let deps = dynamics.state_dependencies();
        let fixed: Vec<usize> = deps
            .iter()
            .copied()
            .filter(|&k| dynamics.is_fixed(k))
            .collect();
        let allowed = |k: usize| {
            dynamics.is_fixed(k)
                || dynamics.is_state(k)
                || Some(k) == vpeer
                || Some(k) == temperature
        };
        if !deps.iter().all(|&k| allowed(k)) {
            return None;
        }
        let mut index: std::collections::HashMap<(usize, Vec<u64>), usize> =
            std::collections::HashMap::new();
        let mut representative = Vec::new();
        let group_of: Vec<usize> = (0..cols.len())
            .map(|i| {
                let key = (
                    peer[i],
                    fixed.iter().map(|&k| cols.data[k][i].to_bits()).collect(),
                );
                *index.entry(key).or_insert_with(|| {
                    representative.push(i);
                    representative.len() - 1
                })
            })
            .collect();
        if representative.len() * 2 > cols.len() {
            return None;
        }
        let mut columns = dynamics.columns();
        for (k, column) in columns.data.iter_mut().enumerate() {
            column.extend(representative.iter().map(|&i| cols.data[k][i]));
        }
        let states = (0..cols.data.len())
            .filter(|&k| dynamics.is_state(k))
            .collect();
        Some(SharedStates {
            columns,
            group_of,
            peer: representative.iter().map(|&i| peer[i]).collect(),
            states,
        })
    }
}

/// Step for the conductance's difference quotient \[mV\] (NEURON uses 0.001 mV).
const DV: f64 = 1e-3;

impl LemsSynapses {
    /// Compiles a synapse type.
    pub fn new(registry: &TypeRegistry, type_name: &str) -> Result<LemsSynapses> {
        let peer_paths: Vec<String> = registry
            .dynamics(type_name)
            .into_iter()
            .flat_map(|d| &d.derived_variables)
            .filter_map(|d| match &d.value {
                neuroml::lems::DerivedValue::Select { path, .. }
                    if path.starts_with("peer/") && path != "peer/v" =>
                {
                    Some(path.clone())
                }
                _ => None,
            })
            .collect();
        let mut inputs = vec!["v", "peer/v", "temperature"];
        inputs.extend(peer_paths.iter().map(String::as_str));
        let dynamics = CompiledDynamics::compile(registry, type_name, &inputs)?;
        let peer_variables = peer_paths
            .iter()
            .map(|p| {
                (
                    dynamics.slot(p).expect("an input"),
                    p["peer/".len()..].to_string(),
                )
            })
            .collect();
        let i = dynamics.slot("i").ok_or_else(|| Error::Unsupported {
            what: format!("synapse type {type_name} exposes no current 'i'"),
        })?;
        let v = dynamics.slot("v").unwrap();
        let current_order = dynamics.order_for(&[i]);
        let current_v_order = dynamics.depending(&current_order, v);
        let state_order = dynamics.state_order();
        let (vpeer, di_dv) = (dynamics.slot("peer/v"), dynamics.partial("i", "v"));
        let currents_read_peer =
            vpeer.is_some_and(|k| dynamics.reads(&current_order, di_dv.as_ref(), k));
        let temperature = dynamics.slot("temperature");
        let states_read_inputs = dynamics
            .state_dependencies()
            .iter()
            .any(|&k| k == v || Some(k) == vpeer || Some(k) == temperature);
        let weight = dynamics.slot("weight").filter(|&k| dynamics.is_fixed(k));
        let superposable = dynamics.superposable(dynamics.name(i), &["weight"]);
        let merged = superposable.then(std::collections::HashMap::new);
        let superposed_states = superposable.then(|| {
            let states: Vec<usize> = (0..dynamics.columns().data.len())
                .filter(|&k| dynamics.is_state(k))
                .collect();
            let room = vec![0.0; states.len()];
            (states, room)
        });
        Ok(LemsSynapses {
            columns: dynamics.columns(),
            node: Vec::new(),
            peer: Vec::new(),
            v,
            vpeer,
            temperature,
            i,
            current_order,
            current_v_order,
            di_dv,
            state_order,
            current: Vec::new(),
            slope: Vec::new(),
            shared: None,
            currents_read_peer,
            states_read_inputs,
            peer_variables,
            peer_sources: Vec::new(),
            skip_resting: false,
            active: Vec::new(),
            weight,
            merged,
            superposed_states,
            dynamics,
        })
    }

    /// Where each instance reads its peer variables: `find(peer node, name)` gives the
    /// point-cell type, instance and slot holding that variable of the cell at the node.
    pub fn resolve_peer_variables(
        &mut self,
        find: impl Fn(usize, &str) -> Option<(usize, usize, usize)>,
    ) -> Result<()> {
        self.peer_sources = self
            .peer_variables
            .iter()
            .map(|(_, name)| {
                self.peer
                    .iter()
                    .map(|&p| {
                        (p != usize::MAX).then(|| find(p, name)).flatten().ok_or_else(|| {
                            Error::Unsupported {
                                what: format!(
                                    "synapse type {} reads peer/{name}, which its presynaptic cell does not have",
                                    self.dynamics.type_name
                                ),
                            }
                        })
                    })
                    .collect()
            })
            .collect::<Result<_>>()?;
        Ok(())
    }

    /// Copies the peer variables from the point cells (their values as last evaluated).
    pub fn read_peer_variables(&mut self, cells: &[crate::point_cells::PointCells]) {
        for ((slot, _), sources) in self.peer_variables.iter().zip(&self.peer_sources) {
            for (x, &(k, i, s)) in self.columns.data[*slot].iter_mut().zip(sources) {
                *x = cells[k].columns.data[s][i];
            }
        }
    }

    /// Adds a connection of `component` on `node` with `peer`, scaled by `weight`; returns
    /// the instance that receives its events. Where instances superpose, a connection on a
    /// node that already has an instance with the same parameters joins it.
    pub fn push(
        &mut self,
        component: &Component,
        node: usize,
        peer: usize,
        weight: f64,
    ) -> Result<usize> {
        let overrides: &[(&str, f64)] = if self.weight.is_some() {
            &[("weight", weight)]
        } else {
            &[]
        };
        let instance = self
            .dynamics
            .push(&mut self.columns, component, overrides)?;
        if let Some(merged) = &mut self.merged {
            let fixed: Vec<u64> = (0..self.columns.data.len())
                .filter(|&k| self.dynamics.is_fixed(k) && Some(k) != self.weight)
                .map(|k| self.columns.data[k][instance].to_bits())
                .collect();
            match merged.entry((node, fixed)) {
                std::collections::hash_map::Entry::Occupied(e) => {
                    self.columns
                        .data
                        .iter_mut()
                        .for_each(|c| c.truncate(instance));
                    return Ok(*e.get());
                }
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(instance);
                }
            }
        }
        self.node.push(node);
        self.peer.push(peer);
        Ok(instance)
    }

    /// Every connection gets an instance of its own from now on (see [`Self::push`]).
    pub fn keep_connections_apart(&mut self) {
        self.merged = None;
    }

    /// Gathers v and the temperature, and the peers' voltages when `peer`.
    fn set_inputs(&mut self, v: &[f64], temperature: f64, peer: bool) {
        for (x, &n) in self.columns.data[self.v].iter_mut().zip(&self.node) {
            *x = v[n];
        }
        let vpeer = self.vpeer.filter(|_| peer);
        set_peer_inputs(
            &mut self.columns,
            &self.peer,
            vpeer,
            self.temperature,
            v,
            temperature,
        );
    }

    /// Delivers an event of a connection with `weight` to one instance through handler
    /// `port`.
    ///
    /// `late` \[ms\] is how far the states' time lies past the event's: the instance is
    /// taken back by `late`, receives the event, and is brought forward again, so the event
    /// acts at its own time (exactly for states linear in themselves, as a synapse's
    /// decaying conductances). For a superposable type only the event's increment is
    /// brought forward (the same result for linear states, and the other states are left
    /// untouched), at half the cost.
    pub fn receive(&mut self, instance: usize, port: usize, late: f64, weight: f64) {
        if let Some(k) = self.weight {
            self.columns.data[k][instance] = weight;
        }
        if let Some((states, saved)) = self.superposed_states.as_mut().filter(|_| late > 0.0) {
            // The states are linear and the event only adds to them: the increment, made
            // on zero states and advanced alone, is added to the states as they are.
            for (x, &k) in saved.iter_mut().zip(states.iter()) {
                *x = std::mem::take(&mut self.columns.data[k][instance]);
            }
            self.dynamics.receive(&mut self.columns, port, instance);
            self.dynamics
                .advance_one(&mut self.columns, &self.state_order, instance, late);
            for (&x, &k) in saved.iter().zip(states.iter()) {
                self.columns.data[k][instance] += x;
            }
            return;
        }
        if late > 0.0 {
            self.dynamics
                .advance_one(&mut self.columns, &self.state_order, instance, -late);
        }
        self.dynamics.receive(&mut self.columns, port, instance);
        if late > 0.0 {
            self.dynamics
                .advance_one(&mut self.columns, &self.state_order, instance, late);
        }
    }

    /// States from `OnStart` (0 otherwise).
    pub fn initialise(&mut self, v: &[f64], temperature: f64) {
        self.columns.activate_all();
        self.set_inputs(v, temperature, true);
        self.dynamics.initialise(&mut self.columns);
        // Events reach single instances: their states are their own.
        if self.dynamics.receives_events() {
            self.shared = None;
            let current = self.dynamics.name(self.i).to_string();
            self.skip_resting = self.dynamics.quiet_at_rest(&[&current]);
            return;
        }
        self.shared = SharedStates::new(
            &self.dynamics,
            &self.columns,
            &self.peer,
            self.vpeer,
            self.temperature,
        );
    }

    /// Evaluates every instance's current and conductance −∂i/∂v at the present v and
    /// states; [`Self::add_currents`] then adds them. Touches only this type's arrays.
    pub fn update_currents(&mut self, v: &[f64], temperature: f64) {
        let n = self.node.len();
        self.current.resize(n, 0.0);
        self.slope.resize(n, 0.0);
        if self.skip_resting {
            return self.update_active_currents(v, temperature);
        }
        // c302's synapse currents read v, the states and parameters, not the peer.
        self.set_inputs(v, temperature, self.currents_read_peer);
        self.dynamics
            .evaluate(&mut self.columns, &self.current_order);
        self.current.copy_from_slice(&self.columns.data[self.i]);
        if let Some(di_dv) = &self.di_dv {
            self.dynamics
                .evaluate_partial(&mut self.columns, di_dv, &mut self.slope);
            self.slope.iter_mut().for_each(|g| *g = -*g);
            return;
        }
        self.columns.data[self.v].iter_mut().for_each(|x| *x += DV);
        self.dynamics
            .evaluate(&mut self.columns, &self.current_v_order);
        for (g, (&i0, &i1)) in self
            .slope
            .iter_mut()
            .zip(self.current.iter().zip(&self.columns.data[self.i]))
        {
            *g = (i0 - i1) / DV;
        }
    }

    /// [`Self::update_currents`] for a type that skips its resting instances: only the
    /// others gather their inputs and are evaluated; the resting ones pass no current.
    fn update_active_currents(&mut self, v: &[f64], temperature: f64) {
        self.dynamics.skip_resting_blocks(&mut self.columns);
        self.columns.active_ranges(&mut self.active);
        self.current.fill(0.0);
        self.slope.fill(0.0);
        if self.active.is_empty() {
            return;
        }
        if self.currents_read_peer || self.di_dv.is_none() {
            self.set_inputs(v, temperature, self.currents_read_peer);
        } else {
            for r in &self.active {
                for (x, &n) in self.columns.data[self.v][r.clone()]
                    .iter_mut()
                    .zip(&self.node[r.clone()])
                {
                    *x = v[n];
                }
            }
            set_peer_inputs(
                &mut self.columns,
                &[],
                None,
                self.temperature,
                v,
                temperature,
            );
        }
        self.dynamics
            .evaluate(&mut self.columns, &self.current_order);
        match &self.di_dv {
            Some(di_dv) => {
                self.dynamics
                    .evaluate_partial(&mut self.columns, di_dv, &mut self.slope);
            }
            None => {
                let i0 = self.columns.data[self.i].clone();
                self.columns.data[self.v].iter_mut().for_each(|x| *x += DV);
                self.dynamics
                    .evaluate(&mut self.columns, &self.current_v_order);
                for r in &self.active {
                    for k in r.clone() {
                        // −∂i/∂v, negated below with the symbolic one's.
                        self.slope[k] = (self.columns.data[self.i][k] - i0[k]) / DV;
                    }
                }
                self.columns.data[self.i].copy_from_slice(&i0);
            }
        }
        for r in &self.active {
            self.current[r.clone()].copy_from_slice(&self.columns.data[self.i][r.clone()]);
            self.slope[r.clone()].iter_mut().for_each(|g| *g = -*g);
        }
    }

    /// Adds the inward currents and conductances of the last [`Self::update_currents`].
    pub fn add_currents(&self, inward: &mut [f64], conductance: &mut [f64]) {
        let add = |r: std::ops::Range<usize>, inward: &mut [f64], conductance: &mut [f64]| {
            for ((&n, &i), &g) in self.node[r.clone()]
                .iter()
                .zip(&self.current[r.clone()])
                .zip(&self.slope[r])
            {
                inward[n] += i;
                conductance[n] += g;
            }
        };
        if self.skip_resting {
            // Resting instances pass nothing.
            for r in &self.active {
                add(r.clone(), inward, conductance);
            }
        } else {
            add(0..self.node.len(), inward, conductance);
        }
    }

    /// Advances the states by dt with the new voltages.
    pub fn advance(&mut self, v: &[f64], temperature: f64, dt: f64) {
        let Some(shared) = &mut self.shared else {
            if self.states_read_inputs {
                self.set_inputs(v, temperature, true);
            }
            self.dynamics
                .advance(&mut self.columns, &self.state_order, dt);
            return;
        };
        set_peer_inputs(
            &mut shared.columns,
            &shared.peer,
            self.vpeer,
            self.temperature,
            v,
            temperature,
        );
        self.dynamics
            .advance(&mut shared.columns, &self.state_order, dt);
        for &s in &shared.states {
            let group = &shared.columns.data[s];
            for (x, &g) in self.columns.data[s].iter_mut().zip(&shared.group_of) {
                *x = group[g];
            }
        }
    }

    /// Number of groups whose states are advanced once for all their instances (None:
    /// every instance advances its own).
    pub fn groups(&self) -> Option<usize> {
        self.shared.as_ref().map(|s| s.peer.len())
    }

    /// Every instance advances its own states from now on.
    #[cfg(test)]
    pub(crate) fn unshare(&mut self) {
        self.shared = None;
    }

    /// Current value of a variable for every instance: the states, the current and what
    /// it reads are up to date; derived variables only the states need (c302's `phi`) are
    /// evaluated per group when states are shared, and are not kept per instance.
    pub fn variable(&self, name: &str) -> Option<&[f64]> {
        self.dynamics
            .slot(name)
            .map(|k| self.columns.data[k].as_slice())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Graded synapses that share a presynaptic node and δ, k, V_th are advanced once per
    /// group: each synapse's activation is, bit for bit, what its own step gives.
    #[test]
    fn grouped_graded_synapses_step_as_their_own() {
        let mut g = CoreGraded::default();
        // (post, pre, δ, V_th): synapses 0, 1, 3 share node 2 and their parameters.
        for (post, pre, delta, vth) in [
            (0, 2, 5.0, 0.0),
            (1, 2, 5.0, 0.0),
            (1, 3, 5.0, 0.0),
            (3, 2, 5.0, 0.0),
            (0, 2, 4.0, 0.0),
            (0, 2, 5.0, -10.0),
        ] {
            g.node.push(post);
            g.peer.push(pre);
            g.conductance.push(0.1);
            g.delta.push(delta);
            g.k.push(0.025);
            g.vth.push(vth);
            g.erev.push(0.0);
            g.s.push(0.0);
        }
        g.initialise();
        assert_eq!(g.groups.representative.len(), 4);
        let mut own = vec![0.0f64; g.node.len()];
        let mut v = [-60.0, -50.0, -20.0, 10.0];
        for step in 0..50 {
            v[2] = -30.0 + step as f64;
            v[3] = 20.0 - step as f64;
            g.advance(&v, 0.05);
            for (i, s) in own.iter_mut().enumerate() {
                let inf = 1.0 / (1.0 + ((g.vth[i] - v[g.peer[i]]) / g.delta[i]).exp());
                let tau = (1.0 - inf) / g.k[i];
                *s = inf + (*s - inf) * (-0.05 / tau).exp();
            }
            assert_eq!(g.s, own, "step {step}");
        }
        assert!(own.iter().all(|&s| s > 0.01));
    }
}
