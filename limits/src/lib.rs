//! # limits: how large a job this machine can hold, and when to stop it
//!
//! [`interrupt`]: a job stops at its next check when its user asks.
//!
//! Every size a user or a file can choose (time steps, sequences, compartments, model
//! parameters, array shapes) is checked against the memory available before anything is
//! allocated, so that an absurd request ends in one line that states the limit instead of an
//! allocation abort or hours of swapping. One function decides ([`check`]) and one error
//! says it ([`TooLarge`]).
#![warn(missing_docs)]

use std::fmt;

pub mod interrupt;

/// Memory assumed available where the system does not say (not Linux, or unreadable).
const FALLBACK_BYTES: u64 = 8 << 30;

/// Bytes of memory available to this process now: Linux's `MemAvailable` (memory that can
/// be allocated without swapping), else 8 GiB. `CELEGANS_MEMORY_LIMIT` (bytes, or with a
/// K/M/G/T suffix) overrides it, e.g. to keep a shared node's jobs small.
pub fn available_memory() -> u64 {
    if let Some(limit) = std::env::var("CELEGANS_MEMORY_LIMIT")
        .ok()
        .and_then(|v| parse_bytes(&v))
    {
        return limit;
    }
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("MemAvailable:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
                .map(|kb| kb.saturating_mul(1024))
        })
        .unwrap_or(FALLBACK_BYTES)
}

fn parse_bytes(text: &str) -> Option<u64> {
    let t = text.trim();
    let (digits, scale) = match t.chars().last()? {
        'K' | 'k' => (&t[..t.len() - 1], 1u64 << 10),
        'M' | 'm' => (&t[..t.len() - 1], 1 << 20),
        'G' | 'g' => (&t[..t.len() - 1], 1 << 30),
        'T' | 't' => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    digits.trim().parse::<u64>().ok()?.checked_mul(scale)
}

/// A request larger than the memory available.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct TooLarge {
    /// What was asked for, e.g. "1e12 steps x 4 outputs".
    pub what: String,
    /// Bytes it would need.
    pub bytes: f64,
    /// Bytes available.
    pub available: u64,
}

impl fmt::Display for TooLarge {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} would need {} of memory; {} is available (set CELEGANS_MEMORY_LIMIT to change the limit)",
            self.what,
            human(self.bytes),
            human(self.available as f64)
        )
    }
}

/// Checks that `bytes` (computed in floating point, so no product overflows) fit in the
/// memory available; `what` describes the request for the message.
pub fn check(what: impl FnOnce() -> String, bytes: f64) -> Result<(), TooLarge> {
    let available = available_memory();
    if bytes.is_finite() && bytes <= available as f64 {
        Ok(())
    } else {
        Err(TooLarge {
            what: what(),
            bytes,
            available,
        })
    }
}

/// The product of `factors` as f64 (sizes multiplied without overflow).
pub fn product(factors: &[usize]) -> f64 {
    factors.iter().map(|&f| f as f64).product()
}

/// Bytes for people: "240 TB", "3.2 GB", "512 B".
pub fn human(bytes: f64) -> String {
    if !bytes.is_finite() {
        return "an unbounded amount".into();
    }
    const UNITS: [&str; 7] = ["B", "kB", "MB", "GB", "TB", "PB", "EB"];
    let mut v = bytes;
    let mut k = 0;
    while v >= 1000.0 && k + 1 < UNITS.len() {
        v /= 1000.0;
        k += 1;
    }
    if k == 0 {
        format!("{v:.0} {}", UNITS[k])
    } else if v >= 1000.0 {
        format!("{v:.1e} {}", UNITS[k])
    } else {
        format!("{v:.1} {}", UNITS[k])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_for_people() {
        assert_eq!(human(512.0), "512 B");
        assert_eq!(human(3.2e9), "3.2 GB");
        assert_eq!(human(2.4e14), "240.0 TB");
        assert_eq!(human(f64::INFINITY), "an unbounded amount");
    }

    #[test]
    fn parses_limits() {
        assert_eq!(parse_bytes("1024"), Some(1024));
        assert_eq!(parse_bytes("2G"), Some(2 << 30));
        assert_eq!(parse_bytes("x"), None);
    }

    #[test]
    fn absurd_requests_are_refused_with_the_limit() {
        assert!(check(|| "one number".into(), 8.0).is_ok());
        let e = check(|| "1e12 steps".into(), 4e18).unwrap_err();
        let message = e.to_string();
        assert!(
            message.starts_with("1e12 steps would need 4.0 EB of memory; "),
            "{message}"
        );
        assert!(check(|| "nothing".into(), f64::NAN).is_err());
    }
}
