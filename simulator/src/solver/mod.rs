//! The implicit step's linear system and its solver.
//!
//! Each step solves M x = b with M = D + L_axial + L_gap: D diagonal (C/dt plus the
//! membrane's conductances), L_axial the Laplacian of the cells' trees (axial
//! conductances between nodes and parents) and L_gap that of the gap junctions. M is
//! symmetric positive definite.
//!
//! Cells are trees numbered parents-first, so Gaussian elimination from the leaves up
//! costs O(n) with no fill (Hines 1984). Gap junctions join trees:
//!
//! * When every junction sits on a tree's root (c302 connects everything at the soma),
//!   eliminating each tree down to its root leaves a small system over the roots,
//!   D' + L_gap, solved by conjugate gradients with a diagonal preconditioner; the trees
//!   are then back-substituted. Exact up to the CG tolerance.
//! * Otherwise, conjugate gradients on the whole system, preconditioned by the tree
//!   solves (junction conductances on the diagonal).
//!
//! The tolerance is on the relative residual ‖b − Mx‖∞ / ‖b‖∞.

use crate::error::Error;
use crate::layout::NO_PARENT;
use crate::synapses::GapJunctions;

mod cg;
use cg::{conjugate_gradients, Operator};

/// Iteration count and residual of one solve.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SolveStats {
    /// CG iterations (0 when the system needed none).
    pub iterations: usize,
    /// Final relative residual.
    pub residual: f64,
}

/// Solver for the network's cable + gap-junction system.
#[derive(Debug, Clone)]
pub struct TreeSolver {
    parent: Vec<usize>,
    axial: Vec<f64>,
    /// Σ of axial conductances at each node.
    axial_diag: Vec<f64>,
    /// Gap junctions as compressed rows over the nodes.
    gaps: Couplings,
    gap_diag: Vec<f64>,
    /// Roots of the trees and, when every junction is on a root, the junctions as
    /// compressed rows over the roots.
    roots: Vec<usize>,
    reduced: Option<Couplings>,
    /// Relative residual to reach.
    pub tolerance: f64,
    /// Iteration limit.
    pub max_iterations: usize,
    // Scratch.
    membrane: Vec<f64>,
    d: Vec<f64>,
    inv_d: Vec<f64>,
    ratio: Vec<f64>,
    b: Vec<f64>,
    work: [Vec<f64>; 4],
    root_d: Vec<f64>,
    root_b: Vec<f64>,
    root_x: Vec<f64>,
    /// Diagonal and right-hand side of [`Self::solve_step`] when it falls back to
    /// [`Self::solve`].
    step_system: [Vec<f64>; 2],
}

impl TreeSolver {
    /// Builds the solver for trees given by `parent` and `axial` conductances \[µS\] and
    /// the gap junctions.
    pub fn new(parent: &[usize], axial: &[f64], gaps: &GapJunctions) -> TreeSolver {
        let n = parent.len();
        let mut axial_diag = vec![0.0; n];
        for i in 0..n {
            if parent[i] != NO_PARENT {
                axial_diag[i] += axial[i];
                axial_diag[parent[i]] += axial[i];
            }
        }
        let mut gap_diag = vec![0.0; n];
        for ((&a, &b), &g) in gaps.a.iter().zip(&gaps.b).zip(&gaps.conductance) {
            gap_diag[a] += g;
            gap_diag[b] += g;
        }
        let roots: Vec<usize> = (0..n).filter(|&i| parent[i] == NO_PARENT).collect();
        let mut root_index = vec![usize::MAX; n];
        for (k, &r) in roots.iter().enumerate() {
            root_index[r] = k;
        }
        let all_on_roots = gaps
            .a
            .iter()
            .chain(&gaps.b)
            .all(|&x| root_index[x] != usize::MAX);
        let reduced = all_on_roots.then(|| {
            let a: Vec<usize> = gaps.a.iter().map(|&x| root_index[x]).collect();
            let b: Vec<usize> = gaps.b.iter().map(|&x| root_index[x]).collect();
            Couplings::new(roots.len(), &a, &b, &gaps.conductance)
        });
        TreeSolver {
            parent: parent.to_vec(),
            axial: axial.to_vec(),
            axial_diag,
            gaps: Couplings::new(n, &gaps.a, &gaps.b, &gaps.conductance),
            gap_diag,
            roots,
            reduced,
            tolerance: 1e-12,
            max_iterations: 200,
            membrane: vec![0.0; n],
            d: vec![0.0; n],
            inv_d: vec![0.0; n],
            ratio: vec![0.0; n],
            b: vec![0.0; n],
            work: Default::default(),
            root_d: Vec::new(),
            root_b: Vec::new(),
            root_x: Vec::new(),
            step_system: Default::default(),
        }
    }

