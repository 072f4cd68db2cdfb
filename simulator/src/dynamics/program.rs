//! Expressions compiled to postfix programs and run over blocks of instances: each
//! operation is applied to [`BLOCK_LEN`] instances at once, so interpretation costs per
//! operation and block, not per instance.

use neuroml::expr::{BinaryOp, Expr, Function};
use neuroml::lems::Case;

/// One operation of a compiled expression (postfix, on a stack of columns).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Op {
    Const(f64),
    Load(usize),
    Neg,
    Not,
    Bin(BinaryOp),
    /// Binary operation with a constant right operand.
    BinConst(BinaryOp, f64),
    /// Binary operation with a slot as right operand.
    BinLoad(BinaryOp, usize),
    /// Pushes `a op b` of two slots (a `Load` and a `BinLoad` in one pass).
    LoadBinLoad(BinaryOp, usize, usize),
    /// Pushes `a op c` of a slot and a constant (a `Load` and a `BinConst` in one pass).
    LoadBinConst(BinaryOp, usize, f64),
    Call(Function),
    /// Pops else, then, condition; pushes `condition != 0 ? then : else`.
    Select,
}

/// A compiled expression.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Program {
    pub(super) ops: Vec<Op>,
    pub(super) depth: usize,
}

impl Program {
    pub(super) fn compile(
        expr: &Expr,
        slot: &dyn Fn(&str) -> Option<usize>,
    ) -> std::result::Result<Program, String> {
        let mut ops = Vec::new();
        emit(expr, slot, &mut ops)?;
        let depth = stack_depth(&ops);
        Ok(Program { ops, depth })
    }

