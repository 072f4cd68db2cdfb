//! Synapses, concentration models and current inputs: the point processes a network
//! attaches to cells.

use crate::context::Ctx;
use crate::error::{ErrorKind, Result};
use crate::lems::Component;
use crate::lems_read::read_component;
use crate::xml::Element;

/// A synapse type (the `synapse`, `preComponent` or `postComponent` a connection names).
#[derive(Debug, Clone, PartialEq)]
pub enum Synapse {
    /// `gapJunction`: i = weight · g · (v_peer − v).
    GapJunction {
        /// Id.
        id: String,
        /// Conductance g \[µS\].
        conductance: f64,
    },
    /// `gradedSynapse` (NeuroML core): s∞ = 1/(1 + exp((Vth − v_pre)/delta)),
    /// τ = (1 − s∞)/k, i = weight · g · s · (erev − v).
    Graded {
        /// Id.
        id: String,
        /// Conductance \[µS\].
        conductance: f64,
        /// Slope \[mV\].
        delta: f64,
        /// Rate \[1/ms\].
        k: f64,
        /// Threshold \[mV\].
        vth: f64,
        /// Reversal potential \[mV\].
        erev: f64,
    },
    /// `silentSynapse`: no current (the presynaptic side of a graded connection).
    Silent {
        /// Id.
        id: String,
    },
    /// A synapse of a LEMS type: user-defined (c302's `gradedSynapse2`) or a core type
    /// simulated from its LEMS definition (`expTwoSynapse`, see [`crate::core_dynamics`]).
    Custom(Component),
}

impl Synapse {
    /// The synapse's id.
    pub fn id(&self) -> &str {
        match self {
            Synapse::GapJunction { id, .. }
            | Synapse::Graded { id, .. }
            | Synapse::Silent { id } => id,
            Synapse::Custom(c) => c.id.as_deref().unwrap_or(""),
        }
    }

    /// The type name as written in NeuroML.
    pub fn type_name(&self) -> &str {
        match self {
            Synapse::GapJunction { .. } => "gapJunction",
            Synapse::Graded { .. } => "gradedSynapse",
            Synapse::Silent { .. } => "silentSynapse",
            Synapse::Custom(c) => &c.type_name,
        }
    }
}

/// A model of an ion's internal concentration.
#[derive(Debug, Clone, PartialEq)]
pub enum ConcentrationModel {
    /// `fixedFactorConcentrationModel`:
    /// dC/dt = −i_ion · rho / area − (C − restingConc) / decayConstant
    /// (i_ion inward negative, as NeuroML's core definition).
    FixedFactor {
        /// Id.
        id: String,
        /// Ion.
        ion: String,
        /// Resting concentration \[mM\].
        resting_conc: f64,
        /// Decay constant \[ms\].
        decay_constant: f64,
        /// Conversion factor \[mol/(m·A·s)\].
        rho: f64,
    },
    /// `decayingPoolConcentrationModel`: influx into a shell of given thickness.
    DecayingPool {
        /// Id.
        id: String,
        /// Ion.
        ion: String,
        /// Resting concentration \[mM\].
        resting_conc: f64,
        /// Decay constant \[ms\].
        decay_constant: f64,
        /// Shell thickness \[µm\].
        shell_thickness: f64,
    },
    /// A model of a LEMS type.
    Custom(Component),
}

impl ConcentrationModel {
    /// The model's id.
    pub fn id(&self) -> &str {
        match self {
            ConcentrationModel::FixedFactor { id, .. }
            | ConcentrationModel::DecayingPool { id, .. } => id,
            ConcentrationModel::Custom(c) => c.id.as_deref().unwrap_or(""),
        }
    }
}