    /// Solves (diag + L_axial + L_gap) x = rhs, where `diag` holds only the membrane
    /// terms.
    pub fn solve(
        &mut self,
        diag: &[f64],
        rhs: &[f64],
        x: &mut [f64],
        time: f64,
    ) -> Result<SolveStats, Error> {
        let whole_system = !self.gaps.is_empty() && self.reduced.is_none();
        if whole_system {
            self.membrane.copy_from_slice(diag);
        }
        for ((d, &m), (&a, &g)) in self
            .d
            .iter_mut()
            .zip(diag)
            .zip(self.axial_diag.iter().zip(&self.gap_diag))
        {
            *d = m + a + g;
        }
        self.b.copy_from_slice(rhs);
        self.eliminate::<false>(&[]);
        if self.gaps.is_empty() {
            self.back_substitute(x);
            return Ok(SolveStats::default());
        }
        if self.reduced.is_some() {
            return self.solve_reduced(x, time);
        }
        self.solve_pcg(rhs, x, time)
    }

    /// One implicit step's solve in a single pass over the trees: the system
    /// (C/h + G + L) x = I − L v of [`crate::simulation`] is assembled from the capacitances
    /// `capacitance`, the membrane conductances `conductance` and inward currents `inward`
    /// at voltages `v`, and eliminated leaves first as it is assembled. The same arithmetic
    /// as [`Self::add_coupling_currents`] followed by [`Self::solve`], in fewer passes; falls
    /// back to them when junctions leave the roots.
    #[allow(clippy::too_many_arguments)]
    pub fn solve_step(
        &mut self,
        capacitance: &[f64],
        h: f64,
        conductance: &[f64],
        inward: &[f64],
        v: &[f64],
        x: &mut [f64],
        time: f64,
    ) -> Result<SolveStats, Error> {
        if !self.gaps.is_empty() && self.reduced.is_none() {
            // Buffers kept between steps: solve() needs diag and rhs apart from its own.
            let [mut diag, mut rhs] = std::mem::take(&mut self.step_system);
            diag.clear();
            diag.extend(
                capacitance
                    .iter()
                    .zip(conductance)
                    .map(|(&c, &g)| c / h + g),
            );
            rhs.clear();
            rhs.extend_from_slice(inward);
            self.add_coupling_currents(v, &mut rhs);
            let result = self.solve(&diag, &rhs, x, time);
            self.step_system = [diag, rhs];
            return result;
        }
        for (((d, b), (&c, &g)), ((&i, &a), &j)) in self
            .d
            .iter_mut()
            .zip(&mut self.b)
            .zip(capacitance.iter().zip(conductance))
            .zip(inward.iter().zip(&self.axial_diag).zip(&self.gap_diag))
        {
            *d = c / h + g + a + j;
            *b = i;
        }
        self.add_gap_currents(v);
        self.eliminate::<true>(v);
        if self.gaps.is_empty() {
            self.back_substitute(x);
            return Ok(SolveStats::default());
        }
        self.solve_reduced(x, time)
    }

