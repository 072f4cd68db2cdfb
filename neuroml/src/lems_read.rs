//! Readers of LEMS elements: `<ComponentType>` (with its `<Dynamics>`), components written
//! as elements of a known type, and `<Simulation>`. The definitions they produce are in
//! [`crate::lems`].

use std::collections::BTreeMap;

use crate::context::Ctx;
use crate::error::{ErrorKind, Result};
use crate::lems::{
    Case, ChildSpec, Component, ComponentType, ConditionalDerivedVariable, Constant,
    DerivedParameter, DerivedValue, DerivedVariable, Display, Dynamics, EventFormat,
    EventOutputFile, EventSelection, InstanceRequirement, LemsSimulation, Line, NamedDimension,
    OnCondition, OnEvent, OutputColumn, OutputFile, Parameter, StateAssignment, StateVariable,
    TimeDerivative, STRUCTURAL_ATTRIBUTES,
};
use crate::xml::Element;

fn named_dimension(ctx: &Ctx, el: &Element) -> Result<NamedDimension> {
    Ok(NamedDimension {
        name: ctx.required(el, "name")?.to_string(),
        dimension: el.attr("dimension").unwrap_or("none").to_string(),
    })
}

fn check_dimension(ctx: &Ctx, el: &Element, dimension: &str) -> Result<()> {
    if ctx.units.dimension(dimension).is_none() {
        return Err(ctx.error(
            el,
            ErrorKind::UnknownReference {
                what: "dimension".into(),
                name: dimension.into(),
            },
        ));
    }
    Ok(())
}

fn parameter(ctx: &Ctx, el: &Element) -> Result<Parameter> {
    let nd = named_dimension(ctx, el)?;
    check_dimension(ctx, el, &nd.dimension)?;
    let default = match el.attr("defaultValue").or(el.attr("default")) {
        Some(text) => Some(ctx.quantity_text(el, "default", text, &nd.dimension)?),
        None => None,
    };
    Ok(Parameter {
        name: nd.name,
        dimension: nd.dimension,
        default,
    })
}

fn assignment(ctx: &Ctx, el: &Element) -> Result<StateAssignment> {
    Ok(StateAssignment {
        variable: ctx.required(el, "variable")?.to_string(),
        value: ctx.expression(el, "value")?,
    })
}

fn assignments(ctx: &Ctx, el: &Element) -> Result<Vec<StateAssignment>> {
    el.children_named("StateAssignment")
        .map(|c| assignment(ctx, c))
        .collect()
}

fn dynamics(ctx: &Ctx, el: &Element) -> Result<Dynamics> {
    let mut d = Dynamics::default();
    for c in &el.children {
        match c.name.as_str() {
            "StateVariable" => {
                let nd = named_dimension(ctx, c)?;
                check_dimension(ctx, c, &nd.dimension)?;
                d.state_variables.push(StateVariable {
                    name: nd.name,
                    dimension: nd.dimension,
                    exposure: c.attr("exposure").map(str::to_string),
                });
            }
            "DerivedVariable" => {
                let nd = named_dimension(ctx, c)?;
                check_dimension(ctx, c, &nd.dimension)?;
                let value = match (c.attr("value"), c.attr("select")) {
                    (Some(_), None) => DerivedValue::Expression(ctx.expression(c, "value")?),
                    (None, Some(path)) => DerivedValue::Select {
                        path: path.to_string(),
                        reduce: c.attr("reduce").map(str::to_string),
                        required: c.attr("required") == Some("true"),
                    },
                    _ => return Err(ctx.invalid(c, "needs exactly one of 'value' and 'select'")),
                };
                d.derived_variables.push(DerivedVariable {
                    name: nd.name,
                    dimension: nd.dimension,
                    exposure: c.attr("exposure").map(str::to_string),
                    value,
                });
            }
            "ConditionalDerivedVariable" => {
                let nd = named_dimension(ctx, c)?;
                check_dimension(ctx, c, &nd.dimension)?;
                let mut cases = Vec::new();
                for case in c.children_named("Case") {
                    let condition = match case.attr("condition") {
                        Some(_) => Some(ctx.expression(case, "condition")?),
                        None => None,
                    };
                    cases.push(Case {
                        condition,
                        value: ctx.expression(case, "value")?,
                    });
                }
                if cases.is_empty() {
                    return Err(ctx.invalid(c, "has no <Case>"));
                }
                d.conditional_derived_variables
                    .push(ConditionalDerivedVariable {
                        name: nd.name,
                        dimension: nd.dimension,
                        exposure: c.attr("exposure").map(str::to_string),
                        cases,
                    });
            }
            "TimeDerivative" => d.time_derivatives.push(TimeDerivative {
                variable: ctx.required(c, "variable")?.to_string(),
                value: ctx.expression(c, "value")?,
            }),
            "OnStart" => d.on_start.extend(assignments(ctx, c)?),
            "OnCondition" => d.on_conditions.push(OnCondition {
                test: ctx.expression(c, "test")?,
                assignments: assignments(ctx, c)?,
                event_outs: c
                    .children_named("EventOut")
                    .map(|e| ctx.required(e, "port").map(str::to_string))
                    .collect::<Result<_>>()?,
            }),
            "OnEvent" => d.on_events.push(OnEvent {
                port: ctx.required(c, "port")?.to_string(),
                assignments: assignments(ctx, c)?,
            }),
            "Regime" | "KineticScheme" | "OnEntry" | "Transition" => {
                return Err(ctx.error(
                    c,
                    ErrorKind::UnsupportedLems(format!("<{}> in <Dynamics>", c.name)),
                ))
            }
            _ => return Err(ctx.unsupported(c)),
        }
    }
    Ok(d)
}

