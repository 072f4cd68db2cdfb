//! Cross-reference checks once every file is read: each id a description names must exist,
//! ids must be unique, and LEMS expressions may only read names their type declares.

use std::collections::HashSet;

use crate::error::{Error, ErrorKind, Result};
use crate::lems::{ComponentType, DerivedValue, Dynamics, TypeRegistry};
use crate::model::Model;
use crate::network::{Network, ProjectionKind};
use crate::synapse::Synapse;
use crate::Origin;

fn unknown(what: &str, name: &str) -> ErrorKind {
    ErrorKind::UnknownReference {
        what: what.into(),
        name: name.into(),
    }
}

fn unique<'a>(
    model: &Model,
    errors: &mut Vec<Error>,
    what: &str,
    items: impl Iterator<Item = (&'a str, Origin)>,
) {
    let mut seen = HashSet::new();
    for (id, origin) in items {
        if !seen.insert(id) {
            errors.push(model.error_at(
                origin,
                format!("{what} {id}"),
                ErrorKind::Duplicate {
                    what: what.into(),
                    id: id.into(),
                },
            ));
        }
    }
}

/// Checks a read model and returns every problem found, in document order of the checks.
pub(crate) fn validate(model: &Model) -> Vec<Error> {
    let mut errors = Vec::new();
    let errors = &mut errors;
    unique(
        model,
        errors,
        "cell",
        model.cells.iter().map(|c| (c.id.as_str(), c.origin)),
    );
    unique(
        model,
        errors,
        "ionChannel",
        model.ion_channels.iter().map(|c| (c.id.as_str(), c.origin)),
    );
    unique(
        model,
        errors,
        "network",
        model.networks.iter().map(|n| (n.id.as_str(), n.origin)),
    );
    unique(
        model,
        errors,
        "Simulation",
        model.simulations.iter().map(|s| (s.id.as_str(), s.origin)),
    );
    for t in model.component_types.types() {
        if let Err(e) = check_component_type(model, &model.component_types, t) {
            errors.push(e);
        }
    }
    for cell in &model.cells {
        for d in &cell.membrane.channel_densities {
            if model.ion_channel(&d.ion_channel).is_none() {
                errors.push(model.error_at(
                    d.origin,
                    format!("channelDensity {}", d.id),
                    unknown("ion channel", &d.ion_channel),
                ));
            }
        }
        for s in &cell.intracellular.species {
            if model.concentration_model(&s.concentration_model).is_none() {
                errors.push(model.error_at(
                    s.origin,
                    format!("species {}", s.id),
                    unknown("concentration model", &s.concentration_model),
                ));
            }
        }
    }
    for net in &model.networks {
        check_network(model, net, errors);
    }
    for sim in &model.simulations {
        let net = model.networks.iter().find(|n| n.id == sim.target);
        let Some(net) = net else {
            errors.push(model.error_at(
                sim.origin,
                format!("Simulation {}", sim.id),
                unknown("network (target)", &sim.target),
            ));
            continue;
        };
        let quantities = sim
            .output_files
            .iter()
            .flat_map(|f| {
                f.columns
                    .iter()
                    .map(|c| (c.id.as_str(), c.quantity.as_str()))
            })
            .chain(
                sim.displays
                    .iter()
                    .flat_map(|d| d.lines.iter().map(|l| (l.id.as_str(), l.quantity.as_str()))),
            );
        for (id, quantity) in quantities {
            if let Err(kind) = check_quantity_path(net, quantity) {
                errors.push(model.error_at(
                    sim.origin,
                    format!("Simulation {} column {id}", sim.id),
                    kind,
                ));
            }
        }
        for file in &sim.event_output_files {
            for sel in &file.selections {
                if let Err(kind) = check_quantity_path(net, &sel.select) {
                    errors.push(model.error_at(
                        sim.origin,
                        format!(
                            "Simulation {} EventOutputFile {} selection {}",
                            sim.id, file.id, sel.id
                        ),
                        kind,
                    ));
                }
            }
        }
    }
    if let Some(target) = &model.target {
        if model.simulation(target).is_none() {
            errors.push(model.error_at(
                Origin::default(),
                "Target",
                unknown("Simulation (Target component)", target),
            ));
        }
    }
    std::mem::take(errors)
}

