//! LEMS `<Dynamics>` compiled once per ComponentType and evaluated column-wise over
//! every instance of the type (one array per variable), so the cost of interpretation is
//! paid per operation and step, not per instance.
//!
//! Each variable the dynamics read or define gets a *slot*: a column of values, one per
//! instance. Parameters and constants are filled when instances are added; requirements
//! (`v`, `peer/v`, `caConc`, `t`, ...) are written by the caller before evaluation;
//! derived variables are computed in dependency order; state variables advance by
//! exponential Euler (see [`CompiledDynamics::advance`]).

mod derivative;
mod program;

use neuroml::expr::{BinaryOp, Expr};
use neuroml::lems::{Component, DerivedValue, TypeRegistry};

use crate::error::{Error, Result};

use derivative::{differentiate, simplify};
use program::{emit_cases, ensure_depth, stack_depth, Block, Op, Program, BLOCK_LEN};

/// What fills a slot.
#[derive(Debug, Clone, PartialEq)]
enum SlotKind {
    /// A parameter or property, set per instance.
    Parameter(Option<f64>),
    /// A constant of the type.
    Constant(f64),
    /// A derived parameter, computed per instance when it is added.
    DerivedParameter,
    /// Written by the caller (`v`, `peer/v`, `caConc`, `t`, `temperature`).
    Input,
    /// A state variable.
    State,
    /// A derived variable.
    Derived,
}

/// A ComponentType's dynamics, compiled.
#[derive(Debug, Clone)]
pub struct CompiledDynamics {
    /// The type's name.
    pub type_name: String,
    names: Vec<String>,
    kinds: Vec<SlotKind>,
    /// Derived variables in evaluation order: (slot, program).
    derived: Vec<(usize, Program)>,
    /// Time derivatives: (state slot, program).
    derivatives: Vec<(usize, Program)>,
    /// ∂f/∂y of each time derivative, where it could be derived symbolically.
    jacobians: Vec<Option<Program>>,
    /// The time derivatives' expressions, in the order of `derivatives`.
    time_derivative_expressions: Vec<Expr>,
    /// Expressions of the derived variables, for symbolic differentiation.
    definitions: Vec<(String, Expr)>,
    /// Conditional derived variables (not differentiated).
    opaque: Vec<String>,
    /// Initial assignments: (state slot, program).
    on_start: Vec<(usize, Program)>,
    /// The initial assignments' expressions, in the order of `on_start`.
    on_start_expressions: Vec<Expr>,
    /// Derived parameters in evaluation order: (slot, program).
    derived_parameters: Vec<(usize, Program)>,
    /// Event handlers: (input port, assignments (state slot, program) made in order).
    on_events: Vec<(String, Vec<(usize, Program)>)>,
    /// The event handlers' assignments as expressions: (state, value), as in `on_events`.
    on_event_expressions: Vec<Vec<(String, Expr)>>,
    /// Conditions, in document order.
    on_conditions: Vec<Condition>,
    /// Rates of the external states (see [`CompiledDynamics::compile_external`]):
    /// (slot, d/dt program, ∂(d/dt)/∂state program when symbolic).
    external_rates: Vec<(usize, Program, Option<Program>)>,
    /// For each slot, the input and state slots it depends on (transitively).
    depends: Vec<Vec<usize>>,
}

/// A compiled `<OnCondition>`.
#[derive(Debug, Clone)]
struct Condition {
    /// The test (non-zero: true).
    test: Program,
    /// For a comparison `a > b` (`a < b`), a − b (b − a): positive where it holds.
    margin: Option<Program>,
    /// Assignments (slot, program), made in order where the test holds.
    assignments: Vec<(usize, Program)>,
}

/// The columns of one dynamics's instances.
#[derive(Debug, Clone, Default)]
pub struct Columns {
    /// One column per slot.
    pub data: Vec<Vec<f64>>,
    /// Evaluation stack of one block (lane 0 receives each result).
    stack: Vec<Block>,
    /// Per block while advancing: each state's update, a slope and a saved state.
    lanes: Vec<Block>,
    /// Scratch of [`Program::run_one`].
    scalar: Vec<f64>,
    /// For time derivatives whose slope ∂f/∂y reads only fixed slots (a synapse's
    /// `-A / tauRise`): the slope b and e^{b·h} − 1 per instance, for the step h they were
    /// computed for (b = 1, h where b·h is negligible; empty for the others).
    fixed_slopes: FixedSlopes,
    /// Blocks of [`BLOCK_LEN`] instances to evaluate and advance (empty: all): set by
    /// [`CompiledDynamics::skip_resting_blocks`].
    active: Vec<bool>,
}

/// Cached slopes and exponentials of the derivatives with fixed slopes.
#[derive(Debug, Clone, Default)]
struct FixedSlopes {
    h: f64,
    instances: usize,
    /// The slope b per instance.
    slope: Vec<Vec<f64>>,
    /// b, or 1 where b·h is negligible (with `exp_m1` = h: the step f·e/b is then f·h).
    divisor: Vec<Vec<f64>>,
    exp_m1: Vec<Vec<f64>>,
    /// The last exponential an event's step computed per derivative: (b·h, e^{b·h} − 1).
    /// Every event of one spike reaches its synapses with the same delay and so takes the
    /// same step.
    last_event_step: Vec<(f64, f64)>,
}

impl FixedSlopes {
    /// Instance `i`'s fixed slope of derivative `k`, if the cache is for these instances.
    fn slope(&self, k: usize, i: usize, instances: usize) -> Option<f64> {
        (self.instances == instances)
            .then(|| self.slope.get(k)?.get(i).copied())
            .flatten()
    }

    /// [`exponential_step`]`(f, b, h)` for derivative `k`, the exponential reused when the
    /// step's b·h is that of the last call.
    fn event_step(&mut self, k: usize, f: f64, b: f64, h: f64) -> f64 {
        let x = b * h;
        if x.abs() < 1e-12 {
            return f * h;
        }
        if self.last_event_step.len() <= k {
            self.last_event_step.resize(k + 1, (f64::NAN, f64::NAN));
        }
        let last = &mut self.last_event_step[k];
        if last.0 != x {
            *last = (x, crate::fastmath::exp_m1(x));
        }
        f * last.1 / b
    }
}

impl Columns {
    /// Number of instances.
    pub fn len(&self) -> usize {
        self.data.first().map_or(0, |c| c.len())
    }

    /// Whether there are no instances.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether the block starting at instance `start` is evaluated and advanced.
    fn block_active(&self, start: usize) -> bool {
        self.active.is_empty() || self.active[start / BLOCK_LEN]
    }

