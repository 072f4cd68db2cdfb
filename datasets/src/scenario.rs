//! Scenarios (`docs/file-formats.md` §3): which neurons are stimulated, which are recorded, which are
//! ablated, and the amplitude range of each group of inputs.

use serde::{Deserialize, Serialize};

/// Inputs that share an amplitude range (e.g. the left/right pair of one class).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputGroup {
    /// Name (e.g. `PLM`).
    pub name: String,
    /// The neurons.
    pub neurons: Vec<String>,
    /// Amplitude range \[pA\]: each sequence draws one amplitude in it per group (or per
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
    "AS1", "AS7", "DA1", "DA9", "DB1", "DB5", "DD1", "DVA", "LUAL", "PHCL", "PLML", "PVCL", "PVR",
    "SIBVL", "VB1", "VD1",
];
const NICTATION_OUT: [&str; 12] = [
    "RMED", "RMEL", "RMER", "RMEV", "RMGL", "RMGR", "RMHL", "RMHR", "SMDDL", "SMDDR", "SMDVL",
    "SMDVR",
];

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn group(name: &str, neurons: &[&str], amplitude: (f64, f64)) -> InputGroup {
    InputGroup {
        name: name.into(),
        neurons: names(neurons),
        amplitude,
    }
}

impl Scenario {
    /// The names of the built-in scenarios.
    pub const BUILTIN: [&'static str; 6] = [
        "fcm",
        "fcm16",
        "nictation",
        "fcm+nictation",
        "fcm-no-avb",
        "fcm-no-ava",
    ];

    /// A built-in scenario by name.
    pub fn builtin(name: &str) -> Option<Scenario> {
        let fcm_groups = || {
            vec![
                group("PLM", &["PLML", "PLMR"], PLM),
                group("AVB", &["AVBL", "AVBR"], AVB),
            ]
        };
        let fcm_out = names(&["DB1", "LUAL", "PVR", "VB1"]);
        let one =
            |name: &str, groups: Vec<InputGroup>, outputs: Vec<String>, ablate: &[&str]| Scenario {
                name: name.into(),
                behaviours: vec![Behaviour {
                    name: name.split('-').next().unwrap().into(),
                    groups: (0..groups.len()).collect(),
                }],
                groups,
                outputs,
                ablate: names(ablate),
            };
        let nictation = || {
            vec![group(
                "IL2",
                &["IL2DL", "IL2DR", "IL2L", "IL2R", "IL2VL", "IL2VR"],
                IL2,
            )]
        };
        Some(match name {
            "fcm" => one("fcm", fcm_groups(), fcm_out, &[]),
            "fcm16" => one("fcm16", fcm_groups(), names(&FCM16), &[]),
            "nictation" => one("nictation", nictation(), names(&NICTATION_OUT), &[]),
            "fcm-no-avb" => {
                // AVBL/AVBR are removed; PLM drives alone.
                one(
                    "fcm-no-avb",
                    vec![group("PLM", &["PLML", "PLMR"], PLM)],
                    fcm_out,
                    &["AVBL", "AVBR"],
                )
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
                        Behaviour {
                            name: "fcm".into(),
                            groups: vec![0, 1],
                        },
                        Behaviour {
                            name: "nictation".into(),
                            groups: vec![2],
                        },
                    ],
                }
            }
            _ => return None,
        })
    }

    /// Every input neuron, in column order.
    pub fn inputs(&self) -> Vec<String> {
        self.groups
            .iter()
            .flat_map(|g| g.neurons.iter().cloned())
            .collect()
    }

    /// Sequences per behaviour by default (the paper's 40).
    pub fn default_count(&self) -> usize {
        40 * self.behaviours.len()
    }
}