    /// The slots the program reads.
    pub(super) fn reads(&self) -> impl Iterator<Item = usize> + '_ {
        self.ops
            .iter()
            .flat_map(|op| match *op {
                Op::Load(k) | Op::BinLoad(_, k) | Op::LoadBinConst(_, k, _) => [Some(k), None],
                Op::LoadBinLoad(_, a, b) => [Some(a), Some(b)],
                _ => [None, None],
            })
            .flatten()
    }

    /// Evaluates instances `start..start + len` (len ≤ [`BLOCK_LEN`]) into `out[..len]`,
    /// using `stack` (at least `self.depth` blocks) as scratch.
    #[inline]
    pub(super) fn run_block(
        &self,
        cols: &[Vec<f64>],
        start: usize,
        len: usize,
        stack: &mut [Block],
        out: &mut [f64],
    ) {
        // A constant length for whole blocks lets the copies and loops unroll.
        if len == BLOCK_LEN {
            self.run_ops(cols, start, BLOCK_LEN, stack, out)
        } else {
            self.run_ops(cols, start, len, stack, out)
        }
    }

    #[inline(always)]
    pub(super) fn run_ops(
        &self,
        cols: &[Vec<f64>],
        start: usize,
        len: usize,
        stack: &mut [Block],
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
                Op::LoadBinLoad(b, a, k) => {
                    let (x, y) = (&cols[a][range.clone()], &cols[k][range.clone()]);
                    binary_into(b, &mut stack[sp][..len], |i| x[i], |i| y[i]);
                    sp += 1;
                }
                Op::LoadBinConst(b, a, c) => {
                    let x = &cols[a][range.clone()];
                    binary_into(b, &mut stack[sp][..len], |i| x[i], |_| c);
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

    /// Evaluates instance `i` alone (an event, a reset): the block path's arithmetic on
    /// one value, without its copies. `stack` is scratch (grown to the program's depth).
    pub(super) fn run_one(&self, cols: &[Vec<f64>], i: usize, stack: &mut Vec<f64>) -> f64 {
        stack.clear();
        for op in &self.ops {
            match *op {
                Op::Const(c) => stack.push(c),
                Op::Load(k) => stack.push(cols[k][i]),
                Op::LoadBinLoad(b, a, k) => stack.push(b.apply(cols[a][i], cols[k][i])),
                Op::LoadBinConst(b, a, c) => stack.push(b.apply(cols[a][i], c)),
                Op::Neg => {
                    let x = stack.last_mut().expect("operand");
                    *x = -*x;
                }
                Op::Not => {
                    let x = stack.last_mut().expect("operand");
                    *x = if *x == 0.0 { 1.0 } else { 0.0 };
                }
                Op::Call(f) => {
                    let x = stack.last_mut().expect("operand");
                    match f {
                        Function::Exp => crate::fastmath::exp_slice(std::slice::from_mut(x)),
                        _ => *x = f.apply(*x),
                    }
                }
                Op::BinConst(b, c) => {
                    let x = stack.last_mut().expect("operand");
                    *x = b.apply(*x, c);
                }
                Op::BinLoad(b, k) => {
                    let x = stack.last_mut().expect("operand");
                    *x = b.apply(*x, cols[k][i]);
                }
                Op::Bin(b) => {
                    let y = stack.pop().expect("operand");
                    let x = stack.last_mut().expect("operand");
                    *x = b.apply(*x, y);
                }
                Op::Select => {
                    let otherwise = stack.pop().expect("operand");
                    let then = stack.pop().expect("operand");
                    let c = stack.last_mut().expect("operand");
                    *c = if *c != 0.0 { then } else { otherwise };
                }
            }
        }
        debug_assert_eq!(stack.len(), 1);
        stack[0]
    }

    /// Evaluates over every instance into `out`, block by block.
    pub(super) fn run(&self, cols: &[Vec<f64>], stack: &mut Vec<Block>, out: &mut [f64]) {
        ensure_depth(stack, self.depth);
        for start in (0..out.len()).step_by(BLOCK_LEN) {
            let len = BLOCK_LEN.min(out.len() - start);
            self.run_block(cols, start, len, stack, &mut out[start..]);
        }
    }
}

/// Instances evaluated together: a block's stack stays in the L1 cache.
pub(super) const BLOCK_LEN: usize = 64;

/// One stack entry of a block.
pub(super) type Block = [f64; BLOCK_LEN];

pub(super) fn ensure_depth(stack: &mut Vec<Block>, depth: usize) {
    if stack.len() < depth {
        stack.resize(depth, [0.0; BLOCK_LEN]);
    }
}

#[inline(always)]
pub(super) fn binary(op: BinaryOp, lhs: &mut [f64], rhs: impl Fn(usize) -> f64) {
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

/// `out[i] = lhs(i) op rhs(i)`, with the arithmetic of [`binary`] (both are
/// `BinaryOp::apply`, spelled out for the common operations so that they vectorise).
#[inline(always)]
fn binary_into(
    op: BinaryOp,
    out: &mut [f64],
    lhs: impl Fn(usize) -> f64,
    rhs: impl Fn(usize) -> f64,
) {
    match op {
        BinaryOp::Add => out
            .iter_mut()
            .enumerate()
            .for_each(|(i, x)| *x = lhs(i) + rhs(i)),
        BinaryOp::Sub => out
            .iter_mut()
            .enumerate()
            .for_each(|(i, x)| *x = lhs(i) - rhs(i)),
        BinaryOp::Mul => out
            .iter_mut()
            .enumerate()
            .for_each(|(i, x)| *x = lhs(i) * rhs(i)),
        BinaryOp::Div => out
            .iter_mut()
            .enumerate()
            .for_each(|(i, x)| *x = lhs(i) / rhs(i)),
        _ => out
            .iter_mut()
            .enumerate()
            .for_each(|(i, x)| *x = op.apply(lhs(i), rhs(i))),
    }
}

pub(super) fn emit(
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
            let name = |n: &str| slot(n).ok_or_else(|| format!("unknown name '{n}'"));
            match (&**a, &**b) {
                (Expr::Name(x), Expr::Name(y)) => {
                    ops.push(Op::LoadBinLoad(*op, name(x)?, name(y)?));
                    return Ok(());
                }
                (Expr::Name(x), Expr::Number(c)) => {
                    ops.push(Op::LoadBinConst(*op, name(x)?, *c));
                    return Ok(());
                }
                _ => {}
            }
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

pub(super) fn stack_depth(ops: &[Op]) -> usize {
    let (mut depth, mut max) = (0usize, 0usize);
    for op in ops {
        match op {
            Op::Const(_) | Op::Load(_) | Op::LoadBinLoad(..) | Op::LoadBinConst(..) => depth += 1,
            Op::Bin(_) => depth -= 1,
            Op::Select => depth -= 2,
            _ => {}
        }
        max = max.max(depth);
    }
    max
}

/// `if c₁ then v₁ else if c₂ then v₂ ... else default` (0 without a default).
pub(super) fn emit_cases(
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