/// Reads a `<ComponentType>` element.
pub(crate) fn read_component_type(ctx: &Ctx, el: &Element) -> Result<ComponentType> {
    let mut t = ComponentType {
        name: ctx.required(el, "name")?.to_string(),
        extends: el.attr("extends").map(str::to_string),
        description: el.attr("description").map(str::to_string),
        parameters: Vec::new(),
        constants: Vec::new(),
        properties: Vec::new(),
        derived_parameters: Vec::new(),
        exposures: Vec::new(),
        requirements: Vec::new(),
        instance_requirements: Vec::new(),
        children: Vec::new(),
        event_ports: Vec::new(),
        attachments: Vec::new(),
        texts: Vec::new(),
        dynamics: None,
        origin: ctx.origin(el),
    };
    for c in &el.children {
        match c.name.as_str() {
            "Parameter" => t.parameters.push(parameter(ctx, c)?),
            "Property" => t.properties.push(parameter(ctx, c)?),
            "DerivedParameter" => {
                let nd = named_dimension(ctx, c)?;
                check_dimension(ctx, c, &nd.dimension)?;
                t.derived_parameters.push(DerivedParameter {
                    name: nd.name,
                    dimension: nd.dimension,
                    value: ctx.expression(c, "value")?,
                });
            }
            "Constant" => {
                let nd = named_dimension(ctx, c)?;
                check_dimension(ctx, c, &nd.dimension)?;
                let value = ctx.quantity(c, "value", &nd.dimension)?;
                t.constants.push(Constant {
                    name: nd.name,
                    dimension: nd.dimension,
                    value,
                });
            }
            "Exposure" => {
                let nd = named_dimension(ctx, c)?;
                check_dimension(ctx, c, &nd.dimension)?;
                t.exposures.push(nd);
            }
            "Requirement" => {
                let nd = named_dimension(ctx, c)?;
                check_dimension(ctx, c, &nd.dimension)?;
                t.requirements.push(nd);
            }
            "InstanceRequirement" => t.instance_requirements.push(InstanceRequirement {
                name: ctx.required(c, "name")?.to_string(),
                type_name: ctx.required(c, "type")?.to_string(),
            }),
            "Child" | "Children" => t.children.push(ChildSpec {
                name: ctx.required(c, "name")?.to_string(),
                type_name: ctx.required(c, "type")?.to_string(),
                multiple: c.name == "Children",
            }),
            "EventPort" => t.event_ports.push((
                ctx.required(c, "name")?.to_string(),
                ctx.required(c, "direction")?.to_string(),
            )),
            "Text" => t.texts.push(ctx.required(c, "name")?.to_string()),
            "Attachments" => t.attachments.push((
                ctx.required(c, "name")?.to_string(),
                ctx.required(c, "type")?.to_string(),
            )),
            "Dynamics" => {
                if t.dynamics.is_some() {
                    return Err(ctx.error(
                        c,
                        ErrorKind::UnsupportedLems("more than one <Dynamics>".into()),
                    ));
                }
                t.dynamics = Some(dynamics(ctx, c)?)
            }
            "ComponentReference" | "Link" | "Path" | "Structure" | "Simulation" => {
                return Err(ctx.error(
                    c,
                    ErrorKind::UnsupportedLems(format!("<{}> in <ComponentType>", c.name)),
                ))
            }
            "notes" | "annotation" | "About" | "Meta" => {}
            _ => return Err(ctx.unsupported(c)),
        }
    }
    Ok(t)
}

