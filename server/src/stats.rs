//! Counters and a per-refresh log, served by `GET /test/stats` in fault mode so
//! browser tests can check what the client really did (e.g. that refreshes from
//! several tabs never overlapped).

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use serde::Serialize;

use crate::clock::Clock;

/// The log keeps at most this many refreshes (oldest dropped first).
pub const MAX_LOG: usize = 10_000;

/// One `/auth/refresh` call.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct RefreshLogEntry {
    /// When the handler started, ms since the epoch (server clock).
    pub start_ms: u64,
    /// When it answered, or when the client went away.
    pub end_ms: u64,
    /// `rotated`, `grace`, an `invalid_grant` reason (`reuse_detected`, `revoked`,
    /// `expired`, `idle_expired`, `unknown`, `user_gone`, `no_cookie`), a fault
    /// (`fault_status`, `fault_hang`, `fault_malformed`, `fault_drop`), `error`, or
    /// `aborted` (the client disconnected first).
    pub outcome: &'static str,
    /// The refresh family, when known.
    pub family: Option<String>,
}

/// What `GET /test/stats` answers.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Snapshot {
    /// Successful logins.
    pub logins: u64,
    /// Refused logins.
    pub login_failures: u64,
    /// Refreshes answered with a token (`rotated` or `grace`).
    pub refreshes_ok: u64,
    /// Every other refresh, faults included.
    pub refreshes_failed: u64,
    /// Reuse detections (family revoked), `/test/replay` included.
    pub reuse_detections: u64,
    /// Logout calls.
    pub logouts: u64,
    /// Refreshes running now.
    pub refreshes_in_flight: u64,
    /// The most refreshes that ran at the same time.
    pub max_concurrent_refreshes: u64,
    /// Finished refreshes, oldest first.
    pub refresh_log: Vec<RefreshLogEntry>,
}

/// The counters.
#[derive(Debug, Default)]
pub struct Stats(Mutex<Snapshot>);

impl Stats {
    fn lock(&self) -> MutexGuard<'_, Snapshot> {
        // Plain counters: a panic elsewhere cannot leave them inconsistent.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A copy of everything.
    pub fn snapshot(&self) -> Snapshot {
        self.lock().clone()
    }

    /// Zeroes everything except the refreshes still running.
    pub fn reset(&self) {
        let mut s = self.lock();
        let running = s.refreshes_in_flight;
        *s = Snapshot {
            refreshes_in_flight: running,
            max_concurrent_refreshes: running,
            ..Snapshot::default()
        };
    }

    /// Counts a login attempt.
    pub fn login(&self, ok: bool) {
        let mut s = self.lock();
        if ok {
            s.logins += 1;
        } else {
            s.login_failures += 1;
        }
    }

    /// Counts a logout.
    pub fn logout(&self) {
        self.lock().logouts += 1;
    }

    /// Counts a reuse detection.
    pub fn reuse_detected(&self) {
        self.lock().reuse_detections += 1;
    }

    /// Starts timing a refresh; the entry is written when the span drops.
    pub fn begin_refresh(self: &Arc<Self>, clock: Arc<dyn Clock>) -> RefreshSpan {
        {
            let mut s = self.lock();
            s.refreshes_in_flight += 1;
            s.max_concurrent_refreshes = s.max_concurrent_refreshes.max(s.refreshes_in_flight);
        }
        RefreshSpan {
            start_ms: clock.now_ms(),
            stats: Arc::clone(self),
            clock,
            outcome: "aborted",
            family: None,
        }
    }
}

/// A refresh in progress. Dropping it (answered, or cancelled because the client
/// went away) logs it with the last outcome set.
pub struct RefreshSpan {
    stats: Arc<Stats>,
    clock: Arc<dyn Clock>,
    start_ms: u64,
    outcome: &'static str,
    family: Option<String>,
}

impl RefreshSpan {
    /// Records how it went (the last call wins).
    pub fn outcome(&mut self, outcome: &'static str, family: Option<&str>) {
        self.outcome = outcome;
        if family.is_some() {
            self.family = family.map(String::from);
        }
    }
}

impl Drop for RefreshSpan {
    fn drop(&mut self) {
        let entry = RefreshLogEntry {
            start_ms: self.start_ms,
            end_ms: self.clock.now_ms(),
            outcome: self.outcome,
            family: self.family.take(),
        };
        let mut s = self.stats.lock();
        s.refreshes_in_flight = s.refreshes_in_flight.saturating_sub(1);
        if matches!(entry.outcome, "rotated" | "grace") {
            s.refreshes_ok += 1;
        } else {
            s.refreshes_failed += 1;
        }
        if s.refresh_log.len() >= MAX_LOG {
            s.refresh_log.remove(0);
        }
        s.refresh_log.push(entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;

    #[test]
    fn spans_count_and_log() {
        let stats = Arc::new(Stats::default());
        let clock = ManualClock::new(10);
        let mut a = stats.begin_refresh(Arc::new(clock.clone()));
        let b = stats.begin_refresh(Arc::new(clock.clone()));
        assert_eq!(stats.snapshot().max_concurrent_refreshes, 2);
        clock.set(20);
        a.outcome("rotated", Some("fam"));
        drop(a);
        drop(b);
        let s = stats.snapshot();
        assert_eq!(
            (s.refreshes_ok, s.refreshes_failed, s.refreshes_in_flight),
            (1, 1, 0)
        );
        assert_eq!(
            s.refresh_log[0],
            RefreshLogEntry {
                start_ms: 10,
                end_ms: 20,
                outcome: "rotated",
                family: Some("fam".into())
            }
        );
        assert_eq!(s.refresh_log[1].outcome, "aborted");
        stats.reset();
        assert!(stats.snapshot().refresh_log.is_empty());
    }
}
