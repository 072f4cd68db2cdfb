//! How cables become compartments.
//!
//! The default reproduces jNeuroML's NEURON export: one section per unbranched segment
//! group (`neuroLexId="sao864921383"`) with `numberInternalDivisions` compartments
//! (1 when not given), and one section for each segment that belongs to no such group.

use neuroml::cell::Cell;
use neuroml::morphology::Cable;

/// A discretization policy.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Discretization {
    /// One section per NeuroML cable with its `numberInternalDivisions` compartments,
    /// as jNeuroML/NEURON do.
    #[default]
    PerCable,
    /// Exactly `n` compartments per cable.
    FixedPerCable(u32),
    /// As many compartments per cable as needed so that none is longer than this \[µm\].
    MaxLength(f64),
    /// One compartment per NeuroML segment.
    PerSegment,
}

impl Discretization {
    /// Number of compartments a cable gets under this policy.
    pub fn cable_compartments(&self, cell: &Cell, cable: &Cable) -> usize {
        match *self {
            Discretization::PerCable => cable.divisions.max(1) as usize,
            Discretization::FixedPerCable(n) => n.max(1) as usize,
            Discretization::PerSegment => cable.segments.len().max(1),
            Discretization::MaxLength(max) => {
                let m = &cell.morphology;
                let length: f64 = cable
                    .segments
                    .iter()
                    .filter_map(|&id| m.segment(id))
                    .map(|s| m.proximal(s).distance(&s.distal))
                    .sum();
                ((length / max).ceil() as usize).max(1)
            }
        }
    }

    /// Number of compartments of one cell.
    pub fn cell_compartments(&self, cell: &Cell) -> usize {
        cell.morphology
            .cables()
            .iter()
            .map(|c| self.cable_compartments(cell, c))
            .sum()
    }

    /// Number of compartments of the model's network (each cell instance counted).
    pub fn model_compartments(&self, model: &neuroml::Model) -> usize {
        model
            .cell_instances()
            .into_iter()
            .map(|(cell, n)| n * self.cell_compartments(cell))
            .sum::<usize>()
            + model.point_cell_instances()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn forms() -> neuroml::Model {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        neuroml::load(root.join("neuroml/tests/fixtures/forms/LEMS_forms.xml")).unwrap()
    }

    #[test]
    fn policies_count_compartments() {
        let model = forms();
        let cell = model.cell("hh_cell").unwrap();
        // Cables: soma (1 segment), dendrite (3 segments, numberInternalDivisions 4), a lone root.
        assert_eq!(Discretization::PerCable.cell_compartments(cell), 1 + 4 + 1);
        assert_eq!(Discretization::FixedPerCable(2).cell_compartments(cell), 6);
        assert_eq!(Discretization::PerSegment.cell_compartments(cell), 5);
        // Lengths 10, 20 + 20 + 0, 10 µm at no more than 5 µm each.
        assert_eq!(
            Discretization::MaxLength(5.0).cell_compartments(cell),
            2 + 8 + 2
        );
        // Five cells in the network.
        assert_eq!(Discretization::PerCable.model_compartments(&model), 30);
    }

    #[test]
    fn bundled_model_compartments() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let model = neuroml::load(root.join("models/c302_D1/LEMS_c302_D1.xml")).unwrap();
        assert_eq!(Discretization::PerCable.model_compartments(&model), 2041);
        assert_eq!(
            Discretization::PerSegment.model_compartments(&model),
            13_869
        );
    }
}