/// Reads an element of a known type (user-defined or core) as a generic [`Component`]:
/// each attribute that names a parameter is converted with that parameter's dimension;
/// missing parameters take their defaults or are an error.
pub(crate) fn read_component(ctx: &Ctx, el: &Element, type_name: &str) -> Result<Component> {
    let params = ctx.types.parameters(type_name);
    let mut parameters = BTreeMap::new();
    let mut attributes = BTreeMap::new();
    for (key, text) in &el.attrs {
        if STRUCTURAL_ATTRIBUTES.contains(&key.as_str()) {
            continue;
        }
        match params.iter().find(|(name, _, _)| name == key) {
            Some((_, dimension, _)) => {
                parameters.insert(key.clone(), ctx.quantity_text(el, key, text, dimension)?);
            }
            None => {
                attributes.insert(key.clone(), text.clone());
            }
        }
    }
    for (name, _, default) in &params {
        if !parameters.contains_key(name) {
            match default {
                Some(v) => {
                    parameters.insert(name.clone(), *v);
                }
                None => return Err(ctx.error(el, ErrorKind::MissingAttribute(name.clone()))),
            }
        }
    }
    // Attributes that are neither parameters nor references of a user type are typos.
    if ctx.types.get(type_name).is_some() {
        let allowed_text: Vec<String> = ctx
            .types
            .lineage(type_name)
            .iter()
            .filter_map(|n| ctx.types.get(n))
            .flat_map(|t| {
                t.texts
                    .iter()
                    .cloned()
                    .chain(t.instance_requirements.iter().map(|r| r.name.clone()))
            })
            .collect();
        if let Some(key) = attributes.keys().find(|k| !allowed_text.contains(k)) {
            return Err(ctx.error(
                el,
                ErrorKind::Invalid(format!(
                    "'{key}' is not a parameter of ComponentType '{type_name}'"
                )),
            ));
        }
    }
    let mut children = Vec::new();
    for c in &el.children {
        if matches!(c.name.as_str(), "notes" | "annotation" | "property") {
            continue;
        }
        let child_type = c.attr("type").unwrap_or(&c.name).to_string();
        if !ctx.types.is_known(&child_type) {
            return Err(ctx.error(
                c,
                ErrorKind::UnknownReference {
                    what: "ComponentType".into(),
                    name: child_type,
                },
            ));
        }
        children.push(read_component(ctx, c, &child_type)?);
    }
    Ok(Component {
        id: el.attr("id").map(str::to_string),
        type_name: type_name.to_string(),
        parameters,
        attributes,
        children,
        origin: ctx.origin(el),
    })
}

fn scale(ctx: &Ctx, el: &Element) -> Result<Option<(f64, String)>> {
    let Some(text) = el.attr("scale") else {
        return Ok(None);
    };
    let (value, dim) = ctx.units.parse(text).map_err(|_| {
        ctx.error(
            el,
            ErrorKind::BadNumber {
                attribute: "scale".into(),
                value: text.into(),
            },
        )
    })?;
    Ok(Some((value, dim.to_string())))
}

/// Reads a `<Simulation>` element.
pub(crate) fn read_simulation(ctx: &Ctx, el: &Element) -> Result<LemsSimulation> {
    let mut sim = LemsSimulation {
        id: ctx.id(el)?,
        length: ctx.quantity(el, "length", "time")?,
        step: ctx.quantity(el, "step", "time")?,
        target: ctx.required(el, "target")?.to_string(),
        displays: Vec::new(),
        output_files: Vec::new(),
        event_output_files: Vec::new(),
        origin: ctx.origin(el),
    };
    if sim.step <= 0.0 || sim.length < 0.0 {
        return Err(ctx.invalid(el, "step must be positive and length not negative"));
    }
    for c in &el.children {
        match c.name.as_str() {
            "Display" => {
                let mut lines = Vec::new();
                for l in &c.children {
                    if l.name != "Line" {
                        return Err(ctx.unsupported(l));
                    }
                    lines.push(Line {
                        id: ctx.id(l)?,
                        quantity: ctx.required(l, "quantity")?.to_string(),
                        scale: scale(ctx, l)?,
                        color: l.attr("color").map(str::to_string),
                    });
                }
                sim.displays.push(Display {
                    id: ctx.id(c)?,
                    title: c.attr("title").map(str::to_string),
                    lines,
                });
            }
            "OutputFile" => {
                let mut columns = Vec::new();
                for col in &c.children {
                    if col.name != "OutputColumn" {
                        return Err(ctx.unsupported(col));
                    }
                    columns.push(OutputColumn {
                        id: ctx.id(col)?,
                        quantity: ctx.required(col, "quantity")?.to_string(),
                    });
                }
                sim.output_files.push(OutputFile {
                    id: ctx.id(c)?,
                    file_name: ctx.required(c, "fileName")?.to_string(),
                    columns,
                });
            }
            "EventOutputFile" => {
                let format = match c.attr("format").unwrap_or("ID_TIME") {
                    "ID_TIME" => EventFormat::IdTime,
                    "TIME_ID" => EventFormat::TimeId,
                    other => {
                        return Err(ctx.invalid(
                            c,
                            format!("format '{other}' is neither ID_TIME nor TIME_ID"),
                        ))
                    }
                };
                let mut selections = Vec::new();
                for sel in &c.children {
                    if sel.name != "EventSelection" {
                        return Err(ctx.unsupported(sel));
                    }
                    let id = ctx.required(sel, "id")?;
                    selections.push(EventSelection {
                        id: id.parse().map_err(|_| {
                            ctx.invalid(sel, format!("id '{id}' is not a non-negative integer"))
                        })?,
                        select: ctx.required(sel, "select")?.to_string(),
                        event_port: ctx.required(sel, "eventPort")?.to_string(),
                    });
                }
                sim.event_output_files.push(EventOutputFile {
                    id: ctx.id(c)?,
                    file_name: ctx.required(c, "fileName")?.to_string(),
                    format,
                    selections,
                });
            }
            "Meta" | "notes" => {}
            _ => return Err(ctx.unsupported(c)),
        }
    }
    Ok(sim)
}
