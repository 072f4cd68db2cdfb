//! Networks: populations of cells, projections (chemical, electrical, continuous) and
//! input lists.

use crate::context::Ctx;
use crate::error::{ErrorKind, Result};
use crate::xml::Element;
use crate::Origin;

/// One cell of a population, with its position \[µm\] if given.
#[derive(Debug, Clone, PartialEq)]
pub struct Instance {
    /// Index in the population.
    pub id: u32,
    /// Location \[µm\].
    pub location: Option<[f64; 3]>,
}

/// A population: `size` copies of one cell (or other component).
#[derive(Debug, Clone, PartialEq)]
pub struct Population {
    /// Population id (c302: the neuron's name).
    pub id: String,
    /// The cell (component) id.
    pub component: String,
    /// Number of cells.
    pub size: u32,
    /// Explicit instances (`populationList`).
    pub instances: Vec<Instance>,
    /// `<property tag value>` pairs (c302: colour, type, neurotransmitter).
    pub properties: Vec<(String, String)>,
    /// Where it was defined.
    pub origin: Origin,
}

/// A cell in a population: `../AVBL/0/AVBL` or index 0 of the projection's population.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellRef {
    /// Population id.
    pub population: String,
    /// Index in the population.
    pub index: u32,
}

/// The three kinds of projection.
#[derive(Debug, Clone, PartialEq)]
pub enum ProjectionKind {
    /// `projection`: event-driven (spiking) chemical synapses; the synapse sits on the post cell.
    Chemical {
        /// The synapse id.
        synapse: String,
    },
    /// `electricalProjection`: gap junctions; each connection names its synapse.
    Electrical,
    /// `continuousProjection`: graded (analog) transmission; each connection names a pre
    /// and a post component.
    Continuous,
}

/// One connection of a projection.
#[derive(Debug, Clone, PartialEq)]
pub struct Connection {
    /// Connection id.
    pub id: u32,
    /// Presynaptic cell.
    pub pre: CellRef,
    /// Postsynaptic cell.
    pub post: CellRef,
    /// Presynaptic segment id (0 when not given).
    pub pre_segment: u32,
    /// Position along the presynaptic segment (0.5 when not given).
    pub pre_fraction_along: f64,
    /// Postsynaptic segment id.
    pub post_segment: u32,
    /// Position along the postsynaptic segment.
    pub post_fraction_along: f64,
    /// Weight (1 when not given).
    pub weight: f64,
    /// Delay \[ms\] (chemical only; 0 when not given).
    pub delay: f64,
    /// The gap junction's synapse id (electrical connections).
    pub synapse: Option<String>,
    /// Presynaptic component id (continuous connections).
    pub pre_component: Option<String>,
    /// Postsynaptic component id (continuous connections).
    pub post_component: Option<String>,
    /// Where it was defined.
    pub origin: Origin,
}

/// A projection between two populations.
#[derive(Debug, Clone, PartialEq)]
pub struct Projection {
    /// Projection id.
    pub id: String,
    /// Kind.
    pub kind: ProjectionKind,
    /// Presynaptic population.
    pub pre_population: String,
    /// Postsynaptic population.
    pub post_population: String,
    /// Connections.
    pub connections: Vec<Connection>,
    /// Where it was defined.
    pub origin: Origin,
}

/// One input placed on a cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Input {
    /// Input id.
    pub id: u32,
    /// The target cell.
    pub target: CellRef,
    /// Segment id (0 when not given).
    pub segment: u32,
    /// Position along the segment (0.5 when not given).
    pub fraction_along: f64,
    /// Weight (1 when not given).
    pub weight: f64,
}

/// An `inputList` (or a group of `explicitInput`s sharing a source).
#[derive(Debug, Clone, PartialEq)]
pub struct InputList {
    /// List id.
    pub id: String,
    /// The input source's id.
    pub component: String,
    /// The population the inputs target.
    pub population: String,
    /// The inputs.
    pub inputs: Vec<Input>,
    /// Where it was defined.
    pub origin: Origin,
}

/// A network.
#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    /// Network id.
    pub id: String,
    /// Temperature \[K\], if given.
    pub temperature: Option<f64>,
    /// Populations.
    pub populations: Vec<Population>,
    /// Projections.
    pub projections: Vec<Projection>,
    /// Input lists.
    pub input_lists: Vec<InputList>,
    /// `<property tag value>` pairs.
    pub properties: Vec<(String, String)>,
    /// Where it was defined.
    pub origin: Origin,
}

impl Network {
    /// The population with this id.
    pub fn population(&self, id: &str) -> Option<&Population> {
        self.populations.iter().find(|p| p.id == id)
    }
}

