//! The state of a running network and its time step.
//!
//! ## One step, t → t + dt
//!
//! 0. **Events**: spikes at t (threshold crossings of v(t)) and the events due by
//!    t + dt/2 change the synapses they reach ([`crate::events`]), each at its own time:
//!    the synapse's states, which live at t + dt/2, are taken back to the event's time,
//!    receive it and come forward again (exact for states linear in themselves).
//! 1. **Currents** at v(t) with the states of time t; current inputs at t + dt/2.
//!    Every mechanism adds its inward current I and conductance G = −∂I/∂v per node.
//! 2. **Voltage**, implicitly: backward Euler on the cable equation
//!    C_k (v'_k − v_k)/dt = I_k − G_k (v'_k − v_k) + Σ_j g_kj (v'_j − v'_k),
//!    the sum running over axial neighbours and gap-junction partners. For Δ = v' − v
//!    this is the symmetric positive definite system
//!    (C/dt + G + L) Δ = I − L v  (L: Laplacian of axial and junction conductances),
//!    solved by [`TreeSolver`]. Crank–Nicolson solves the same system with dt/2 and
//!    takes v' = v + 2Δ.
//! 3. **States** from t + dt/2 to t + 3dt/2 with v(t + dt), by exponential Euler
//!    (NEURON's `cnexp`): concentrations first, then gates, then synapses.
//!
//! The states live half a step ahead of the voltage, so each is advanced with the voltage
//! of its interval's midpoint (second order, with Crank–Nicolson, for states linear in
//! themselves). The initial states belong to t = 0, so the first step first advances them
//! by dt/2 with v(0): starting them at dt/2 as they are would shift every state half a step
//! in time, a first-order error that c302's synapses (far from rest at t = 0) carry through
//! the whole run (0.12 instead of 0.08 mV RMS on the full model at dt 0.1 ms against
//! NEURON at 0.01 ms). The lead is kept when dt changes: a longer step advances the states
//! by the difference first, a shorter one holds them until the voltage catches up.
//!
//! This is NEURON's fixed-step scheme (staggered states, currents linearised in v), except
//! that gap junctions are implicit here where jNeuroML's NEURON export couples them
//! explicitly through POINTERs, and that NEURON starts its states at dt/2 as they are.

use crate::channels::ChannelArrays;
use crate::concentration::IonPool;
use crate::error::{Error, Result};
use crate::events::SpikeSources;
use crate::inputs::CurrentInputs;
use crate::layout::Layout;
use crate::point_cells::PointCells;
use crate::solver::{SolveStats, TreeSolver};
use crate::synapses::{CoreGraded, GapJunctions, LemsSynapses};

/// The time-stepping method for the voltage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Method {
    /// Backward Euler (first order, NEURON's default).
    BackwardEuler,
    /// Crank–Nicolson (second order in the voltage): the default, more accurate than
    /// backward Euler against converged NEURON on the bundled model and on c302's example
    /// networks at their time steps (`docs/c302-networks.md`, `docs/simulator.md`).
    #[default]
    CrankNicolson,
}

/// Voltages beyond this are runaway \[mV\].
const RUNAWAY: f64 = 1000.0;

/// What a probe reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quantity {
    /// Membrane potential \[mV\].
    Voltage,
    /// Concentration of an ion pool \[mM\].
    Concentration(usize),
    /// A variable of a point cell's dynamics (c302's `activity`), in internal units:
    /// point-cell type, instance and the variable's slot.
    PointCell(usize, usize, usize),
}

/// A recorded quantity at one node.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    /// Node.
    pub node: usize,
    /// Quantity.
    pub quantity: Quantity,
}

