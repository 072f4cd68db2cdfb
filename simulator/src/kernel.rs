//! LEMS `<Dynamics>` compiled once per ComponentType and evaluated column-wise over
//! every instance of the type (one array per variable), so the cost of interpretation is
//! paid per operation and step, not per instance.
//!
//! Each variable the dynamics read or define gets a *slot*: a column of values, one per
//! instance. Parameters and constants are filled when instances are added; requirements
//! (`v`, `peer/v`, `caConc`, `t`, ...) are written by the caller before evaluation;
//! derived variables are computed in dependency order; state variables advance by
//! exponential Euler (see [`Kernel::advance`]).

use neuroml::expr::{BinaryOp, Expr, Function};
use neuroml::lems::{Case, Component, DerivedValue, TypeRegistry};

use crate::error::{Error, Result};

/// One operation of a compiled expression (postfix, on a stack of columns).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Const(f64),
    Load(usize),
    Neg,
    Not,
    Bin(BinaryOp),
    /// Binary operation with a constant right operand.
    BinConst(BinaryOp, f64),
    /// Binary operation with a slot as right operand.
    BinLoad(BinaryOp, usize),
    Call(Function),
    /// Pops else, then, condition; pushes `condition != 0 ? then : else`.
    Select,
}

/// A compiled expression.
#[derive(Debug, Clone, PartialEq)]
struct Program {
    ops: Vec<Op>,
    depth: usize,
}

impl Program {
    fn compile(
        expr: &Expr,
        slot: &dyn Fn(&str) -> Option<usize>,
    ) -> std::result::Result<Program, String> {
        let mut ops = Vec::new();
        emit(expr, slot, &mut ops)?;
        let depth = stack_depth(&ops);
        Ok(Program { ops, depth })
    }

    /// The slots the program reads.
    fn reads(&self) -> impl Iterator<Item = usize> + '_ {
        self.ops.iter().filter_map(|op| match *op {
            Op::Load(k) | Op::BinLoad(_, k) => Some(k),
            _ => None,
        })
    }

    /// Evaluates instances `start..start + len` (len ≤ [`BLOCK`]) into `out[..len]`,
    /// using `stack` (at least `self.depth` lanes) as scratch.
    #[inline]
    fn run_block(
        &self,
        cols: &[Vec<f64>],
        start: usize,
        len: usize,
        stack: &mut [Lane],
        out: &mut [f64],
    ) {
        // A constant length for whole blocks lets the copies and loops unroll.
        if len == BLOCK {
            self.run_lanes(cols, start, BLOCK, stack, out)
        } else {
            self.run_lanes(cols, start, len, stack, out)
        }
    }

    #[inline(always)]
    fn run_lanes(
        &self,
        cols: &[Vec<f64>],
        start: usize,
        len: usize,
        stack: &mut [Lane],
        out: &mut [f64],
    ) {
        let range = start..start + len;
        let mut sp = 0;
        for op in &self.ops {
            match *op {
                Op::Const(c) => {
                    stack[sp][..len].fill(c);
                    sp += 1;
                }
                Op::Load(k) => {
                    stack[sp][..len].copy_from_slice(&cols[k][range.clone()]);
                    sp += 1;
                }
                Op::Neg => stack[sp - 1][..len].iter_mut().for_each(|x| *x = -*x),
                Op::Not => stack[sp - 1][..len]
                    .iter_mut()
                    .for_each(|x| *x = if *x == 0.0 { 1.0 } else { 0.0 }),
                Op::Call(f) => match f {
                    Function::Exp => crate::fastmath::exp_slice(&mut stack[sp - 1][..len]),
                    _ => stack[sp - 1][..len]
                        .iter_mut()
                        .for_each(|x| *x = f.apply(*x)),
                },
                Op::BinConst(b, c) => binary(b, &mut stack[sp - 1][..len], |_| c),
                Op::BinLoad(b, k) => {
                    let col = &cols[k][range.clone()];
                    binary(b, &mut stack[sp - 1][..len], |i| col[i])
                }
                Op::Bin(b) => {
                    let (lo, hi) = stack.split_at_mut(sp - 1);
                    let rhs = &hi[0][..len];
                    binary(b, &mut lo[sp - 2][..len], |i| rhs[i]);
                    sp -= 1;
                }
                Op::Select => {
                    let (lo, hi) = stack.split_at_mut(sp - 2);
                    let (then, otherwise) = (&hi[0], &hi[1]);
                    for (i, c) in lo[sp - 3][..len].iter_mut().enumerate() {
                        *c = if *c != 0.0 { then[i] } else { otherwise[i] };
                    }
                    sp -= 2;
                }
            }
        }
        debug_assert_eq!(sp, 1);
        out[..len].copy_from_slice(&stack[0][..len]);
    }

    /// Evaluates over every instance into `out`, block by block.
    fn run(&self, cols: &[Vec<f64>], stack: &mut Vec<Lane>, out: &mut [f64]) {
        ensure_depth(stack, self.depth);
        for start in (0..out.len()).step_by(BLOCK) {
            let len = BLOCK.min(out.len() - start);
            self.run_block(cols, start, len, stack, &mut out[start..]);
        }
    }
}

