//! Ion channels: passive and Hodgkin–Huxley channels with their gates.
//!
//! A HH channel's conductance is `g = gmax · Π_gates fcond`, with `fcond = q^instances`
//! for the standard gates. The gate forms follow NeuroML's core `Channels.xml`:
//!
//! * `gateHHrates`: dq/dt = α(v)(1 − q) − β(v) q
//! * `gateHHtauInf`: dq/dt = (q∞(v) − q) / τ(v)
//! * `gateHHratesInf` / `gateHHratesTau` / `gateHHratesTauInf`: rates with an explicit
//!   q∞ and/or τ overriding the ones the rates imply
//! * `gateHHInstantaneous`: q = q∞(v)
//!
//! and the rate/variable/time-course shapes (with `x = (v − midpoint) / scale`):
//! `HHExpRate` r·eˣ, `HHSigmoidRate` r/(1 + e⁻ˣ), `HHExpLinearRate` r·x/(1 − e⁻ˣ),
//! and the same shapes for variables (`HHExpVariable`, `HHSigmoidVariable`,
//! `HHExpLinearVariable`); `fixedTimeCourse` τ = constant.

use crate::context::Ctx;
use crate::error::{ErrorKind, Result};
use crate::lems::Component;
use crate::lems_read::read_component;
use crate::xml::Element;
use crate::Origin;

/// The shape of a standard HH rate or variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HHShape {
    /// r · exp((v − midpoint)/scale)
    Exponential,
    /// r / (1 + exp(−(v − midpoint)/scale))
    Sigmoid,
    /// r · x / (1 − exp(−x)), x = (v − midpoint)/scale
    ExponentialLinear,
}

/// One of a gate's functions of voltage: a rate (1/ms), a steady state (dimensionless)
/// or a time course (ms).
#[derive(Debug, Clone, PartialEq)]
pub enum HHFunction {
    /// A standard shape. `rate` is in 1/ms for rates and dimensionless for variables;
    /// `midpoint` and `scale` are in mV.
    Standard {
        /// The shape.
        shape: HHShape,
        /// Amplitude.
        rate: f64,
        /// Midpoint \[mV\].
        midpoint: f64,
        /// Scale \[mV\].
        scale: f64,
    },
    /// A constant time course τ \[ms\].
    FixedTimeCourse {
        /// τ \[ms\]
        tau: f64,
    },
    /// A component of a LEMS type (e.g. a calcium-dependent rate).
    Custom(Component),
}

/// What role a function plays in a gate, fixing its dimension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Rate,
    Variable,
    Time,
}

/// The kind of a gate, with its functions.
#[derive(Debug, Clone, PartialEq)]
pub enum GateKind {
    /// `gateHHrates`
    Rates {
        /// α
        forward: HHFunction,
        /// β
        reverse: HHFunction,
    },
    /// `gateHHtauInf`
    TauInf {
        /// τ
        time_course: HHFunction,
        /// q∞
        steady_state: HHFunction,
    },
    /// `gateHHratesInf`
    RatesInf {
        /// α
        forward: HHFunction,
        /// β
        reverse: HHFunction,
        /// q∞
        steady_state: HHFunction,
    },
    /// `gateHHratesTau`
    RatesTau {
        /// α
        forward: HHFunction,
        /// β
        reverse: HHFunction,
        /// τ
        time_course: HHFunction,
    },
    /// `gateHHratesTauInf`
    RatesTauInf {
        /// α
        forward: HHFunction,
        /// β
        reverse: HHFunction,
        /// τ
        time_course: HHFunction,
        /// q∞
        steady_state: HHFunction,
    },
    /// `gateHHInstantaneous`
    Instantaneous {
        /// q∞
        steady_state: HHFunction,
    },
    /// A gate of a LEMS type (c302's `customHGate`); its dynamics live in the type.
    Custom(Component),
}

/// Temperature adjustment of a gate's rates.
#[derive(Debug, Clone, PartialEq)]
pub enum Q10 {
    /// A fixed factor.
    Fixed {
        /// The factor.
        q10: f64,
    },
    /// q10Factor^((T − experimentalTemp)/10 K).
    ExpTemp {
        /// The factor per 10 K.
        q10_factor: f64,
        /// Temperature of the measurements \[K\].
        experimental_temp: f64,
    },
}