/// A custom scenario file (TOML):
///
/// ```toml
/// name = "touch"
/// outputs = ["DB1", "VB1"]
/// ablate = ["AVAL", "AVAR"]        # optional
///
/// [[group]]                        # one or more; inputs in this order
/// name = "PLM"
/// neurons = ["PLML", "PLMR"]
/// amplitude = [50.0, 250.0]        # pA range
///
/// [[behaviour]]                    # optional; default: one behaviour driving every group
/// name = "touch"
/// groups = ["PLM"]
/// ```
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioFile {
    name: String,
    outputs: Vec<String>,
    #[serde(default)]
    ablate: Vec<String>,
    group: Vec<GroupFile>,
    #[serde(default)]
    behaviour: Vec<BehaviourFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupFile {
    name: String,
    neurons: toml::Spanned<Vec<String>>,
    amplitude: toml::Spanned<(f64, f64)>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BehaviourFile {
    name: String,
    groups: Vec<String>,
}

impl Scenario {
    /// Reads a custom scenario from a TOML file (see `docs/file-formats.md` §3 for the format).
    /// Errors name the file and line.
    pub fn from_toml(path: &std::path::Path) -> crate::Result<Scenario> {
        let text = std::fs::read_to_string(path).map_err(|source| crate::Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Scenario::parse_toml(&text).map_err(|(line, message)| {
            let at = line.map(|l| format!(":{l}")).unwrap_or_default();
            crate::Error::Invalid(format!("{}{at}: {message}", path.display()))
        })
    }

    /// Parses a scenario file's text; errors carry the 1-based line where known.
    pub fn parse_toml(text: &str) -> Result<Scenario, (Option<usize>, String)> {
        let line_of = |offset: usize| text[..offset.min(text.len())].matches('\n').count() + 1;
        let file: ScenarioFile = toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| line_of(s.start));
            (line, e.message().trim().to_string())
        })?;
        let find = |needle: &str| text.find(needle).map(line_of);
        let err = |needle: &str, message: String| Err((find(needle), message));
        if file.name.trim().is_empty() {
            return err("name", "the scenario needs a name".into());
        }
        if file.outputs.is_empty() {
            return err(
                "outputs",
                "the scenario needs at least one output neuron".into(),
            );
        }
        if file.group.is_empty() {
            return Err((
                None,
                "the scenario needs at least one [[group]] of input neurons".into(),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for g in &file.group {
            let (lo, hi) = *g.amplitude.get_ref();
            // The width too must be a number: [-1e308, 1e308] cannot be drawn from.
            if !(lo.is_finite() && hi.is_finite() && lo <= hi && (hi - lo).is_finite()) {
                let message = format!(
                    "group {}: amplitude [{lo}, {hi}] must be a finite range (low <= high, pA)",
                    g.name
                );
                return Err((Some(line_of(g.amplitude.span().start)), message));
            }
            if g.neurons.get_ref().is_empty() {
                return Err((
                    Some(line_of(g.neurons.span().start)),
                    format!("group {} has no neurons", g.name),
                ));
            }
            for n in g.neurons.get_ref() {
                if !seen.insert(n.clone()) {
                    return Err((
                        Some(line_of(g.neurons.span().start)),
                        format!("neuron {n} is an input twice"),
                    ));
                }
            }
        }
        let index = |name: &str| file.group.iter().position(|g| g.name == name);
        let behaviours = if file.behaviour.is_empty() {
            vec![Behaviour {
                name: file.name.clone(),
                groups: (0..file.group.len()).collect(),
            }]
        } else {
            let mut out = Vec::new();
            for b in &file.behaviour {
                let mut groups = Vec::new();
                for g in &b.groups {
                    match index(g) {
                        Some(i) => groups.push(i),
                        None => {
                            return err(
                                &format!("\"{g}\""),
                                format!("behaviour {}: no group named {g}", b.name),
                            )
                        }
                    }
                }
                out.push(Behaviour {
                    name: b.name.clone(),
                    groups,
                });
            }
            out
        };
        Ok(Scenario {
            name: file.name,
            groups: file
                .group
                .into_iter()
                .map(|g| InputGroup {
                    name: g.name,
                    neurons: g.neurons.into_inner(),
                    amplitude: g.amplitude.into_inner(),
                })
                .collect(),
            outputs: file.outputs,
            ablate: file.ablate,
            behaviours,
        })
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
        assert_eq!(
            (
                both.inputs().len(),
                both.outputs.len(),
                both.default_count()
            ),
            (10, 28, 80)
        );
        assert_eq!(Scenario::builtin("fcm16").unwrap().outputs.len(), 16);
        assert_eq!(
            Scenario::builtin("fcm-no-avb").unwrap().ablate,
            ["AVBL", "AVBR"]
        );
        assert!(Scenario::builtin("crawl").is_none());
        for name in Scenario::BUILTIN {
            assert!(Scenario::builtin(name).is_some(), "{name}");
        }
    }

    #[test]
    fn custom_scenarios_from_toml() {
        let text = "name = \"touch\"\noutputs = [\"DB1\", \"VB1\"]\nablate = [\"AVAL\"]\n\n[[group]]\nname = \"PLM\"\nneurons = [\"PLML\", \"PLMR\"]\namplitude = [50.0, 250.0]\n";
        let s = Scenario::parse_toml(text).unwrap();
        assert_eq!(
            (
                s.inputs(),
                s.outputs.len(),
                s.ablate.len(),
                s.behaviours.len()
            ),
            (vec!["PLML".to_string(), "PLMR".into()], 2, 1, 1)
        );
        let bad_range = text.replace("[50.0, 250.0]", "[250.0, 50.0]");
        let (line, message) = Scenario::parse_toml(&bad_range).unwrap_err();
        assert!(message.contains("amplitude"), "{message}");
        assert_eq!(line, Some(8));
        let (line, message) =
            Scenario::parse_toml(&text.replace("ablate", "ablation")).unwrap_err();
        assert!(message.contains("unknown field"), "{message}");
        assert_eq!(line, Some(3));
        let (_, message) = Scenario::parse_toml(
            &(text.to_string() + "[[behaviour]]\nname = \"b\"\ngroups = [\"AVB\"]\n"),
        )
        .unwrap_err();
        assert!(message.contains("no group named AVB"), "{message}");
    }
}
