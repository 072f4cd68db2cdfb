//! Description + discretization policy → compartments ("nodes"), as plain data.
//!
//! Nodes follow NEURON's scheme. A cable of n compartments has n nodes at the centres
//! of n equal-length pieces; compartment 0 of a child cable connects to the node where
//! it is attached through the child's first half piece. A child attached at the very end
//! (x = 1) or start (x = 0) of its parent joins a *zero-area node* there, linked to the
//! parent's last (first) node through half a piece; where a single child joins the end,
//! the zero-area node is eliminated exactly (the child hangs from the parent's last node
//! through the two half pieces in series). Nodes are numbered cell by cell,
//! parents before children, so each cell is a tree that an O(n) (Hines) elimination
//! solves.

use std::collections::HashMap;

use neuroml::cell::Cell;
use neuroml::morphology::Cable;
use neuroml::Model;

use crate::discretization::Discretization;
use crate::error::{Error, Result};
use crate::geometry::Polyline;

/// Marks a node without parent (a cell's root).
pub const NO_PARENT: usize = usize::MAX;

/// Where a point of a cell lies: the node that represents it.
#[derive(Debug, Clone, PartialEq)]
pub struct CableLayout {
    /// The cable's (segment group's) id.
    pub id: String,
    /// Its compartment nodes, in order from x = 0 to x = 1.
    pub nodes: Vec<usize>,
    /// Arc length \[µm\].
    pub length: f64,
    /// Start and end of each segment along the cable, as fractions of its length.
    pub segments: Vec<(u32, f64, f64)>,
}

/// One cell instance of the network.
#[derive(Debug, Clone, PartialEq)]
pub struct CellLayout {
    /// Population id.
    pub population: String,
    /// Index in the population.
    pub index: u32,
    /// The cell type (NeuroML `<cell>` id).
    pub cell_type: String,
    /// Its first node and one past its last.
    pub nodes: std::ops::Range<usize>,
    /// Its cables.
    pub cables: Vec<CableLayout>,
    /// Membrane area of each segment in each node: `(node, segment, area [µm²])`.
    pub segment_areas: Vec<(usize, u32, f64)>,
}

impl CellLayout {
    /// A short name: the population, with `[index]` when the population has several cells.
    pub fn name(&self) -> String {
        format!("{}[{}]", self.population, self.index)
    }

    /// The node holding the point `fraction_along` of segment `segment`.
    pub fn node_at(&self, segment: u32, fraction_along: f64) -> Option<usize> {
        for cable in &self.cables {
            if let Some(&(_, a, b)) = cable.segments.iter().find(|s| s.0 == segment) {
                let x = a + fraction_along.clamp(0.0, 1.0) * (b - a);
                let n = cable.nodes.len();
                let j = ((x * n as f64).floor() as usize).min(n - 1);
                return Some(cable.nodes[j]);
            }
        }
        None
    }
}

/// The discretized network.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Layout {
    /// Cell instances, in the order of the network's populations.
    pub cells: Vec<CellLayout>,
    /// Parent of each node ([`NO_PARENT`] for roots); always smaller than the node.
    pub parent: Vec<usize>,
    /// Axial conductance between each node and its parent \[µS\].
    pub axial_conductance: Vec<f64>,
    /// Membrane area of each node \[µm²\] (0 for zero-area nodes).
    pub area: Vec<f64>,
    /// Membrane capacitance of each node \[nF\].
    pub capacitance: Vec<f64>,
    /// Initial membrane potential of each node \[mV\].
    pub initial_v: Vec<f64>,
    /// The cell (index into `cells`) each node belongs to.
    pub node_cell: Vec<usize>,
    /// Compartment nodes (nodes with membrane), excluding zero-area nodes.
    pub compartments: usize,
}

/// NEURON's default axial resistivity, 35.4 Ω·cm \[Ω·m\].
const DEFAULT_RESISTIVITY: f64 = 0.354;
/// 1 µF/cm² \[nF/µm²\].
const DEFAULT_SPECIFIC_CAPACITANCE: f64 = 1e-5;
/// NEURON's default initial potential \[mV\].
const DEFAULT_INITIAL_V: f64 = -65.0;