/// Parses a cell path: `../AVBL/0/AVBL`, `AVBL/0/AVBL`, `AVBL[0]`, or a bare index into
/// `default_population`.
pub(crate) fn parse_cell_ref(text: &str, default_population: &str) -> Option<CellRef> {
    let t = text.trim();
    if let Ok(index) = t.parse::<u32>() {
        return Some(CellRef {
            population: default_population.to_string(),
            index,
        });
    }
    if let Some(open) = t.find('[') {
        let close = t.strip_suffix(']')?;
        let index = close[open + 1..].parse().ok()?;
        return Some(CellRef {
            population: t[..open].trim_start_matches("../").to_string(),
            index,
        });
    }
    let parts: Vec<&str> = t.trim_start_matches("../").split('/').collect();
    if parts.len() >= 2 && !parts[0].is_empty() {
        return Some(CellRef {
            population: parts[0].to_string(),
            index: parts[1].parse().ok()?,
        });
    }
    None
}

fn cell_ref(ctx: &Ctx, el: &Element, attr: &str, default_population: &str) -> Result<CellRef> {
    let text = ctx.required(el, attr)?;
    parse_cell_ref(text, default_population).ok_or_else(|| {
        ctx.error(
            el,
            ErrorKind::Invalid(format!("attribute '{attr}': bad cell reference '{text}'")),
        )
    })
}

fn fraction(ctx: &Ctx, el: &Element, attr: &str) -> Result<f64> {
    let f = ctx.opt_number(el, attr)?.unwrap_or(0.5);
    if !(0.0..=1.0).contains(&f) {
        return Err(ctx.invalid(el, format!("'{attr}' must lie in [0, 1]")));
    }
    Ok(f)
}

fn properties(ctx: &Ctx, el: &Element) -> Result<Vec<(String, String)>> {
    el.children_named("property")
        .map(|p| {
            Ok((
                ctx.required(p, "tag")?.to_string(),
                ctx.required(p, "value")?.to_string(),
            ))
        })
        .collect()
}

fn population(ctx: &Ctx, el: &Element) -> Result<Population> {
    let mut instances = Vec::new();
    for c in &el.children {
        match c.name.as_str() {
            "instance" => {
                let location = match c.child("location") {
                    Some(l) => Some([
                        ctx.number(l, "x")?,
                        ctx.number(l, "y")?,
                        ctx.number(l, "z")?,
                    ]),
                    None => None,
                };
                instances.push(Instance {
                    id: ctx.integer(c, "id")?,
                    location,
                });
            }
            "property" | "notes" | "annotation" => {}
            "layout" => return Err(ctx.error(c, ErrorKind::UnsupportedLems("<layout>".into()))),
            _ => return Err(ctx.unsupported(c)),
        }
    }
    let size = match ctx.opt_integer(el, "size")? {
        Some(s) => s,
        None => instances.len() as u32,
    };
    if !instances.is_empty() && instances.len() as u32 != size {
        return Err(ctx.invalid(el, format!("size {size} but {} instances", instances.len())));
    }
    if let Some(i) = instances.iter().find(|i| i.id >= size) {
        return Err(ctx.invalid(
            el,
            format!("instance {} outside population of size {size}", i.id),
        ));
    }
    Ok(Population {
        id: ctx.id(el)?,
        component: ctx.required(el, "component")?.to_string(),
        size,
        instances,
        properties: properties(ctx, el)?,
        origin: ctx.origin(el),
    })
}

fn connection(
    ctx: &Ctx,
    el: &Element,
    pre_pop: &str,
    post_pop: &str,
    kind: &ProjectionKind,
) -> Result<Connection> {
    let (pre_attr, post_attr) = if el.attr("preCellId").is_some() {
        ("preCellId", "postCellId")
    } else {
        ("preCell", "postCell")
    };
    let mut c = Connection {
        id: ctx.integer(el, "id")?,
        pre: cell_ref(ctx, el, pre_attr, pre_pop)?,
        post: cell_ref(ctx, el, post_attr, post_pop)?,
        pre_segment: ctx
            .opt_integer(el, "preSegmentId")?
            .or(ctx.opt_integer(el, "preSegment")?)
            .unwrap_or(0),
        pre_fraction_along: fraction(
            ctx,
            el,
            if el.attr("preFractionAlong").is_some() {
                "preFractionAlong"
            } else {
                "preFraction"
            },
        )?,
        post_segment: ctx
            .opt_integer(el, "postSegmentId")?
            .or(ctx.opt_integer(el, "postSegment")?)
            .unwrap_or(0),
        post_fraction_along: fraction(
            ctx,
            el,
            if el.attr("postFractionAlong").is_some() {
                "postFractionAlong"
            } else {
                "postFraction"
            },
        )?,
        weight: ctx.opt_number(el, "weight")?.unwrap_or(1.0),
        delay: ctx.opt_quantity(el, "delay", "time")?.unwrap_or(0.0),
        synapse: None,
        pre_component: None,
        post_component: None,
        origin: ctx.origin(el),
    };
    if c.pre.population != pre_pop || c.post.population != post_pop {
        return Err(ctx.invalid(
            el,
            format!(
                "connects {}→{} but the projection is {pre_pop}→{post_pop}",
                c.pre.population, c.post.population
            ),
        ));
    }
    match kind {
        ProjectionKind::Chemical { .. } => {}
        ProjectionKind::Electrical => c.synapse = Some(ctx.required(el, "synapse")?.to_string()),
        ProjectionKind::Continuous => {
            c.pre_component = Some(ctx.required(el, "preComponent")?.to_string());
            c.post_component = Some(ctx.required(el, "postComponent")?.to_string());
        }
    }
    Ok(c)
}