    /// Every block is evaluated and advanced again.
    pub fn activate_all(&mut self) {
        self.active.clear();
    }

    /// The instances evaluated and advanced since the last
    /// [`CompiledDynamics::skip_resting_blocks`] (all without it), as ranges of whole blocks,
    /// into `out`.
    pub fn active_ranges(&self, out: &mut Vec<std::ops::Range<usize>>) {
        let n = self.len();
        out.clear();
        for start in (0..n).step_by(BLOCK_LEN) {
            if !self.block_active(start) {
                continue;
            }
            let end = (start + BLOCK_LEN).min(n);
            match out.last_mut() {
                Some(r) if r.end == start => r.end = end,
                _ => out.push(start..end),
            }
        }
    }
}

/// A compiled partial derivative (see [`CompiledDynamics::partial`]).
#[derive(Debug, Clone)]
pub struct PartialDerivative(Program);

/// An evaluation order: the derived variables (indices into `CompiledDynamics::derived`) to evaluate, in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EvalOrder(Vec<usize>);

impl CompiledDynamics {
    /// Compiles the dynamics of `type_name` (its own or the nearest inherited ones).
    /// `inputs` lists the names the caller will supply; `select` paths such as `peer/v`
    /// become inputs named by the path.
    pub fn compile(
        registry: &TypeRegistry,
        type_name: &str,
        inputs: &[&str],
    ) -> Result<CompiledDynamics> {
        Self::compile_external(registry, type_name, inputs, &[])
    }