/// A gate of an HH channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Gate {
    /// Gate id.
    pub id: String,
    /// Exponent of the gate variable in the conductance.
    pub instances: u32,
    /// Its kind and functions.
    pub kind: GateKind,
    /// Temperature adjustment, if any.
    pub q10: Option<Q10>,
    /// Where it was defined.
    pub origin: Origin,
}

/// Passive or HH.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChannelKind {
    /// `ionChannelPassive`: constant conductance.
    Passive,
    /// `ionChannelHH` / `ionChannel` with gates.
    HodgkinHuxley,
}

/// An ion channel.
#[derive(Debug, Clone, PartialEq)]
pub struct IonChannel {
    /// Channel id.
    pub id: String,
    /// Passive or HH.
    pub kind: ChannelKind,
    /// Single-channel conductance \[µS\], if given.
    pub conductance: Option<f64>,
    /// Ion species carried (`k`, `ca`, `na`, ...).
    pub species: Option<String>,
    /// Gates (empty for passive channels).
    pub gates: Vec<Gate>,
    /// Where it was defined.
    pub origin: Origin,
}

fn function(ctx: &Ctx, el: &Element, role: Role) -> Result<HHFunction> {
    let type_name = ctx.required(el, "type")?;
    let (rate_dimension, expected_base) = match role {
        Role::Rate => ("per_time", "baseVoltageDepRate"),
        Role::Variable => ("none", "baseVoltageDepVariable"),
        Role::Time => ("time", "baseVoltageDepTime"),
    };
    let shape = match (role, type_name) {
        (Role::Rate, "HHExpRate") | (Role::Variable, "HHExpVariable") => Some(HHShape::Exponential),
        (Role::Rate, "HHSigmoidRate") | (Role::Variable, "HHSigmoidVariable") => {
            Some(HHShape::Sigmoid)
        }
        (Role::Rate, "HHExpLinearRate") | (Role::Variable, "HHExpLinearVariable") => {
            Some(HHShape::ExponentialLinear)
        }
        _ => None,
    };
    if let Some(shape) = shape {
        let scale = ctx.quantity(el, "scale", "voltage")?;
        if scale == 0.0 {
            return Err(ctx.invalid(el, "scale must not be zero"));
        }
        return Ok(HHFunction::Standard {
            shape,
            rate: ctx.quantity(el, "rate", rate_dimension)?,
            midpoint: ctx.quantity(el, "midpoint", "voltage")?,
            scale,
        });
    }
    if role == Role::Time && type_name == "fixedTimeCourse" {
        return Ok(HHFunction::FixedTimeCourse {
            tau: ctx.quantity(el, "tau", "time")?,
        });
    }
    if ctx.types.get(type_name).is_some() && ctx.types.is_a(type_name, expected_base) {
        return Ok(HHFunction::Custom(read_component(ctx, el, type_name)?));
    }
    Err(ctx.error(
        el,
        ErrorKind::Invalid(format!(
            "type '{type_name}' is not a {} (expected a type extending {expected_base})",
            el.name
        )),
    ))
}

fn required_function(ctx: &Ctx, gate: &Element, child: &str, role: Role) -> Result<HHFunction> {
    let el = gate
        .child(child)
        .ok_or_else(|| ctx.invalid(gate, format!("missing <{child}>")))?;
    function(ctx, el, role)
}

fn q10(ctx: &Ctx, el: &Element) -> Result<Q10> {
    match ctx.required(el, "type")? {
        "q10Fixed" => Ok(Q10::Fixed {
            q10: ctx.quantity(el, "fixedQ10", "none")?,
        }),
        "q10ExpTemp" => Ok(Q10::ExpTemp {
            q10_factor: ctx.quantity(el, "q10Factor", "none")?,
            experimental_temp: ctx.quantity(el, "experimentalTemp", "temperature")?,
        }),
        other => Err(ctx.error(
            el,
            ErrorKind::UnknownReference {
                what: "q10Settings type".into(),
                name: other.into(),
            },
        )),
    }
}