impl Layout {
    /// Number of nodes (compartments plus zero-area nodes).
    pub fn len(&self) -> usize {
        self.parent.len()
    }

    /// Whether there are no nodes.
    pub fn is_empty(&self) -> bool {
        self.parent.is_empty()
    }

    /// The cell instance named `population` (or `population[index]`).
    pub fn cell_index(&self, name: &str) -> Option<usize> {
        let (pop, index) = match name.split_once('[') {
            Some((p, rest)) => (p, rest.trim_end_matches(']').parse().ok()?),
            None => (name, 0),
        };
        self.cells
            .iter()
            .position(|c| c.population == pop && c.index == index)
    }

    /// A label for a node: `AVBL[0] Soma 0/1`.
    pub fn node_label(&self, node: usize) -> String {
        let cell = &self.cells[self.node_cell[node]];
        for cable in &cell.cables {
            if let Some(j) = cable.nodes.iter().position(|&n| n == node) {
                return format!(
                    "{} {} compartment {}/{}",
                    cell.name(),
                    cable.id,
                    j,
                    cable.nodes.len()
                );
            }
        }
        format!("{} zero-area node {}", cell.name(), node - cell.nodes.start)
    }
}

/// Values that segment groups assign, per segment (later entries override earlier ones).
fn per_segment(
    cell: &Cell,
    values: &[neuroml::cell::GroupValue],
    default: f64,
) -> HashMap<u32, f64> {
    let mut out: HashMap<u32, f64> = cell
        .morphology
        .segments
        .iter()
        .map(|s| (s.id, default))
        .collect();
    for gv in values {
        for s in cell
            .morphology
            .resolve_group(&gv.segment_group)
            .unwrap_or_default()
        {
            out.insert(s, gv.value);
        }
    }
    out
}

/// Where a cable attaches to its parent.
enum Attach {
    Root,
    /// On the parent cable at arc fraction x.
    At {
        parent_cable: usize,
        x: f64,
    },
}

const END_EPS: f64 = 1e-9;

/// Lays out every cell instance of the model's network (each cell once when there is no
/// network) under the policy.
pub fn discretize(model: &Model, policy: Discretization) -> Result<Layout> {
    check_size(model, policy)?;
    let mut layout = Layout::default();
    let instances: Vec<(String, u32, CellKind)> = match model.network() {
        Some(net) => {
            let mut v = Vec::new();
            for p in &net.populations {
                let kind = match model.cell(&p.component) {
                    Some(cell) => CellKind::Compartmental(cell),
                    None if model.point_cell(&p.component).is_some() => {
                        CellKind::Point(&p.component)
                    }
                    None => {
                        return Err(Error::Unsupported {
                            what: format!(
                                "population {}: component '{}' is neither a multicompartment cell nor a point cell with LEMS dynamics",
                                p.id, p.component
                            ),
                        })
                    }
                };
                for i in 0..p.size {
                    let index = p.instances.get(i as usize).map(|x| x.id).unwrap_or(i);
                    v.push((p.id.clone(), index, kind));
                }
            }
            v
        }
        None => model
            .cells
            .iter()
            .map(|c| (c.id.clone(), 0, CellKind::Compartmental(c)))
            .collect(),
    };
    for (population, index, kind) in instances {
        match kind {
            CellKind::Compartmental(cell) => add_cell(&mut layout, population, index, cell, policy),
            CellKind::Point(id) => add_point_cell(&mut layout, population, index, id),
        }
    }
    layout.compartments = layout.area.iter().filter(|&&a| a > 0.0).count();
    Ok(layout)
}

