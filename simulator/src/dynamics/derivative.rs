//! Symbolic differentiation of LEMS expressions (the partial derivatives the implicit
//! step needs, e.g. ∂i/∂v of a synapse current).

use neuroml::expr::{BinaryOp, Expr, Function};

/// ∂expr/∂var, following derived variables' definitions (chain rule); `None` where a
/// construct has no derivative here (conditional variables, a variable exponent, ...).
pub(super) fn differentiate(
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
pub(super) fn simplify(e: Expr) -> Expr {
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
