//! Reading c302's own output: the bundled D1 connectome and small C1 / D subsets generated
//! with c302 0.12.1 (see `tools/generate_bundled_model.py`).

use std::path::{Path, PathBuf};

use neuroml::channel::{ChannelKind, GateKind, HHFunction, HHShape};
use neuroml::network::ProjectionKind;
use neuroml::synapse::{ConcentrationModel, Synapse};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs())
}

#[test]
fn bundled_d1_connectome_counts_match_jneuroml() {
    let model = neuroml::load(repo().join("models/c302_D1/LEMS_c302_D1.xml")).unwrap();
    let s = model.summary();
    assert_eq!(s.network.as_deref(), Some("c302_D1"));
    assert_eq!(s.cells, 302);
    assert_eq!(s.chemical_synapses, 2279);
    assert_eq!(s.gap_junctions, 1084);
    // jNeuroML's NEURON export of the same files: 2041 sections, 13,869 segments.
    assert_eq!(s.cables, 2041);
    assert_eq!(s.segments, 13_869);
    assert_eq!(s.inputs, 0);
    assert_eq!(s.channel_kinds, ["Leak", "k_slow", "k_fast", "ca_boyle"]);
    assert_eq!(s.files, 306);
}

#[test]
fn bundled_d1_values_are_converted_to_internal_units() {
    let model = neuroml::load(repo().join("models/c302_D1/LEMS_c302_D1.xml")).unwrap();

    let avbl = model.cell("AVBL").unwrap();
    let m = &avbl.morphology;
    assert_eq!(m.segments.len(), 66);
    // The soma is a sphere: proximal == distal.
    let soma = m.segment(0).unwrap();
    assert_eq!(soma.proximal, Some(soma.distal));
    assert!(close(soma.distal.diameter, 2.828427));
    // Segment 19 has no proximal point: it starts at its parent's distal end.
    let s19 = m.segment(19).unwrap();
    assert_eq!(m.proximal(s19), m.segment(18).unwrap().distal);
    let leak = &avbl.membrane.channel_densities[0];
    assert_eq!(
        (leak.ion_channel.as_str(), leak.segment_group.as_str()),
        ("Leak", "all")
    );
    assert!(close(leak.cond_density, 5e-8)); // 0.005 mS/cm² in µS/µm²
    assert!(close(avbl.membrane.specific_capacitance[0].value, 1e-5)); // 1 µF/cm² in nF/µm²
    assert!(close(avbl.membrane.init_memb_potential[0].value, -45.0));
    assert!(close(avbl.intracellular.resistivity[0].value, 30.0)); // 3 kΩ·cm in Ω·m
    assert!(close(
        avbl.intracellular.species[0].initial_ext_concentration,
        2.0
    )); // 2e-6 mol/cm³ in mM

    let ca = model.ion_channel("ca_boyle").unwrap();
    assert_eq!((ca.kind, ca.gates.len()), (ChannelKind::HodgkinHuxley, 3));
    match &ca.gates[0].kind {
        GateKind::TauInf {
            time_course: HHFunction::FixedTimeCourse { tau },
            steady_state:
                HHFunction::Standard {
                    shape,
                    rate,
                    midpoint,
                    scale,
                },
        } => {
            assert!(close(*tau, 0.100027));
            assert_eq!(*shape, HHShape::Sigmoid);
            assert_eq!((*rate, *midpoint, *scale), (1.0, -3.3568, 6.74821));
        }
        other => panic!("unexpected gate {other:?}"),
    }
    assert_eq!(ca.gates[0].instances, 2);
    match &ca.gates[2].kind {
        GateKind::Custom(c) => {
            assert_eq!(c.type_name, "customHGate");
            assert!(close(c.parameters["ca_half"], 6.41889e-8)); // mM stays mM
            assert!(close(c.parameters["alpha"], 0.282473));
            assert_eq!(c.parameters["instances"], 1.0);
        }
        other => panic!("unexpected gate {other:?}"),
    }
    let h_type = model.component_types.get("customHGate").unwrap();
    assert_eq!(h_type.constants[0].value, 1000.0); // 1 s in ms

    match model.synapse("neuron_to_neuron_exc_syn").unwrap() {
        Synapse::Custom(c) => {
            assert_eq!(c.type_name, "gradedSynapse2");
            assert!(close(c.parameters["conductance"], 2e-3)); // 2 nS in µS
            assert!(close(c.parameters["ar"], 5e-4)); // 0.5 /s in /ms
            assert!(close(c.parameters["beta"], 0.25));
            assert_eq!(c.parameters["weight"], 1.0); // the Property's default
        }
        other => panic!("unexpected synapse {other:?}"),
    }
    match model.synapse("neuron_to_neuron_elec_syn").unwrap() {
        Synapse::GapJunction { conductance, .. } => assert!(close(*conductance, 5e-6)),
        other => panic!("unexpected synapse {other:?}"),
    }
    match model.concentration_model("CaPool").unwrap() {
        ConcentrationModel::FixedFactor {
            decay_constant,
            rho,
            ..
        } => {
            assert!(close(*decay_constant, 11.5943));
            assert!(close(*rho, 0.000238919));
        }
        other => panic!("unexpected model {other:?}"),
    }

    let net = model.network().unwrap();
    let gj = net
        .projections
        .iter()
        .find(|p| p.id == "NC_ADAL_ADAR_Generic_GJ")
        .unwrap();
    assert_eq!(gj.kind, ProjectionKind::Electrical);
    let c = &gj.connections[0];
    assert_eq!(
        (
            c.pre.population.as_str(),
            c.pre.index,
            c.post.population.as_str()
        ),
        ("ADAL", 0, "ADAR")
    );
    assert_eq!(c.synapse.as_deref(), Some("neuron_to_neuron_elec_syn"));

    let sim = model.simulation(model.target.as_deref().unwrap()).unwrap();
    assert_eq!(
        (sim.length, sim.step, sim.target.as_str()),
        (500.0, 0.1, "c302_D1")
    );
    let columns: Vec<usize> = sim.output_files.iter().map(|f| f.columns.len()).collect();
    assert_eq!(columns, [302, 302]);
    assert_eq!(sim.output_files[0].columns[0].quantity, "ADAL/0/ADAL/v");
    assert_eq!(
        sim.output_files[1].columns[0].quantity,
        "ADAL/0/ADAL/caConc"
    );
}

