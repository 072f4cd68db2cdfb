//! From a model description to a ready-to-run [`Simulation`]: discretize, place channels
//! and concentration pools on compartments, connect synapses and inputs.

use std::collections::{HashMap, HashSet};

use neuroml::cell::Reversal;
use neuroml::lems::TypeRegistry;
use neuroml::network::{CellRef, ProjectionKind};
use neuroml::synapse::Synapse;
use neuroml::Model;

use crate::channels::ChannelArrays;
use crate::concentration::IonPool;
use crate::discretization::Discretization;
use crate::error::{Error, Result};
use crate::events::{SpikeSources, Target};
use crate::inputs::{CurrentInputs, Waveform};
use crate::layout::discretize;
use crate::point_cells::PointCells;
use crate::simulation::{Method, Simulation};
use crate::synapses::{CoreGraded, GapJunctions, LemsSynapses};

/// How to simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// Time step \[ms\].
    pub dt: f64,
    /// Voltage method.
    pub method: Method,
    /// Compartments.
    pub discretization: Discretization,
    /// Relative residual for the linear solver.
    pub tolerance: f64,
    /// Populations (cells) to remove with all their connections and inputs.
    pub ablate: Vec<String>,
    /// Merge the event-driven synapses of one type and parameters on one node into one
    /// instance that receives all their connections' events, where the type's equations
    /// allow it exactly ([`crate::dynamics::CompiledDynamics::superposable`]; c302's
    /// `expTwoSynapse`s: 2,279 connections on 594 instances in `c302_C_Full`). Off: one
    /// instance per connection, as jNeuroML's NEURON export creates them.
    pub superpose: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            dt: 0.1,
            method: Method::default(),
            discretization: Discretization::PerCable,
            tolerance: 1e-10,
            ablate: Vec::new(),
            superpose: true,
        }
    }
}

/// NEURON's default temperature, 6.3 °C \[K\].
const DEFAULT_TEMPERATURE: f64 = 279.45;