    /// As [`CompiledDynamics::compile`], with the state variables named in `external`
    /// held by the caller: each is an input, and its time derivative is not integrated
    /// here but evaluated on request ([`CompiledDynamics::external_rate`]) — a point cell's
    /// `v`, which is the voltage of a node the simulator integrates with the network.
    pub fn compile_external(
        registry: &TypeRegistry,
        type_name: &str,
        inputs: &[&str],
        external: &[&str],
    ) -> Result<CompiledDynamics> {
        let unsupported = |what: String| Error::Unsupported {
            what: format!("ComponentType {type_name}: {what}"),
        };
        let lineage = registry.lineage(type_name);
        let dynamics = registry
            .dynamics(type_name)
            .ok_or_else(|| unsupported("no <Dynamics> to simulate".into()))?;
        let mut names: Vec<String> = Vec::new();
        let mut kinds: Vec<SlotKind> = Vec::new();
        let add = |names: &mut Vec<String>, kinds: &mut Vec<SlotKind>, n: &str, k: SlotKind| {
            if !names.iter().any(|x| x == n) {
                names.push(n.to_string());
                kinds.push(k);
            }
        };
        for (p, _, default) in registry.parameters(type_name) {
            add(&mut names, &mut kinds, &p, SlotKind::Parameter(default));
        }
        for t in lineage.iter().filter_map(|n| registry.get(n)) {
            for c in &t.constants {
                add(&mut names, &mut kinds, &c.name, SlotKind::Constant(c.value));
            }
        }
        // Bases first: a type's derived parameters may read its bases'.
        let derived_parameter_definitions: Vec<_> = lineage
            .iter()
            .rev()
            .filter_map(|n| registry.get(n))
            .flat_map(|t| &t.derived_parameters)
            .collect();
        for p in &derived_parameter_definitions {
            add(&mut names, &mut kinds, &p.name, SlotKind::DerivedParameter);
        }
        for i in inputs.iter().chain(["t"].iter()) {
            add(&mut names, &mut kinds, i, SlotKind::Input);
        }
        for s in &dynamics.state_variables {
            let kind = if external.contains(&s.name.as_str()) {
                SlotKind::Input
            } else {
                SlotKind::State
            };
            add(&mut names, &mut kinds, &s.name, kind);
        }
        if let Some(e) = external
            .iter()
            .find(|e| !dynamics.state_variables.iter().any(|s| s.name == **e))
        {
            return Err(unsupported(format!("no state variable '{e}'")));
        }
        for d in &dynamics.derived_variables {
            if let DerivedValue::Select { path, .. } = &d.value {
                if !names.iter().any(|x| x == path) {
                    return Err(unsupported(format!(
                        "derived variable {} selects '{path}', which is not supplied",
                        d.name
                    )));
                }
            }
            add(&mut names, &mut kinds, &d.name, SlotKind::Derived);
        }
        for d in &dynamics.conditional_derived_variables {
            add(&mut names, &mut kinds, &d.name, SlotKind::Derived);
        }
        let slot = |n: &str| names.iter().position(|x| x == n);
        let compile = |what: &str, e: &Expr| {
            Program::compile(e, &slot).map_err(|m| unsupported(format!("{what}: {m}")))
        };
        // Derived variables, each as a program, then sorted by dependencies.
        let mut pending: Vec<(usize, Program, Vec<usize>)> = Vec::new();
        for d in &dynamics.derived_variables {
            let (prog, reads) = match &d.value {
                DerivedValue::Expression(e) => (
                    compile(&d.name, e)?,
                    e.names().iter().filter_map(|n| slot(n)).collect(),
                ),
                DerivedValue::Select { path, .. } => {
                    let k = slot(path).expect("checked above");
                    (
                        Program {
                            ops: vec![Op::Load(k)],
                            depth: 1,
                        },
                        vec![k],
                    )
                }
            };
            pending.push((slot(&d.name).unwrap(), prog, reads));
        }
        for d in &dynamics.conditional_derived_variables {
            let mut ops = Vec::new();
            emit_cases(&d.cases, &slot, &mut ops)
                .map_err(|m| unsupported(format!("{}: {m}", d.name)))?;
            let mut reads = Vec::new();
            for case in &d.cases {
                let names = case
                    .condition
                    .iter()
                    .flat_map(|c| c.names())
                    .chain(case.value.names());
                reads.extend(names.filter_map(&slot));
            }
            let depth = stack_depth(&ops);
            pending.push((slot(&d.name).unwrap(), Program { ops, depth }, reads));
        }
        let mut derived: Vec<(usize, Program)> = Vec::new();
        let mut depends: Vec<Vec<usize>> = kinds
            .iter()
            .enumerate()
            .map(|(i, k)| {
                if matches!(k, SlotKind::Input | SlotKind::State) {
                    vec![i]
                } else {
                    Vec::new()
                }
            })
            .collect();
        while !pending.is_empty() {
            let ready = pending.iter().position(|(_, _, reads)| {
                reads
                    .iter()
                    .all(|r| kinds[*r] != SlotKind::Derived || derived.iter().any(|(s, _)| s == r))
            });
            let Some(i) = ready else {
                let names_left: Vec<_> =
                    pending.iter().map(|(s, _, _)| names[*s].clone()).collect();
                return Err(unsupported(format!(
                    "derived variables depend on each other in a cycle: {}",
                    names_left.join(", ")
                )));
            };
            let (s, prog, reads) = pending.remove(i);
            let mut dep: Vec<usize> = Vec::new();
            for r in reads {
                for &d in &depends[r] {
                    if !dep.contains(&d) {
                        dep.push(d);
                    }
                }
            }
            depends[s] = dep;
            derived.push((s, prog));
        }
        let definitions: Vec<(String, Expr)> = dynamics
            .derived_variables
            .iter()
            .filter_map(|d| match &d.value {
                DerivedValue::Expression(e) => Some((d.name.clone(), e.clone())),
                DerivedValue::Select { .. } => None,
            })
            .collect();
        let opaque: Vec<String> = dynamics
            .conditional_derived_variables
            .iter()
            .map(|d| d.name.clone())
            .collect();
        let is_external = |v: &str| external.contains(&v);
        let jacobian_of = |td: &neuroml::lems::TimeDerivative| {
            differentiate(&td.value, &td.variable, &definitions, &opaque, 0)
                .and_then(|e| Program::compile(&simplify(e), &slot).ok())
        };
        let mut jacobians = Vec::new();
        let mut external_rates = Vec::new();
        for td in &dynamics.time_derivatives {
            if is_external(&td.variable) {
                let s = slot(&td.variable).expect("external states have slots");
                external_rates.push((s, compile(&td.variable, &td.value)?, jacobian_of(td)));
            } else {
                jacobians.push(jacobian_of(td));
            }
        }
        let mut derivatives = Vec::new();
        let mut time_derivative_expressions = Vec::new();
        for td in dynamics
            .time_derivatives
            .iter()
            .filter(|td| !is_external(&td.variable))
        {
            let s = slot(&td.variable)
                .filter(|&s| kinds[s] == SlotKind::State)
                .ok_or_else(|| {
                    unsupported(format!(
                        "time derivative of '{}', which is not a state variable",
                        td.variable
                    ))
                })?;
            derivatives.push((s, compile(&td.variable, &td.value)?));
            time_derivative_expressions.push(td.value.clone());
        }
        let mut on_start = Vec::new();
        for a in &dynamics.on_start {
            let s = slot(&a.variable)
                .ok_or_else(|| unsupported(format!("OnStart assigns unknown '{}'", a.variable)))?;
            on_start.push((s, compile(&a.variable, &a.value)?));
        }
        let on_start_expressions = dynamics.on_start.iter().map(|a| a.value.clone()).collect();
        let mut derived_parameters = Vec::new();
        for p in derived_parameter_definitions {
            let reads_later = p.value.names().into_iter().find(|n| {
                slot(n).is_some_and(|k| {
                    kinds[k] == SlotKind::DerivedParameter
                        && !derived_parameters.iter().any(|(s, _)| *s == k)
                        || matches!(
                            kinds[k],
                            SlotKind::Input | SlotKind::State | SlotKind::Derived
                        )
                })
            });
            if let Some(n) = reads_later {
                return Err(unsupported(format!(
                    "derived parameter {} reads '{n}', which is not a parameter, a constant or an earlier derived parameter",
                    p.name
                )));
            }
            derived_parameters.push((slot(&p.name).unwrap(), compile(&p.name, &p.value)?));
        }
        // `<StateAssignment>`s of an event or condition, to the slots `assignable` allows.
        let assignments = |what: &str,
                           list: &[neuroml::lems::StateAssignment],
                           assignable: &dyn Fn(usize) -> bool|
         -> Result<Vec<(usize, Program)>> {
            list.iter()
                .map(|a| {
                    let s = slot(&a.variable)
                        .filter(|&s| assignable(s))
                        .ok_or_else(|| {
                            unsupported(format!(
                                "{what} assigns '{}', which is not a state variable",
                                a.variable
                            ))
                        })?;
                    Ok((s, compile(&a.variable, &a.value)?))
                })
                .collect()
        };
        let is_state = |s: usize| kinds[s] == SlotKind::State;
        let on_events = dynamics
            .on_events
            .iter()
            .map(|e| {
                Ok((
                    e.port.clone(),
                    assignments("OnEvent", &e.assignments, &is_state)?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        let on_event_expressions = dynamics
            .on_events
            .iter()
            .map(|e| {
                e.assignments
                    .iter()
                    .map(|a| (a.variable.clone(), a.value.clone()))
                    .collect()
            })
            .collect();
        // A condition may also reset an external state (a point cell's v).
        let is_state_or_external = |s: usize| is_state(s) || is_external(&names[s]);
        let on_conditions = dynamics
            .on_conditions
            .iter()
            .map(|c| {
                // How far a comparison holds (a − b for `a > b`): where it crossed zero
                // between two checks tells when the condition became true.
                let margin = match &c.test {
                    Expr::Binary(BinaryOp::Gt | BinaryOp::Ge, a, b) => {
                        Some(Expr::Binary(BinaryOp::Sub, a.clone(), b.clone()))
                    }
                    Expr::Binary(BinaryOp::Lt | BinaryOp::Le, a, b) => {
                        Some(Expr::Binary(BinaryOp::Sub, b.clone(), a.clone()))
                    }
                    _ => None,
                };
                Ok(Condition {
                    margin: margin
                        .map(|m| compile("OnCondition test", &m))
                        .transpose()?,
                    test: compile("OnCondition test", &c.test)?,
                    assignments: assignments("OnCondition", &c.assignments, &is_state_or_external)?,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(CompiledDynamics {
            type_name: type_name.to_string(),
            names,
            kinds,
            derived,
            derivatives,
            jacobians,
            time_derivative_expressions,
            definitions,
            opaque,
            on_start,
            on_start_expressions,
            derived_parameters,
            on_events,
            on_event_expressions,
            on_conditions,
            external_rates,
            depends,
        })
    }

    /// Whether the type has `<OnCondition>`s.
    pub fn has_conditions(&self) -> bool {
        !self.on_conditions.is_empty()
    }

    /// Tests every condition on every instance (inputs set, derived variables evaluated
    /// by this call) and makes the assignments of those that hold, in document order, each
    /// condition seeing the previous ones' assignments.
    /// `fired[i]` is set where condition `watch` held.
    pub fn apply_conditions(&self, cols: &mut Columns, watch: Option<usize>, fired: &mut [bool]) {
        let all = EvalOrder((0..self.derived.len()).collect());
        for (k, c) in self.on_conditions.iter().enumerate() {
            self.evaluate(cols, &all);
            let mut holds = vec![0.0; cols.len()];
            c.test.run(&cols.data, &mut cols.stack, &mut holds);
            for (i, _) in holds.iter().enumerate().filter(|(_, h)| **h != 0.0) {
                fired[i] |= watch == Some(k);
                for (s, prog) in &c.assignments {
                    let value = prog.run_one(&cols.data, i, &mut cols.scalar);
                    cols.data[*s][i] = value;
                }
            }
        }
    }

    /// The first condition that is a comparison and assigns slot `s` (a point cell's reset
    /// of v).
    pub fn condition_setting(&self, s: usize) -> Option<usize> {
        self.on_conditions
            .iter()
            .position(|c| c.margin.is_some() && c.assignments.iter().any(|(a, _)| *a == s))
    }

    /// Whether condition `k` assigns slot `s` and nothing else.
    pub fn condition_assigns_only(&self, k: usize, s: usize) -> bool {
        self.on_conditions[k]
            .assignments
            .iter()
            .all(|(a, _)| *a == s)
    }

    /// How far condition `k` (a comparison) holds, for every instance (a − b for `a > b`;
    /// positive where it holds). Inputs must be set; derived variables are evaluated by this
    /// call.
    pub fn condition_margin(&self, cols: &mut Columns, k: usize, out: &mut [f64]) {
        let margin = self.on_conditions[k]
            .margin
            .as_ref()
            .expect("a comparison (condition_setting)");
        let all = EvalOrder((0..self.derived.len()).collect());
        self.evaluate(cols, &all);
        ensure_depth(&mut cols.stack, margin.depth);
        margin.run(&cols.data, &mut cols.stack, out);
    }

    /// The rate of change of external state `k` (index into the external states, in the
    /// order of the type's time derivatives) for every instance into `rate`, and its
    /// derivative with respect to the state into `slope` (by a difference quotient when
    /// not symbolic). Inputs must be set; derived variables are evaluated by this call.
    pub fn external_rate(&self, cols: &mut Columns, k: usize, rate: &mut [f64], slope: &mut [f64]) {
        let (s, prog, jacobian) = &self.external_rates[k];
        let all = EvalOrder((0..self.derived.len()).collect());
        self.evaluate(cols, &all);
        let depth = 1 + prog.depth.max(jacobian.as_ref().map_or(0, |j| j.depth));
        ensure_depth(&mut cols.stack, depth);
        prog.run(&cols.data, &mut cols.stack, rate);
        match jacobian {
            Some(j) => j.run(&cols.data, &mut cols.stack, slope),
            None => {
                const DV: f64 = 1e-3;
                cols.data[*s].iter_mut().for_each(|x| *x += DV);
                self.evaluate(cols, &all);
                prog.run(&cols.data, &mut cols.stack, slope);
                cols.data[*s].iter_mut().for_each(|x| *x -= DV);
                self.evaluate(cols, &all);
                for (d, r) in slope.iter_mut().zip(rate.iter()) {
                    *d = (*d - r) / DV;
                }
            }
        }
    }

    /// Names of the external states, in the order [`CompiledDynamics::external_rate`]
    /// numbers them.
    pub fn external_names(&self) -> Vec<&str> {
        self.external_rates
            .iter()
            .map(|(s, _, _)| self.names[*s].as_str())
            .collect()
    }

    /// The index of the handler of events arriving at `port`, if the type has one.
    pub fn event_port(&self, port: &str) -> Option<usize> {
        self.on_events.iter().position(|(p, _)| p == port)
    }

    /// Whether the type receives events (its states then differ per instance).
    pub fn receives_events(&self) -> bool {
        !self.on_events.is_empty()
    }

    /// Delivers one event to `instance` through handler `port` (from
    /// [`Self::event_port`]): its state assignments, in order. Derived variables are
    /// brought up to date by the next evaluation.
    pub fn receive(&self, cols: &mut Columns, port: usize, instance: usize) {
        let (_, assignments) = &self.on_events[port];
        for (s, prog) in assignments {
            let value = prog.run_one(&cols.data, instance, &mut cols.scalar);
            cols.data[*s][instance] = value;
        }
    }

    /// Advances one instance's states by `h` (negative: back in time) with the exponential
    /// Euler step of [`Self::advance`], inputs as they are; `order` evaluates the derived
    /// variables the derivatives read (the state order). Events use it to act at their own
    /// time between steps.
    pub fn advance_one(&self, cols: &mut Columns, order: &EvalOrder, instance: usize, h: f64) {
        let i = instance;
        let evaluate = |cols: &mut Columns, order: &EvalOrder| {
            for &d in &order.0 {
                let (s, prog) = &self.derived[d];
                cols.data[*s][i] = prog.run_one(&cols.data, i, &mut cols.scalar);
            }
        };
        evaluate(cols, order);
        let mut updates = [0.0; 8];
        let mut heap = Vec::new();
        let updates: &mut [f64] = if self.derivatives.len() <= updates.len() {
            &mut updates[..self.derivatives.len()]
        } else {
            heap.resize(self.derivatives.len(), 0.0);
            &mut heap
        };
        let instances = cols.len();
        for (k, ((s, prog), jacobian)) in self.derivatives.iter().zip(&self.jacobians).enumerate() {
            let f = prog.run_one(&cols.data, i, &mut cols.scalar);
            let fixed = cols.fixed_slopes.slope(k, i, instances);
            let b = match (fixed, jacobian) {
                // The value the jacobian's program gives (it reads only fixed slots).
                (Some(b), _) => b,
                (None, Some(j)) => j.run_one(&cols.data, i, &mut cols.scalar),
                (None, None) => {
                    // Perturb the state to find the slope, as the block path does.
                    let y = cols.data[*s][i];
                    let dependents = self.depending(order, *s);
                    cols.data[*s][i] = perturbed(y);
                    let eps = cols.data[*s][i] - y;
                    evaluate(cols, &dependents);
                    let b = (prog.run_one(&cols.data, i, &mut cols.scalar) - f) / eps;
                    cols.data[*s][i] = y;
                    evaluate(cols, &dependents);
                    b
                }
            };
            updates[k] = cols.fixed_slopes.event_step(k, f, b, h);
        }
        for ((s, _), dy) in self.derivatives.iter().zip(updates.iter()) {
            cols.data[*s][i] += dy;
        }
    }

    /// ∂(derived variable `of`)/∂`wrt`, compiled, when it can be derived symbolically.
    pub fn partial(&self, of: &str, wrt: &str) -> Option<PartialDerivative> {
        let (_, e) = self.definitions.iter().find(|(n, _)| n == of)?;
        let d = simplify(differentiate(e, wrt, &self.definitions, &self.opaque, 0)?);
        let slot = |n: &str| self.slot(n);
        Program::compile(&d, &slot).ok().map(PartialDerivative)
    }

    /// Evaluates a partial derivative over all instances into `out` (derived variables
    /// must be up to date).
    pub fn evaluate_partial(
        &self,
        cols: &mut Columns,
        partial: &PartialDerivative,
        out: &mut [f64],
    ) {
        ensure_depth(&mut cols.stack, partial.0.depth);
        for start in (0..out.len()).step_by(BLOCK_LEN) {
            if cols.block_active(start) {
                let len = BLOCK_LEN.min(out.len() - start);
                partial
                    .0
                    .run_block(&cols.data, start, len, &mut cols.stack, &mut out[start..]);
            }
        }
    }

    /// Whether instances whose states are all zero stay so and contribute nothing:
    /// every time derivative, and each of `outputs`, is zero when the states are,
    /// whatever the parameters and inputs (shown on the expressions, derived variables
    /// substituted). Such a type (an event-driven synapse's decaying conductances) can
    /// skip its resting instances ([`Self::skip_resting_blocks`]) exactly.
    pub fn quiet_at_rest(&self, outputs: &[&str]) -> bool {
        if self.derivatives.is_empty() || !self.on_conditions.is_empty() {
            return false;
        }
        let states = self.state_names();
        let rest = Rest {
            states: &states,
            definitions: &self.definitions,
            opaque: &self.opaque,
        };
        let zero = |e: &Expr| rest.linear(e, &[], 0);
        self.time_derivative_expressions.iter().all(zero)
            && outputs.iter().all(|o| rest.definition(o).is_some_and(zero))
    }

    /// Whether the instances of this type on one node can be merged into one instance that
    /// receives all their events (superposition, as NEURON's `ExpSyn` takes many `NetCon`s):
    /// the type receives events and has no conditions; every time derivative, and
    /// `output`, is linear in the states — a sum of states, each times a factor that reads
    /// no state and none of `per_connection`; the states start at zero; and every event
    /// adds to a state an amount that reads no state. Shown on the expressions, derived
    /// variables substituted. The merged instance's states are then the sum of the
    /// instances' states at every step (the exponential step is linear in them too), and
    /// so is its output; each event carries its own connection's `per_connection` values
    /// (the `weight`). Merged instances must agree on every other parameter.
    pub fn superposable(&self, output: &str, per_connection: &[&str]) -> bool {
        if self.on_events.is_empty()
            || !self.on_conditions.is_empty()
            || !self.external_rates.is_empty()
        {
            return false;
        }
        let states = self.state_names();
        // Derived variables without an expression (a `select` over children) are unknown.
        let mut opaque = self.opaque.clone();
        opaque.extend(
            self.kinds
                .iter()
                .zip(&self.names)
                .filter(|(k, n)| {
                    **k == SlotKind::Derived && !self.definitions.iter().any(|(d, _)| d == *n)
                })
                .map(|(_, n)| n.clone()),
        );
        let rest = Rest {
            states: &states,
            definitions: &self.definitions,
            opaque: &opaque,
        };
        let linear = |e: &Expr| rest.linear(e, per_connection, 0);
        let adds_to = |state: &str, e: &Expr| match e {
            Expr::Binary(BinaryOp::Add, a, b) => {
                let is_state = |x: &Expr| matches!(x, Expr::Name(n) if n == state);
                (is_state(a) && !rest.reads_state(b, 0)) || (is_state(b) && !rest.reads_state(a, 0))
            }
            _ => false,
        };
        let starts_at_zero = |e: &Expr| matches!(e, Expr::Number(x) if *x == 0.0);
        self.time_derivative_expressions.iter().all(linear)
            && rest.definition(output).is_some_and(linear)
            && self.on_start_expressions.iter().all(starts_at_zero)
            && self
                .on_event_expressions
                .iter()
                .flatten()
                .all(|(state, value)| adds_to(state, value))
    }

    /// Leaves the blocks whose instances all rest (every state exactly zero) out of the
    /// evaluations and steps that follow, until the next call; for types that are
    /// [`Self::quiet_at_rest`]. Their derived variables are then not brought up to date.
    pub fn skip_resting_blocks(&self, cols: &mut Columns) {
        let n = cols.len();
        let blocks = n.div_ceil(BLOCK_LEN);
        let mut active = std::mem::take(&mut cols.active);
        active.clear();
        active.resize(blocks, false);
        for (k, kind) in self.kinds.iter().enumerate() {
            if *kind != SlotKind::State {
                continue;
            }
            for (b, chunk) in cols.data[k].chunks(BLOCK_LEN).enumerate() {
                // Branch-free, so that it vectorises.
                active[b] |= chunk.iter().fold(false, |a, &x| a | (x != 0.0));
            }
        }
        cols.active = active;
    }

    /// The name of a slot.
    pub fn name(&self, slot: usize) -> &str {
        &self.names[slot]
    }

    /// The slot of a name.
    pub fn slot(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// Names of the state variables.
    pub fn state_names(&self) -> Vec<&str> {
        self.kinds
            .iter()
            .zip(&self.names)
            .filter(|(k, _)| **k == SlotKind::State)
            .map(|(_, n)| n.as_str())
            .collect()
    }

    /// Empty columns for this dynamics.
    pub fn columns(&self) -> Columns {
        Columns {
            data: vec![Vec::new(); self.names.len()],
            ..Default::default()
        }
    }

    /// Adds an instance with the component's parameters (and `overrides`, e.g. the
    /// connection's `weight`); returns its index.
    pub fn push(
        &self,
        cols: &mut Columns,
        component: &Component,
        overrides: &[(&str, f64)],
    ) -> Result<usize> {
        for (k, kind) in self.kinds.iter().enumerate() {
            let value = match kind {
                SlotKind::Parameter(default) => {
                    let name = &self.names[k];
                    match overrides.iter().find(|(n, _)| n == name) {
                        Some(&(_, v)) => v,
                        None => component
                            .parameters
                            .get(name)
                            .copied()
                            .or(*default)
                            .ok_or_else(|| Error::Unsupported {
                                what: format!(
                                    "{} '{}': parameter '{name}' has no value",
                                    component.type_name,
                                    component.id.as_deref().unwrap_or("")
                                ),
                            })?,
                    }
                }
                SlotKind::Constant(c) => *c,
                _ => 0.0,
            };
            cols.data[k].push(value);
        }
        let instance = cols.len() - 1;
        for (s, prog) in &self.derived_parameters {
            let value = prog.run_one(&cols.data, instance, &mut cols.scalar);
            if !value.is_finite() {
                return Err(Error::Invalid(format!(
                    "{} '{}': derived parameter '{}' is {} for these parameters",
                    component.type_name,
                    component.id.as_deref().unwrap_or(""),
                    self.names[*s],
                    value
                )));
            }
            cols.data[*s][instance] = value;
        }
        Ok(instance)
    }

    /// The derived variables that `targets` need, in evaluation order.
    pub fn order_for(&self, targets: &[usize]) -> EvalOrder {
        let mut need: Vec<usize> = targets.to_vec();
        let mut out = Vec::new();
        for (i, (s, prog)) in self.derived.iter().enumerate().rev() {
            if need.contains(s) {
                out.push(i);
                need.extend(prog.reads());
            }
        }
        out.reverse();
        EvalOrder(out)
    }

    /// The derivatives' slots (targets of [`CompiledDynamics::order_for`] for the state phase).
    fn derivative_reads(&self) -> Vec<usize> {
        let mut out = Vec::new();
        for (_, p) in &self.derivatives {
            out.extend(p.reads());
        }
        out
    }

    /// The slots, other than derived variables, that the states' evolution reads: through
    /// the time derivatives, their Jacobians, `OnStart` and (transitively) the derived
    /// variables these use. Instances that agree on these slots' values have the same states
    /// at every step.
    pub fn state_dependencies(&self) -> Vec<usize> {
        let reads = Program::reads;
        let mut pending: Vec<usize> = Vec::new();
        for (s, p) in self.derivatives.iter().chain(&self.on_start) {
            pending.push(*s);
            pending.extend(reads(p));
        }
        for p in self.jacobians.iter().flatten() {
            pending.extend(reads(p));
        }
        let mut seen = vec![false; self.names.len()];
        while let Some(k) = pending.pop() {
            if std::mem::replace(&mut seen[k], true) {
                continue;
            }
            if let Some((_, p)) = self.derived.iter().find(|(s, _)| *s == k) {
                pending.extend(reads(p));
            }
        }
        (0..seen.len())
            .filter(|&k| seen[k] && self.kinds[k] != SlotKind::Derived)
            .collect()
    }

    /// Whether evaluating `order` (and `partial`) reads `slot`.
    pub fn reads(
        &self,
        order: &EvalOrder,
        partial: Option<&PartialDerivative>,
        slot: usize,
    ) -> bool {
        order
            .0
            .iter()
            .any(|&i| self.derived[i].1.reads().any(|k| k == slot))
            || partial.is_some_and(|p| p.0.reads().any(|k| k == slot))
    }

    /// Whether `slot` holds a parameter or a constant (fixed per instance).
    pub fn is_fixed(&self, slot: usize) -> bool {
        matches!(
            self.kinds[slot],
            SlotKind::Parameter(_) | SlotKind::Constant(_) | SlotKind::DerivedParameter
        )
    }

    /// Whether `slot` holds a state variable.
    pub fn is_state(&self, slot: usize) -> bool {
        self.kinds[slot] == SlotKind::State
    }

    /// The part of a order that depends on `slot`.
    pub fn depending(&self, order: &EvalOrder, slot: usize) -> EvalOrder {
        EvalOrder(
            order
                .0
                .iter()
                .copied()
                .filter(|&i| self.depends[self.derived[i].0].contains(&slot))
                .collect(),
        )
    }

    /// Evaluates the derived variables of a order.
    pub fn evaluate(&self, cols: &mut Columns, order: &EvalOrder) {
        let depth = order
            .0
            .iter()
            .map(|&i| self.derived[i].1.depth)
            .max()
            .unwrap_or(0);
        ensure_depth(&mut cols.stack, depth);
        for start in (0..cols.len()).step_by(BLOCK_LEN) {
            if !cols.block_active(start) {
                continue;
            }
            let len = BLOCK_LEN.min(cols.len() - start);
            self.evaluate_block(cols, order, start, len);
        }
    }

    /// [`CompiledDynamics::evaluate`] for instances `start..start + len`; the stack must be deep
    /// enough for the order's programs (each writes straight into its column).
    fn evaluate_block(&self, cols: &mut Columns, order: &EvalOrder, start: usize, len: usize) {
        for &i in &order.0 {
            let (s, prog) = &self.derived[i];
            // Straight into the variable's column: a derived variable never reads itself
            // (cycles are refused at compile time).
            let mut column = std::mem::take(&mut cols.data[*s]);
            prog.run_block(
                &cols.data,
                start,
                len,
                &mut cols.stack,
                &mut column[start..],
            );
            cols.data[*s] = column;
        }
    }

    /// Sets the states to their `OnStart` values (0 where none is given) and evaluates
    /// every derived variable. Inputs must be set.
    pub fn initialise(&self, cols: &mut Columns) {
        for (k, kind) in self.kinds.iter().enumerate() {
            if *kind == SlotKind::State {
                cols.data[k].iter_mut().for_each(|x| *x = 0.0);
            }
        }
        let all = EvalOrder((0..self.derived.len()).collect());
        self.evaluate(cols, &all);
        for (s, prog) in &self.on_start {
            let mut out = std::mem::take(&mut cols.data[*s]);
            prog.run(&cols.data, &mut cols.stack, &mut out);
            cols.data[*s] = out;
        }
        self.evaluate(cols, &all);
    }

    /// A order for the state phase.
    pub fn state_order(&self) -> EvalOrder {
        self.order_for(&self.derivative_reads())
    }

    /// Advances every state by one step of exponential Euler with inputs as set:
    /// for dy/dt = f(y), with b = ∂f/∂y (symbolic where possible, else a difference
    /// quotient),
    /// y ← y + f · (e^{b·dt} − 1)/b. This is exact when f is linear in y (as NEURON's
    /// `cnexp` is) and reduces to forward Euler when b = 0.
    pub fn advance(&self, cols: &mut Columns, order: &EvalOrder, dt: f64) {
        let m = self.derivatives.len();
        let depth = self
            .derivatives
            .iter()
            .map(|(_, p)| p.depth)
            .chain(self.jacobians.iter().flatten().map(|p| p.depth));
        let order_depth = order.0.iter().map(|&i| self.derived[i].1.depth);
        ensure_depth(
            &mut cols.stack,
            1 + depth.chain(order_depth).max().unwrap_or(0),
        );
        let mut lanes = std::mem::take(&mut cols.lanes);
        ensure_depth(&mut lanes, m + 2);
        self.prepare_fixed_slopes(cols, dt);
        let fixed = std::mem::take(&mut cols.fixed_slopes);
        let dependents: Vec<EvalOrder> = if self.jacobians.iter().all(Option::is_some) {
            Vec::new()
        } else {
            self.derivatives
                .iter()
                .map(|(s, _)| self.depending(order, *s))
                .collect()
        };
        for start in (0..cols.len()).step_by(BLOCK_LEN) {
            if !cols.block_active(start) {
                continue;
            }
            let len = BLOCK_LEN.min(cols.len() - start);
            let range = start..start + len;
            let (updates, work) = lanes.split_at_mut(m);
            let [slope, saved, ..] = work else {
                unreachable!("m + 2 lanes")
            };
            self.evaluate_block(cols, order, start, len);
            for (k, ((s, prog), jacobian)) in
                self.derivatives.iter().zip(&self.jacobians).enumerate()
            {
                let f = &mut updates[k];
                prog.run_block(&cols.data, start, len, &mut cols.stack, f);
                if !fixed.slope[k].is_empty() {
                    // The same arithmetic as below, with b and e^{b·dt} − 1 from the cache.
                    let (b, e) = (
                        &fixed.divisor[k][range.clone()],
                        &fixed.exp_m1[k][range.clone()],
                    );
                    for ((f, e), b) in f[..len].iter_mut().zip(e).zip(b) {
                        *f = *f * e / b;
                    }
                    continue;
                }
                match jacobian {
                    Some(j) => j.run_block(&cols.data, start, len, &mut cols.stack, slope),
                    None => {
                        // Perturb the state to find the slope.
                        saved[..len].copy_from_slice(&cols.data[*s][range.clone()]);
                        for y in &mut cols.data[*s][range.clone()] {
                            *y = perturbed(*y);
                        }
                        self.evaluate_block(cols, &dependents[k], start, len);
                        prog.run_block(&cols.data, start, len, &mut cols.stack, slope);
                        for i in 0..len {
                            let eps = cols.data[*s][start + i] - saved[i];
                            slope[i] = (slope[i] - f[i]) / eps;
                        }
                        cols.data[*s][range.clone()].copy_from_slice(&saved[..len]);
                        self.evaluate_block(cols, &dependents[k], start, len);
                    }
                }
                for i in 0..len {
                    f[i] = exponential_step(f[i], slope[i], dt);
                }
            }
            for ((s, _), dy) in self.derivatives.iter().zip(updates.iter()) {
                for (y, d) in cols.data[*s][range.clone()].iter_mut().zip(dy) {
                    *y += d;
                }
            }
        }
        cols.lanes = lanes;
        cols.fixed_slopes = fixed;
    }

    /// Fills the cache of fixed slopes for step `h` (see [`Columns`]) when it is stale.
    fn prepare_fixed_slopes(&self, cols: &mut Columns, h: f64) {
        let n = cols.len();
        let cache = &cols.fixed_slopes;
        if cache.h == h && cache.instances == n && cache.slope.len() == self.derivatives.len() {
            return;
        }
        let mut slope = Vec::with_capacity(self.derivatives.len());
        let mut divisor = Vec::with_capacity(self.derivatives.len());
        let mut exp_m1 = Vec::with_capacity(self.derivatives.len());
        for jacobian in &self.jacobians {
            match jacobian {
                Some(j) if j.reads().all(|k| self.is_fixed(k)) => {
                    let mut b = vec![0.0; n];
                    j.run(&cols.data, &mut cols.stack, &mut b);
                    // Where b·h is negligible the step is forward Euler, f·h: stored as
                    // e = h, b = 1 so that the step is f·e/b for every instance, branch-free.
                    let mut e: Vec<f64> =
                        b.iter().map(|&b| crate::fastmath::exp_m1(b * h)).collect();
                    let mut d = b.clone();
                    for (d, e) in d.iter_mut().zip(&mut e) {
                        if (*d * h).abs() < 1e-12 {
                            (*d, *e) = (1.0, h);
                        }
                    }
                    exp_m1.push(e);
                    divisor.push(d);
                    slope.push(b);
                }
                _ => {
                    slope.push(Vec::new());
                    divisor.push(Vec::new());
                    exp_m1.push(Vec::new());
                }
            }
        }
        let last_event_step = std::mem::take(&mut cols.fixed_slopes.last_event_step);
        cols.fixed_slopes = FixedSlopes {
            h,
            instances: n,
            slope,
            divisor,
            exp_m1,
            last_event_step,
        };
    }
}

/// The exponential Euler increment of y over `h` for dy/dt = f with slope b = ∂f/∂y:
/// f·(e^{b·h} − 1)/b, exact when f is linear in y; forward Euler's f·h where b·h is
/// negligible.
pub(crate) fn exponential_step(f: f64, b: f64, h: f64) -> f64 {
    let x = b * h;
    if x.abs() < 1e-12 {
        f * h
    } else {
        f * crate::fastmath::exp_m1(x) / b
    }
}

/// A state moved by a small relative amount, to find a slope by a difference quotient.
fn perturbed(y: f64) -> f64 {
    y + 1e-6 * y.abs().max(1e-3)
}

/// What an expression is at rest: every name in `states` zero, derived variables
/// (`definitions`) substituted, `opaque` ones (conditional) unknown.
struct Rest<'a> {
    states: &'a [&'a str],
    definitions: &'a [(String, Expr)],
    opaque: &'a [String],
}

impl Rest<'_> {
    /// Deeper than this, an expression is not analysed (taken as unknown).
    const DEPTH: usize = 64;

    fn definition(&self, n: &str) -> Option<&Expr> {
        self.definitions
            .iter()
            .find(|(d, _)| d == n)
            .map(|(_, e)| e)
    }

    /// Whether `e` is linear in the states: a sum of states, each times a factor that
    /// reads no state and none of `excluded`. Such an expression is exactly zero at rest,
    /// whatever the other names (a factor that could be infinite is never taken as zero:
    /// 0·∞ is not 0).
    fn linear(&self, e: &Expr, excluded: &[&str], depth: usize) -> bool {
        let linear = |e: &Expr| self.linear(e, excluded, depth + 1);
        let factor =
            |e: &Expr| !self.reads_state(e, depth + 1) && !self.reads_any(e, excluded, depth + 1);
        if depth > Self::DEPTH {
            return false;
        }
        match e {
            Expr::Number(x) => *x == 0.0,
            Expr::Name(n) => {
                self.states.contains(&n.as_str())
                    || (!self.opaque.contains(n) && self.definition(n).is_some_and(linear))
            }
            Expr::Neg(a) => linear(a),
            Expr::Not(_) | Expr::Call(..) => false,
            Expr::Binary(op, a, b) => match op {
                BinaryOp::Add | BinaryOp::Sub => linear(a) && linear(b),
                BinaryOp::Mul => (linear(a) && factor(b)) || (linear(b) && factor(a)),
                BinaryOp::Div => linear(a) && factor(b),
                _ => false,
            },
        }
    }

    /// Whether `e` may read one of `names` (directly or through derived variables).
    fn reads_any(&self, e: &Expr, names: &[&str], depth: usize) -> bool {
        let reads = |e: &Expr| self.reads_any(e, names, depth + 1);
        if depth > Self::DEPTH {
            return true;
        }
        match e {
            Expr::Number(_) => false,
            Expr::Name(n) => {
                names.contains(&n.as_str())
                    || self.opaque.contains(n)
                    || self.definition(n).is_some_and(reads)
            }
            Expr::Neg(a) | Expr::Not(a) | Expr::Call(_, a) => reads(a),
            Expr::Binary(_, a, b) => reads(a) || reads(b),
        }
    }

    /// Whether `e` may depend on a state.
    fn reads_state(&self, e: &Expr, depth: usize) -> bool {
        self.reads_any(e, self.states, depth)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rest_is_shown_on_the_expressions() {
        let g = ("g".to_string(), Expr::parse("w * gbase * (B - A)").unwrap());
        let rest = Rest {
            states: &["A", "B"],
            definitions: std::slice::from_ref(&g),
            opaque: &[],
        };
        let zero = |s: &str| rest.linear(&Expr::parse(s).unwrap(), &[], 0);
        assert!(zero("-A / tauRise"));
        assert!(zero("g * (erev - v)"));
        assert!(zero("-(A + B) * k"));
        // Not zero at rest, or not provably finite there.
        assert!(!zero("(1 - A) / tau"));
        assert!(!zero("A / B"));
        assert!(!zero("A * (1 / B)"));
        assert!(!zero("exp(A) - 1"));
    }

    #[test]
    fn linearity_is_shown_on_the_expressions() {
        let g = ("g".to_string(), Expr::parse("gbase * (B - A)").unwrap());
        let rest = Rest {
            states: &["A", "B"],
            definitions: std::slice::from_ref(&g),
            opaque: &[],
        };
        let linear = |s: &str| rest.linear(&Expr::parse(s).unwrap(), &["weight"], 0);
        assert!(linear("-A / tauRise"));
        assert!(linear("g * (erev - v)"));
        assert!(linear("(2.718 * A - B) / tau"));
        assert!(linear("-(A + B) * exp(-v / 10)"));
        // Not linear in the states, not zero at rest, or a factor per connection.
        assert!(!linear("A * B"));
        assert!(!linear("(1 - A) / tau"));
        assert!(!linear("A / B"));
        assert!(!linear("exp(A) - 1"));
        assert!(!linear("weight * g * (erev - v)"));
    }

    #[test]
    fn the_core_event_synapses_superpose() {
        let registry = TypeRegistry::default();
        for name in ["expOneSynapse", "expTwoSynapse", "alphaSynapse"] {
            let d = CompiledDynamics::compile(&registry, name, &["v"]).unwrap();
            assert!(d.superposable("i", &["weight"]), "{name}");
            // Not when the current reads a per-connection value.
            assert!(!d.superposable("i", &["weight", "erev"]), "{name}");
        }
    }

    /// An event's step with the cached fixed slopes and the reused exponential equals the
    /// step through the jacobian's program (a fresh cache), bit for bit, whatever steps
    /// came before it.
    #[test]
    fn an_events_step_from_the_cache_equals_the_programs() {
        let registry = TypeRegistry::default();
        let d = CompiledDynamics::compile(&registry, "expTwoSynapse", &["v"]).unwrap();
        let fresh = || {
            let mut cols = Columns {
                data: vec![vec![0.0; 4]; d.names.len()],
                ..Columns::default()
            };
            for (name, value) in [("tauRise", 3.0), ("tauDecay", 5.0 + 1e-3), ("gbase", 1e-3)] {
                cols.data[d.slot(name).unwrap()].fill(value);
            }
            cols.data[d.slot("tauDecay").unwrap()][2] = 200.0;
            cols
        };
        let order = d.state_order();
        let (a, b) = (d.slot("A").unwrap(), d.slot("B").unwrap());
        let mut cached = fresh();
        d.advance(&mut cached, &order, 0.05);
        assert!(!cached.fixed_slopes.slope.iter().all(Vec::is_empty));
        for (i, h) in [
            (1, 0.013),
            (2, 0.013),
            (1, 0.013),
            (3, -0.02),
            (2, 0.05),
            (2, 0.013),
        ] {
            let mut plain = fresh();
            for cols in [&mut cached, &mut plain] {
                cols.data[a][i] = 0.7;
                cols.data[b][i] = 0.3;
                d.advance_one(cols, &order, i, h);
            }
            assert!(plain.fixed_slopes.slope.is_empty());
            assert_eq!(
                cached.data[a][i].to_bits(),
                plain.data[a][i].to_bits(),
                "{i} {h}"
            );
            assert_eq!(
                cached.data[b][i].to_bits(),
                plain.data[b][i].to_bits(),
                "{i} {h}"
            );
            assert!(cached.data[b][i] != 0.3);
        }
    }

    #[test]
    fn an_event_synapse_is_quiet_at_rest_and_its_resting_blocks_are_skipped() {
        let registry = TypeRegistry::default();
        let d = CompiledDynamics::compile(&registry, "expTwoSynapse", &["v"]).unwrap();
        assert!(d.quiet_at_rest(&["i"]));
        let mut cols = Columns {
            data: vec![vec![0.0; 3 * BLOCK_LEN]; d.names.len()],
            ..Columns::default()
        };
        let a = d.slot("A").unwrap();
        cols.data[a][BLOCK_LEN + 5] = 1.0;
        d.skip_resting_blocks(&mut cols);
        let mut active = Vec::new();
        cols.active_ranges(&mut active);
        assert_eq!(active, vec![BLOCK_LEN..2 * BLOCK_LEN]);
        // A resting block is neither evaluated nor advanced.
        let i = d.slot("i").unwrap();
        cols.data[i].fill(f64::NAN);
        d.evaluate(&mut cols, &d.order_for(&[i]));
        assert!(cols.data[i][0].is_nan() && !cols.data[i][BLOCK_LEN].is_nan());
        cols.activate_all();
        cols.active_ranges(&mut active);
        assert_eq!(active, vec![0..3 * BLOCK_LEN]);
    }
}