/// Instances evaluated together: a block's stack stays in the L1 cache.
const BLOCK: usize = 64;

/// One stack entry of a block.
type Lane = [f64; BLOCK];

fn ensure_depth(stack: &mut Vec<Lane>, depth: usize) {
    if stack.len() < depth {
        stack.resize(depth, [0.0; BLOCK]);
    }
}

#[inline(always)]
fn binary(op: BinaryOp, lhs: &mut [f64], rhs: impl Fn(usize) -> f64) {
    match op {
        BinaryOp::Add => lhs.iter_mut().enumerate().for_each(|(i, x)| *x += rhs(i)),
        BinaryOp::Sub => lhs.iter_mut().enumerate().for_each(|(i, x)| *x -= rhs(i)),
        BinaryOp::Mul => lhs.iter_mut().enumerate().for_each(|(i, x)| *x *= rhs(i)),
        BinaryOp::Div => lhs.iter_mut().enumerate().for_each(|(i, x)| *x /= rhs(i)),
        _ => lhs
            .iter_mut()
            .enumerate()
            .for_each(|(i, x)| *x = op.apply(*x, rhs(i))),
    }
}

fn emit(
    expr: &Expr,
    slot: &dyn Fn(&str) -> Option<usize>,
    ops: &mut Vec<Op>,
) -> std::result::Result<(), String> {
    match expr {
        Expr::Number(x) => ops.push(Op::Const(*x)),
        Expr::Name(n) => ops.push(Op::Load(
            slot(n).ok_or_else(|| format!("unknown name '{n}'"))?,
        )),
        Expr::Neg(e) => {
            emit(e, slot, ops)?;
            ops.push(Op::Neg)
        }
        Expr::Not(e) => {
            emit(e, slot, ops)?;
            ops.push(Op::Not)
        }
        Expr::Call(f, e) => {
            emit(e, slot, ops)?;
            ops.push(Op::Call(*f))
        }
        Expr::Binary(op, a, b) => {
            emit(a, slot, ops)?;
            match &**b {
                Expr::Number(c) => ops.push(Op::BinConst(*op, *c)),
                Expr::Name(n) => ops.push(Op::BinLoad(
                    *op,
                    slot(n).ok_or_else(|| format!("unknown name '{n}'"))?,
                )),
                _ => {
                    emit(b, slot, ops)?;
                    ops.push(Op::Bin(*op))
                }
            }
        }
    }
    Ok(())
}

/// What fills a slot.
#[derive(Debug, Clone, PartialEq)]
enum SlotKind {
    /// A parameter or property, set per instance.
    Parameter(Option<f64>),
    /// A constant of the type.
    Constant(f64),
    /// Written by the caller (`v`, `peer/v`, `caConc`, `t`, `temperature`).
    Input,
    /// A state variable.
    State,
    /// A derived variable.
    Derived,
}

/// A ComponentType's dynamics, compiled.
#[derive(Debug, Clone)]
pub struct Kernel {
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
    /// Expressions of the derived variables, for symbolic differentiation.
    definitions: Vec<(String, Expr)>,
    /// Conditional derived variables (not differentiated).
    opaque: Vec<String>,
    /// Initial assignments: (state slot, program).
    on_start: Vec<(usize, Program)>,
    /// For each slot, the input and state slots it depends on (transitively).
    depends: Vec<Vec<usize>>,
}

