//! The typed description a model's files add up to, and summary counts over it.

use std::path::PathBuf;

use crate::cell::Cell;
use crate::channel::IonChannel;
use crate::error::{Error, ErrorKind};
use crate::lems::{Component, LemsSimulation, TypeRegistry};
use crate::network::{Network, ProjectionKind};
use crate::synapse::{ConcentrationModel, InputSource, Synapse};
use crate::units::UnitSystem;

/// Where an item was defined: an index into [`Model::files`] and a 1-based line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Origin {
    /// Index into [`Model::files`].
    pub file: usize,
    /// 1-based line.
    pub line: u32,
}

/// Everything read from a model's files (the file given and all it includes).
#[derive(Debug, Clone)]
pub struct Model {
    /// Every file read, the one given first.
    pub files: Vec<PathBuf>,
    /// Cell definitions.
    pub cells: Vec<Cell>,
    /// Ion channels.
    pub ion_channels: Vec<IonChannel>,
    /// Concentration models.
    pub concentration_models: Vec<ConcentrationModel>,
    /// Synapse types.
    pub synapses: Vec<Synapse>,
    /// Current input sources.
    pub input_sources: Vec<InputSource>,
    /// Networks.
    pub networks: Vec<Network>,
    /// Other top-level components of LEMS types.
    pub components: Vec<Component>,
    /// User-defined LEMS ComponentTypes.
    pub component_types: TypeRegistry,
    /// LEMS simulations.
    pub simulations: Vec<LemsSimulation>,
    /// The LEMS `<Target component>`, if any.
    pub target: Option<String>,
    /// Units and dimensions in force (core plus LEMS-declared).
    pub units: UnitSystem,
    /// Cross-reference problems found (always empty after [`crate::load`], which fails on
    /// the first; filled by [`crate::load_partial`]).
    pub unresolved: Vec<Error>,
}

/// Counts over a model, as `celegans model info` prints them.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Summary {
    /// The network summarised.
    pub network: Option<String>,
    /// Cell instances in the network (all populations of cells).
    pub cells: usize,
    /// Of `cells`, those that are point cells: components of LEMS cell types (`iafCell`,
    /// c302's `iafActivityCell`, `cellW2D`), one compartment each.
    pub point_cells: usize,
    /// Cell definitions (types), used or not: `<cell>`s and point-cell components.
    pub cell_types: usize,
    /// Segments over all cell instances.
    pub segments: usize,
    /// Unbranched cables (NEURON sections) over all cell instances.
    pub cables: usize,
    /// Ion channel ids used by the network's cells.
    pub channel_kinds: Vec<String>,
    /// Chemical connections (`projection` and `continuousProjection`).
    pub chemical_synapses: usize,
    /// Electrical connections (gap junctions).
    pub gap_junctions: usize,
    /// Inputs placed on cells.
    pub inputs: usize,
    /// Names of the user-defined ComponentTypes.
    pub component_types: Vec<String>,
    /// Files read.
    pub files: usize,
}

impl Model {
    /// The cell with this id.
    pub fn cell(&self, id: &str) -> Option<&Cell> {
        self.cells.iter().find(|c| c.id == id)
    }

    /// The component `id` if it is a point cell: a component of a type with LEMS dynamics
    /// that extends NeuroML's `baseCellMembPot` (`iafCell`, c302's `iafActivityCell`,
    /// `cellW2D`).
    pub fn point_cell(&self, id: &str) -> Option<&Component> {
        self.components
            .iter()
            .find(|c| c.id.as_deref() == Some(id))
            .filter(|c| self.is_point_cell(c))
    }

    /// Whether a component is a point cell (see [`Model::point_cell`]).
    fn is_point_cell(&self, c: &Component) -> bool {
        self.component_types.is_a(&c.type_name, "baseCellMembPot")
    }

    /// Point-cell instances in the network.
    pub fn point_cell_instances(&self) -> usize {
        self.network().map_or(0, |net| {
            net.populations
                .iter()
                .filter(|p| self.point_cell(&p.component).is_some())
                .map(|p| p.size as usize)
                .sum()
        })
    }

