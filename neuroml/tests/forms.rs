//! The hand-written `fixtures/forms` model: one of each NeuroML/LEMS form c302 does not use.

use std::path::Path;

use neuroml::cell::Reversal;
use neuroml::channel::{GateKind, HHFunction, HHShape, Q10};
use neuroml::lems::DerivedValue;
use neuroml::network::{CellRef, ProjectionKind};
use neuroml::synapse::{ConcentrationModel, InputSource, Synapse};

fn model() -> neuroml::Model {
    neuroml::load(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/forms/LEMS_forms.xml"))
        .unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn includes_resolve_relative_to_the_including_file_and_once_each() {
    let m = model();
    let names: Vec<String> = m
        .files
        .iter()
        .map(|f| f.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    // types.xml is included twice (by the LEMS file as ./types.xml and by the network).
    assert_eq!(names, ["LEMS_forms.xml", "forms.net.nml", "types.xml"]);
    assert_eq!(m.target.as_deref(), Some("sim"));
}

#[test]
fn lems_units_and_simulation() {
    let m = model();
    let sim = m.simulation("sim").unwrap();
    assert!(close(sim.length, 200.0));
    assert!(close(sim.step, 0.025)); // 25 us, a unit the model declares
    assert_eq!(sim.output_files[0].file_name, "forms.dat");
    let cols: Vec<&str> = sim.output_files[0]
        .columns
        .iter()
        .map(|c| c.quantity.as_str())
        .collect();
    assert_eq!(cols, ["pop/0/hh_cell/v", "pool_of_two/1/hh_cell/caConc"]);
    assert_eq!(
        sim.displays[0].lines[0].scale,
        Some((1.0, "voltage".to_string()))
    );
    match m.synapse("leaky").unwrap() {
        Synapse::Custom(c) => assert!(close(c.parameters["sensitivity"], 2.0)),
        other => panic!("{other:?}"),
    }
}

#[test]
fn hh_gate_forms() {
    let m = model();
    let na = m.ion_channel("na").unwrap();
    assert_eq!(
        na.gates
            .iter()
            .map(|g| (g.id.as_str(), g.instances))
            .collect::<Vec<_>>(),
        [("m", 3), ("h", 1)]
    );
    match &na.gates[0].kind {
        GateKind::Rates {
            forward:
                HHFunction::Standard {
                    shape,
                    rate,
                    midpoint,
                    scale,
                },
            reverse,
        } => {
            assert_eq!(
                (*shape, *rate, *midpoint, *scale),
                (HHShape::ExponentialLinear, 1.0, -40.0, 10.0)
            );
            assert!(matches!(
                reverse,
                HHFunction::Standard {
                    shape: HHShape::Exponential,
                    ..
                }
            ));
        }
        other => panic!("{other:?}"),
    }
    match na.gates[0].q10.as_ref().unwrap() {
        Q10::ExpTemp {
            q10_factor,
            experimental_temp,
        } => {
            assert_eq!(*q10_factor, 3.0);
            assert!(close(*experimental_temp, 279.45));
        }
        other => panic!("{other:?}"),
    }
    // <gate type="gateHHrates"> reads like <gateHHrates>.
    assert!(matches!(
        na.gates[1].kind,
        GateKind::Rates {
            reverse: HHFunction::Standard {
                shape: HHShape::Sigmoid,
                ..
            },
            ..
        }
    ));

    let kdr = m.ion_channel("kdr").unwrap();
    assert!(matches!(
        kdr.gates[0].kind,
        GateKind::RatesInf {
            steady_state: HHFunction::Standard {
                shape: HHShape::Sigmoid,
                ..
            },
            ..
        }
    ));
    assert!(matches!(
        kdr.gates[1].kind,
        GateKind::Instantaneous {
            steady_state: HHFunction::Standard {
                shape: HHShape::ExponentialLinear,
                ..
            }
        }
    ));
    match &kdr.gates[2].kind {
        GateKind::RatesTau {
            forward: HHFunction::Custom(c),
            time_course: HHFunction::FixedTimeCourse { tau },
            ..
        } => {
            assert_eq!(c.type_name, "caRate");
            assert!(close(c.parameters["kd"], 0.002));
            assert_eq!(*tau, 5.0);
        }
        other => panic!("{other:?}"),
    }
    assert!(m.ion_channel("pas").unwrap().gates.is_empty());
}

#[test]
fn morphology_groups_paths_and_cables() {
    let m = model();
    let cell = m.cell("hh_cell").unwrap();
    let morph = &cell.morphology;
    assert_eq!(morph.id, "shared_morphology"); // by reference
                                               // Segment 1 starts halfway along the soma.
    let p = morph.proximal(morph.segment(1).unwrap());
    assert_eq!((p.x, p.y, p.diameter), (0.0, 5.0, 10.0));
    assert_eq!(morph.resolve_group("dendrite").unwrap(), [1, 2, 3]);
    assert_eq!(morph.resolve_group("distal_tree").unwrap(), [2, 3]);
    assert_eq!(morph.resolve_group("everything").unwrap(), [4, 0, 1, 2, 3]);
    assert_eq!(morph.resolve_group("all").unwrap().len(), 5);
    let cables = morph.cables();
    let summary: Vec<(&str, usize, u32)> = cables
        .iter()
        .map(|c| (c.id.as_str(), c.segments.len(), c.divisions))
        .collect();
    // The second root (segment 4) is in no cable group: it becomes a cable of its own.
    assert_eq!(
        summary,
        [
            ("soma_cable", 1, 1),
            ("dendrite", 3, 4),
            ("segment_4", 1, 1)
        ]
    );

    let d = &cell.membrane.channel_densities;
    assert_eq!(d[0].segment_group, "soma_cable");
    assert!(close(d[0].cond_density, 1.2e-3)); // 120 mS/cm² in µS/µm²
    assert_eq!(d[2].reversal, Reversal::Nernst);
    assert!(close(cell.intracellular.resistivity[0].value, 1.0)); // 100 Ω·cm = 1 Ω·m
    match m.concentration_model("pool").unwrap() {
        ConcentrationModel::DecayingPool {
            shell_thickness,
            resting_conc,
            ..
        } => {
            assert_eq!(*shell_thickness, 0.1);
            assert!(close(*resting_conc, 5e-5));
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn network_connection_and_input_forms() {
    let m = model();
    let net = m.network().unwrap();
    assert!(close(net.temperature.unwrap(), 279.45));
    assert_eq!(
        net.population("pool_of_two").unwrap().instances[1].location,
        Some([4.0, 5.0, 6.0])
    );

    let chem = &net.projections[0];
    assert_eq!(
        chem.kind,
        ProjectionKind::Chemical {
            synapse: "ampa".into()
        }
    );
    let c0 = &chem.connections[0];
    assert_eq!(
        (c0.post.index, c0.post_segment, c0.post_fraction_along),
        (1, 2, 0.25)
    );
    let c1 = &chem.connections[1];
    assert_eq!(
        (c1.pre.clone(), c1.weight, c1.delay),
        (
            CellRef {
                population: "pop".into(),
                index: 2
            },
            2.5,
            3.0
        )
    );

    let elec = &net.projections[1].connections[0];
    assert_eq!(
        (
            elec.pre.index,
            elec.post.index,
            elec.pre_segment,
            elec.post_segment
        ),
        (0, 1, 3, 4)
    );
    assert_eq!(elec.synapse.as_deref(), Some("gj"));

    let cont = &net.projections[2].connections[1];
    assert_eq!(cont.post_component.as_deref(), Some("leaky"));

    let stim = &net.input_lists[0];
    assert_eq!(stim.component, "sine");
    assert_eq!(
        (stim.inputs[0].segment, stim.inputs[0].fraction_along),
        (1, 0.1)
    );
    assert_eq!(
        (stim.inputs[1].target.index, stim.inputs[1].weight),
        (2, -1.0)
    );
    let explicit = &net.input_lists[1];
    assert_eq!(
        (
            explicit.component.as_str(),
            explicit.population.as_str(),
            explicit.inputs[0].target.index
        ),
        ("both", "pool_of_two", 1)
    );

    match m.input_source("ramp").unwrap() {
        InputSource::Ramp {
            delay,
            finish_amplitude,
            ..
        } => assert_eq!((*delay, *finish_amplitude), (10.0, 0.02)),
        other => panic!("{other:?}"),
    }
    match m.input_source("both").unwrap() {
        InputSource::Compound { parts, .. } => assert_eq!(parts.len(), 2),
        other => panic!("{other:?}"),
    }
}

#[test]
fn lems_dynamics_are_parsed() {
    let m = model();
    let t = m.component_types.get("leakyGraded").unwrap();
    let d = t.dynamics.as_ref().unwrap();
    assert_eq!(d.state_variables[0].name, "s");
    assert!(
        matches!(&d.derived_variables[0].value, DerivedValue::Select { path, .. } if path == "peer/v")
    );
    let drive = &d.conditional_derived_variables[0];
    assert_eq!(drive.cases.len(), 2);
    let lookup = |n: &str| match n {
        "vpeer" => Some(-30.0),
        "v" => Some(-60.0),
        "erev" => Some(0.0),
        "MV" => Some(1.0),
        _ => None,
    };
    assert_eq!(
        drive.cases[0].condition.as_ref().unwrap().eval(&lookup),
        Ok(1.0)
    );
    assert_eq!(d.on_start.len(), 1);
    assert_eq!(d.on_conditions[0].assignments[0].variable, "s");
    assert!(m.component_types.is_a("leakyGraded", "baseSynapse"));
    assert!(m.component_types.is_a("caRate", "baseVoltageDepRate"));
}