fn gate(ctx: &Ctx, el: &Element, tag: &str) -> Result<Gate> {
    let known_children = [
        "forwardRate",
        "reverseRate",
        "timeCourse",
        "steadyState",
        "q10Settings",
        "notes",
        "annotation",
    ];
    if tag != "custom" {
        if let Some(c) = el
            .children
            .iter()
            .find(|c| !known_children.contains(&c.name.as_str()))
        {
            return Err(ctx.unsupported(c));
        }
    }
    let f = |child, role| required_function(ctx, el, child, role);
    let kind = match tag {
        "gateHHrates" => GateKind::Rates {
            forward: f("forwardRate", Role::Rate)?,
            reverse: f("reverseRate", Role::Rate)?,
        },
        "gateHHtauInf" => GateKind::TauInf {
            time_course: f("timeCourse", Role::Time)?,
            steady_state: f("steadyState", Role::Variable)?,
        },
        "gateHHratesInf" => GateKind::RatesInf {
            forward: f("forwardRate", Role::Rate)?,
            reverse: f("reverseRate", Role::Rate)?,
            steady_state: f("steadyState", Role::Variable)?,
        },
        "gateHHratesTau" => GateKind::RatesTau {
            forward: f("forwardRate", Role::Rate)?,
            reverse: f("reverseRate", Role::Rate)?,
            time_course: f("timeCourse", Role::Time)?,
        },
        "gateHHratesTauInf" => GateKind::RatesTauInf {
            forward: f("forwardRate", Role::Rate)?,
            reverse: f("reverseRate", Role::Rate)?,
            time_course: f("timeCourse", Role::Time)?,
            steady_state: f("steadyState", Role::Variable)?,
        },
        "gateHHInstantaneous" => GateKind::Instantaneous {
            steady_state: f("steadyState", Role::Variable)?,
        },
        _ => GateKind::Custom(read_component(ctx, el, &el.name)?),
    };
    let instances = ctx.integer(el, "instances")?;
    let q10 = el.child("q10Settings").map(|c| q10(ctx, c)).transpose()?;
    Ok(Gate {
        id: ctx.id(el)?,
        instances,
        kind,
        q10,
        origin: ctx.origin(el),
    })
}

const STANDARD_GATES: &[&str] = &[
    "gateHHrates",
    "gateHHtauInf",
    "gateHHratesInf",
    "gateHHratesTau",
    "gateHHratesTauInf",
    "gateHHInstantaneous",
];

/// Reads an `<ionChannel>`, `<ionChannelHH>` or `<ionChannelPassive>` element.
pub(crate) fn read_ion_channel(ctx: &Ctx, el: &Element) -> Result<IonChannel> {
    let type_name = match el.name.as_str() {
        "ionChannel" => el.attr("type").unwrap_or("ionChannelHH"),
        other => other,
    };
    let kind = match type_name {
        "ionChannelPassive" => ChannelKind::Passive,
        "ionChannelHH" | "ionChannel" => ChannelKind::HodgkinHuxley,
        "ionChannelKS" | "ionChannelVShift" => {
            return Err(ctx.error(
                el,
                ErrorKind::UnsupportedLems(format!("ion channel type '{type_name}'")),
            ))
        }
        other => {
            return Err(ctx.error(
                el,
                ErrorKind::UnknownReference {
                    what: "ion channel type".into(),
                    name: other.into(),
                },
            ))
        }
    };
    let mut gates = Vec::new();
    for c in &el.children {
        let name = c.name.as_str();
        if STANDARD_GATES.contains(&name) {
            gates.push(gate(ctx, c, name)?);
        } else if name == "gate" {
            let t = ctx.required(c, "type")?;
            if !STANDARD_GATES.contains(&t) {
                return Err(ctx.error(
                    c,
                    ErrorKind::UnknownReference {
                        what: "gate type".into(),
                        name: t.into(),
                    },
                ));
            }
            gates.push(gate(ctx, c, t)?);
        } else if ctx.types.get(name).is_some() && ctx.types.is_a(name, "baseGate") {
            gates.push(gate(ctx, c, "custom")?);
        } else if matches!(name, "notes" | "annotation") {
        } else if name == "gateKS" || name == "gateFractional" {
            return Err(ctx.error(c, ErrorKind::UnsupportedLems(format!("<{name}>"))));
        } else {
            return Err(ctx.unsupported(c));
        }
    }
    if kind == ChannelKind::Passive && !gates.is_empty() {
        return Err(ctx.invalid(el, "a passive channel has no gates"));
    }
    Ok(IonChannel {
        id: ctx.id(el)?,
        kind,
        conductance: ctx.opt_quantity(el, "conductance", "conductance")?,
        species: el.attr("species").map(str::to_string),
        gates,
        origin: ctx.origin(el),
    })
}
