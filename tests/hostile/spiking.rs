//! Spiking networks and event-driven LEMS types: what cannot be simulated faithfully is
//! refused in one line (exit 2), never approximated.

use super::*;

/// c302's spiking example `c302_C_Syns` (from c302's examples in the fixtures), unpacked
/// with its network file edited.
fn edited_spiking(dir: &Path, edit: impl Fn(&str) -> String) -> PathBuf {
    super::c302_examples::unpack(
        dir,
        &[
            "./LEMS_c302_C_Syns.xml",
            "./c302_C_Syns.net.nml",
            "./cell_C.xml",
        ],
    );
    let net = dir.join("c302_C_Syns.net.nml");
    let text = std::fs::read_to_string(&net).unwrap();
    std::fs::write(&net, edit(&text)).unwrap();
    dir.join("LEMS_c302_C_Syns.xml")
}

/// A presynaptic cell without a spike threshold cannot drive a spiking projection.
#[test]
fn a_spiking_projection_from_a_cell_without_threshold_is_refused() {
    let dir = scratch("no-threshold");
    let lems = edited_spiking(&dir, |t| {
        t.lines()
            .filter(|l| !l.contains("<spikeThresh"))
            .collect::<Vec<_>>()
            .join("\n")
    });
    refused(
        &celegans(&["run", p(&lems), "--out-dir", p(&dir.join("r"))]),
        &[
            "c302_C_Syns.net.nml:",
            "NC_VD12_VB11_GABA",
            "has no spike threshold",
        ],
    );
}

/// A synapse type whose `<OnEvent>` listens on a port it does not declare.
#[test]
fn an_event_handler_on_an_undeclared_port_is_refused() {
    let dir = scratch("event-port");
    let lems = edited_spiking(&dir, |t| {
        t.replace(
            "<expTwoSynapse id=\"neuron_to_neuron_inh_syn\"",
            r#"<ComponentType name="kick" extends="baseConductanceBasedSynapse">
        <Parameter name="tau" dimension="time"/>
        <Dynamics>
            <StateVariable name="g" dimension="conductance"/>
            <DerivedVariable name="i" dimension="current" exposure="i" value="g * (erev - v)"/>
            <TimeDerivative variable="g" value="-g / tau"/>
            <OnEvent port="spikes"><StateAssignment variable="g" value="g + gbase"/></OnEvent>
        </Dynamics>
    </ComponentType>
    <kick id="kicker" gbase="1nS" erev="0mV" tau="5ms"/>
    <expTwoSynapse id="neuron_to_neuron_inh_syn""#,
        )
        .replace("synapse=\"neuron_to_neuron_inh_syn\"", "synapse=\"kicker\"")
    });
    refused(
        &celegans(&["run", p(&lems), "--out-dir", p(&dir.join("r"))]),
        &[
            "c302_C_Syns.net.nml:",
            "ComponentType kick",
            "<OnEvent port=\"spikes\">",
        ],
    );
}

/// Regimes (refractory periods) are not simulated yet: refused where they are defined.
#[test]
fn a_regime_is_refused_where_it_is_defined() {
    let dir = scratch("regime");
    let lems = edited_spiking(&dir, |t| {
        t.replace(
            "<expTwoSynapse id=\"neuron_to_neuron_inh_syn\"",
            r#"<ComponentType name="refractory" extends="baseConductanceBasedSynapse">
        <Dynamics>
            <Regime name="integrating" initial="true">
                <OnCondition test="t .gt. 1"><Transition regime="nowhere"/></OnCondition>
            </Regime>
        </Dynamics>
    </ComponentType>
    <expTwoSynapse id="neuron_to_neuron_inh_syn""#,
        )
    });
    refused(
        &celegans(&["run", p(&lems), "--out-dir", p(&dir.join("r"))]),
        &["c302_C_Syns.net.nml:", "Regime", "unsupported"],
    );
}

/// Variable steps are for graded networks: a spiking one is refused, and so are their
/// options without `--dt auto` or out of range.
#[test]
fn variable_steps_on_a_spiking_network_or_without_dt_auto_are_refused() {
    let dir = scratch("variable-steps");
    let lems = edited_spiking(&dir, str::to_string);
    let out = dir.join("r");
    refused(
        &celegans(&["run", p(&lems), "--dt", "auto", "--out-dir", p(&out)]),
        &["variable steps (--dt auto) are for graded networks"],
    );
    refused(
        &celegans(&["run", p(&lems), "--rtol", "1e-5", "--out-dir", p(&out)]),
        &["--rtol and --max-step go with --dt auto"],
    );
    let auto = |option: &str| {
        celegans(&[
            "run",
            p(&lems),
            "--dt",
            "auto",
            option,
            "--out-dir",
            p(&out),
        ])
    };
    refused(&auto("--rtol=-1"), &["--rtol must be a positive number"]);
    refused(
        &auto("--max-step=1e-5"),
        &["--max-step must be at least 0.0001 ms"],
    );
}
