//! Multicompartmental cells: morphology plus biophysical properties.

use crate::context::Ctx;
use crate::error::{ErrorKind, Result};
use crate::morphology::{read_morphology, Morphology};
use crate::xml::Element;
use crate::Origin;

/// How a channel density sets its reversal potential.
#[derive(Debug, Clone, PartialEq)]
pub enum Reversal {
    /// A fixed reversal potential \[mV\] (`channelDensity`).
    Fixed(f64),
    /// From the Nernst equation on the species' concentrations (`channelDensityNernst`).
    Nernst,
}

/// A `<channelDensity>`: a channel placed on a segment group at a conductance density.
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelDensity {
    /// Density id.
    pub id: String,
    /// The ion channel's id.
    pub ion_channel: String,
    /// Maximal conductance density \[µS/µm²\].
    pub cond_density: f64,
    /// Reversal potential.
    pub reversal: Reversal,
    /// The ion (`non_specific`, `k`, `ca`, ...).
    pub ion: String,
    /// Segment group it applies to (`all` when not given).
    pub segment_group: String,
    /// A single segment instead of a group, if given.
    pub segment: Option<u32>,
    /// Where it was defined.
    pub origin: Origin,
}

/// A value that applies on a segment group (`specificCapacitance`, `initMembPotential`, ...).
#[derive(Debug, Clone, PartialEq)]
pub struct GroupValue {
    /// The segment group (`all` when not given).
    pub segment_group: String,
    /// The value in internal units.
    pub value: f64,
}

/// An ion species with its concentration model.
#[derive(Debug, Clone, PartialEq)]
pub struct Species {
    /// Species id (`ca`).
    pub id: String,
    /// The concentration model's id.
    pub concentration_model: String,
    /// The ion.
    pub ion: String,
    /// Initial internal concentration \[mM\].
    pub initial_concentration: f64,
    /// Initial external concentration \[mM\].
    pub initial_ext_concentration: f64,
    /// Segment group (`all` when not given).
    pub segment_group: String,
    /// Where it was defined.
    pub origin: Origin,
}

/// Membrane properties.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct MembraneProperties {
    /// Channel densities.
    pub channel_densities: Vec<ChannelDensity>,
    /// Specific capacitance \[nF/µm²\] per group.
    pub specific_capacitance: Vec<GroupValue>,
    /// Initial membrane potential \[mV\] per group.
    pub init_memb_potential: Vec<GroupValue>,
    /// Spike threshold \[mV\] per group.
    pub spike_thresh: Vec<GroupValue>,
}

/// Intracellular properties.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct IntracellularProperties {
    /// Ion species.
    pub species: Vec<Species>,
    /// Axial resistivity \[Ω·m\] per group.
    pub resistivity: Vec<GroupValue>,
}

/// A cell.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// Cell id.
    pub id: String,
    /// Its morphology.
    pub morphology: Morphology,
    /// Membrane properties.
    pub membrane: MembraneProperties,
    /// Intracellular properties.
    pub intracellular: IntracellularProperties,
    /// Where it was defined.
    pub origin: Origin,
}

fn group_value(ctx: &Ctx, el: &Element, dimension: &str) -> Result<GroupValue> {
    Ok(GroupValue {
        segment_group: el.attr("segmentGroup").unwrap_or("all").to_string(),
        value: ctx.quantity(el, "value", dimension)?,
    })
}

/// A group value that must be positive: a capacitance or a resistivity of zero or less has
/// no physical meaning and makes the membrane equation unstable.
fn positive_group_value(ctx: &Ctx, el: &Element, dimension: &str) -> Result<GroupValue> {
    let v = group_value(ctx, el, dimension)?;
    if v.value <= 0.0 {
        return Err(ctx.invalid(
            el,
            format!("{} value must be positive, not {}", el.name, v.value),
        ));
    }
    Ok(v)
}

fn channel_density(ctx: &Ctx, el: &Element) -> Result<ChannelDensity> {
    let reversal = match el.name.as_str() {
        "channelDensity" => Reversal::Fixed(ctx.quantity(el, "erev", "voltage")?),
        "channelDensityNernst" => Reversal::Nernst,
        _ => return Err(ctx.error(el, ErrorKind::UnsupportedLems(format!("<{}>", el.name)))),
    };
    let cond_density = ctx.quantity(el, "condDensity", "conductanceDensity")?;
    if cond_density < 0.0 {
        return Err(ctx.invalid(el, "negative condDensity"));
    }
    Ok(ChannelDensity {
        id: ctx.id(el)?,
        ion_channel: ctx.required(el, "ionChannel")?.to_string(),
        cond_density,
        reversal,
        ion: el.attr("ion").unwrap_or("non_specific").to_string(),
        segment_group: el.attr("segmentGroup").unwrap_or("all").to_string(),
        segment: ctx.opt_integer(el, "segment")?,
        origin: ctx.origin(el),
    })
}