fn projection(ctx: &Ctx, el: &Element) -> Result<Projection> {
    let kind = match el.name.as_str() {
        "projection" => ProjectionKind::Chemical {
            synapse: ctx.required(el, "synapse")?.to_string(),
        },
        "electricalProjection" => ProjectionKind::Electrical,
        _ => ProjectionKind::Continuous,
    };
    let pre_population = ctx.required(el, "presynapticPopulation")?.to_string();
    let post_population = ctx.required(el, "postsynapticPopulation")?.to_string();
    let allowed: &[&str] = match kind {
        ProjectionKind::Chemical { .. } => &["connection", "connectionWD"],
        ProjectionKind::Electrical => &[
            "electricalConnection",
            "electricalConnectionInstance",
            "electricalConnectionInstanceW",
        ],
        ProjectionKind::Continuous => &[
            "continuousConnection",
            "continuousConnectionInstance",
            "continuousConnectionInstanceW",
        ],
    };
    let mut connections = Vec::new();
    for c in &el.children {
        if allowed.contains(&c.name.as_str()) {
            connections.push(connection(
                ctx,
                c,
                &pre_population,
                &post_population,
                &kind,
            )?);
        } else if !matches!(c.name.as_str(), "notes" | "annotation" | "property") {
            return Err(ctx.unsupported(c));
        }
    }
    Ok(Projection {
        id: ctx.id(el)?,
        kind,
        pre_population,
        post_population,
        connections,
        origin: ctx.origin(el),
    })
}

fn input_list(ctx: &Ctx, el: &Element) -> Result<InputList> {
    let population = ctx.required(el, "population")?.to_string();
    let mut inputs = Vec::new();
    for c in &el.children {
        match c.name.as_str() {
            "input" | "inputW" => inputs.push(Input {
                id: ctx.integer(c, "id")?,
                target: cell_ref(ctx, c, "target", &population)?,
                segment: ctx.opt_integer(c, "segmentId")?.unwrap_or(0),
                fraction_along: fraction(ctx, c, "fractionAlong")?,
                weight: ctx.opt_number(c, "weight")?.unwrap_or(1.0),
            }),
            "notes" | "annotation" => {}
            _ => return Err(ctx.unsupported(c)),
        }
    }
    if let Some(i) = inputs.iter().find(|i| i.target.population != population) {
        return Err(ctx.invalid(
            el,
            format!(
                "input {} targets population {} not {population}",
                i.id, i.target.population
            ),
        ));
    }
    Ok(InputList {
        id: ctx.id(el)?,
        component: ctx.required(el, "component")?.to_string(),
        population,
        inputs,
        origin: ctx.origin(el),
    })
}

/// Reads a `<network>` element.
pub(crate) fn read_network(ctx: &Ctx, el: &Element) -> Result<Network> {
    let mut net = Network {
        id: ctx.id(el)?,
        temperature: ctx.opt_quantity(el, "temperature", "temperature")?,
        populations: Vec::new(),
        projections: Vec::new(),
        input_lists: Vec::new(),
        properties: properties(ctx, el)?,
        origin: ctx.origin(el),
    };
    let mut explicit = 0;
    for c in &el.children {
        match c.name.as_str() {
            "population" => net.populations.push(population(ctx, c)?),
            "projection" | "electricalProjection" | "continuousProjection" => {
                net.projections.push(projection(ctx, c)?)
            }
            "inputList" => net.input_lists.push(input_list(ctx, c)?),
            "explicitInput" => {
                let target = cell_ref(ctx, c, "target", "")?;
                net.input_lists.push(InputList {
                    id: format!("explicitInput_{explicit}"),
                    component: ctx.required(c, "input")?.to_string(),
                    population: target.population.clone(),
                    inputs: vec![Input {
                        id: 0,
                        target,
                        segment: 0,
                        fraction_along: 0.5,
                        weight: 1.0,
                    }],
                    origin: ctx.origin(c),
                });
                explicit += 1;
            }
            "property" | "notes" | "annotation" => {}
            "synapticConnection" | "region" => {
                return Err(ctx.error(c, ErrorKind::UnsupportedLems(format!("<{}>", c.name))))
            }
            _ => return Err(ctx.unsupported(c)),
        }
    }
    Ok(net)
}