    /// Factors the trees and eliminates the right-hand side in one pass, leaves first:
    /// each node folds into its parent; g/d and 1/d are kept so that solves only multiply.
    /// With `FLOWS`, each node's axial current at voltages `v` (`b −= L_axial v`) is added
    /// to `b` just before the node is folded (its children are done by then).
    #[inline(always)]
    fn eliminate<const FLOWS: bool>(&mut self, v: &[f64]) {
        for i in (0..self.parent.len()).rev() {
            let inv = 1.0 / self.d[i];
            self.inv_d[i] = inv;
            let p = self.parent[i];
            if p != NO_PARENT {
                let g = self.axial[i];
                if FLOWS {
                    let flow = g * (v[p] - v[i]);
                    self.b[i] += flow;
                    self.b[p] -= flow;
                }
                let ratio = g * inv;
                self.ratio[i] = ratio;
                self.d[p] -= g * ratio;
                self.b[p] += ratio * self.b[i];
            }
        }
    }

    /// `b += −L_gap v`: the junction currents into each node at voltages `v`.
    fn add_gap_currents(&mut self, v: &[f64]) {
        for &k in &self.gaps.nonempty {
            let mut flow = 0.0;
            for j in self.gaps.start[k]..self.gaps.start[k + 1] {
                flow += self.gaps.g[j] * (v[self.gaps.col[j]] - v[k]);
            }
            self.b[k] += flow;
        }
    }

    /// x from the eliminated right-hand side in `self.b`, parents first (roots from b/d).
    fn back_substitute(&self, x: &mut [f64]) {
        for i in 0..self.parent.len() {
            let p = self.parent[i];
            x[i] = if p == NO_PARENT {
                self.b[i] * self.inv_d[i]
            } else {
                self.b[i] * self.inv_d[i] + self.ratio[i] * x[p]
            };
        }
    }

    /// x = T⁻¹ b for the factored trees (T: the tree part with junctions on the
    /// diagonal); consumes `self.b`.
    fn tree_solve(&mut self, x: &mut [f64]) {
        for i in (0..self.parent.len()).rev() {
            let p = self.parent[i];
            if p != NO_PARENT {
                self.b[p] += self.ratio[i] * self.b[i];
            }
        }
        self.back_substitute(x);
    }

    fn solve_reduced(&mut self, x: &mut [f64], time: f64) -> Result<SolveStats, Error> {
        let couplings = self.reduced.as_ref().unwrap();
        let roots = &self.roots;
        self.root_d.clear();
        self.root_d.extend(roots.iter().map(|&r| self.d[r]));
        self.root_b.clear();
        self.root_b.extend(roots.iter().map(|&r| self.b[r]));
        self.root_x.resize(roots.len(), 0.0);
        let mut op = RootSystem {
            d: &self.root_d,
            couplings,
        };
        let stats = conjugate_gradients(
            &mut op,
            &self.root_b,
            &mut self.root_x,
            self.tolerance,
            self.max_iterations,
            &mut self.work,
        )
        .map_err(|(residual, iterations)| Error::NoConvergence {
            time,
            residual,
            iterations,
        })?;
        // Roots are fixed by the root system: b/d at a root gives its solution.
        for (k, &r) in roots.iter().enumerate() {
            self.b[r] = self.root_x[k] * self.d[r];
        }
        self.back_substitute(x);
        Ok(stats)
    }

    fn solve_pcg(&mut self, rhs: &[f64], x: &mut [f64], time: f64) -> Result<SolveStats, Error> {
        let mut work = std::mem::take(&mut self.work);
        let (tolerance, max_iterations) = (self.tolerance, self.max_iterations);
        let result = conjugate_gradients(
            &mut WholeSystem(self),
            rhs,
            x,
            tolerance,
            max_iterations,
            &mut work,
        );
        self.work = work;
        result.map_err(|(residual, iterations)| Error::NoConvergence {
            time,
            residual,
            iterations,
        })
    }

    /// out = M y with the membrane diagonal of the current solve.
    fn apply(&self, y: &[f64], out: &mut [f64]) {
        for i in 0..y.len() {
            out[i] = (self.membrane[i] + self.axial_diag[i] + self.gap_diag[i]) * y[i];
        }
        for i in 0..y.len() {
            let p = self.parent[i];
            if p != NO_PARENT {
                out[i] -= self.axial[i] * y[p];
                out[p] -= self.axial[i] * y[i];
            }
        }
        self.gaps.subtract_product(y, out);
    }

