//! Scenarios (SPEC §4): which neurons are stimulated, which are recorded, which are
//! ablated, and the amplitude range of each group of inputs.

use serde::{Deserialize, Serialize};

/// Inputs that share an amplitude range (e.g. the left/right pair of one class).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputGroup {
    /// Name (e.g. `PLM`).
    pub name: String,
    /// The neurons.
    pub neurons: Vec<String>,
    /// Amplitude range [pA]: each sequence draws one amplitude in it per group (or per
    /// neuron when the inputs are driven independently).
    pub amplitude: (f64, f64),
}

/// A behaviour: the groups driven together; the other groups stay at zero.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Behaviour {
    /// Name (`fcm`, `nictation`).
    pub name: String,
    /// Indices into [`Scenario::groups`].
    pub groups: Vec<usize>,
}

/// What a dataset stimulates, records and ablates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    /// Name, stored in the file.
    pub name: String,
    /// Input groups, in column order.
    pub groups: Vec<InputGroup>,
    /// Recorded neurons, in column order.
    pub outputs: Vec<String>,
    /// Neurons removed from the network.
    pub ablate: Vec<String>,
    /// Behaviours; the sequences are divided evenly between them, in order.
    pub behaviours: Vec<Behaviour>,
}

/// Amplitude ranges calibrated on the bundled c302 D1 model (see `docs/datasets.md`).
const PLM: (f64, f64) = (50.0, 250.0);
const AVB: (f64, f64) = (50.0, 250.0);
const IL2: (f64, f64) = (50.0, 250.0);

const FCM16: [&str; 16] = [
    "AS1", "AS7", "DA1", "DA9", "DB1", "DB5", "DD1", "DVA", "LUAL", "PHCL", "PLML", "PVCL", "PVR", "SIBVL", "VB1", "VD1",
];
const NICTATION_OUT: [&str; 12] =
    ["RMED", "RMEL", "RMER", "RMEV", "RMGL", "RMGR", "RMHL", "RMHR", "SMDDL", "SMDDR", "SMDVL", "SMDVR"];

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn group(name: &str, neurons: &[&str], amplitude: (f64, f64)) -> InputGroup {
    InputGroup { name: name.into(), neurons: names(neurons), amplitude }
}

impl Scenario {
    /// The names of the built-in scenarios.
    pub const BUILTIN: [&'static str; 6] = ["fcm", "fcm16", "nictation", "fcm+nictation", "fcm-no-avb", "fcm-no-ava"];

    /// A built-in scenario by name.
    pub fn builtin(name: &str) -> Option<Scenario> {
        let fcm_groups = || vec![group("PLM", &["PLML", "PLMR"], PLM), group("AVB", &["AVBL", "AVBR"], AVB)];
        let fcm_out = names(&["DB1", "LUAL", "PVR", "VB1"]);
        let one = |name: &str, groups: Vec<InputGroup>, outputs: Vec<String>, ablate: &[&str]| Scenario {
            name: name.into(),
            behaviours: vec![Behaviour { name: name.split('-').next().unwrap().into(), groups: (0..groups.len()).collect() }],
            groups,
            outputs,
            ablate: names(ablate),
        };
        let nictation = || vec![group("IL2", &["IL2DL", "IL2DR", "IL2L", "IL2R", "IL2VL", "IL2VR"], IL2)];
        Some(match name {
            "fcm" => one("fcm", fcm_groups(), fcm_out, &[]),
            "fcm16" => one("fcm16", fcm_groups(), names(&FCM16), &[]),
            "nictation" => one("nictation", nictation(), names(&NICTATION_OUT), &[]),
            "fcm-no-avb" => {
                // AVBL/AVBR are removed; PLM drives alone.
                one("fcm-no-avb", vec![group("PLM", &["PLML", "PLMR"], PLM)], fcm_out, &["AVBL", "AVBR"])
            }
            "fcm-no-ava" => one("fcm-no-ava", fcm_groups(), fcm_out, &["AVAL", "AVAR"]),
            "fcm+nictation" => {
                let mut groups = fcm_groups();
                groups.extend(nictation());
                let mut outputs = names(&FCM16);
                outputs.extend(names(&NICTATION_OUT));
                Scenario {
                    name: "fcm+nictation".into(),
                    groups,
                    outputs,
                    ablate: Vec::new(),
                    behaviours: vec![
                        Behaviour { name: "fcm".into(), groups: vec![0, 1] },
                        Behaviour { name: "nictation".into(), groups: vec![2] },
                    ],
                }
            }
            _ => return None,
        })
    }

    /// Every input neuron, in column order.
    pub fn inputs(&self) -> Vec<String> {
        self.groups.iter().flat_map(|g| g.neurons.iter().cloned()).collect()
    }

    /// Sequences per behaviour by default (the paper's 40).
    pub fn default_count(&self) -> usize {
        40 * self.behaviours.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_scenarios_have_the_papers_shapes() {
        let fcm = Scenario::builtin("fcm").unwrap();
        assert_eq!(fcm.inputs(), ["PLML", "PLMR", "AVBL", "AVBR"]);
        assert_eq!(fcm.outputs, ["DB1", "LUAL", "PVR", "VB1"]);
        let both = Scenario::builtin("fcm+nictation").unwrap();
        assert_eq!((both.inputs().len(), both.outputs.len(), both.default_count()), (10, 28, 80));
        assert_eq!(Scenario::builtin("fcm16").unwrap().outputs.len(), 16);
        assert_eq!(Scenario::builtin("fcm-no-avb").unwrap().ablate, ["AVBL", "AVBR"]);
        assert!(Scenario::builtin("crawl").is_none());
        for name in Scenario::BUILTIN {
            assert!(Scenario::builtin(name).is_some(), "{name}");
        }
    }
}
