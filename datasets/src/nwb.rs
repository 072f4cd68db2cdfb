//! NWB 2 export of a dataset (`celegans export-nwb`): the layout pynwb writes for an
//! `NWBFile` with `TimeSeries`, so that pynwb reads it and nwbinspector finds nothing to
//! report beyond the experimenter and institution (which a simulation does not have).
//!
//! Per sequence k (1-based, zero-padded to the width of the count):
//! - `/acquisition/membrane_potential_k`: the recorded outputs, (T, O), stored in the
//!   dataset's unit (mV) with `conversion` to volts (1e-3); columns in the order of the
//!   description;
//! - `/acquisition/all_membrane_potentials_k`: every neuron's voltage, when recorded;
//! - `/stimulus/presentation/injected_current_k`: the input currents, (T, I), stored in
//!   the dataset's unit (pA) with `conversion` to amperes (1e-12);
//!
//! each with `starting_time` and `rate` (regular sampling at dt). The provenance — scenario,
//! seed, the model files' SHA-256, the program, the split and every sequence's stimulus
//! — is in `/general/notes` (JSON) and the description; the subject is the model
//! (*Caenorhabditis elegans*, adult hermaphrodite). The identifier and the object ids are
//! derived from the dataset's content: the same dataset gives the same ones.

use std::path::Path;

use hdf5::types::VarLenUnicode;
use sha2::Digest;

use crate::error::{Error, Result};
use crate::file::Dataset;

/// The NWB schema version the files follow (readable by pynwb 2.6 and later).
pub const NWB_VERSION: &str = "2.7.0";

/// Writes `d` as an NWB 2 file at `path`, atomically; `session_start` is the session's
/// start time (RFC 3339, e.g. `2026-12-07T10:00:00+00:00`), also the time reference of
/// every series, and `created` the file's creation time.
pub fn write_nwb(d: &Dataset, path: &Path, session_start: &str, created: &str) -> Result<()> {
    d.check()
        .map_err(|e| Error::Invalid(format!("{}: not written: {e}", path.display())))?;
    for (what, unit) in [("output", &d.output_unit), ("input", &d.input_unit)] {
        if si(unit).is_none() {
            return Err(Error::Invalid(format!(
                "{}: not written: the {what} unit '{unit}' is not one NWB can convert (V, mV, uV, A, nA, pA)",
                path.display()
            )));
        }
    }
    persist::write_with(path, |tmp| {
        write_to(d, tmp, session_start, created).map_err(|e| Error::Hdf5 {
            path: path.to_path_buf(),
            message: e.to_string(),
        })
    })
}

/// NWB's unit and the factor from `unit` to it, for the units datasets use.
fn si(unit: &str) -> Option<(&'static str, f64)> {
    Some(match unit {
        "V" => ("volts", 1.0),
        "mV" => ("volts", 1e-3),
        "uV" | "µV" => ("volts", 1e-6),
        "A" => ("amperes", 1.0),
        "nA" => ("amperes", 1e-9),
        "pA" => ("amperes", 1e-12),
        _ => return None,
    })
}

