//! Stopping a long job when its user asks (Ctrl-C in Python): one process-wide flag that
//! the long loops check — simulation steps, training epochs — and that a signal handler
//! may set (an atomic store, safe in a handler).

use std::sync::atomic::{AtomicBool, Ordering};

static REQUESTED: AtomicBool = AtomicBool::new(false);

/// Asks every running job to stop at its next check.
pub fn request() {
    REQUESTED.store(true, Ordering::Relaxed);
}

/// Whether a stop was asked for since the last [`clear`].
pub fn requested() -> bool {
    REQUESTED.load(Ordering::Relaxed)
}

/// Forgets a request (before a new job starts).
pub fn clear() {
    REQUESTED.store(false, Ordering::Relaxed);
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_request_is_seen_until_cleared() {
        super::clear();
        assert!(!super::requested());
        super::request();
        assert!(super::requested());
        super::clear();
        assert!(!super::requested());
    }
}
