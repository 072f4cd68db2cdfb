//! The catalogue of malformed inputs: each file under `tests/malformed/` must fail with a
//! message naming the file, the line and what is wrong.

use std::path::Path;

/// (file, line the error must name, text the message must contain)
const CATALOGUE: &[(&str, u32, &str)] = &[
    ("not_xml.nml", 4, "malformed XML"),
    ("unclosed.nml", 1, "never closed"),
    ("wrong_root.xml", 1, "root element must be"),
    ("missing_include.nml", 2, "included file not found"),
    ("cycle_a.nml", 2, "include cycle"),
    ("unknown_unit.nml", 2, "unknown unit 'picosiemens'"),
    (
        "dimension_mismatch.nml",
        2,
        "expected a conductance but '5 mV' is a voltage",
    ),
    ("bad_number.nml", 2, "bad number '1O ms'"),
    ("missing_attribute.nml", 2, "missing attribute 'tauDecay'"),
    ("unknown_channel.nml", 8, "unknown ion channel 'k_nowhere'"),
    (
        "unknown_parent_segment.nml",
        5,
        "unknown parent segment '40'",
    ),
    ("duplicate_segment.nml", 5, "duplicate segment id '0'"),
    (
        "unknown_segment_group.nml",
        9,
        "unknown segmentGroup 'dendrites'",
    ),
    (
        "unknown_population.nml",
        10,
        "unknown population (postsynapticPopulation) 'B'",
    ),
    (
        "unknown_segment_in_connection.nml",
        11,
        "unknown segment of cell A '7'",
    ),
    (
        "unknown_element.nml",
        2,
        "unsupported element <quantumSynapse>",
    ),
    (
        "unsupported_lems.xml",
        4,
        "unsupported LEMS construct: <KineticScheme>",
    ),
    ("bad_expression.xml", 7, "expression 'g * (v - '"),
    (
        "unknown_name_in_expression.xml",
        2,
        "unknown name in expression 'erev'",
    ),
    ("missing_parameter.xml", 6, "missing attribute 'erev'"),
    (
        "unknown_extends.xml",
        2,
        "unknown ComponentType (in extends) 'baseTeleporter'",
    ),
    (
        "simulation_unknown_target.xml",
        3,
        "unknown network (target) 'no_such_network'",
    ),
];

#[test]
fn every_malformed_fixture_fails_with_file_line_and_reason() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/malformed");
    assert!(CATALOGUE.len() >= 15);
    for &(file, line, text) in CATALOGUE {
        let path = dir.join(file);
        let err = match neuroml::load(&path) {
            Ok(_) => panic!("{file}: loaded without error"),
            Err(e) => e,
        };
        let message = err.to_string();
        assert_eq!(err.line, line, "{file}: {message}");
        assert!(message.contains(text), "{file}: '{message}' lacks '{text}'");
        let file_name = err.file.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            message.starts_with(&err.file.display().to_string()),
            "{message}"
        );
        assert!(
            file_name.ends_with(".nml") || file_name.ends_with(".xml"),
            "{message}"
        );
    }
}

#[test]
fn every_fixture_in_the_folder_is_in_the_catalogue() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/malformed");
    for entry in std::fs::read_dir(dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        // cycle_b.nml is reached through cycle_a.nml.
        if name != "cycle_b.nml" {
            assert!(
                CATALOGUE.iter().any(|(f, _, _)| *f == name),
                "{name} is not in the catalogue"
            );
        }
    }
}
