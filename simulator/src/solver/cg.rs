//! Preconditioned conjugate gradients over any symmetric positive definite operator.

use super::SolveStats;

/// A symmetric positive definite operator with a preconditioner, for CG.
pub(super) trait Operator {
    /// out = M y.
    fn apply(&self, y: &[f64], out: &mut [f64]);
    /// z = P⁻¹ r.
    fn precondition(&mut self, r: &[f64], z: &mut [f64]);
}

/// Preconditioned conjugate gradients from x = P⁻¹ b. Returns the stats, or the residual
/// and iteration count when the limit is hit.
pub(super) fn conjugate_gradients(
    op: &mut dyn Operator,
    b: &[f64],
    x: &mut [f64],
    tolerance: f64,
    max_iterations: usize,
    work: &mut [Vec<f64>; 4],
) -> Result<SolveStats, (f64, usize)> {
    let n = b.len();
    for w in work.iter_mut() {
        w.resize(n, 0.0);
    }
    let [r, z, p, q] = work;
    let norm = |v: &[f64]| v.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let bnorm = norm(b).max(1e-300);
    op.precondition(b, x);
    op.apply(x, q);
    for i in 0..n {
        r[i] = b[i] - q[i];
    }
    let mut residual = norm(r) / bnorm;
    if residual <= tolerance {
        return Ok(SolveStats {
            iterations: 0,
            residual,
        });
    }
    op.precondition(r, z);
    p.copy_from_slice(z);
    let mut rz: f64 = r.iter().zip(z.iter()).map(|(a, b)| a * b).sum();
    for it in 1..=max_iterations {
        op.apply(p, q);
        let pq: f64 = p.iter().zip(q.iter()).map(|(a, b)| a * b).sum();
        let alpha = rz / pq;
        for i in 0..n {
            x[i] += alpha * p[i];
            r[i] -= alpha * q[i];
        }
        residual = norm(r) / bnorm;
        if residual <= tolerance {
            return Ok(SolveStats {
                iterations: it,
                residual,
            });
        }
        op.precondition(r, z);
        let rz_new: f64 = r.iter().zip(z.iter()).map(|(a, b)| a * b).sum();
        let beta = rz_new / rz;
        rz = rz_new;
        for i in 0..n {
            p[i] = z[i] + beta * p[i];
        }
    }
    Err((residual, max_iterations))
}