/// The 64-hex-digit digest of the dataset's content: arrays, names and provenance.
fn content_digest(d: &Dataset) -> String {
    let mut h = sha2::Sha256::new();
    for x in d.time.iter().map(|x| x.to_le_bytes()) {
        h.update(x);
    }
    for x in d.inputs.iter().chain(&d.outputs) {
        h.update(x.to_le_bytes());
    }
    for x in d.voltages.iter().flatten() {
        h.update(x.to_le_bytes());
    }
    h.update(&d.split);
    let names = [&d.input_names, &d.output_names, &d.cell_names];
    h.update(serde_json::to_string(&names).expect("names").as_bytes());
    for s in [&d.scenario, &d.model_sha256, &d.generator] {
        h.update(s.as_bytes());
        h.update([0]);
    }
    h.update(d.seed.to_le_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// A version-4-shaped UUID drawn from a digest of `seed` and `name`: stable per file
/// content and object.
fn object_id(seed: &str, name: &str) -> String {
    let digest = sha2::Sha256::digest(format!("{seed}/{name}").as_bytes());
    let mut b: [u8; 16] = digest[..16].try_into().expect("16 bytes");
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

fn text(value: &str) -> hdf5::Result<VarLenUnicode> {
    value
        .parse()
        .map_err(|e| hdf5::Error::from(format!("text {value:?}: {e}")))
}

fn string_attr(loc: &hdf5::Location, name: &str, value: &str) -> hdf5::Result<()> {
    loc.new_attr::<VarLenUnicode>()
        .create(name)?
        .write_scalar(&text(value)?)
}

fn string_dataset(group: &hdf5::Group, name: &str, value: &str) -> hdf5::Result<hdf5::Dataset> {
    let d = group.new_dataset::<VarLenUnicode>().create(name)?;
    d.write_scalar(&text(value)?)?;
    Ok(d)
}

fn strings_dataset(group: &hdf5::Group, name: &str, values: &[&str]) -> hdf5::Result<()> {
    let v = values
        .iter()
        .map(|s| text(s))
        .collect::<hdf5::Result<Vec<_>>>()?;
    group
        .new_dataset::<VarLenUnicode>()
        .shape([v.len()])
        .create(name)?
        .write_raw(&v)
}

/// The attributes every typed NWB object carries.
fn typed(loc: &hdf5::Location, neurodata_type: &str, id: &str) -> hdf5::Result<()> {
    string_attr(loc, "namespace", "core")?;
    string_attr(loc, "neurodata_type", neurodata_type)?;
    string_attr(loc, "object_id", id)
}

/// One regularly sampled `TimeSeries`: `data` is (T, width), stored in `unit` × `conversion`.
struct Series<'a> {
    name: String,
    data: &'a [f32],
    width: usize,
    unit: &'a str,
    conversion: f64,
    description: String,
    comments: String,
}

fn write_series(
    group: &hdf5::Group,
    s: &Series,
    steps: usize,
    start_s: f64,
    rate_hz: f64,
    ids: &str,
) -> hdf5::Result<()> {
    let g = group.create_group(&s.name)?;
    typed(&g, "TimeSeries", &object_id(ids, &s.name))?;
    string_attr(&g, "description", &s.description)?;
    string_attr(&g, "comments", &s.comments)?;
    let data = g
        .new_dataset::<f32>()
        .shape([steps, s.width])
        .create("data")?;
    data.write_raw(s.data)?;
    string_attr(&data, "unit", s.unit)?;
    for (name, value) in [
        ("conversion", s.conversion),
        ("offset", 0.0),
        ("resolution", -1.0),
    ] {
        data.new_attr::<f64>().create(name)?.write_scalar(&value)?;
    }
    let start = g.new_dataset::<f64>().create("starting_time")?;
    start.write_scalar(&start_s)?;
    start
        .new_attr::<f64>()
        .create("rate")?
        .write_scalar(&rate_hz)?;
    string_attr(&start, "unit", "seconds")
}

fn write_to(d: &Dataset, path: &Path, session_start: &str, created: &str) -> hdf5::Result<()> {
    let (n, t) = (d.sequences, d.steps());
    let digest = content_digest(d);
    let file = hdf5::File::create(path)?;
    let root: &hdf5::Group = &file;
    typed(root, "NWBFile", &object_id(&digest, "/"))?;
    string_attr(root, "nwb_version", NWB_VERSION)?;
    for group in ["analysis", "processing", "stimulus/templates"] {
        file.create_group(group)?;
    }
    strings_dataset(root, "file_create_date", &[created])?;
    string_dataset(root, "identifier", &format!("celegans-{}", &digest[..32]))?;
    let split_name = |k: usize| match d.split[k] {
        0 => "train",
        1 => "valid",
        _ => "test",
    };
    let length_ms = d.dt * t.saturating_sub(1) as f64;
    string_dataset(
        root,
        "session_description",
        &format!(
            "Simulated C. elegans responses, scenario {}: {n} sequences of {length_ms} ms at dt {} ms; currents into {} ({}), membrane potentials of {} ({})",
            d.scenario,
            d.dt,
            d.input_names.join(", "),
            d.input_unit,
            d.output_names.join(", "),
            d.output_unit
        ),
    )?;
    string_dataset(root, "session_start_time", session_start)?;
    string_dataset(root, "timestamps_reference_time", session_start)?;

    let general = file.create_group("general")?;
    string_dataset(
        &general,
        "experiment_description",
        &format!(
            "In silico stimulus/response sequences of a c302 NeuroML model of the C. elegans nervous system (model files sha256 {}), simulated by {} after settling with no input; seed {} of the stimulus draw.",
            d.model_sha256, d.generator, d.seed
        ),
    )?;
    strings_dataset(
        &general,
        "keywords",
        &[
            "Caenorhabditis elegans",
            "connectome",
            "c302",
            "NeuroML",
            "simulation",
        ],
    )?;
    let notes = serde_json::json!({
        "scenario": d.scenario,
        "seed": d.seed,
        "model_sha256": d.model_sha256,
        "generator": d.generator,
        "dt_ms": d.dt,
        "input_names": d.input_names,
        "output_names": d.output_names,
        "split": (0..n).map(split_name).collect::<Vec<_>>(),
        "stimuli": d.stimuli,
    });
    string_dataset(&general, "notes", &notes.to_string())?;
    let script = string_dataset(&general, "source_script", &d.generator)?;
    string_attr(&script, "file_name", "celegans")?;
    let subject = general.create_group("subject")?;
    typed(&subject, "Subject", &object_id(&digest, "/general/subject"))?;
    string_dataset(
        &subject,
        "description",
        "In silico: OpenWorm's c302 model of the adult hermaphrodite nervous system (connectome after White et al. 1986, Varshney et al. 2011); age: an adult, about three days after hatching at 20 °C.",
    )?;
    string_dataset(&subject, "species", "Caenorhabditis elegans")?;
    // The connectome is an adult's: about three days after hatching at 20 °C.
    let age = string_dataset(&subject, "age", "P3D")?;
    string_attr(&age, "reference", "birth")?;
    string_dataset(&subject, "sex", "XX")?;
    string_dataset(
        &subject,
        "subject_id",
        &format!("c302-{}", &d.model_sha256.get(..12).unwrap_or("model")),
    )?;

    let acquisition = file.create_group("acquisition")?;
    let presentation = file.create_group("stimulus/presentation")?;
    let (start_s, rate_hz) = (d.time.first().copied().unwrap_or(0.0) / 1e3, 1e3 / d.dt);
    let digits = n.max(1).to_string().len();
    let (i, o) = (d.input_names.len(), d.output_names.len());
    let (v_unit, v_conversion) = si(&d.output_unit).expect("checked");
    let (i_unit, i_conversion) = si(&d.input_unit).expect("checked");
    let series =
        |group: &hdf5::Group, s: Series| write_series(group, &s, t, start_s, rate_hz, &digest);
    for k in 0..n {
        let label = format!("{:0digits$}", k + 1);
        let about = format!("sequence {} of {n} ({} split)", k + 1, split_name(k));
        series(
            &acquisition,
            Series {
                name: format!("membrane_potential_{label}"),
                data: &d.outputs[k * t * o..(k + 1) * t * o],
                width: o,
                unit: v_unit,
                conversion: v_conversion,
                description: format!(
                    "Simulated membrane potential (soma) of {} (one column each, in this order), {about}",
                    d.output_names.join(", ")
                ),
                comments: format!("columns: {}", d.output_names.join(", ")),
            },
        )?;
        if let Some(v) = &d.voltages {
            let c = d.cell_names.len();
            series(
                &acquisition,
                Series {
                    name: format!("all_membrane_potentials_{label}"),
                    data: &v[k * t * c..(k + 1) * t * c],
                    width: c,
                    unit: v_unit,
                    conversion: v_conversion,
                    description: format!(
                        "Simulated membrane potential (soma) of every neuron, {about}; columns in the order of comments"
                    ),
                    comments: format!("columns: {}", d.cell_names.join(", ")),
                },
            )?;
        }
        series(
            &presentation,
            Series {
                name: format!("injected_current_{label}"),
                data: &d.inputs[k * t * i..(k + 1) * t * i],
                width: i,
                unit: i_unit,
                conversion: i_conversion,
                description: format!(
                    "Current injected into {} (one column each, in this order), {about}; stimulus: {}",
                    d.input_names.join(", "),
                    d.stimuli.get(k).map(|s| s.to_string()).unwrap_or_default()
                ),
                comments: format!("columns: {}", d.input_names.join(", ")),
            },
        )?;
    }
    file.close()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn object_ids_are_version_4_uuids_stable_per_name() {
        let a = object_id("digest", "/acquisition/x");
        assert_eq!(a, object_id("digest", "/acquisition/x"));
        assert_ne!(a, object_id("digest", "/acquisition/y"));
        let parts: Vec<&str> = a.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'));
        assert!("89ab".contains(&parts[3][..1]));
    }
}
