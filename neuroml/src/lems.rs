//! LEMS: user-defined `ComponentType`s with their `Dynamics`, components written as
//! elements of those types, and the registry that resolves `extends` chains down to
//! NeuroML's core types.
//!
//! c302 relies on these: its graded synapse (`gradedSynapse2`, extends `baseGradedSynapse`)
//! and its calcium-dependent gate (`customHGate`, extends `gateHHtauInf`) are LEMS types.

use std::collections::{BTreeMap, HashMap};

use crate::core_dynamics::core_dynamics;
use crate::core_types::core_type;
use crate::expr::Expr;
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

/// A `<DerivedParameter>`: a value fixed per component, computed from its parameters
/// (c302's `cell_W2D.xml`; `expTwoSynapse`'s `waveformFactor`).
#[derive(Debug, Clone, PartialEq)]
pub struct DerivedParameter {
    /// The name.
    pub name: String,
    /// The dimension's name.
    pub dimension: String,
    /// Its value from parameters, constants and earlier derived parameters.
    pub value: Expr,
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
    /// Derived parameters, in document order.
    pub derived_parameters: Vec<DerivedParameter>,
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
    /// `<Attachments>` as `(name, type)`: components placed on instances of this type
    /// (a cell's synapses), read through `select="NAME[*]/..."`.
    pub attachments: Vec<(String, String)>,
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
/// behind them: those simulated from their definition (see [`crate::core_dynamics`]) as
/// full ComponentTypes, the others as signatures ([`crate::core_types`]).
#[derive(Debug, Clone, Default)]
pub struct TypeRegistry {
    types: HashMap<String, ComponentType>,
}

/// Attributes that never hold parameters.
pub(crate) const STRUCTURAL_ATTRIBUTES: &[&str] = &["id", "type", "name", "metaid", "neuroLexId"];

impl TypeRegistry {
    /// A user-defined type, or a core type with a LEMS definition, by name.
    pub fn get(&self, name: &str) -> Option<&ComponentType> {
        self.types.get(name).or_else(|| core_dynamics(name))
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
        match self.get(name) {
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

    /// The `<Dynamics>` a type runs: its own, or the nearest base's.
    pub fn dynamics(&self, name: &str) -> Option<&Dynamics> {
        self.lineage(name)
            .into_iter()
            .filter_map(|n| self.get(n))
            .find_map(|t| t.dynamics.as_ref())
    }

    /// Every parameter (and property) of a type, inherited ones included, as
    /// `(name, dimension, default)`; a parameter that a type along the way defines as a
    /// derived parameter instead (c302's `cellW2D` derives its base's `C`) is not one.
    pub fn parameters(&self, name: &str) -> Vec<(String, String, Option<f64>)> {
        let mut out: Vec<(String, String, Option<f64>)> = Vec::new();
        let derived: Vec<&str> = self
            .lineage(name)
            .into_iter()
            .filter_map(|n| self.get(n))
            .flat_map(|t| t.derived_parameters.iter().map(|p| p.name.as_str()))
            .collect();
        out.extend(derived.iter().map(|d| (d.to_string(), String::new(), None)));
        for n in self.lineage(name) {
            if let Some(t) = self.get(n) {
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
        out.split_off(derived.len())
    }

    /// Every name an expression of this type may read: parameters, properties, derived
    /// parameters, constants, requirements, exposures (own and inherited), its dynamics'
    /// variables, and `t`.
    pub fn visible_names(&self, name: &str) -> Vec<String> {
        let mut out = vec!["t".to_string()];
        for n in self.lineage(name) {
            if let Some(t) = self.get(n) {
                out.extend(
                    t.parameters
                        .iter()
                        .chain(&t.properties)
                        .map(|p| p.name.clone()),
                );
                out.extend(t.derived_parameters.iter().map(|p| p.name.clone()));
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
pub struct LemsSimulation {
    /// Simulation id.
    pub id: String,
    /// Duration \[ms\].
    pub length: f64,
    /// Time step \[ms\].
    pub step: f64,
    /// The network it runs.
    pub target: String,
    /// Displays.
    pub displays: Vec<Display>,
    /// Output files.
    pub output_files: Vec<OutputFile>,
    /// Event (spike time) output files.
    pub event_output_files: Vec<EventOutputFile>,
    /// Where it was defined.
    pub origin: Origin,
}

/// How an `<EventOutputFile>` writes each event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventFormat {
    /// `ID<TAB>TIME` per line (jNeuroML's default).
    IdTime,
    /// `TIME<TAB>ID` per line.
    TimeId,
}

/// One `<EventSelection>`: the cell whose events are written, and the id written for them.
#[derive(Debug, Clone, PartialEq)]
pub struct EventSelection {
    /// The id written on each line (an integer in jNeuroML's files).
    pub id: u64,
    /// The cell: `POPULATION/INDEX/CELL`.
    pub select: String,
    /// The port (`spike`).
    pub event_port: String,
}

/// An `<EventOutputFile>`: spike times of selected cells, in seconds.
#[derive(Debug, Clone, PartialEq)]
pub struct EventOutputFile {
    /// File id.
    pub id: String,
    /// File name, relative to where the simulation runs.
    pub file_name: String,
    /// Line format.
    pub format: EventFormat,
    /// Selections in order.
    pub selections: Vec<EventSelection>,
}
