//! LEMS: user-defined `ComponentType`s with their `Dynamics`, components written as
//! elements of those types, and the registry that resolves `extends` chains down to
//! NeuroML's core types.
//!
//! c302 relies on these: its graded synapse (`gradedSynapse2`, extends `baseGradedSynapse`)
//! and its calcium-dependent gate (`customHGate`, extends `gateHHtauInf`) are LEMS types.

use std::collections::{BTreeMap, HashMap};

use crate::context::Ctx;
use crate::core_types::core_type;
use crate::error::{ErrorKind, Result};
use crate::expr::Expr;
use crate::xml::Element;
use crate::Origin;

/// A name with a dimension name (an Exposure or Requirement).
#[derive(Debug, Clone, PartialEq)]
pub struct NamedDimension {
    /// The name.
    pub name: String,
    /// The dimension's name (`voltage`, `none`, ...).
    pub dimension: String,
}

/// A `<Parameter>`: set per component.
#[derive(Debug, Clone, PartialEq)]
pub struct Parameter {
    /// The name.
    pub name: String,
    /// The dimension's name.
    pub dimension: String,
    /// A default value in internal units (c302 writes `default="1"` on some).
    pub default: Option<f64>,
}

/// A `<Constant>` with its value in internal units.
#[derive(Debug, Clone, PartialEq)]
pub struct Constant {
    /// The name.
    pub name: String,
    /// The dimension's name.
    pub dimension: String,
    /// Value in internal units.
    pub value: f64,
}

/// An `<InstanceRequirement>`: another component this one reads (a synapse's `peer`).
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceRequirement {
    /// The name used in `select` paths.
    pub name: String,
    /// The required type.
    pub type_name: String,
}

/// A `<Child>` or `<Children>` declaration.
#[derive(Debug, Clone, PartialEq)]
pub struct ChildSpec {
    /// The name.
    pub name: String,
    /// The child's type.
    pub type_name: String,
    /// `true` for `<Children>` (any number).
    pub multiple: bool,
}

/// A `<StateVariable>`.
#[derive(Debug, Clone, PartialEq)]
pub struct StateVariable {
    /// The name.
    pub name: String,
    /// The dimension's name.
    pub dimension: String,
    /// The exposure it is published as, if any.
    pub exposure: Option<String>,
}

/// How a `<DerivedVariable>` gets its value.
#[derive(Debug, Clone, PartialEq)]
pub enum DerivedValue {
    /// From an expression (`value="..."`).
    Expression(Expr),
    /// From a path into other components (`select="peer/v"`), optionally reduced
    /// over several matches (`reduce="add"` or `"multiply"`).
    Select {
        /// The path.
        path: String,
        /// `add`, `multiply` or none.
        reduce: Option<String>,
        /// Whether a match is required.
        required: bool,
    },
}

/// A `<DerivedVariable>`.
#[derive(Debug, Clone, PartialEq)]
pub struct DerivedVariable {
    /// The name.
    pub name: String,
    /// The dimension's name.
    pub dimension: String,
    /// The exposure it is published as, if any.
    pub exposure: Option<String>,
    /// Its value.
    pub value: DerivedValue,
}

/// One `<Case>` of a conditional derived variable; the last one usually has no condition.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    /// When this case applies (`None`: otherwise).
    pub condition: Option<Expr>,
    /// The value in that case.
    pub value: Expr,
}

/// A `<ConditionalDerivedVariable>`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConditionalDerivedVariable {
    /// The name.
    pub name: String,
    /// The dimension's name.
    pub dimension: String,
    /// The exposure it is published as, if any.
    pub exposure: Option<String>,
    /// Cases, tried in order.
    pub cases: Vec<Case>,
}

/// A `<TimeDerivative>`: d(variable)/dt = value.
#[derive(Debug, Clone, PartialEq)]
pub struct TimeDerivative {
    /// The state variable.
    pub variable: String,
    /// Its rate of change (internal units per ms).
    pub value: Expr,
}

/// A `<StateAssignment>`: variable := value.
#[derive(Debug, Clone, PartialEq)]
pub struct StateAssignment {
    /// The state variable.
    pub variable: String,
    /// The new value.
    pub value: Expr,
}

/// An `<OnCondition>` block.
#[derive(Debug, Clone, PartialEq)]
pub struct OnCondition {
    /// The test.
    pub test: Expr,
    /// Assignments made when it becomes true.
    pub assignments: Vec<StateAssignment>,
    /// Ports that emit an event.
    pub event_outs: Vec<String>,
}

/// An `<OnEvent>` block.
#[derive(Debug, Clone, PartialEq)]
pub struct OnEvent {
    /// The input port.
    pub port: String,
    /// Assignments made on each event.
    pub assignments: Vec<StateAssignment>,
}