    /// The ion channel with this id.
    pub fn ion_channel(&self, id: &str) -> Option<&IonChannel> {
        self.ion_channels.iter().find(|c| c.id == id)
    }

    /// The synapse with this id.
    pub fn synapse(&self, id: &str) -> Option<&Synapse> {
        self.synapses.iter().find(|s| s.id() == id)
    }

    /// The concentration model with this id.
    pub fn concentration_model(&self, id: &str) -> Option<&ConcentrationModel> {
        self.concentration_models.iter().find(|c| c.id() == id)
    }

    /// The input source with this id.
    pub fn input_source(&self, id: &str) -> Option<&InputSource> {
        self.input_sources.iter().find(|c| c.id() == id)
    }

    /// The simulation with this id.
    pub fn simulation(&self, id: &str) -> Option<&LemsSimulation> {
        self.simulations.iter().find(|s| s.id == id)
    }

    /// The network to run: the LEMS target simulation's network, else the only (or first)
    /// network.
    pub fn network(&self) -> Option<&Network> {
        let by_target = self
            .target
            .as_deref()
            .and_then(|t| self.simulation(t))
            .and_then(|s| self.networks.iter().find(|n| n.id == s.target));
        by_target.or_else(|| self.networks.first())
    }

    /// An error located at an item's origin.
    pub fn error_at(
        &self,
        origin: crate::Origin,
        element: impl Into<String>,
        kind: ErrorKind,
    ) -> Error {
        Error::new(
            self.files.get(origin.file).cloned().unwrap_or_default(),
            origin.line,
            element,
            kind,
        )
    }

    /// Each cell definition the network instantiates, with its number of instances (every
    /// cell once when the model has no network).
    pub fn cell_instances(&self) -> Vec<(&Cell, usize)> {
        match self.network() {
            Some(net) => net
                .populations
                .iter()
                .filter_map(|p| self.cell(&p.component).map(|c| (c, p.size as usize)))
                .collect(),
            None => self.cells.iter().map(|c| (c, 1)).collect(),
        }
    }

    /// Counts for `model info`. Cells, segments and cables count cell *instances* in the
    /// network; a model without a network counts each cell definition once.
    pub fn summary(&self) -> Summary {
        let mut cells = 0;
        let mut segments = 0;
        let mut cables = 0;
        let mut channel_kinds: Vec<String> = Vec::new();
        for (cell, n) in self.cell_instances() {
            cells += n;
            segments += n * cell.morphology.segments.len();
            cables += n * cell.morphology.cables().len();
            for d in &cell.membrane.channel_densities {
                if !channel_kinds.contains(&d.ion_channel) {
                    channel_kinds.push(d.ion_channel.clone());
                }
            }
        }
        let network = self.network();
        let (mut chemical, mut electrical, mut inputs) = (0, 0, 0);
        if let Some(net) = network {
            for p in &net.projections {
                match p.kind {
                    ProjectionKind::Electrical => electrical += p.connections.len(),
                    _ => chemical += p.connections.len(),
                }
            }
            inputs = net.input_lists.iter().map(|l| l.inputs.len()).sum();
        }
        let point_cells = self.point_cell_instances();
        cells += point_cells;
        let point_cell_types = self
            .components
            .iter()
            .filter(|c| c.id.is_some() && self.is_point_cell(c))
            .count();
        let mut component_types: Vec<String> = self
            .component_types
            .types()
            .map(|t| t.name.clone())
            .collect();
        component_types.sort();
        Summary {
            network: network.map(|n| n.id.clone()),
            cells,
            point_cells,
            cell_types: self.cells.len() + point_cell_types,
            segments,
            cables,
            channel_kinds,
            chemical_synapses: chemical,
            gap_junctions: electrical,
            inputs,
            component_types,
            files: self.files.len(),
        }
    }
}