/// A current source that an input list places on cells.
#[derive(Debug, Clone, PartialEq)]
pub enum InputSource {
    /// `pulseGenerator`: amplitude during [delay, delay + duration).
    Pulse {
        /// Id (empty inside a compound input).
        id: String,
        /// Onset \[ms\].
        delay: f64,
        /// Duration \[ms\].
        duration: f64,
        /// Amplitude \[nA\].
        amplitude: f64,
    },
    /// `sineGenerator`: amplitude · sin(2π (t − delay)/period + phase) during the pulse.
    Sine {
        /// Id.
        id: String,
        /// Onset \[ms\].
        delay: f64,
        /// Duration \[ms\].
        duration: f64,
        /// Amplitude \[nA\].
        amplitude: f64,
        /// Period \[ms\].
        period: f64,
        /// Phase \[rad\].
        phase: f64,
    },
    /// `rampGenerator`: linear from start to finish amplitude during the pulse, baseline outside.
    Ramp {
        /// Id.
        id: String,
        /// Onset \[ms\].
        delay: f64,
        /// Duration \[ms\].
        duration: f64,
        /// Amplitude at onset \[nA\].
        start_amplitude: f64,
        /// Amplitude at the end \[nA\].
        finish_amplitude: f64,
        /// Amplitude outside the pulse \[nA\].
        baseline_amplitude: f64,
    },
    /// `compoundInput`: the sum of its parts.
    Compound {
        /// Id.
        id: String,
        /// Parts.
        parts: Vec<InputSource>,
    },
    /// An input of a LEMS type.
    Custom(Component),
}

impl InputSource {
    /// The input's id.
    pub fn id(&self) -> &str {
        match self {
            InputSource::Pulse { id, .. }
            | InputSource::Sine { id, .. }
            | InputSource::Ramp { id, .. }
            | InputSource::Compound { id, .. } => id,
            InputSource::Custom(c) => c.id.as_deref().unwrap_or(""),
        }
    }
}

/// Element names of the synapse kinds this reader knows.
pub(crate) const SYNAPSE_ELEMENTS: &[&str] = &[
    "gapJunction",
    "gradedSynapse",
    "silentSynapse",
    "expOneSynapse",
    "expTwoSynapse",
    "alphaSynapse",
];

/// Core synapse kinds the reader recognises but does not support.
pub(crate) const UNSUPPORTED_SYNAPSES: &[&str] = &[
    "alphaCurrentSynapse",
    "expThreeSynapse",
    "linearGradedSynapse",
    "blockingPlasticSynapse",
    "doubleSynapse",
    "stdpSynapse",
];

fn positive(ctx: &Ctx, el: &Element, attr: &str, dimension: &str) -> Result<f64> {
    let v = ctx.quantity(el, attr, dimension)?;
    if v <= 0.0 {
        return Err(ctx.invalid(el, format!("'{attr}' must be positive")));
    }
    Ok(v)
}

/// Reads a synapse element (core kinds) or a component of a LEMS synapse type.
pub(crate) fn read_synapse(ctx: &Ctx, el: &Element) -> Result<Synapse> {
    let id = ctx.id(el)?;
    Ok(match el.name.as_str() {
        "gapJunction" => Synapse::GapJunction {
            id,
            conductance: ctx.quantity(el, "conductance", "conductance")?,
        },
        "gradedSynapse" => Synapse::Graded {
            id,
            conductance: ctx.quantity(el, "conductance", "conductance")?,
            delta: positive(ctx, el, "delta", "voltage")?,
            k: ctx.quantity(el, "k", "per_time")?,
            vth: ctx.quantity(el, "Vth", "voltage")?,
            erev: ctx.quantity(el, "erev", "voltage")?,
        },
        "silentSynapse" => Synapse::Silent { id },
        "expOneSynapse" | "expTwoSynapse" | "alphaSynapse" => {
            for tau in ["tauDecay", "tauRise", "tau"] {
                if el.attr(tau).is_some() {
                    positive(ctx, el, tau, "time")?;
                }
            }
            if el.name == "expTwoSynapse"
                && ctx.quantity(el, "tauRise", "time")? == ctx.quantity(el, "tauDecay", "time")?
            {
                return Err(ctx.invalid(el, "tauRise must differ from tauDecay"));
            }
            Synapse::Custom(read_component(ctx, el, &el.name)?)
        }
        name if UNSUPPORTED_SYNAPSES.contains(&name) => {
            return Err(ctx.error(
                el,
                ErrorKind::UnsupportedLems(format!("synapse type <{name}>")),
            ))
        }
        name => Synapse::Custom(read_component(ctx, el, name)?),
    })
}