/// A type's `<Dynamics>`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Dynamics {
    /// State variables.
    pub state_variables: Vec<StateVariable>,
    /// Derived variables, in document order.
    pub derived_variables: Vec<DerivedVariable>,
    /// Conditional derived variables.
    pub conditional_derived_variables: Vec<ConditionalDerivedVariable>,
    /// Time derivatives.
    pub time_derivatives: Vec<TimeDerivative>,
    /// Assignments at start.
    pub on_start: Vec<StateAssignment>,
    /// Conditions.
    pub on_conditions: Vec<OnCondition>,
    /// Event handlers.
    pub on_events: Vec<OnEvent>,
}

/// A user-defined LEMS `<ComponentType>`.
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentType {
    /// Type name.
    pub name: String,
    /// Base type (user-defined or NeuroML core).
    pub extends: Option<String>,
    /// Free-text description.
    pub description: Option<String>,
    /// Parameters.
    pub parameters: Vec<Parameter>,
    /// Constants.
    pub constants: Vec<Constant>,
    /// Properties (per-connection values such as `weight`), with defaults.
    pub properties: Vec<Parameter>,
    /// Exposures.
    pub exposures: Vec<NamedDimension>,
    /// Requirements (values read from the parent, e.g. `v`).
    pub requirements: Vec<NamedDimension>,
    /// Instance requirements.
    pub instance_requirements: Vec<InstanceRequirement>,
    /// Child declarations.
    pub children: Vec<ChildSpec>,
    /// Event ports as `(name, direction)`.
    pub event_ports: Vec<(String, String)>,
    /// Text fields.
    pub texts: Vec<String>,
    /// Dynamics, if declared.
    pub dynamics: Option<Dynamics>,
    /// Where it was defined.
    pub origin: Origin,
}

/// A component of a (LEMS or core) type written as an element, e.g.
/// `<gradedSynapse2 id="exc" conductance="2 nS" .../>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    /// The component's id (absent for anonymous children).
    pub id: Option<String>,
    /// Its type.
    pub type_name: String,
    /// Parameter values in internal units, by name (defaults applied).
    pub parameters: BTreeMap<String, f64>,
    /// Other attributes (references, text) as written.
    pub attributes: BTreeMap<String, String>,
    /// Child components.
    pub children: Vec<Component>,
    /// Where it was defined.
    pub origin: Origin,
}

/// All ComponentTypes the model defines, looked up by name, with NeuroML's core types
/// behind them.
#[derive(Debug, Clone, Default)]
pub struct TypeRegistry {
    types: HashMap<String, ComponentType>,
}

/// Attributes that never hold parameters.
const STRUCTURAL_ATTRIBUTES: &[&str] = &["id", "type", "name", "metaid", "neuroLexId"];

impl TypeRegistry {
    /// A user-defined type by name.
    pub fn get(&self, name: &str) -> Option<&ComponentType> {
        self.types.get(name)
    }

    /// All user-defined types.
    pub fn types(&self) -> impl Iterator<Item = &ComponentType> {
        self.types.values()
    }

    /// Whether the name is a user-defined or core type.
    pub fn is_known(&self, name: &str) -> bool {
        self.types.contains_key(name) || core_type(name).is_some()
    }

    pub(crate) fn insert(&mut self, t: ComponentType) -> Option<ComponentType> {
        self.types.insert(t.name.clone(), t)
    }

    /// The base of a type, user-defined or core.
    fn base_of(&self, name: &str) -> Option<&str> {
        match self.types.get(name) {
            Some(t) => t.extends.as_deref(),
            None => core_type(name).and_then(|c| c.extends),
        }
    }

    /// Whether `name` is `base` or extends it, directly or not.
    pub fn is_a(&self, name: &str, base: &str) -> bool {
        let mut current = Some(name);
        let mut steps = 0;
        while let Some(n) = current {
            if n == base {
                return true;
            }
            steps += 1;
            if steps > 64 {
                return false;
            }
            current = self.base_of(n);
        }
        false
    }

    /// The chain `name, base, base's base, ...` (bounded, so a cycle cannot hang).
    pub fn lineage<'a>(&'a self, name: &'a str) -> Vec<&'a str> {
        let mut out = Vec::new();
        let mut current = Some(name);
        while let Some(n) = current {
            if out.contains(&n) || out.len() > 64 {
                break;
            }
            out.push(n);
            current = self.base_of(n);
        }
        out
    }

    /// Every parameter (and property) of a type, inherited ones included, as
    /// `(name, dimension, default)`.
    pub fn parameters(&self, name: &str) -> Vec<(String, String, Option<f64>)> {
        let mut out: Vec<(String, String, Option<f64>)> = Vec::new();
        for n in self.lineage(name) {
            if let Some(t) = self.types.get(n) {
                for p in t.parameters.iter().chain(&t.properties) {
                    if !out.iter().any(|(k, _, _)| *k == p.name) {
                        out.push((p.name.clone(), p.dimension.clone(), p.default));
                    }
                }
            } else if let Some(c) = core_type(n) {
                for (p, d) in c.parameters {
                    if !out.iter().any(|(k, _, _)| k == p) {
                        out.push((p.to_string(), d.to_string(), None));
                    }
                }
            }
        }
        out
    }