/// The columns of one kernel's instances.
#[derive(Debug, Clone, Default)]
pub struct Columns {
    /// One column per slot.
    pub data: Vec<Vec<f64>>,
    /// Evaluation stack of one block (lane 0 receives each result).
    stack: Vec<Lane>,
    /// Per block while advancing: each state's update, a slope and a saved state.
    lanes: Vec<Lane>,
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
}

/// A compiled partial derivative (see [`Kernel::partial`]).
#[derive(Debug, Clone)]
pub struct PartialDerivative(Program);

/// A plan: the derived variables (indices into `Kernel::derived`) to evaluate, in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Plan(Vec<usize>);

impl Kernel {
    /// Compiles the dynamics of `type_name` (its own or the nearest inherited ones).
    /// `inputs` lists the names the caller will supply; `select` paths such as `peer/v`
    /// become inputs named by the path.
    pub fn compile(registry: &TypeRegistry, type_name: &str, inputs: &[&str]) -> Result<Kernel> {
        let unsupported = |what: String| Error::Unsupported {
            what: format!("ComponentType {type_name}: {what}"),
        };
        let lineage = registry.lineage(type_name);
        let dynamics = lineage
            .iter()
            .filter_map(|n| registry.get(n))
            .find_map(|t| t.dynamics.as_ref())
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
        for i in inputs.iter().chain(["t"].iter()) {
            add(&mut names, &mut kinds, i, SlotKind::Input);
        }
        for s in &dynamics.state_variables {
            add(&mut names, &mut kinds, &s.name, SlotKind::State);
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
        let mut jacobians = Vec::new();
        for td in &dynamics.time_derivatives {
            let jacobian = differentiate(&td.value, &td.variable, &definitions, &opaque, 0)
                .and_then(|e| Program::compile(&simplify(e), &slot).ok());
            jacobians.push(jacobian);
        }
        let mut derivatives = Vec::new();
        for td in &dynamics.time_derivatives {
            let s = slot(&td.variable)
                .filter(|&s| kinds[s] == SlotKind::State)
                .ok_or_else(|| {
                    unsupported(format!(
                        "time derivative of '{}', which is not a state variable",
                        td.variable
                    ))
                })?;
            derivatives.push((s, compile(&td.variable, &td.value)?));
        }
        let mut on_start = Vec::new();
        for a in &dynamics.on_start {
            let s = slot(&a.variable)
                .ok_or_else(|| unsupported(format!("OnStart assigns unknown '{}'", a.variable)))?;
            on_start.push((s, compile(&a.variable, &a.value)?));
        }
        if !dynamics.on_conditions.is_empty() || !dynamics.on_events.is_empty() {
            return Err(unsupported(
                "OnCondition/OnEvent in continuous dynamics are not supported".into(),
            ));
        }
        Ok(Kernel {
            type_name: type_name.to_string(),
            names,
            kinds,
            derived,
            derivatives,
            jacobians,
            definitions,
            opaque,
            on_start,
            depends,
        })
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
        partial.0.run(&cols.data, &mut cols.stack, out);
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

    /// Empty columns for this kernel.
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
        Ok(cols.len() - 1)
    }

    /// The derived variables that `targets` need, in evaluation order.
    pub fn plan_for(&self, targets: &[usize]) -> Plan {
        let mut need: Vec<usize> = targets.to_vec();
        let mut out = Vec::new();
        for (i, (s, prog)) in self.derived.iter().enumerate().rev() {
            if need.contains(s) {
                out.push(i);
                for op in &prog.ops {
                    if let Op::Load(k) | Op::BinLoad(_, k) = *op {
                        need.push(k);
                    }
                }
            }
        }
        out.reverse();
        Plan(out)
    }

    /// The derivatives' slots (targets of [`Kernel::plan_for`] for the state phase).
    fn derivative_reads(&self) -> Vec<usize> {
        let mut out = Vec::new();
        for (_, p) in &self.derivatives {
            for op in &p.ops {
                if let Op::Load(k) | Op::BinLoad(_, k) = *op {
                    out.push(k);
                }
            }
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

    /// Whether evaluating `plan` (and `partial`) reads `slot`.
    pub fn reads(&self, plan: &Plan, partial: Option<&PartialDerivative>, slot: usize) -> bool {
        plan.0
            .iter()
            .any(|&i| self.derived[i].1.reads().any(|k| k == slot))
            || partial.is_some_and(|p| p.0.reads().any(|k| k == slot))
    }

    /// Whether `slot` holds a parameter or a constant (fixed per instance).
    pub fn is_fixed(&self, slot: usize) -> bool {
        matches!(
            self.kinds[slot],
            SlotKind::Parameter(_) | SlotKind::Constant(_)
        )
    }

    /// Whether `slot` holds a state variable.
    pub fn is_state(&self, slot: usize) -> bool {
        self.kinds[slot] == SlotKind::State
    }

    /// The part of a plan that depends on `slot`.
    pub fn depending(&self, plan: &Plan, slot: usize) -> Plan {
        Plan(
            plan.0
                .iter()
                .copied()
                .filter(|&i| self.depends[self.derived[i].0].contains(&slot))
                .collect(),
        )
    }

    /// Evaluates the derived variables of a plan.
    pub fn evaluate(&self, cols: &mut Columns, plan: &Plan) {
        let depth = plan
            .0
            .iter()
            .map(|&i| self.derived[i].1.depth)
            .max()
            .unwrap_or(0);
        ensure_depth(&mut cols.stack, depth + 1);
        for start in (0..cols.len()).step_by(BLOCK) {
            let len = BLOCK.min(cols.len() - start);
            self.evaluate_block(cols, plan, start, len);
        }
    }

    /// [`Kernel::evaluate`] for instances `start..start + len`; the stack must be deep
    /// enough for the plan's programs plus one lane.
    fn evaluate_block(&self, cols: &mut Columns, plan: &Plan, start: usize, len: usize) {
        let (result, stack) = cols.stack.split_first_mut().expect("stack prepared");
        for &i in &plan.0 {
            let (s, prog) = &self.derived[i];
            prog.run_block(&cols.data, start, len, stack, result);
            cols.data[*s][start..start + len].copy_from_slice(&result[..len]);
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
        let all = Plan((0..self.derived.len()).collect());
        self.evaluate(cols, &all);
        for (s, prog) in &self.on_start {
            let mut out = std::mem::take(&mut cols.data[*s]);
            prog.run(&cols.data, &mut cols.stack, &mut out);
            cols.data[*s] = out;
        }
        self.evaluate(cols, &all);
    }

    /// A plan for the state phase.
    pub fn state_plan(&self) -> Plan {
        self.plan_for(&self.derivative_reads())
    }

    /// Advances every state by one step of exponential Euler with inputs as set:
    /// for dy/dt = f(y), with b = ∂f/∂y (symbolic where possible, else a difference
    /// quotient),
    /// y ← y + f · (e^{b·dt} − 1)/b. This is exact when f is linear in y (as NEURON's
    /// `cnexp` is) and reduces to forward Euler when b = 0.
    pub fn advance(&self, cols: &mut Columns, plan: &Plan, dt: f64) {
        let m = self.derivatives.len();
        let depth = self
            .derivatives
            .iter()
            .map(|(_, p)| p.depth)
            .chain(self.jacobians.iter().flatten().map(|p| p.depth));
        let plan_depth = plan.0.iter().map(|&i| self.derived[i].1.depth);
        ensure_depth(
            &mut cols.stack,
            1 + depth.chain(plan_depth).max().unwrap_or(0),
        );
        let mut lanes = std::mem::take(&mut cols.lanes);
        ensure_depth(&mut lanes, m + 2);
        let dependents: Vec<Plan> = if self.jacobians.iter().all(Option::is_some) {
            Vec::new()
        } else {
            self.derivatives
                .iter()
                .map(|(s, _)| self.depending(plan, *s))
                .collect()
        };
        for start in (0..cols.len()).step_by(BLOCK) {
            let len = BLOCK.min(cols.len() - start);
            let range = start..start + len;
            let (updates, work) = lanes.split_at_mut(m);
            let [slope, saved, ..] = work else {
                unreachable!("m + 2 lanes")
            };
            self.evaluate_block(cols, plan, start, len);
            for (k, ((s, prog), jacobian)) in
                self.derivatives.iter().zip(&self.jacobians).enumerate()
            {
                let f = &mut updates[k];
                prog.run_block(&cols.data, start, len, &mut cols.stack, f);
                match jacobian {
                    Some(j) => j.run_block(&cols.data, start, len, &mut cols.stack, slope),
                    None => {
                        // Perturb the state to find the slope.
                        saved[..len].copy_from_slice(&cols.data[*s][range.clone()]);
                        for y in &mut cols.data[*s][range.clone()] {
                            *y += 1e-6 * y.abs().max(1e-3);
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
                    let b = slope[i];
                    let x = b * dt;
                    f[i] = if x.abs() < 1e-12 {
                        f[i] * dt
                    } else {
                        f[i] * crate::fastmath::exp_m1(x) / b
                    };
                }
            }
            for ((s, _), dy) in self.derivatives.iter().zip(updates.iter()) {
                for (y, d) in cols.data[*s][range.clone()].iter_mut().zip(dy) {
                    *y += d;
                }
            }
        }
        cols.lanes = lanes;
    }
}

fn stack_depth(ops: &[Op]) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    for op in ops {
        match op {
            Op::Const(_) | Op::Load(_) => depth += 1,
            Op::Bin(_) => depth -= 1,
            Op::Select => depth -= 2,
            _ => {}
        }
        max = max.max(depth);
    }
    max
}

/// `if c₁ then v₁ else if c₂ then v₂ ... else default` (0 without a default).
fn emit_cases(
    cases: &[Case],
    slot: &dyn Fn(&str) -> Option<usize>,
    ops: &mut Vec<Op>,
) -> std::result::Result<(), String> {
    match cases.split_first() {
        None => ops.push(Op::Const(0.0)),
        Some((case, rest)) => match &case.condition {
            None => emit(&case.value, slot, ops)?,
            Some(cond) => {
                emit(cond, slot, ops)?;
                emit(&case.value, slot, ops)?;
                emit_cases(rest, slot, ops)?;
                ops.push(Op::Select);
            }
        },
    }
    Ok(())
}

/// ∂expr/∂var, following derived variables' definitions (chain rule); `None` where a
/// construct has no derivative here (conditional variables, a variable exponent, ...).
fn differentiate(
    expr: &Expr,
    var: &str,
    defs: &[(String, Expr)],
    opaque: &[String],
    depth: usize,
) -> Option<Expr> {
    use Expr::*;
    if depth > 64 {
        return None;
    }
    let d = |e: &Expr| differentiate(e, var, defs, opaque, depth + 1);
    let bx = Box::new;
    Some(match expr {
        Number(_) => Number(0.0),
        Name(n) if n == var => Number(1.0),
        Name(n) => match defs.iter().find(|(k, _)| k == n) {
            Some((_, e)) => d(e)?,
            None if opaque.contains(n) => return None,
            None => Number(0.0),
        },
        Neg(e) => Neg(bx(d(e)?)),
        Not(_) => Number(0.0),
        Binary(op, a, b) => {
            let (da, db) = (d(a)?, d(b)?);
            match op {
                BinaryOp::Add => Binary(BinaryOp::Add, bx(da), bx(db)),
                BinaryOp::Sub => Binary(BinaryOp::Sub, bx(da), bx(db)),
                BinaryOp::Mul => Binary(
                    BinaryOp::Add,
                    bx(Binary(BinaryOp::Mul, bx(da), b.clone())),
                    bx(Binary(BinaryOp::Mul, a.clone(), bx(db))),
                ),
                BinaryOp::Div => Binary(
                    BinaryOp::Div,
                    bx(Binary(
                        BinaryOp::Sub,
                        bx(Binary(BinaryOp::Mul, bx(da), b.clone())),
                        bx(Binary(BinaryOp::Mul, a.clone(), bx(db))),
                    )),
                    bx(Binary(BinaryOp::Mul, b.clone(), b.clone())),
                ),
                BinaryOp::Pow => {
                    if simplify(db) != Number(0.0) {
                        return None;
                    }
                    let exponent_minus_one = Binary(BinaryOp::Sub, b.clone(), bx(Number(1.0)));
                    Binary(
                        BinaryOp::Mul,
                        bx(Binary(
                            BinaryOp::Mul,
                            b.clone(),
                            bx(Binary(BinaryOp::Pow, a.clone(), bx(exponent_minus_one))),
                        )),
                        bx(da),
                    )
                }
                // Comparisons and logic are piecewise constant.
                _ => Number(0.0),
            }
        }
        Call(f, e) => {
            let de = d(e)?;
            let outer = match f {
                Function::Exp => Call(Function::Exp, e.clone()),
                Function::Ln => Binary(BinaryOp::Div, bx(Number(1.0)), e.clone()),
                Function::Sqrt => Binary(
                    BinaryOp::Div,
                    bx(Number(0.5)),
                    bx(Call(Function::Sqrt, e.clone())),
                ),
                Function::Sin => Call(Function::Cos, e.clone()),
                Function::Cos => Neg(bx(Call(Function::Sin, e.clone()))),
                Function::Tanh => {
                    let t = Call(Function::Tanh, e.clone());
                    Binary(
                        BinaryOp::Sub,
                        bx(Number(1.0)),
                        bx(Binary(BinaryOp::Mul, bx(t.clone()), bx(t))),
                    )
                }
                _ if simplify(de.clone()) == Number(0.0) => return Some(Number(0.0)),
                _ => return None,
            };
            Binary(BinaryOp::Mul, bx(outer), bx(de))
        }
    })
}

/// Folds the zeros and ones differentiation leaves behind.
fn simplify(e: Expr) -> Expr {
    use Expr::*;
    match e {
        Neg(a) => match simplify(*a) {
            Number(x) => Number(-x),
            a => Neg(Box::new(a)),
        },
        Binary(op, a, b) => {
            let (a, b) = (simplify(*a), simplify(*b));
            match (op, &a, &b) {
                (BinaryOp::Add, Number(x), _) if *x == 0.0 => b,
                (BinaryOp::Add | BinaryOp::Sub, _, Number(y)) if *y == 0.0 => a,
                (BinaryOp::Sub, Number(x), _) if *x == 0.0 => Neg(Box::new(b)),
                (BinaryOp::Mul, Number(x), _) | (BinaryOp::Mul, _, Number(x)) if *x == 0.0 => {
                    Number(0.0)
                }
                (BinaryOp::Mul, Number(x), _) if *x == 1.0 => b,
                (BinaryOp::Mul | BinaryOp::Div, _, Number(y)) if *y == 1.0 => a,
                (BinaryOp::Div, Number(x), _) if *x == 0.0 => Number(0.0),
                (_, Number(x), Number(y)) => Number(op.apply(*x, *y)),
                _ => Binary(op, Box::new(a), Box::new(b)),
            }
        }
        Call(f, a) => Call(f, Box::new(simplify(*a))),
        Not(a) => Not(Box::new(simplify(*a))),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str, var: &str, defs: &[(&str, &str)]) -> f64 {
        let defs: Vec<(String, Expr)> = defs
            .iter()
            .map(|(n, e)| (n.to_string(), Expr::parse(e).unwrap()))
            .collect();
        let e = simplify(differentiate(&Expr::parse(text).unwrap(), var, &defs, &[], 0).unwrap());
        e.eval(&|n| match n {
            "s" => Some(0.3),
            "v" => Some(-40.0),
            "vpeer" => Some(-30.0),
            "phi" => Some(1.0 / (1.0 + (2.0f64 * (2.0 - -30.0)).exp())),
            _ => Some(2.0),
        })
        .unwrap()
    }

    #[test]
    fn symbolic_derivatives_of_c302_dynamics() {
        // gradedSynapse2: ds/dt = ar*phi*(1-s) - ad*s, phi independent of s.
        let phi = ("phi", "1/(1 + exp(beta * (vth - vpeer)))");
        let ds = d("ar*phi*(1-s) - ad*s", "s", &[phi]);
        let phi_value = 1.0 / (1.0 + (2.0f64 * (2.0 - -30.0)).exp());
        assert!((ds - (-2.0 * phi_value - 2.0)).abs() < 1e-12);
        // i = weight * conductance * s * (erev - v): ∂i/∂v = −w g s.
        let di = d("weight * conductance * s * (erev-v)", "v", &[]);
        assert!((di - (-2.0 * 2.0 * 0.3)).abs() < 1e-12);
        // Chain rule through a derived variable and a power.
        let dv = d("x^3", "v", &[("x", "exp(v/10)")]);
        // x itself reads as 2 in this evaluation; dx/dv = e^{v/10}/10.
        assert!((dv - 3.0 * 4.0 * (-4.0f64).exp() / 10.0).abs() < 1e-12);
    }
}