/// A recorded quantity `POP/INDEX/COMPONENT/VARIABLE` must name an existing cell.
fn check_quantity_path(net: &Network, quantity: &str) -> std::result::Result<(), ErrorKind> {
    let parts: Vec<&str> = quantity.split('/').collect();
    let population = parts[0].split('[').next().unwrap_or("");
    let pop = net
        .population(population)
        .ok_or_else(|| unknown("population (in quantity path)", quantity))?;
    let index = if let Some(open) = parts[0].find('[') {
        parts[0][open + 1..]
            .trim_end_matches(']')
            .parse::<u32>()
            .ok()
    } else {
        parts.get(1).and_then(|p| p.parse::<u32>().ok())
    };
    match index {
        Some(i) if i < pop.size => {}
        _ => return Err(unknown("cell (in quantity path)", quantity)),
    }
    if parts.len() < 2 {
        return Err(ErrorKind::Invalid(format!(
            "quantity path '{quantity}' names no variable"
        )));
    }
    Ok(())
}

fn check_network(model: &Model, net: &Network, errors: &mut Vec<Error>) {
    unique(
        model,
        errors,
        "population",
        net.populations.iter().map(|p| (p.id.as_str(), p.origin)),
    );
    unique(
        model,
        errors,
        "projection",
        net.projections.iter().map(|p| (p.id.as_str(), p.origin)),
    );
    for p in &net.populations {
        let known = model.cell(&p.component).is_some()
            || model
                .components
                .iter()
                .any(|c| c.id.as_deref() == Some(p.component.as_str()));
        if !known {
            errors.push(model.error_at(
                p.origin,
                format!("population {}", p.id),
                unknown("cell (component)", &p.component),
            ));
        }
    }
    // A cell reference must name an existing population and index, and a segment of its cell.
    let check_cell =
        |origin: Origin, element: &str, r: &crate::network::CellRef, segment: u32| -> Result<()> {
            let pop = net.population(&r.population).ok_or_else(|| {
                model.error_at(origin, element, unknown("population", &r.population))
            })?;
            if r.index >= pop.size {
                return Err(model.error_at(
                    origin,
                    element,
                    ErrorKind::Invalid(format!(
                        "cell index {} outside population {} of size {}",
                        r.index, pop.id, pop.size
                    )),
                ));
            }
            if let Some(cell) = model.cell(&pop.component) {
                if cell.morphology.segment(segment).is_none() {
                    return Err(model.error_at(
                        origin,
                        element,
                        unknown(
                            &format!("segment of cell {}", cell.id),
                            &segment.to_string(),
                        ),
                    ));
                }
            }
            Ok(())
        };
    for proj in &net.projections {
        let element = format!("projection {}", proj.id);
        for (id, pop) in [
            ("presynapticPopulation", &proj.pre_population),
            ("postsynapticPopulation", &proj.post_population),
        ] {
            if net.population(pop).is_none() {
                errors.push(model.error_at(
                    proj.origin,
                    &element,
                    unknown(&format!("population ({id})"), pop),
                ));
            }
        }
        if let ProjectionKind::Chemical { synapse } = &proj.kind {
            if model.synapse(synapse).is_none() {
                errors.push(model.error_at(proj.origin, &element, unknown("synapse", synapse)));
            }
        }
        for c in &proj.connections {
            let element = format!("{element} connection {}", c.id);
            errors.extend(check_cell(c.origin, &element, &c.pre, c.pre_segment).err());
            errors.extend(check_cell(c.origin, &element, &c.post, c.post_segment).err());
            if let Some(s) = &c.synapse {
                match model.synapse(s) {
                    Some(Synapse::GapJunction { .. }) => {}
                    Some(Synapse::Custom(comp))
                        if model.component_types.is_a(&comp.type_name, "baseSynapse") => {}
                    Some(other) => errors.push(model.error_at(
                        c.origin,
                        &element,
                        ErrorKind::Invalid(format!(
                            "synapse '{s}' is a {}, not a gap junction",
                            other.type_name()
                        )),
                    )),
                    None => errors.push(model.error_at(c.origin, &element, unknown("synapse", s))),
                }
            }
            for s in c.pre_component.iter().chain(c.post_component.iter()) {
                if model.synapse(s).is_none() {
                    errors.push(model.error_at(c.origin, &element, unknown("synapse", s)));
                }
            }
        }
    }
    for list in &net.input_lists {
        let element = format!("inputList {}", list.id);
        if model.input_source(&list.component).is_none() {
            errors.push(model.error_at(
                list.origin,
                &element,
                unknown("input source", &list.component),
            ));
        }
        if net.population(&list.population).is_none() {
            errors.push(model.error_at(
                list.origin,
                &element,
                unknown("population", &list.population),
            ));
            continue;
        }
        for input in &list.inputs {
            errors.extend(
                check_cell(
                    list.origin,
                    &format!("{element} input {}", input.id),
                    &input.target,
                    input.segment,
                )
                .err(),
            );
        }
    }
}