/// Builds the simulation of the model's network.
pub fn build(model: &Model, options: &Options) -> Result<Simulation> {
    if !(options.dt > 0.0 && options.dt.is_finite()) {
        return Err(Error::Invalid(format!(
            "dt must be a positive number of ms, not {}",
            options.dt
        )));
    }
    let ablated;
    let model = if options.ablate.is_empty() {
        model
    } else {
        ablated = ablate(model, &options.ablate)?;
        &ablated
    };
    let mut layout = discretize(model, options.discretization)?;
    let n = layout.len();
    let temperature = model
        .network()
        .and_then(|n| n.temperature)
        .unwrap_or(DEFAULT_TEMPERATURE);
    let registry = &model.component_types;

    // Concentration pools, one per ion.
    let mut pools: Vec<IonPool> = Vec::new();
    for cell in &layout.cells {
        let Some(description) = model.cell(&cell.cell_type) else {
            continue; // a point cell: no ion pools
        };
        for species in &description.intracellular.species {
            let conc_model = model
                .concentration_model(&species.concentration_model)
                .ok_or_else(|| Error::Unsupported {
                    what: format!(
                        "cell {}: unknown concentration model '{}'",
                        cell.cell_type, species.concentration_model
                    ),
                })?;
            let segments: HashSet<u32> = description
                .morphology
                .resolve_group(&species.segment_group)
                .unwrap_or_default()
                .into_iter()
                .collect();
            let k = match pools.iter().position(|p| p.ion == species.ion) {
                Some(k) => k,
                None => {
                    pools.push(IonPool::new(&species.ion, n));
                    pools.len() - 1
                }
            };
            let mut done = HashSet::new();
            for &(node, seg, _) in &cell.segment_areas {
                if segments.contains(&seg) && done.insert(node) {
                    pools[k].push(
                        node,
                        layout.area[node],
                        conc_model,
                        species.initial_concentration,
                    )?;
                }
            }
        }
    }

    // Point cells, one set per type; their nodes take the type's capacitance and initial v.
    let mut point_cells: Vec<PointCells> = Vec::new();
    for cell in &layout.cells {
        let Some(component) = model.point_cell(&cell.cell_type) else {
            continue;
        };
        let k = index_or_push(
            &mut point_cells,
            |p| p.dynamics.type_name == component.type_name,
            || PointCells::new(registry, &component.type_name),
        )?;
        point_cells[k].push(component, cell.nodes.start)?;
    }
    for cells in &mut point_cells {
        let mut v = layout.initial_v.clone();
        cells.initialise(&mut v, temperature);
        for (&node, &c) in cells.node.iter().zip(cells.capacitance()) {
            layout.capacitance[node] = c;
            layout.initial_v[node] = v[node];
        }
    }

    // Channels, one set of arrays per channel type.
    let mut channels: Vec<ChannelArrays> = Vec::new();
    let mut channel_index: HashMap<String, usize> = HashMap::new();
    for cell in &layout.cells {
        let Some(description) = model.cell(&cell.cell_type) else {
            continue; // a point cell: its dynamics carry its currents
        };
        for density in &description.membrane.channel_densities {
            let channel =
                model
                    .ion_channel(&density.ion_channel)
                    .ok_or_else(|| Error::Unsupported {
                        what: format!(
                            "cell {}: unknown ion channel '{}'",
                            cell.cell_type, density.ion_channel
                        ),
                    })?;
            let erev = match density.reversal {
                Reversal::Fixed(e) => e,
                Reversal::Nernst => {
                    return Err(Error::Unsupported {
                        what: format!(
                            "cell {}: channelDensityNernst {} is not supported yet",
                            cell.cell_type, density.id
                        ),
                    })
                }
            };
            let k = match channel_index.get(&channel.id) {
                Some(&k) => k,
                None => {
                    channels.push(ChannelArrays::new(channel, registry, temperature)?);
                    channel_index.insert(channel.id.clone(), channels.len() - 1);
                    channels.len() - 1
                }
            };
            let segments: HashSet<u32> = match density.segment {
                Some(s) => [s].into_iter().collect(),
                None => description
                    .morphology
                    .resolve_group(&density.segment_group)
                    .unwrap_or_default()
                    .into_iter()
                    .collect(),
            };
            let mut gmax: Vec<(usize, f64)> = Vec::new();
            for &(node, seg, area) in &cell.segment_areas {
                if segments.contains(&seg) {
                    match gmax.last_mut() {
                        Some((last, g)) if *last == node => *g += density.cond_density * area,
                        _ => gmax.push((node, density.cond_density * area)),
                    }
                }
            }
            let pool = pools
                .iter()
                .position(|p| p.ion == density.ion)
                .unwrap_or(usize::MAX);
            let gate_components: Vec<_> = channel
                .gates
                .iter()
                .map(|g| match &g.kind {
                    neuroml::channel::GateKind::Custom(c) => Some(c),
                    _ => None,
                })
                .collect();
            for (node, g) in gmax {
                let pool = if pool != usize::MAX && pools[pool].node.contains(&node) {
                    pool
                } else {
                    usize::MAX
                };
                channels[k].push(node, g, erev, pool, &gate_components)?;
            }
        }
    }

    // Synapses and inputs.
    let cell_of: HashMap<(&str, u32), usize> = layout
        .cells
        .iter()
        .enumerate()
        .map(|(i, c)| ((c.population.as_str(), c.index), i))
        .collect();
    let node = |r: &CellRef, segment: u32, fraction: f64, what: &str| -> Result<usize> {
        let &c = cell_of
            .get(&(r.population.as_str(), r.index))
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "{what}: no cell {}[{}] in the network",
                    r.population, r.index
                ))
            })?;
        layout.cells[c].node_at(segment, fraction).ok_or_else(|| {
            Error::Invalid(format!(
                "{what}: cell {} has no segment {segment}",
                r.population
            ))
        })
    };
    let mut gaps = GapJunctions::default();
    let mut core_graded = CoreGraded::default();
    let mut lems: Vec<LemsSynapses> = Vec::new();
    let mut events = SpikeSources::default();
    let synapse = |id: &str, what: &str| {
        model
            .synapse(id)
            .ok_or_else(|| Error::Invalid(format!("{what}: unknown synapse '{id}'")))
    };
    if let Some(net) = model.network() {
        for proj in &net.projections {
            for c in &proj.connections {
                let file = model
                    .files
                    .get(c.origin.file)
                    .map(|f| f.display().to_string())
                    .unwrap_or_default();
                let what = format!(
                    "{file}:{}: projection {} connection {}",
                    c.origin.line, proj.id, c.id
                );
                let pre = node(&c.pre, c.pre_segment, c.pre_fraction_along, &what)?;
                let post = node(&c.post, c.post_segment, c.post_fraction_along, &what)?;
                match &proj.kind {
                    ProjectionKind::Electrical => {
                        let id = c.synapse.as_deref().unwrap_or("");
                        match synapse(id, &what)? {
                            Synapse::GapJunction { conductance, .. } => {
                                gaps.push(pre, post, c.weight * conductance)
                            }
                            other => {
                                return Err(Error::Unsupported {
                                    what: format!(
                                        "{what}: electrical synapse of type {} is not supported",
                                        other.type_name()
                                    ),
                                })
                            }
                        }
                    }
                    ProjectionKind::Continuous => {
                        let sides = [
                            (c.pre_component.as_deref(), pre, post),
                            (c.post_component.as_deref(), post, pre),
                        ];
                        for (component, here, peer) in sides {
                            let Some(id) = component else { continue };
                            match synapse(id, &what)? {
                                Synapse::Silent { .. } => {}
                                Synapse::Graded {
                                    conductance,
                                    delta,
                                    k,
                                    vth,
                                    erev,
                                    ..
                                } => {
                                    core_graded.node.push(here);
                                    core_graded.peer.push(peer);
                                    core_graded.conductance.push(c.weight * conductance);
                                    core_graded.delta.push(*delta);
                                    core_graded.k.push(*k);
                                    core_graded.vth.push(*vth);
                                    core_graded.erev.push(*erev);
                                    core_graded.s.push(0.0);
                                }
                                Synapse::Custom(component) => {
                                    let k = lems_index(
                                        &mut lems,
                                        registry,
                                        &component.type_name,
                                        options.superpose,
                                    )?;
                                    lems[k].push(component, here, peer, c.weight)?;
                                }
                                other => {
                                    return Err(Error::Unsupported {
                                        what: format!(
                                        "{what}: {} in a continuous projection is not supported",
                                        other.type_name()
                                    ),
                                    })
                                }
                            }
                        }
                    }
                    ProjectionKind::Chemical { synapse: id } => {
                        let component = match synapse(id, &what)? {
                            Synapse::Custom(component) => component,
                            other => {
                                return Err(Error::Unsupported {
                                    what: format!(
                                        "{what}: {} in a spiking projection is not supported",
                                        other.type_name()
                                    ),
                                })
                            }
                        };
                        let k = lems_index(
                            &mut lems,
                            registry,
                            &component.type_name,
                            options.superpose,
                        )?;
                        let port = lems[k].dynamics.event_port("in").ok_or_else(|| Error::Unsupported {
                            what: format!("{what}: synapse '{id}' of type {} receives no events (no <OnEvent port=\"in\">)", component.type_name),
                        })?;
                        let instance = lems[k].push(component, post, usize::MAX, c.weight)?;
                        let threshold = spike_threshold(model, &c.pre, c.pre_segment, &what)?;
                        let source = events.source(pre, threshold);
                        events.connect(
                            source,
                            Target {
                                synapses: k,
                                instance,
                                port,
                                delay: c.delay,
                                weight: c.weight,
                            },
                        );
                    }
                }
            }
        }
    }
    for synapses in lems.iter_mut().filter(|s| !s.peer_variables.is_empty()) {
        synapses.resolve_peer_variables(|node, name| {
            crate::point_cells::find_variable(&point_cells, node, name)
        })?;
    }
    let mut inputs = CurrentInputs::default();
    if let Some(net) = model.network() {
        for list in &net.input_lists {
            let source = model.input_source(&list.component).ok_or_else(|| {
                Error::Invalid(format!(
                    "input list {}: unknown input '{}'",
                    list.id, list.component
                ))
            })?;
            let waveform = Waveform::from_source(source)?;
            for input in &list.inputs {
                let what = format!("input list {} input {}", list.id, input.id);
                let at = node(&input.target, input.segment, input.fraction_along, &what)?;
                inputs.push(at, input.weight, waveform.clone());
            }
        }
    }
    Ok(Simulation::assemble(
        layout,
        options.dt,
        options.method,
        temperature,
        channels,
        pools,
        gaps,
        core_graded,
        lems,
        point_cells,
        events,
        inputs,
        options.tolerance,
    ))
}