/// A running network.
#[derive(Debug, Clone)]
pub struct Simulation {
    /// Compartments and cells.
    pub layout: Layout,
    /// Simulated time \[ms\].
    pub t: f64,
    /// Time step \[ms\].
    pub dt: f64,
    /// Steps taken since t = 0 (t = steps · dt, free of accumulated rounding).
    steps: u64,
    /// Voltage method.
    pub method: Method,
    /// Temperature \[K\].
    pub temperature: f64,
    /// Membrane potential per node \[mV\].
    pub v: Vec<f64>,
    pub(crate) channels: Vec<ChannelArrays>,
    pub(crate) pools: Vec<IonPool>,
    /// Index of the calcium pool, if any.
    pub(crate) calcium: Option<usize>,
    pub(crate) core_graded: CoreGraded,
    pub(crate) lems_synapses: Vec<LemsSynapses>,
    /// Point cells of LEMS types, one set per type.
    pub(crate) point_cells: Vec<PointCells>,
    /// Spike sources of spiking projections and their events.
    pub events: SpikeSources,
    /// Current inputs.
    pub inputs: CurrentInputs,
    pub(crate) solver: TreeSolver,
    /// Statistics of the last linear solve.
    pub last_solve: SolveStats,
    /// CG iterations over the whole run.
    pub total_iterations: usize,
    /// Summed conductance \[µS\] and conductance × reversal \[µS·mV\] of the gateless,
    /// pool-less channels per node.
    leak_g: Vec<f64>,
    leak_ge: Vec<f64>,
    inward: Vec<f64>,
    conductance: Vec<f64>,
    ion_currents: Vec<Vec<f64>>,
    ion_conductances: Vec<Vec<f64>>,
    delta: Vec<f64>,
    zeros: Vec<f64>,
    /// How far the states are ahead of `t` [ms]: 0 at t = 0, dt/2 once stepping.
    lead: f64,
}