fn membrane_properties(ctx: &Ctx, el: &Element) -> Result<MembraneProperties> {
    let mut m = MembraneProperties::default();
    for c in &el.children {
        match c.name.as_str() {
            "channelDensity" | "channelDensityNernst" => {
                m.channel_densities.push(channel_density(ctx, c)?)
            }
            "specificCapacitance" => {
                m.specific_capacitance
                    .push(positive_group_value(ctx, c, "specificCapacitance")?)
            }
            "initMembPotential" => m.init_memb_potential.push(group_value(ctx, c, "voltage")?),
            "spikeThresh" => m.spike_thresh.push(group_value(ctx, c, "voltage")?),
            "channelPopulation"
            | "channelDensityGHK"
            | "channelDensityGHK2"
            | "channelDensityNonUniform"
            | "channelDensityVShift"
            | "channelDensityNernstCa2" => {
                return Err(ctx.error(c, ErrorKind::UnsupportedLems(format!("<{}>", c.name))))
            }
            "notes" | "annotation" => {}
            _ => return Err(ctx.unsupported(c)),
        }
    }
    Ok(m)
}

fn intracellular_properties(ctx: &Ctx, el: &Element) -> Result<IntracellularProperties> {
    let mut p = IntracellularProperties::default();
    for c in &el.children {
        match c.name.as_str() {
            "species" => p.species.push(Species {
                id: ctx.id(c)?,
                concentration_model: ctx.required(c, "concentrationModel")?.to_string(),
                ion: c.attr("ion").unwrap_or(ctx.id(c)?.as_str()).to_string(),
                initial_concentration: ctx.quantity(c, "initialConcentration", "concentration")?,
                initial_ext_concentration: ctx.quantity(
                    c,
                    "initialExtConcentration",
                    "concentration",
                )?,
                segment_group: c.attr("segmentGroup").unwrap_or("all").to_string(),
                origin: ctx.origin(c),
            }),
            "resistivity" => p
                .resistivity
                .push(positive_group_value(ctx, c, "resistivity")?),
            "notes" | "annotation" => {}
            _ => return Err(ctx.unsupported(c)),
        }
    }
    Ok(p)
}

/// Reads a `<cell>` element. `morphologies` holds top-level `<morphology>` elements a cell
/// may name with its `morphology` attribute.
pub(crate) fn read_cell(ctx: &Ctx, el: &Element, morphologies: &[Morphology]) -> Result<Cell> {
    let id = ctx.id(el)?;
    let mut morphology = None;
    let mut membrane = MembraneProperties::default();
    let mut intracellular = IntracellularProperties::default();
    let mut seen_biophysics = false;
    for c in &el.children {
        match c.name.as_str() {
            "morphology" => morphology = Some(read_morphology(ctx, c)?),
            "biophysicalProperties" => {
                seen_biophysics = true;
                for b in &c.children {
                    match b.name.as_str() {
                        "membraneProperties" => membrane = membrane_properties(ctx, b)?,
                        "intracellularProperties" => {
                            intracellular = intracellular_properties(ctx, b)?
                        }
                        "extracellularProperties" | "notes" | "annotation" => {}
                        _ => return Err(ctx.unsupported(b)),
                    }
                }
            }
            "notes" | "annotation" | "property" => {}
            _ => return Err(ctx.unsupported(c)),
        }
    }
    if morphology.is_none() {
        if let Some(name) = el.attr("morphology") {
            morphology = Some(
                morphologies
                    .iter()
                    .find(|m| m.id == name)
                    .cloned()
                    .ok_or_else(|| {
                        ctx.error(
                            el,
                            ErrorKind::UnknownReference {
                                what: "morphology".into(),
                                name: name.into(),
                            },
                        )
                    })?,
            );
        }
    }
    let morphology = morphology.ok_or_else(|| ctx.invalid(el, "has no <morphology>"))?;
    if !seen_biophysics && el.attr("biophysicalProperties").is_some() {
        return Err(ctx.error(
            el,
            ErrorKind::UnsupportedLems("biophysicalProperties by reference".into()),
        ));
    }
    let cell = Cell {
        id,
        morphology,
        membrane,
        intracellular,
        origin: ctx.origin(el),
    };
    check_groups(ctx, el, &cell)?;
    Ok(cell)
}

/// Every segment group (and segment) a property names must exist in the cell's morphology.
fn check_groups(ctx: &Ctx, el: &Element, cell: &Cell) -> Result<()> {
    let m = &cell.morphology;
    let unknown_group = |g: &str| g != "all" && m.group(g).is_none();
    let unknown = |what: &str, name: String| ErrorKind::UnknownReference {
        what: what.into(),
        name,
    };
    for d in &cell.membrane.channel_densities {
        let element = format!("channelDensity {}", d.id);
        if unknown_group(&d.segment_group) {
            return Err(ctx.error_at(
                d.origin,
                element,
                unknown("segmentGroup", d.segment_group.clone()),
            ));
        }
        if let Some(s) = d.segment.filter(|&s| m.segment(s).is_none()) {
            return Err(ctx.error_at(d.origin, element, unknown("segment", s.to_string())));
        }
    }
    for s in &cell.intracellular.species {
        if unknown_group(&s.segment_group) {
            return Err(ctx.error_at(
                s.origin,
                format!("species {}", s.id),
                unknown("segmentGroup", s.segment_group.clone()),
            ));
        }
    }
    let values = cell
        .membrane
        .specific_capacitance
        .iter()
        .chain(&cell.membrane.init_memb_potential);
    let values = values
        .chain(&cell.membrane.spike_thresh)
        .chain(&cell.intracellular.resistivity);
    if let Some(v) = values.into_iter().find(|v| unknown_group(&v.segment_group)) {
        return Err(ctx.error(el, unknown("segmentGroup", v.segment_group.clone())));
    }
    Ok(())
}