    /// Every name an expression of this type may read: parameters, properties, constants,
    /// requirements, exposures (own and inherited), its dynamics' variables, and `t`.
    pub fn visible_names(&self, name: &str) -> Vec<String> {
        let mut out = vec!["t".to_string()];
        for n in self.lineage(name) {
            if let Some(t) = self.types.get(n) {
                out.extend(
                    t.parameters
                        .iter()
                        .chain(&t.properties)
                        .map(|p| p.name.clone()),
                );
                out.extend(t.constants.iter().map(|c| c.name.clone()));
                out.extend(
                    t.requirements
                        .iter()
                        .chain(&t.exposures)
                        .map(|r| r.name.clone()),
                );
                if let Some(d) = &t.dynamics {
                    out.extend(d.state_variables.iter().map(|s| s.name.clone()));
                    out.extend(d.derived_variables.iter().map(|s| s.name.clone()));
                    out.extend(
                        d.conditional_derived_variables
                            .iter()
                            .map(|s| s.name.clone()),
                    );
                }
            } else if let Some(c) = core_type(n) {
                for list in [c.parameters, c.exposures, c.requirements] {
                    out.extend(list.iter().map(|(p, _)| p.to_string()));
                }
            }
        }
        out
    }
}

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
        exposures: Vec::new(),
        requirements: Vec::new(),
        instance_requirements: Vec::new(),
        children: Vec::new(),
        event_ports: Vec::new(),
        texts: Vec::new(),
        dynamics: None,
        origin: ctx.origin(el),
    };
    for c in &el.children {
        match c.name.as_str() {
            "Parameter" => t.parameters.push(parameter(ctx, c)?),
            "Property" => t.properties.push(parameter(ctx, c)?),
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
            "Dynamics" => {
                if t.dynamics.is_some() {
                    return Err(ctx.error(
                        c,
                        ErrorKind::UnsupportedLems("more than one <Dynamics>".into()),
                    ));
                }
                t.dynamics = Some(dynamics(ctx, c)?)
            }
            "ComponentReference" | "Link" | "Attachments" | "Path" | "Structure" | "Simulation" => {
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

/// One `<Line>` of a `<Display>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Line id.
    pub id: String,
    /// Path of the quantity, e.g. `AVBL/0/AVBL/v`.
    pub quantity: String,
    /// Scale (internal units of the quantity's dimension) and its dimension name.
    pub scale: Option<(f64, String)>,
    /// Colour as written.
    pub color: Option<String>,
}

/// A `<Display>` of a simulation.
#[derive(Debug, Clone, PartialEq)]
pub struct Display {
    /// Display id.
    pub id: String,
    /// Title.
    pub title: Option<String>,
    /// Lines.
    pub lines: Vec<Line>,
}

/// One `<OutputColumn>`.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputColumn {
    /// Column id.
    pub id: String,
    /// Path of the quantity, e.g. `AVBL/0/AVBL/caConc`.
    pub quantity: String,
}

/// An `<OutputFile>`: time first, then one column per `OutputColumn`, in SI units.
#[derive(Debug, Clone, PartialEq)]
pub struct OutputFile {
    /// File id.
    pub id: String,
    /// File name, relative to where the simulation runs.
    pub file_name: String,
    /// Columns in order.
    pub columns: Vec<OutputColumn>,
}

/// A LEMS `<Simulation>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Simulation {
    /// Simulation id.
    pub id: String,
    /// Duration [ms].
    pub length: f64,
    /// Time step [ms].
    pub step: f64,
    /// The network it runs.
    pub target: String,
    /// Displays.
    pub displays: Vec<Display>,
    /// Output files.
    pub output_files: Vec<OutputFile>,
    /// Where it was defined.
    pub origin: Origin,
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
pub(crate) fn read_simulation(ctx: &Ctx, el: &Element) -> Result<Simulation> {
    let mut sim = Simulation {
        id: ctx.id(el)?,
        length: ctx.quantity(el, "length", "time")?,
        step: ctx.quantity(el, "step", "time")?,
        target: ctx.required(el, "target")?.to_string(),
        displays: Vec::new(),
        output_files: Vec::new(),
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
                return Err(ctx.error(c, ErrorKind::UnsupportedLems("<EventOutputFile>".into())));
            }
            "Meta" | "notes" => {}
            _ => return Err(ctx.unsupported(c)),
        }
    }
    Ok(sim)
}