/// Records the spikes of the cell `select` (`POPULATION/INDEX/CELL`, as an
/// `<EventSelection>` names it) from now on, with the threshold a `NetCon` from it would
/// have; returns the source whose [`crate::events::SpikeSources::spikes`] collects them.
pub fn watch_spikes(model: &Model, sim: &mut Simulation, select: &str) -> Result<usize> {
    let what = format!("event selection '{select}'");
    // The node of the cell's v, found as a recording of it would be.
    let node = sim
        .probe(&format!("{select}/v"))
        .map_err(|e| Error::Invalid(format!("{what}: {e}")))?
        .node;
    let cell = &sim.layout.cells[sim.layout.node_cell[node]];
    let pre = CellRef {
        population: cell.population.clone(),
        index: cell.index,
    };
    let threshold = spike_threshold(model, &pre, 0, &what)?;
    Ok(sim.events.source(node, threshold))
}

/// The index of the first item of `items` that `is`, or of `make()` pushed when none is.
fn index_or_push<T>(
    items: &mut Vec<T>,
    is: impl Fn(&T) -> bool,
    make: impl FnOnce() -> Result<T>,
) -> Result<usize> {
    if let Some(k) = items.iter().position(is) {
        return Ok(k);
    }
    items.push(make()?);
    Ok(items.len() - 1)
}