fn check_component_type(model: &Model, registry: &TypeRegistry, t: &ComponentType) -> Result<()> {
    let Some(d) = &t.dynamics else { return Ok(()) };
    let element = format!("ComponentType {}", t.name);
    let visible = registry.visible_names(&t.name);
    let fail =
        |message: String| model.error_at(t.origin, &element, ErrorKind::UnsupportedLems(message));
    let states: Vec<&str> = d.state_variables.iter().map(|s| s.name.as_str()).collect();
    for td in &d.time_derivatives {
        if !states.contains(&td.variable.as_str()) {
            return Err(model.error_at(
                t.origin,
                &element,
                unknown("state variable (TimeDerivative)", &td.variable),
            ));
        }
    }
    for a in d
        .on_start
        .iter()
        .chain(d.on_conditions.iter().flat_map(|c| &c.assignments))
        .chain(d.on_events.iter().flat_map(|e| &e.assignments))
    {
        if !states.contains(&a.variable.as_str()) {
            return Err(model.error_at(
                t.origin,
                &element,
                unknown("state variable (StateAssignment)", &a.variable),
            ));
        }
    }
    for name in expression_names(d) {
        if !visible.iter().any(|v| v == name) {
            return Err(model.error_at(t.origin, &element, unknown("name in expression", name)));
        }
    }
    // Events arrive on declared input ports (a synapse's `in` is declared by baseSynapse).
    let lineage: Vec<&ComponentType> = registry
        .lineage(&t.name)
        .iter()
        .filter_map(|n| registry.get(n))
        .collect();
    for e in &d.on_events {
        let declared = lineage
            .iter()
            .flat_map(|ct| &ct.event_ports)
            .any(|(name, direction)| *name == e.port && direction == "in")
            || (e.port == "in" && registry.is_a(&t.name, "baseSynapse"));
        if !declared {
            return Err(fail(format!(
                "<OnEvent port=\"{}\"> names no input <EventPort> of the type",
                e.port
            )));
        }
    }
    for dv in &d.derived_variables {
        if let DerivedValue::Select { path, .. } = &dv.value {
            let head = path.split('/').next().unwrap_or("");
            let is_instance = registry
                .lineage(&t.name)
                .iter()
                .filter_map(|n| registry.get(n))
                .any(|ct| {
                    ct.instance_requirements.iter().any(|r| r.name == head)
                        || ct.children.iter().any(|c| c.name == head)
                });
            if !is_instance
                && !head.is_empty()
                && head.chars().all(|c| c.is_alphanumeric() || c == '_')
                && !is_core_child(head)
            {
                return Err(fail(format!(
                    "select path '{path}' of {} names no child or instance requirement",
                    dv.name
                )));
            }
        }
    }
    Ok(())
}

/// Children that core types declare (a gate's rates, a cell's channels...).
fn is_core_child(name: &str) -> bool {
    matches!(
        name,
        "forwardRate"
            | "reverseRate"
            | "timeCourse"
            | "steadyState"
            | "q10Settings"
            | "gates"
            | "populations"
            | "synapses"
            | "channelDensities"
            | "biophysicalProperties"
            | "membraneProperties"
    )
}

fn expression_names(d: &Dynamics) -> Vec<&str> {
    let mut out = Vec::new();
    let exprs = d
        .derived_variables
        .iter()
        .filter_map(|dv| match &dv.value {
            DerivedValue::Expression(e) => Some(e),
            _ => None,
        })
        .chain(d.conditional_derived_variables.iter().flat_map(|c| {
            c.cases
                .iter()
                .flat_map(|k| k.condition.iter().chain([&k.value]))
        }))
        .chain(d.time_derivatives.iter().map(|t| &t.value))
        .chain(d.on_start.iter().map(|a| &a.value))
        .chain(d.on_conditions.iter().flat_map(|c| {
            [&c.test]
                .into_iter()
                .chain(c.assignments.iter().map(|a| &a.value))
        }))
        .chain(
            d.on_events
                .iter()
                .flat_map(|e| e.assignments.iter().map(|a| &a.value)),
        );
    for e in exprs {
        for n in e.names() {
            if !out.contains(&n) {
                out.push(n);
            }
        }
    }
    out
}