impl Simulation {
    /// Assembles a simulation from its parts (see [`crate::build`]).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn assemble(
        layout: Layout,
        dt: f64,
        method: Method,
        temperature: f64,
        mut channels: Vec<ChannelArrays>,
        pools: Vec<IonPool>,
        gaps: GapJunctions,
        core_graded: CoreGraded,
        lems_synapses: Vec<LemsSynapses>,
        point_cells: Vec<PointCells>,
        events: SpikeSources,
        inputs: CurrentInputs,
        tolerance: f64,
    ) -> Simulation {
        let n = layout.len();
        let mut solver = TreeSolver::new(&layout.parent, &layout.axial_conductance, &gaps);
        solver.tolerance = tolerance;
        let calcium = pools.iter().position(|p| p.ion == "ca");
        let ion_currents = vec![vec![0.0; n]; pools.len()];
        let ion_conductances = ion_currents.clone();
        let (mut leak_g, mut leak_ge) = (vec![0.0; n], vec![0.0; n]);
        channels.retain(|ch| {
            if !ch.is_plain_leak() {
                return true;
            }
            for ((&node, &g), &e) in ch.node.iter().zip(&ch.gmax).zip(&ch.erev) {
                leak_g[node] += g;
                leak_ge[node] += g * e;
            }
            false
        });
        let mut sim = Simulation {
            v: layout.initial_v.clone(),
            layout,
            t: 0.0,
            dt,
            steps: 0,
            method,
            temperature,
            channels,
            pools,
            calcium,
            core_graded,
            lems_synapses,
            point_cells,
            events,
            inputs,
            solver,
            last_solve: SolveStats::default(),
            total_iterations: 0,
            leak_g,
            leak_ge,
            inward: vec![0.0; n],
            conductance: vec![0.0; n],
            ion_currents,
            ion_conductances,
            delta: vec![0.0; n],
            zeros: vec![0.0; n],
            lead: 0.0,
        };
        sim.initialise();
        sim
    }

    /// Back to t = 0: initial voltages, concentrations, gates at steady state, synapses
    /// at rest.
    pub fn initialise(&mut self) {
        self.t = 0.0;
        self.steps = 0;
        self.total_iterations = 0;
        self.lead = 0.0;
        self.v.copy_from_slice(&self.layout.initial_v);
        for p in &mut self.pools {
            p.initialise();
        }
        let ca = calcium(&self.pools, self.calcium, &self.zeros);
        for ch in &mut self.channels {
            ch.initialise(&self.v, ca, self.temperature);
        }
        self.core_graded.initialise();
        for s in &mut self.lems_synapses {
            s.initialise(&self.v, self.temperature);
        }
        for cells in &mut self.point_cells {
            cells.initialise(&mut self.v, self.temperature);
        }
        self.events.initialise();
    }

    /// Sets the clock back to t = 0 keeping every state: after a settling run, the
    /// settled network starts a recording from t = 0.
    pub fn restart_clock(&mut self) {
        self.events.shift_clock(self.t);
        self.t = 0.0;
        self.steps = 0;
        self.total_iterations = 0;
    }

    /// Changes the time step; the states keep their lead (see the module's notes).
    pub fn set_dt(&mut self, dt: f64) {
        // Keep t: restart the step count from here.
        self.dt = dt;
        self.steps = (self.t / dt).round() as u64;
    }

    /// Number of nodes.
    pub fn nodes(&self) -> usize {
        self.v.len()
    }

    /// Advances the network by one time step.
    pub fn step(&mut self) -> Result<()> {
        let dt = self.dt;
        self.advance_voltage(dt, self.method)?;
        self.advance_states_past(dt, dt);
        self.steps += 1;
        self.t = self.steps as f64 * dt;
        self.check()
    }

    /// Steps 0–2 of a step of `h` from t: the states to t + h/2 when they are not there
    /// yet, events, then the voltage to t + h by `method` (`self.t` stays t).
    pub(crate) fn advance_voltage(&mut self, h: f64, method: Method) -> Result<()> {
        // 0. States to t + h/2 (the first step, or after the step grew).
        if self.lead < h / 2.0 * (1.0 - 1e-9) {
            self.currents(h);
            self.advance_states(h / 2.0 - self.lead);
            self.lead = h / 2.0;
        }
        // Spikes at t and the events due by t + h/2 (NEURON checks and delivers here),
        // then the point cells' conditions (resets).
        if !self.events.is_empty() {
            let synapses = &mut self.lems_synapses;
            let states_time = self.t + self.lead;
            self.events
                .check(&self.v, self.t, self.t + h / 2.0, |target, time| {
                    synapses[target.synapses].receive(
                        target.instance,
                        target.port,
                        states_time - time,
                        target.weight,
                    )
                });
        }
        for cells in &mut self.point_cells {
            cells.apply_conditions(
                &mut self.v,
                self.temperature,
                h,
                self.lead,
                &self.inward,
                &self.conductance,
            );
        }
        // 1. Currents at v(t).
        self.currents(h);

        // 2. Voltage, implicitly.
        let _span = tracing::trace_span!("voltage").entered();
        let half = match method {
            Method::BackwardEuler => h,
            Method::CrankNicolson => h / 2.0,
        };
        self.last_solve = self.solver.solve_step(
            &self.layout.capacitance,
            half,
            &self.conductance,
            &self.inward,
            &self.v,
            &mut self.delta,
            self.t,
        )?;
        self.total_iterations += self.last_solve.iterations;
        let factor = match method {
            Method::BackwardEuler => 1.0,
            Method::CrankNicolson => 2.0,
        };
        for (v, d) in self.v.iter_mut().zip(&self.delta) {
            *v += factor * d;
        }
        // The ion currents the solve used: linearised at the solved voltage (v(t + dt) for
        // backward Euler, v(t + dt/2) for Crank–Nicolson), so the pools receive the charge
        // the membrane passed in this step.
        for (i, g) in self.ion_currents.iter_mut().zip(&self.ion_conductances) {
            for ((i, g), d) in i.iter_mut().zip(g).zip(&self.delta) {
                *i -= g * d;
            }
        }
        Ok(())
    }

    /// Step 3 of a step of `h` whose next step is `next`: the states from t + h/2 to
    /// t + h + next/2 with v(t + h) (held while a lead from a longer step is spent).
    pub(crate) fn advance_states_past(&mut self, h: f64, next: f64) {
        let by = (h + next / 2.0 - self.lead).max(0.0);
        self.advance_states(by);
        // Never below next/2 (only rounding could take it there).
        self.lead = (self.lead + by - h).max(next / 2.0);
    }

    /// Inward currents and their conductances per node at v(t), ion currents per pool.
    /// Inputs are taken at the middle of the step `h`.
    fn currents(&mut self, h: f64) {
        let _span = tracing::trace_span!("currents").entered();
        for (((inward, g), (&leak_g, &leak_ge)), &v) in self
            .inward
            .iter_mut()
            .zip(&mut self.conductance)
            .zip(self.leak_g.iter().zip(&self.leak_ge))
            .zip(&self.v)
        {
            *inward = leak_ge - leak_g * v;
            *g = leak_g;
        }
        for c in self
            .ion_currents
            .iter_mut()
            .chain(&mut self.ion_conductances)
        {
            c.iter_mut().for_each(|x| *x = 0.0);
        }
        self.inputs.add_currents(self.t + h / 2.0, &mut self.inward);
        let (v, temperature) = (&self.v, self.temperature);
        let ca = calcium(&self.pools, self.calcium, &self.zeros);
        // Each mechanism evaluates into its own arrays, then all are summed per node.
        for ch in &mut self.channels {
            ch.update_open(v, ca, temperature);
        }
        // Point cells first: synapses may read their variables (`peer/output`).
        for cells in &mut self.point_cells {
            cells.add_currents(v, temperature, &mut self.inward, &mut self.conductance);
        }
        for s in &mut self.lems_synapses {
            s.read_peer_variables(&self.point_cells);
            s.update_currents(v, temperature);
        }
        for ch in &self.channels {
            ch.add_currents(
                &mut self.inward,
                &mut self.conductance,
                &mut self.ion_currents,
                &mut self.ion_conductances,
            );
        }
        self.core_graded
            .add_currents(&self.v, &mut self.inward, &mut self.conductance);
        for s in &self.lems_synapses {
            s.add_currents(&mut self.inward, &mut self.conductance);
        }
    }

    /// Advances concentrations, then gates, then synapses by `h` with the present v.
    fn advance_states(&mut self, h: f64) {
        let _span = tracing::trace_span!("states").entered();
        if h <= 0.0 {
            return;
        }
        for (pool, current) in self.pools.iter_mut().zip(&self.ion_currents) {
            pool.advance(h, current);
        }
        let (v, temperature) = (&self.v, self.temperature);
        let ca = calcium(&self.pools, self.calcium, &self.zeros);
        for ch in &mut self.channels {
            ch.advance(v, ca, temperature, h);
        }
        for s in &mut self.lems_synapses {
            s.read_peer_variables(&self.point_cells);
            s.advance(v, temperature, h);
        }
        for cells in &mut self.point_cells {
            cells.advance(v, temperature, h);
        }
        self.core_graded.advance(&self.v, h);
    }

    pub(crate) fn check(&self) -> Result<()> {
        // A branch-free scan first (NaN fails the comparison), the culprit only on failure.
        if self.v.iter().fold(true, |ok, &v| ok & (v.abs() <= RUNAWAY)) {
            return Ok(());
        }
        let i = self
            .v
            .iter()
            .position(|v| v.is_nan() || v.abs() > RUNAWAY)
            .expect("found above");
        // The largest current injected into any cell now [nA]: a huge one is the cause.
        let mut per_cell = vec![0.0f64; self.layout.cells.len()];
        for k in 0..self.inputs.node.len() {
            per_cell[self.layout.node_cell[self.inputs.node[k]]] +=
                self.inputs.weight[k] * self.inputs.waveform[k].at(self.t);
        }
        let largest = per_cell
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.abs().total_cmp(&b.1.abs()).then(b.0.cmp(&a.0)));
        let cause = match largest {
            Some((c, &current)) if !current.is_finite() || current.abs() > INJECTED_LIMIT => {
                format!(
                    "{} receives {:e} pA of injected current; check the stimulus amplitude",
                    self.layout.cells[c].name(),
                    current * 1e3
                )
            }
            _ => "try a smaller dt, and check the model's parameters".to_string(),
        };
        Err(Error::Runaway {
            time: self.t,
            location: self.layout.node_label(i),
            value: self.v[i],
            cause,
        })
    }

    /// The value a probe reads now.
    pub fn read(&self, probe: &Probe) -> f64 {
        match probe.quantity {
            Quantity::Voltage => self.v[probe.node],
            Quantity::Concentration(p) => self.pools[p].concentration[probe.node],
            Quantity::PointCell(k, i, slot) => self.point_cells[k].columns.data[slot][i],
        }
    }

    /// A probe from a LEMS quantity path: `POP/INDEX/CELL/v`, `POP/INDEX/CELL/caConc`,
    /// `POP[INDEX]/v`, or with a segment id before the variable (`POP/0/CELL/3/v`).
    /// Without a segment, the point is the middle of segment 0 (the soma in c302).
    pub fn probe(&self, path: &str) -> Result<Probe> {
        let bad = |why: &str| Error::Invalid(format!("quantity '{path}': {why}"));
        let parts: Vec<&str> = path.split('/').collect();
        let index = |pop: &str, idx: &str| -> Result<usize> {
            let idx: u32 = idx.parse().map_err(|_| bad("bad index"))?;
            self.layout
                .cells
                .iter()
                .position(|c| c.population == pop && c.index == idx)
                .ok_or_else(|| bad(&format!("no cell {pop}[{idx}] in the network")))
        };
        let (variable, cell, segment) = match parts.as_slice() {
            [pop, idx, _cell, var] => (*var, index(pop, idx)?, 0),
            [pop, idx, _cell, seg, var] => (
                *var,
                index(pop, idx)?,
                seg.parse::<u32>().map_err(|_| bad("bad segment"))?,
            ),
            [cell, var] => {
                let found = self.layout.cell_index(cell);
                (
                    *var,
                    found.ok_or_else(|| bad(&format!("no cell {cell} in the network")))?,
                    0,
                )
            }
            _ => return Err(bad("expected POPULATION/INDEX/CELL/VARIABLE")),
        };
        let cell = &self.layout.cells[cell];
        let node = cell
            .node_at(segment, 0.5)
            .ok_or_else(|| bad(&format!("no segment {segment}")))?;
        let quantity = match variable {
            "v" => Quantity::Voltage,
            "caConc" | "cai" => Quantity::Concentration(
                self.pools
                    .iter()
                    .position(|p| p.ion == "ca" && p.node.contains(&node))
                    .ok_or_else(|| bad("no calcium concentration model there"))?,
            ),
            other => {
                match crate::point_cells::find_variable(&self.point_cells, node, other) {
                    Some((k, i, slot)) => Quantity::PointCell(k, i, slot),
                    None => {
                        return Err(bad(&format!(
                            "unknown variable '{other}' (v, caConc and point cells' variables can be recorded)"
                        )))
                    }
                }
            }
        };
        Ok(Probe { node, quantity })
    }

    /// Injects a current waveform into a cell (`POP` or `POP[INDEX]`) at the point
    /// `fraction_along` of segment `segment`, scaled by `weight`.
    pub fn add_input(
        &mut self,
        cell: &str,
        segment: u32,
        fraction_along: f64,
        weight: f64,
        waveform: crate::inputs::Waveform,
    ) -> Result<()> {
        let c = self
            .layout
            .cell_index(cell)
            .ok_or_else(|| Error::Invalid(format!("no cell '{cell}' in the network")))?;
        let node = self.layout.cells[c]
            .node_at(segment, fraction_along)
            .ok_or_else(|| Error::Invalid(format!("cell '{cell}' has no segment {segment}")))?;
        self.inputs.push(node, weight, waveform);
        Ok(())
    }

    /// Runs for `duration` ms (rounded to whole steps), recording the probes at t = 0
    /// and after every `every` steps. Returns the times \[ms\] and one series per probe.
    /// A duration that is not a non-negative number, more than [`MAX_STEPS`] steps, or
    /// recordings that would not fit in memory are refused before the first step.
    pub fn run(&mut self, duration: f64, probes: &[Probe], every: usize) -> Result<Traces> {
        check_duration(duration)?;
        let steps = (duration / self.dt).round();
        if steps > MAX_STEPS {
            return Err(Error::Invalid(format!(
                "{duration:e} ms at dt {:e} ms is {steps:.3e} steps, more than the {MAX_STEPS:e} one run may take",
                self.dt
            )));
        }
        let steps = steps as usize;
        let every = every.max(1);
        let mut recording = Recording::with_room(probes.len(), (steps / every + 1) as f64)?;
        let record = |sim: &Simulation, recording: &mut Recording| {
            recording.push(sim.t, probes.iter().map(|p| sim.read(p)));
        };
        record(self, &mut recording);
        for k in 1..=steps {
            if k % 256 == 0 && limits::interrupt::requested() {
                return Err(Error::Interrupted { time: self.t });
            }
            self.step()?;
            if k % every == 0 {
                record(self, &mut recording);
            }
        }
        Ok(recording.finish())
    }
}

/// The calcium concentration per node \[mM\] (zeros when no pool governs calcium).
fn calcium<'a>(pools: &'a [IonPool], index: Option<usize>, zeros: &'a [f64]) -> &'a [f64] {
    match index {
        Some(c) => &pools[c].concentration,
        None => zeros,
    }
}

/// Injected current beyond which a runaway voltage is blamed on the stimulus \[nA\]
/// (1 µA: a thousand times the largest currents c302's examples inject).
const INJECTED_LIMIT: f64 = 1e3;

/// Most steps one [`Simulation::run`] may take (10⁹: hours of wall time for the full
/// network; a longer run is almost certainly a mistaken dt or duration).
pub const MAX_STEPS: f64 = 1e9;

/// A run's duration must be a non-negative number of ms.
fn check_duration(duration: f64) -> Result<()> {
    if !(duration.is_finite() && duration >= 0.0) {
        return Err(Error::Invalid(format!(
            "duration must be a non-negative number of ms, not {duration}"
        )));
    }
    Ok(())
}

mod adaptive;
pub use adaptive::{StepControl, StepStats};
mod recording;
use recording::Recording;
pub use recording::Traces;

#[cfg(test)]
mod tests;