#[test]
fn reads_c302_parameter_set_c1_subset() {
    let dir = repo().join("neuroml/tests/fixtures/c302_C1_subset");
    let model = neuroml::load(dir.join("LEMS_c302_C1_subset.xml")).unwrap();
    let s = model.summary();
    assert_eq!(
        (s.cells, s.chemical_synapses, s.gap_junctions, s.cables),
        (6, 4, 8, 6)
    );
    // C1's graded synapse is NeuroML's core gradedSynapse.
    match model.synapse("neuron_to_neuron_exc_syn").unwrap() {
        Synapse::Graded {
            conductance,
            delta,
            k,
            vth,
            erev,
            ..
        } => {
            assert!(close(*conductance, 9e-5));
            assert_eq!((*delta, *vth, *erev), (5.0, 0.0, 0.0));
            assert!(close(*k, 0.025));
        }
        other => panic!("unexpected synapse {other:?}"),
    }
    let net = model.network().unwrap();
    assert!(net
        .projections
        .iter()
        .any(|p| p.kind == ProjectionKind::Continuous));
    // All six neurons share one generic single-compartment cell.
    assert!(net
        .populations
        .iter()
        .all(|p| p.component == "GenericNeuronCell"));
}

#[test]
fn reads_c302_parameter_set_d_subset() {
    let dir = repo().join("neuroml/tests/fixtures/c302_D_subset");
    let model = neuroml::load(dir.join("LEMS_c302_D_subset.xml")).unwrap();
    let s = model.summary();
    assert_eq!((s.cells, s.chemical_synapses, s.gap_junctions), (6, 4, 8));
    // D uses spiking expTwoSynapse projections with delays.
    // expTwoSynapse is simulated from its LEMS definition: a component of that core type.
    match model.synapse("neuron_to_neuron_exc_syn").unwrap() {
        Synapse::Custom(c) => {
            assert_eq!(c.type_name, "expTwoSynapse");
            assert!(close(c.parameters["gbase"], 1e-5));
            assert_eq!(
                (c.parameters["tauRise"], c.parameters["tauDecay"]),
                (1.0, 5.0)
            );
            assert_eq!(c.parameters["weight"], 1.0);
        }
        other => panic!("unexpected synapse {other:?}"),
    }
    let net = model.network().unwrap();
    let chem: Vec<_> = net
        .projections
        .iter()
        .filter(|p| matches!(p.kind, ProjectionKind::Chemical { .. }))
        .collect();
    assert_eq!(chem.len(), 4);
    assert_eq!(chem[0].connections[0].pre.population, "AVBL");
    // The same files read from the network file alone give the same network.
    let direct = neuroml::load(dir.join("c302_D_subset.net.nml")).unwrap();
    assert_eq!(direct.summary().cells, s.cells);
    let ids = |m: &neuroml::Model| {
        m.network()
            .unwrap()
            .projections
            .iter()
            .map(|p| p.id.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&direct), ids(&model));
}