    /// `rhs −= (L_axial + L_gap) v`: adds to each node the currents flowing in from its
    /// axial neighbours and junction partners at voltages `v`.
    pub fn add_coupling_currents(&self, v: &[f64], rhs: &mut [f64]) {
        for i in 0..v.len() {
            let p = self.parent[i];
            if p != NO_PARENT {
                let flow = self.axial[i] * (v[p] - v[i]);
                rhs[i] += flow;
                rhs[p] -= flow;
            }
        }
        for &k in &self.gaps.nonempty {
            let mut flow = 0.0;
            for j in self.gaps.start[k]..self.gaps.start[k + 1] {
                flow += self.gaps.g[j] * (v[self.gaps.col[j]] - v[k]);
            }
            rhs[k] += flow;
        }
    }
}

/// Symmetric couplings (conductances between pairs) as compressed rows: row k couples
/// to `col[j]` with conductance `g[j]` for j in `start[k]..start[k + 1]`.
#[derive(Debug, Clone)]
struct Couplings {
    start: Vec<usize>,
    col: Vec<usize>,
    g: Vec<f64>,
    /// Rows with at least one coupling.
    nonempty: Vec<usize>,
}

impl Couplings {
    /// From pairs (a\[j\], b\[j\]) with conductance g\[j\], over `n` rows.
    fn new(n: usize, a: &[usize], b: &[usize], g: &[f64]) -> Couplings {
        // Junctions joining the same two nodes (c302 lists each pair in both directions)
        // become one entry with their summed conductance.
        let mut rows: Vec<Vec<(usize, f64)>> = vec![Vec::new(); n];
        let mut add =
            |row: usize, col: usize, g: f64| match rows[row].iter_mut().find(|(c, _)| *c == col) {
                Some(entry) => entry.1 += g,
                None => rows[row].push((col, g)),
            };
        for ((&a, &b), &g) in a.iter().zip(b).zip(g) {
            add(a, b, g);
            add(b, a, g);
        }
        let mut c = Couplings {
            start: vec![0],
            col: Vec::new(),
            g: Vec::new(),
            nonempty: Vec::new(),
        };
        for (k, row) in rows.iter().enumerate() {
            if !row.is_empty() {
                c.nonempty.push(k);
            }
            for &(j, g) in row {
                c.col.push(j);
                c.g.push(g);
            }
            c.start.push(c.col.len());
        }
        c
    }

    fn is_empty(&self) -> bool {
        self.g.is_empty()
    }

    /// out −= C y, C the matrix of couplings (off-diagonal conductances).
    #[inline]
    fn subtract_product(&self, y: &[f64], out: &mut [f64]) {
        for &k in &self.nonempty {
            let mut sum = 0.0;
            for j in self.start[k]..self.start[k + 1] {
                sum += self.g[j] * y[self.col[j]];
            }
            out[k] -= sum;
        }
    }
}

/// The roots' system D' + L_gap after the trees are eliminated.
struct RootSystem<'a> {
    d: &'a [f64],
    couplings: &'a Couplings,
}

impl Operator for RootSystem<'_> {
    fn apply(&self, y: &[f64], out: &mut [f64]) {
        for k in 0..y.len() {
            out[k] = self.d[k] * y[k];
        }
        self.couplings.subtract_product(y, out);
    }

    fn precondition(&mut self, r: &[f64], z: &mut [f64]) {
        for k in 0..r.len() {
            z[k] = r[k] / self.d[k];
        }
    }
}

/// The whole system, preconditioned by the tree solves.
struct WholeSystem<'a>(&'a mut TreeSolver);

impl Operator for WholeSystem<'_> {
    fn apply(&self, y: &[f64], out: &mut [f64]) {
        self.0.apply(y, out)
    }

    fn precondition(&mut self, r: &[f64], z: &mut [f64]) {
        self.0.b.copy_from_slice(r);
        self.0.tree_solve(z);
    }
}

#[cfg(test)]
mod tests;
