//! NeuroML core types simulated from their LEMS definition: the event-driven synapses
//! (`expOneSynapse`, `expTwoSynapse`, `alphaSynapse`) and the integrate-and-fire cell
//! (`iafCell`) as full ComponentTypes with `<Dynamics>`, so the simulator compiles them
//! like any user-defined type instead of hand-coding each.
//!
//! The equations are NeuroML 2's (`NeuroML2CoreTypes/Synapses.xml` and `Cells.xml` as
//! distributed with jNeuroML 0.14.0), restated here in LEMS; the types' bases and their
//! parameters (`gbase`, `erev`; `C`, `thresh`, `reset`) stay in [`crate::core_types`]. The
//! synapses receive events on the port `in`, `weight` being the connection's weight (a
//! property, default 1); the cell emits them on `spike`.

use std::collections::HashMap;
use std::path::Path;
use std::sync::OnceLock;

use crate::context::Ctx;
use crate::lems::{ComponentType, TypeRegistry};
use crate::lems_read::read_component_type;
use crate::units::UnitSystem;

/// Where errors in these definitions would point (they are tested never to occur).
pub const SOURCE: &str = "<NeuroML core types>";

/// The definitions, one `<ComponentType>` per simulated core type.
const DEFINITIONS: &str = r#"<Lems>
<ComponentType name="expOneSynapse" extends="baseConductanceBasedSynapse">
  <Property name="weight" dimension="none" defaultValue="1"/>
  <Parameter name="tauDecay" dimension="time"/>
  <EventPort name="in" direction="in"/>
  <Dynamics>
    <StateVariable name="g" dimension="conductance" exposure="g"/>
    <DerivedVariable name="i" dimension="current" exposure="i" value="g * (erev - v)"/>
    <TimeDerivative variable="g" value="-g / tauDecay"/>
    <OnStart><StateAssignment variable="g" value="0"/></OnStart>
    <OnEvent port="in"><StateAssignment variable="g" value="g + weight * gbase"/></OnEvent>
  </Dynamics>
</ComponentType>
<ComponentType name="expTwoSynapse" extends="baseConductanceBasedSynapse">
  <Property name="weight" dimension="none" defaultValue="1"/>
  <Parameter name="tauRise" dimension="time"/>
  <Parameter name="tauDecay" dimension="time"/>
  <DerivedParameter name="peakTime" dimension="time"
      value="log(tauDecay / tauRise) * tauRise * tauDecay / (tauDecay - tauRise)"/>
  <DerivedParameter name="waveformFactor" dimension="none"
      value="1 / (exp(-peakTime / tauDecay) - exp(-peakTime / tauRise))"/>
  <EventPort name="in" direction="in"/>
  <Dynamics>
    <StateVariable name="A" dimension="none"/>
    <StateVariable name="B" dimension="none"/>
    <DerivedVariable name="g" dimension="conductance" exposure="g" value="gbase * (B - A)"/>
    <DerivedVariable name="i" dimension="current" exposure="i" value="g * (erev - v)"/>
    <TimeDerivative variable="A" value="-A / tauRise"/>
    <TimeDerivative variable="B" value="-B / tauDecay"/>
    <OnStart>
      <StateAssignment variable="A" value="0"/>
      <StateAssignment variable="B" value="0"/>
    </OnStart>
    <OnEvent port="in">
      <StateAssignment variable="A" value="A + weight * waveformFactor"/>
      <StateAssignment variable="B" value="B + weight * waveformFactor"/>
    </OnEvent>
  </Dynamics>
</ComponentType>
<ComponentType name="alphaSynapse" extends="baseConductanceBasedSynapse">
  <Property name="weight" dimension="none" defaultValue="1"/>
  <Parameter name="tau" dimension="time"/>
  <EventPort name="in" direction="in"/>
  <Dynamics>
    <StateVariable name="g" dimension="conductance" exposure="g"/>
    <StateVariable name="A" dimension="conductance"/>
    <DerivedVariable name="i" dimension="current" exposure="i" value="g * (erev - v)"/>
    <TimeDerivative variable="g" value="(2.7182818284590451 * A - g) / tau"/>
    <TimeDerivative variable="A" value="-A / tau"/>
    <OnStart>
      <StateAssignment variable="g" value="0"/>
      <StateAssignment variable="A" value="0"/>
    </OnStart>
    <OnEvent port="in"><StateAssignment variable="A" value="A + gbase * weight"/></OnEvent>
  </Dynamics>
</ComponentType>
<ComponentType name="iafCell" extends="baseIafCapCell">
  <Parameter name="leakConductance" dimension="conductance"/>
  <Parameter name="leakReversal" dimension="voltage"/>
  <Attachments name="synapses" type="basePointCurrent"/>
  <EventPort name="spike" direction="out"/>
  <Dynamics>
    <StateVariable name="v" dimension="voltage" exposure="v"/>
    <DerivedVariable name="iSyn" dimension="current" exposure="iSyn" select="synapses[*]/i" reduce="add"/>
    <DerivedVariable name="iMemb" dimension="current" exposure="iMemb"
        value="leakConductance * (leakReversal - v) + iSyn"/>
    <TimeDerivative variable="v" value="iMemb / C"/>
    <OnStart><StateAssignment variable="v" value="leakReversal"/></OnStart>
    <OnCondition test="v .gt. thresh">
      <StateAssignment variable="v" value="reset"/>
      <EventOut port="spike"/>
    </OnCondition>
  </Dynamics>
</ComponentType>
</Lems>"#;

fn definitions() -> &'static HashMap<String, ComponentType> {
    static TYPES: OnceLock<HashMap<String, ComponentType>> = OnceLock::new();
    TYPES.get_or_init(|| {
        let root = crate::xml::parse(DEFINITIONS).expect("built-in definitions are XML");
        let units = UnitSystem::default();
        let empty = TypeRegistry::default();
        let ctx = Ctx {
            file: Path::new(SOURCE),
            file_index: usize::MAX,
            units: &units,
            types: &empty,
        };
        root.children_named("ComponentType")
            .map(|el| {
                let t = read_component_type(&ctx, el).expect("built-in definitions read");
                (t.name.clone(), t)
            })
            .collect()
    })
}

/// The LEMS definition of a core type simulated from it, if `name` is one.
pub fn core_dynamics(name: &str) -> Option<&'static ComponentType> {
    definitions().get(name)
}

/// Names of the core types defined here.
pub fn names() -> impl Iterator<Item = &'static str> {
    definitions().keys().map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_definition_reads_and_extends_a_core_signature() {
        let mut names: Vec<_> = names().collect();
        names.sort();
        assert_eq!(
            names,
            ["alphaSynapse", "expOneSynapse", "expTwoSynapse", "iafCell"]
        );
        for n in names {
            let t = core_dynamics(n).unwrap();
            let base = t.extends.as_deref().unwrap();
            assert!(crate::core_types::core_type(base).is_some(), "{n}: {base}");
            let d = t.dynamics.as_ref().unwrap();
            if n == "iafCell" {
                assert_eq!(d.on_conditions[0].event_outs, ["spike"]);
                assert_eq!(
                    t.attachments,
                    [("synapses".into(), "basePointCurrent".into())]
                );
            } else {
                assert_eq!(d.on_events.len(), 1, "{n}");
                assert_eq!(d.on_events[0].port, "in");
            }
        }
    }
}