/// What a population instantiates.
#[derive(Clone, Copy)]
enum CellKind<'a> {
    /// A NeuroML `<cell>` with a morphology.
    Compartmental(&'a Cell),
    /// A component of a LEMS cell type (by id): one node.
    Point(&'a str),
}

/// The membrane area jNeuroML's NEURON export gives a point cell's section (length and
/// diameter 10 µm) \[µm²\]; its capacitance is the type's C all the same.
pub const POINT_CELL_AREA: f64 = 100.0 * std::f64::consts::PI;

/// Adds a point cell: one node, no axial neighbours, a "soma" of one segment (0) so that
/// connections and probes find it. Its capacitance and initial voltage are set when the
/// simulation is built, from the type's dynamics.
fn add_point_cell(layout: &mut Layout, population: String, index: u32, id: &str) {
    let n = layout.len();
    let cell = layout.cells.len();
    layout.parent.push(NO_PARENT);
    layout.axial_conductance.push(0.0);
    layout.area.push(POINT_CELL_AREA);
    layout.capacitance.push(f64::NAN);
    layout.initial_v.push(DEFAULT_INITIAL_V);
    layout.node_cell.push(cell);
    layout.cells.push(CellLayout {
        population,
        index,
        cell_type: id.to_string(),
        nodes: n..n + 1,
        cables: vec![CableLayout {
            id: "soma".into(),
            nodes: vec![n],
            length: 10.0,
            segments: vec![(0, 0.0, 1.0)],
        }],
        segment_areas: vec![(n, 0, POINT_CELL_AREA)],
    });
}

/// Memory a compartment takes in the running network, with its channels, synapses and
/// solver rows (a generous estimate) \[bytes\].
const BYTES_PER_COMPARTMENT: f64 = 4096.0;

/// Refuses a network whose compartments would not fit in memory, before any is laid out
/// (a population's `size` or a fine discretization can ask for billions).
fn check_size(model: &Model, policy: Discretization) -> Result<()> {
    let per_cell = |cell: &Cell| -> f64 {
        cell.morphology
            .cables()
            .iter()
            .map(|c| policy.cable_compartments(cell, c) as f64)
            .sum()
    };
    let total: f64 = match model.network() {
        Some(net) => net
            .populations
            .iter()
            .map(|p| match model.cell(&p.component) {
                Some(c) => f64::from(p.size) * per_cell(c),
                None => f64::from(p.size),
            })
            .sum(),
        None => model.cells.iter().map(per_cell).sum(),
    };
    limits::check(
        || format!("a network of {total:.3e} compartments"),
        total * BYTES_PER_COMPARTMENT,
    )
    .map_err(|e| Error::Invalid(e.to_string()))
}

fn add_cell(
    layout: &mut Layout,
    population: String,
    index: u32,
    cell: &Cell,
    policy: Discretization,
) {
    let m = &cell.morphology;
    let cables: Vec<Cable> = m.cables();
    let polylines: Vec<Polyline> = cables.iter().map(|c| Polyline::of_cable(m, c)).collect();
    let counts: Vec<usize> = cables
        .iter()
        .map(|c| policy.cable_compartments(cell, c))
        .collect();
    // Segment → (cable, start fraction, end fraction).
    let mut seg_pos: HashMap<u32, (usize, f64, f64)> = HashMap::new();
    for (ci, (cable, poly)) in cables.iter().zip(&polylines).enumerate() {
        let len = poly.length();
        for (k, &s) in poly.piece_segment.iter().enumerate() {
            let (a, b) = if len > 0.0 {
                (poly.arc[k] / len, poly.arc[k + 1] / len)
            } else {
                (0.0, 1.0)
            };
            seg_pos.insert(s, (ci, a, b));
        }
        debug_assert_eq!(cable.segments.len(), poly.piece_segment.len());
    }
    // Each cable's attachment, from its first segment's parent.
    let attach: Vec<Attach> = cables
        .iter()
        .map(|cable| {
            let parent = cable
                .segments
                .first()
                .and_then(|&s| m.segment(s))
                .and_then(|s| s.parent);
            match parent.and_then(|p| {
                seg_pos
                    .get(&p.segment)
                    .map(|&(pc, a, b)| (pc, a + p.fraction_along * (b - a)))
            }) {
                Some((parent_cable, x)) => Attach::At { parent_cable, x },
                None => Attach::Root,
            }
        })
        .collect();
    let needs_end = |ci: usize, at_one: bool| {
        attach.iter().any(|a| match *a {
            Attach::At { parent_cable, x } if parent_cable == ci => {
                if at_one {
                    x >= 1.0 - END_EPS
                } else {
                    x <= END_EPS
                }
            }
            _ => false,
        })
    };
    // Cables attached at the very end of cable `ci`.
    let end_children = |ci: usize| {
        attach.iter().filter(|a| matches!(**a, Attach::At { parent_cable, x } if parent_cable == ci && x >= 1.0 - END_EPS)).count()
    };
    // Parents before children: breadth-first from the roots.
    let mut order: Vec<usize> = (0..cables.len())
        .filter(|&i| matches!(attach[i], Attach::Root))
        .collect();
    let mut i = 0;
    while i < order.len() {
        let p = order[i];
        for (c, a) in attach.iter().enumerate() {
            if matches!(*a, Attach::At { parent_cable, .. } if parent_cable == p)
                && !order.contains(&c)
            {
                order.push(c);
            }
        }
        i += 1;
    }

    let cm = per_segment(
        cell,
        &cell.membrane.specific_capacitance,
        DEFAULT_SPECIFIC_CAPACITANCE,
    );
    let v0 = per_segment(cell, &cell.membrane.init_memb_potential, DEFAULT_INITIAL_V);
    let rho = per_segment(cell, &cell.intracellular.resistivity, DEFAULT_RESISTIVITY);

    let cell_index = layout.cells.len();
    let start = layout.len();
    let mut cable_nodes: Vec<Vec<usize>> = vec![Vec::new(); cables.len()];
    let mut zero_end: Vec<Option<usize>> = vec![None; cables.len()];
    let mut one_end: Vec<Option<usize>> = vec![None; cables.len()];
    // An end with a single child gets no zero-area node: its one child hangs from the
    // parent's last node through both half pieces in series, which is exactly what
    // eliminating the zero-area node (no membrane, no attachments) gives.
    let mut one_end_series: Vec<Option<(usize, f64)>> = vec![None; cables.len()];
    let mut segment_areas = Vec::new();
    let push_node = |layout: &mut Layout, parent: usize, g: f64, v: f64| {
        layout.parent.push(parent);
        layout.axial_conductance.push(g);
        layout.area.push(0.0);
        layout.capacitance.push(0.0);
        layout.initial_v.push(v);
        layout.node_cell.push(cell_index);
        layout.len() - 1
    };
    let conductance = |r: f64| 1.0 / r.max(1e-9);
    for &ci in &order {
        let poly = &polylines[ci];
        let n = counts[ci];
        let len = poly.length();
        let piece = len / n as f64;
        let first_segment = cables[ci].segments.first().copied().unwrap_or(0);
        let r = rho
            .get(&first_segment)
            .copied()
            .unwrap_or(DEFAULT_RESISTIVITY);
        let init = v0.get(&first_segment).copied().unwrap_or(DEFAULT_INITIAL_V);
        // The node compartment 0 hangs from, and the conductance in series with its
        // first half piece (when the end node it would join is eliminated).
        let mut series = None;
        let mut parent = match attach[ci] {
            Attach::Root => NO_PARENT,
            Attach::At { parent_cable, x } => {
                if x >= 1.0 - END_EPS {
                    match one_end_series[parent_cable] {
                        Some((node, g)) => {
                            series = Some(g);
                            node
                        }
                        None => one_end[parent_cable].expect("end node made before children"),
                    }
                } else if x <= END_EPS {
                    zero_end[parent_cable].expect("start node made before children")
                } else {
                    let pn = cable_nodes[parent_cable].len();
                    cable_nodes[parent_cable][((x * pn as f64).floor() as usize).min(pn - 1)]
                }
            }
        };
        if parent == NO_PARENT && needs_end(ci, false) {
            parent = push_node(layout, NO_PARENT, 0.0, init);
        }
        // Children at x = 0 of a non-root cable join the same point as this cable.
        zero_end[ci] = Some(parent).filter(|&p| p != NO_PARENT);
        for j in 0..n {
            let (a, b) = (j as f64 * piece, (j + 1) as f64 * piece);
            // Centre of the previous node (or the cable's start) to this centre; the parts
            // outside the cable (before x = 0) contribute nothing.
            let g = if parent == NO_PARENT {
                0.0
            } else {
                let g = conductance(r * poly.resistance_integral(a - piece / 2.0, a + piece / 2.0));
                match series.take() {
                    Some(g_end) => 1.0 / (1.0 / g_end + 1.0 / g),
                    None => g,
                }
            };
            let node = push_node(layout, parent, g, init);
            let areas = poly.areas(a, b);
            let mut capacitance = 0.0;
            for &(seg, area) in &areas {
                layout.area[node] += area;
                capacitance += area
                    * cm.get(&seg)
                        .copied()
                        .unwrap_or(DEFAULT_SPECIFIC_CAPACITANCE);
                segment_areas.push((node, seg, area));
            }
            layout.capacitance[node] = capacitance;
            if let Some(&(seg, _)) = areas.first() {
                layout.initial_v[node] = v0.get(&seg).copied().unwrap_or(init);
            }
            cable_nodes[ci].push(node);
            parent = node;
        }
        if needs_end(ci, true) {
            let g = conductance(r * poly.resistance_integral(len - piece / 2.0, len));
            if end_children(ci) == 1 {
                one_end_series[ci] = Some((parent, g));
            } else {
                one_end[ci] = Some(push_node(layout, parent, g, layout.initial_v[parent]));
            }
        }
    }
    let cables_out = cables
        .iter()
        .enumerate()
        .map(|(ci, c)| CableLayout {
            id: c.id.clone(),
            nodes: cable_nodes[ci].clone(),
            length: polylines[ci].length(),
            segments: c
                .segments
                .iter()
                .filter_map(|s| seg_pos.get(s).map(|&(_, a, b)| (*s, a, b)))
                .collect(),
        })
        .collect();
    layout.cells.push(CellLayout {
        population,
        index,
        cell_type: cell.id.clone(),
        nodes: start..layout.len(),
        cables: cables_out,
        segment_areas,
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn root() -> &'static Path {
        Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap()
    }

    #[test]
    fn bundled_model_layout() {
        let model = neuroml::load(root().join("models/c302_D1/LEMS_c302_D1.xml")).unwrap();
        let layout = discretize(&model, Discretization::PerCable).unwrap();
        assert_eq!(layout.cells.len(), 302);
        assert_eq!(layout.compartments, 2041);
        for (i, &p) in layout.parent.iter().enumerate() {
            assert!(p == NO_PARENT || p < i, "node {i} has parent {p}");
            if p != NO_PARENT {
                assert_eq!(layout.node_cell[p], layout.node_cell[i]);
                assert!(layout.axial_conductance[i] > 0.0);
            }
        }
        // One root per cell.
        assert_eq!(
            layout.parent.iter().filter(|&&p| p == NO_PARENT).count(),
            302
        );
        // Zero-area nodes are left only where several cables meet or at a root.
        let mut children = vec![0; layout.len()];
        layout
            .parent
            .iter()
            .filter(|&&p| p != NO_PARENT)
            .for_each(|&p| children[p] += 1);
        for (i, &k) in children.iter().enumerate() {
            assert!(
                layout.area[i] > 0.0 || k >= 2 || layout.parent[i] == NO_PARENT,
                "zero-area node {i}"
            );
        }
        let fine = discretize(&model, Discretization::PerSegment).unwrap();
        assert_eq!(fine.compartments, 13_869);
        // The same membrane, cut finer.
        let total = |l: &Layout| l.area.iter().sum::<f64>();
        assert!((total(&layout) - total(&fine)).abs() < 1e-6 * total(&layout));
    }

    #[test]
    fn spherical_soma_is_a_cylinder_of_length_diameter() {
        let model = neuroml::load(root().join("models/c302_D1/LEMS_c302_D1.xml")).unwrap();
        let layout = discretize(&model, Discretization::PerCable).unwrap();
        let avbl = &layout.cells[layout.cell_index("AVBL").unwrap()];
        let soma = avbl.cables.iter().find(|c| c.id == "Soma").unwrap();
        let cell = model.cell("AVBL").unwrap();
        let d = cell.morphology.segment(0).unwrap().distal.diameter;
        assert!((soma.length - d).abs() < 1e-12);
        let area = layout.area[soma.nodes[0]];
        assert!((area - std::f64::consts::PI * d * d).abs() < 1e-9);
        assert_eq!(avbl.node_at(0, 0.5), Some(soma.nodes[0]));
    }
}