/// Reads a concentration model element.
pub(crate) fn read_concentration_model(ctx: &Ctx, el: &Element) -> Result<ConcentrationModel> {
    let id = ctx.id(el)?;
    let ion = ctx.required(el, "ion")?.to_string();
    Ok(match el.name.as_str() {
        "fixedFactorConcentrationModel" => ConcentrationModel::FixedFactor {
            id,
            ion,
            resting_conc: ctx.quantity(el, "restingConc", "concentration")?,
            decay_constant: positive(ctx, el, "decayConstant", "time")?,
            rho: ctx.quantity(el, "rho", "rho_factor")?,
        },
        "decayingPoolConcentrationModel" => ConcentrationModel::DecayingPool {
            id,
            ion,
            resting_conc: ctx.quantity(el, "restingConc", "concentration")?,
            decay_constant: positive(ctx, el, "decayConstant", "time")?,
            shell_thickness: positive(ctx, el, "shellThickness", "length")?,
        },
        name => ConcentrationModel::Custom(read_component(ctx, el, name)?),
    })
}

/// Element names of the input kinds this reader knows.
pub(crate) const INPUT_ELEMENTS: &[&str] = &[
    "pulseGenerator",
    "sineGenerator",
    "rampGenerator",
    "compoundInput",
];

/// Reads a current input element.
pub(crate) fn read_input_source(ctx: &Ctx, el: &Element) -> Result<InputSource> {
    let id = el.attr("id").unwrap_or("").to_string();
    let duration = |ctx: &Ctx| -> Result<f64> {
        let d = ctx.quantity(el, "duration", "time")?;
        if d < 0.0 {
            return Err(ctx.invalid(el, "negative duration"));
        }
        Ok(d)
    };
    Ok(match el.name.as_str() {
        "pulseGenerator" => InputSource::Pulse {
            id,
            delay: ctx.quantity(el, "delay", "time")?,
            duration: duration(ctx)?,
            amplitude: ctx.quantity(el, "amplitude", "current")?,
        },
        "sineGenerator" => InputSource::Sine {
            id,
            delay: ctx.quantity(el, "delay", "time")?,
            duration: duration(ctx)?,
            amplitude: ctx.quantity(el, "amplitude", "current")?,
            period: positive(ctx, el, "period", "time")?,
            phase: ctx.quantity(el, "phase", "none")?,
        },
        "rampGenerator" => InputSource::Ramp {
            id,
            delay: ctx.quantity(el, "delay", "time")?,
            duration: duration(ctx)?,
            start_amplitude: ctx.quantity(el, "startAmplitude", "current")?,
            finish_amplitude: ctx.quantity(el, "finishAmplitude", "current")?,
            baseline_amplitude: ctx.quantity(el, "baselineAmplitude", "current")?,
        },
        "compoundInput" => {
            let mut parts = Vec::new();
            for c in &el.children {
                if INPUT_ELEMENTS.contains(&c.name.as_str()) {
                    parts.push(read_input_source(ctx, c)?);
                } else if !matches!(c.name.as_str(), "notes" | "annotation") {
                    return Err(ctx.unsupported(c));
                }
            }
            InputSource::Compound { id, parts }
        }
        name => InputSource::Custom(read_component(ctx, el, name)?),
    })
}

/// Where a kind of element belongs, judged from its (LEMS or core) type.
pub(crate) fn is_synapse_type(ctx: &Ctx, name: &str) -> bool {
    ctx.types.is_a(name, "baseSynapse") || ctx.types.is_a(name, "baseSynapseDL")
}

/// Whether the type is a current input.
pub(crate) fn is_input_type(ctx: &Ctx, name: &str) -> bool {
    ctx.types.is_a(name, "basePointCurrent") || ctx.types.is_a(name, "basePointCurrentDL")
}

/// Whether the type is a concentration model.
pub(crate) fn is_concentration_type(ctx: &Ctx, name: &str) -> bool {
    ctx.types.is_a(name, "concentrationModel")
}
