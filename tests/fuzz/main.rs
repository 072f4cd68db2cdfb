//! Fuzz and property suite for every reader beyond NeuroML (which has its own, in
//! `neuroml/tests/`): dataset files (HDF5 built with random shapes, types, attributes and
//! values), model directories, stimulus and scenario files (TOML), `.dat` folders and split
//! files. Text formats start from valid files and are mutated (numbers replaced by extremes,
//! lines dropped, doubled and swapped, bytes flipped, files cut short). Each case must end
//! in `Ok` or an error — never a panic — and what is accepted must hold its invariants
//! (a dataset read passes its own check, a split file is a partition, ...) and survive the
//! next step (splits, prediction, sampling).
//!
//! Cases per reader: `CELEGANS_FUZZ_CASES` (default 150, as in CI; the hunt reported in
//! `docs/reliability.md` ran 100,000 per reader). `CELEGANS_FUZZ_SEED` picks the stream.
//! A failing input is kept in the scratch folder and named in the failure.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::process::Command;

use datasets::dat::{Import, SplitFile};
use datasets::{Dataset, Generation, Scenario, StimulusFile};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

#[path = "../common/scratch.rs"]
mod scratch;

fn cases() -> usize {
    std::env::var("CELEGANS_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(150)
}

fn rng(reader: u64) -> ChaCha8Rng {
    let seed: u64 = std::env::var("CELEGANS_FUZZ_SEED")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    ChaCha8Rng::seed_from_u64(seed.wrapping_mul(1000) + reader)
}

fn scratch(name: &str) -> scratch::Scratch {
    static NO_LOCKS: std::sync::Once = std::sync::Once::new();
    NO_LOCKS.call_once(|| {
        std::env::set_var("HDF5_USE_FILE_LOCKING", "FALSE");
        // Requests that fit only a large machine are refused quickly (the limit is part of
        // what is tested) instead of filling this one.
        std::env::set_var("CELEGANS_MEMORY_LIMIT", "256M");
    });
    scratch::scratch(&format!("fuzz-{name}"))
}

/// Runs `case` for every case number: `Ok(true)` when the reader accepted the input (and
/// its properties held), `Ok(false)` when it refused it, `Err` for a broken property. A
/// failing input is kept as `DIR/failed-K` and named in the report.
fn hunt(reader: &str, dir: &Path, mut case: impl FnMut(&Path) -> Result<bool, String>) {
    std::panic::set_hook(Box::new(|_| {}));
    let (mut accepted, mut refused, mut failures) = (0usize, 0usize, Vec::new());
    let input = dir.join("case");
    for k in 0..cases() {
        let _ = std::fs::remove_dir_all(&input);
        std::fs::create_dir_all(&input).unwrap();
        let failure = match catch_unwind(AssertUnwindSafe(|| case(&input))) {
            Ok(Ok(true)) => {
                accepted += 1;
                None
            }
            Ok(Ok(false)) => {
                refused += 1;
                None
            }
            Ok(Err(broken)) => Some(broken),
            Err(panic) => Some(format!(
                "panic: {}",
                panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default()
            )),
        };
        if let Some(f) = failure {
            let kept = dir.join(format!("failed-{k}"));
            let _ = std::fs::rename(&input, &kept);
            failures.push(format!("case {k} ({}): {f}", kept.display()));
            if failures.len() > 5 {
                break;
            }
        }
    }
    let _ = std::panic::take_hook();
    eprintln!(
        "{reader}: {} cases, {accepted} accepted, {refused} refused, {} broken or panicked",
        cases(),
        failures.len()
    );
    assert!(failures.is_empty(), "{reader}:\n{}", failures.join("\n"));
}

/// Numbers and tokens a hostile file puts where a number belongs.
const EXTREMES: &[&str] = &[
    "nan",
    "inf",
    "-inf",
    "1e400",
    "-1e400",
    "0",
    "-0",
    "-1",
    "1e308",
    "-1e308",
    "4294967296",
    "18446744073709551616",
    "1e-320",
    "0.3",
    "-20",
    "1e12",
    "99999999999999999999",
    "\"x\"",
    "[]",
    "{}",
    "true",
    "\"\"",
    "[1, 2]",
    "2.5e9",
];

/// A random mutation of `text`: 1 to 4 edits.
fn mutate(text: &str, rng: &mut ChaCha8Rng) -> Vec<u8> {
    let mut t = text.to_string();
    let edits = if rng.random_bool(0.6) {
        1
    } else {
        rng.random_range(2..=4)
    };
    for _ in 0..edits {
        let lines: Vec<&str> = t.lines().collect();
        let line = if lines.is_empty() {
            0
        } else {
            rng.random_range(0..lines.len())
        };
        t = match rng.random_range(0..8) {
            // A number replaced by an extreme.
            0..=2 => {
                let spans = numbers(&t);
                if spans.is_empty() {
                    t
                } else {
                    let (a, b) = spans[rng.random_range(0..spans.len())];
                    let x = EXTREMES[rng.random_range(0..EXTREMES.len())];
                    format!("{}{x}{}", &t[..a], &t[b..])
                }
            }
            3 => lines
                .iter()
                .enumerate()
                .filter(|&(k, _)| k != line)
                .map(|(_, l)| *l)
                .collect::<Vec<_>>()
                .join("\n"),
            4 => {
                let mut v = lines.clone();
                if !v.is_empty() {
                    v.insert(line, lines[line]);
                }
                v.join("\n")
            }
            5 => {
                let mut v = lines.clone();
                if v.len() > 1 {
                    let other = rng.random_range(0..v.len());
                    v.swap(line, other);
                }
                v.join("\n")
            }
            6 => {
                let cut = rng.random_range(0..=t.len());
                let cut = (0..=cut)
                    .rev()
                    .find(|&c| t.is_char_boundary(c))
                    .unwrap_or(0);
                t[..cut].to_string()
            }
            _ => {
                // A random byte inserted or replaced (may leave invalid UTF-8: then bytes).
                let mut bytes = t.into_bytes();
                let at = rng.random_range(0..=bytes.len());
                let b: u8 = rng.random();
                if at < bytes.len() && rng.random_bool(0.5) {
                    bytes[at] = b;
                } else {
                    bytes.insert(at, b);
                }
                return bytes;
            }
        };
    }
    t.into_bytes()
}

/// Byte spans of the numbers in `text`.
fn numbers(text: &str) -> Vec<(usize, usize)> {
    let b = text.as_bytes();
    let mut spans = Vec::new();
    let mut k = 0;
    while k < b.len() {
        let starts = b[k].is_ascii_digit()
            || (b[k] == b'-' && b.get(k + 1).is_some_and(|c| c.is_ascii_digit()));
        let in_word = k > 0 && (b[k - 1].is_ascii_alphanumeric() || b[k - 1] == b'_');
        if starts && !in_word {
            let start = k;
            k += 1;
            while k < b.len() && (b[k].is_ascii_digit() || b"+-.eE".contains(&b[k])) {
                k += 1;
            }
            spans.push((start, k));
        } else {
            k += 1;
        }
    }
    spans
}

mod dataset_files;
mod model_directories;
mod text_files;
