//! The checkpoint of an interruptible generation: one checksummed file per finished
//! sequence in a folder tagged with the generation's request ([`persist::open_checkpoint`]).

use std::path::Path;

use crate::error::Result;
use crate::generate::{Generation, Rows, SequenceRows};

/// What identifies a generation's results: everything that changes a sequence.
pub(crate) fn request(g: &Generation) -> serde_json::Value {
    serde_json::json!({
        "scenario": g.scenario, "dt": g.dt, "duration": g.duration, "count": g.count, "seed": g.seed,
        "record_all": g.record_all, "settle": g.settle, "method": format!("{:?}", g.method),
        "model_sha256": g.model_sha256, "generator": g.generator,
    })
}

/// One finished sequence's traces in a checkpoint folder: for inputs, outputs and voltages
/// in turn, rows and columns (u64) and the rows (f64), little-endian, with a checksum.
pub(crate) fn save_traces(dir: &Path, index: usize, parts: [&Rows; 3]) -> Result<()> {
    let mut bytes = Vec::new();
    for part in parts {
        let cols = part.first().map_or(0, |r| r.len());
        bytes.extend_from_slice(&(part.len() as u64).to_le_bytes());
        bytes.extend_from_slice(&(cols as u64).to_le_bytes());
        for v in part.iter().flatten() {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
    }
    Ok(persist::write_checked(
        &dir.join(format!("{index:06}.bin")),
        &bytes,
    )?)
}

/// The traces [`save_traces`] kept for sequence `index`, if they are intact and have the
/// `expected` (rows, columns) of inputs, outputs and voltages; anything else is simulated
/// again.
pub(crate) fn load_traces(
    dir: &Path,
    index: usize,
    expected: [(usize, usize); 3],
) -> Option<SequenceRows> {
    let bytes = persist::read_checked(&dir.join(format!("{index:06}.bin")))?;
    let mut at = 0;
    let mut word = || -> Option<[u8; 8]> {
        let w = bytes.get(at..at + 8)?.try_into().ok()?;
        at += 8;
        Some(w)
    };
    let mut part = |(rows, cols): (usize, usize)| -> Option<Vec<Vec<f64>>> {
        if u64::from_le_bytes(word()?) != rows as u64 || u64::from_le_bytes(word()?) != cols as u64
        {
            return None;
        }
        (0..rows)
            .map(|_| (0..cols).map(|_| word().map(f64::from_le_bytes)).collect())
            .collect()
    };
    let [i, o, v] = expected;
    Some((part(i)?, part(o)?, part(v)?))
}

#[cfg(test)]
mod tests {
    use crate::{generate_resumable, Generation, Scenario};

    /// A checkpoint entry damaged in place (a bit flipped, same length) is simulated again,
    /// never used: the resumed dataset equals the first.
    #[test]
    fn a_damaged_entry_is_recomputed() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .unwrap();
        let model = neuroml::load(root.join("models/c302_D1/LEMS_c302_D1.xml")).unwrap();
        let mut g = Generation::new(Scenario::builtin("fcm").unwrap(), 0.5);
        (g.count, g.duration, g.settle) = (4, 50.0, 20.0);
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("checkpoint");
        let first = generate_resumable(&model, &g, Some(&dir), &|_| {}).unwrap();
        let entry = dir.join("000002.bin");
        let mut bytes = std::fs::read(&entry).unwrap();
        let at = bytes.len() / 2;
        bytes[at] ^= 0x04;
        std::fs::write(&entry, &bytes).unwrap();
        let again = generate_resumable(&model, &g, Some(&dir), &|_| {}).unwrap();
        assert!(first == again, "a damaged checkpoint entry was used");
    }
}