/// The index of the synapse type `type_name` in `lems`, compiled and added if new.
fn lems_index(
    lems: &mut Vec<LemsSynapses>,
    registry: &TypeRegistry,
    type_name: &str,
    superpose: bool,
) -> Result<usize> {
    index_or_push(
        lems,
        |s| s.dynamics.type_name == type_name,
        || {
            let mut synapses = LemsSynapses::new(registry, type_name)?;
            if !superpose {
                synapses.keep_connections_apart();
            }
            Ok(synapses)
        },
    )
}

/// The threshold of the presynaptic cell's spikes, as jNeuroML's export gives its `NetCon`:
/// a point cell's `thresh` parameter (`iafCell`), or a multicompartment cell's `spikeThresh`
/// on `segment`'s group (the first that applies). A cell with neither cannot drive a
/// spiking projection: an error rather than a guessed threshold.
fn spike_threshold(model: &Model, pre: &CellRef, segment: u32, what: &str) -> Result<f64> {
    let component = model
        .network()
        .and_then(|n| n.population(&pre.population))
        .map(|p| p.component.as_str())
        .unwrap_or_default();
    let found = if let Some(point) = model.point_cell(component) {
        point.parameters.get("thresh").copied()
    } else {
        model.cell(component).and_then(|cell| {
            cell.membrane
                .spike_thresh
                .iter()
                .find(|g| {
                    cell.morphology
                        .resolve_group(&g.segment_group)
                        .is_some_and(|segments| segments.contains(&segment))
                })
                .map(|g| g.value)
        })
    };
    found.ok_or_else(|| {
        Error::Invalid(format!(
            "{what}: cell '{component}' has no spike threshold on segment {segment} (a <spikeThresh> in its membraneProperties, or a 'thresh' parameter), which spikes need"
        ))
    })
}

/// The model without the named populations, their connections and their inputs.
fn ablate(model: &Model, names: &[String]) -> Result<Model> {
    let mut out = model.clone();
    let Some(net_id) = model.network().map(|n| n.id.clone()) else {
        return Err(Error::Invalid(
            "cannot ablate cells: the model has no network".into(),
        ));
    };
    let net = out
        .networks
        .iter_mut()
        .find(|n| n.id == net_id)
        .expect("network exists");
    for name in names {
        if !net.populations.iter().any(|p| &p.id == name) {
            return Err(Error::Invalid(format!(
                "cannot ablate '{name}': no such population in network {net_id}"
            )));
        }
    }
    let gone = |p: &str| names.iter().any(|n| n == p);
    net.populations.retain(|p| !gone(&p.id));
    net.projections
        .retain(|p| !gone(&p.pre_population) && !gone(&p.post_population));
    for proj in &mut net.projections {
        proj.connections
            .retain(|c| !gone(&c.pre.population) && !gone(&c.post.population));
    }
    for list in &mut net.input_lists {
        list.inputs.retain(|i| !gone(&i.target.population));
    }
    net.input_lists.retain(|l| !gone(&l.population));
    Ok(out)
}
