//! Every solver path against dense Gaussian elimination.

use super::*;

/// Dense Gaussian elimination: the reference every solver path must agree with.
fn dense_solve(
    parent: &[usize],
    axial: &[f64],
    gaps: &GapJunctions,
    diag: &[f64],
    rhs: &[f64],
) -> Vec<f64> {
    let n = parent.len();
    let mut m = vec![vec![0.0; n]; n];
    for i in 0..n {
        m[i][i] += diag[i];
        if parent[i] != NO_PARENT {
            let p = parent[i];
            m[i][i] += axial[i];
            m[p][p] += axial[i];
            m[i][p] -= axial[i];
            m[p][i] -= axial[i];
        }
    }
    for j in 0..gaps.a.len() {
        let (a, b, g) = (gaps.a[j], gaps.b[j], gaps.conductance[j]);
        m[a][a] += g;
        m[b][b] += g;
        m[a][b] -= g;
        m[b][a] -= g;
    }
    let mut x = rhs.to_vec();
    for k in 0..n {
        let pivot = m[k].clone();
        for i in k + 1..n {
            let f = m[i][k] / pivot[k];
            for (a, b) in m[i][k..].iter_mut().zip(&pivot[k..]) {
                *a -= f * b;
            }
            x[i] -= f * x[k];
        }
    }
    for k in (0..n).rev() {
        let s: f64 = (k + 1..n).map(|j| m[k][j] * x[j]).sum();
        x[k] = (x[k] - s) / m[k][k];
    }
    x
}

/// Three small trees; junctions on roots (reduced path) or anywhere (PCG path).
fn check(gaps: GapJunctions) {
    let parent = vec![NO_PARENT, 0, 1, 1, NO_PARENT, 4, 5, NO_PARENT, 7];
    let axial: Vec<f64> = (0..9).map(|i| 0.5 + 0.1 * i as f64).collect();
    let diag: Vec<f64> = (0..9).map(|i| 0.01 + 0.003 * i as f64).collect();
    let rhs: Vec<f64> = (0..9).map(|i| (i as f64 * 0.7).sin()).collect();
    let expected = dense_solve(&parent, &axial, &gaps, &diag, &rhs);
    let mut solver = TreeSolver::new(&parent, &axial, &gaps);
    let mut x = vec![0.0; 9];
    let stats = solver.solve(&diag, &rhs, &mut x, 0.0).unwrap();
    for (a, b) in x.iter().zip(&expected) {
        assert!(
            (a - b).abs() < 1e-9 * b.abs().max(1.0),
            "{x:?} vs {expected:?} ({stats:?})"
        );
    }
    // The fused step solve assembles the same system: (C/h + G + L) x = I − L v.
    let (h, v): (f64, Vec<f64>) = (0.05, (0..9).map(|i| -60.0 + 3.0 * i as f64).collect());
    let capacitance: Vec<f64> = diag.iter().map(|d| d * 0.6 * h).collect();
    let conductance: Vec<f64> = diag.iter().map(|d| d * 0.4).collect();
    let mut assembled = rhs.clone();
    solver.add_coupling_currents(&v, &mut assembled);
    let expected = dense_solve(&parent, &axial, &gaps, &diag, &assembled);
    let mut fused = vec![0.0; 9];
    solver
        .solve_step(&capacitance, h, &conductance, &rhs, &v, &mut fused, 0.0)
        .unwrap();
    for (a, b) in fused.iter().zip(&expected) {
        assert!(
            (a - b).abs() < 1e-9 * b.abs().max(1.0),
            "{fused:?} vs {expected:?}"
        );
    }
}

#[test]
fn trees_alone() {
    check(GapJunctions::default());
}

#[test]
fn junctions_on_roots() {
    let gaps = GapJunctions {
        a: vec![0, 4],
        b: vec![4, 7],
        conductance: vec![0.2, 0.05],
    };
    check(gaps);
}

#[test]
fn junctions_anywhere() {
    let gaps = GapJunctions {
        a: vec![2, 6, 0],
        b: vec![8, 3, 5],
        conductance: vec![0.3, 0.02, 1.0],
    };
    check(gaps);
}
