//! Revoked sessions: the refresh families whose access tokens the bearer check must
//! refuse (RFC 9700 §4.14.2: logout and refresh token reuse end every token of the
//! family, not only the one presented).
//!
//! Every access token carries its family as `sid`. Revoking a family writes
//! `(sid, until_ms)` to the `revoked_sessions` table in the same transaction (see
//! [`crate::refresh`]), and the caller then adds it here: the per-request check is a
//! lookup in this in-memory map, no database call. The map is loaded from the table
//! at startup, so revocations survive a restart, and entries go once `until_ms` (the
//! expiry of the family's last access token) has passed.

use std::collections::HashMap;
use std::sync::{PoisonError, RwLock};

/// The in-memory copy of `revoked_sessions`: sid → until when (ms since the epoch).
#[derive(Debug, Default)]
pub struct RevokedSessions(RwLock<HashMap<String, u64>>);

impl RevokedSessions {
    /// A set holding `entries` (from [`crate::db::revoked_sessions`]).
    pub fn new(entries: impl IntoIterator<Item = (String, u64)>) -> Self {
        Self(RwLock::new(entries.into_iter().collect()))
    }

    /// Refuses the tokens of `sid` until `until_ms` (keeps a later time already set).
    pub fn insert(&self, sid: &str, until_ms: u64) {
        let mut map = self.0.write().unwrap_or_else(PoisonError::into_inner);
        let until = map.entry(sid.to_string()).or_insert(until_ms);
        *until = (*until).max(until_ms);
    }

    /// Whether the tokens of `sid` are refused at `now_ms`.
    pub fn contains(&self, sid: &str, now_ms: u64) -> bool {
        let map = self.0.read().unwrap_or_else(PoisonError::into_inner);
        map.get(sid).is_some_and(|until| now_ms < *until)
    }

    /// Forgets the entries whose tokens have all expired by `now_ms`; returns how many.
    pub fn purge(&self, now_ms: u64) -> usize {
        let mut map = self.0.write().unwrap_or_else(PoisonError::into_inner);
        let before = map.len();
        map.retain(|_, until| now_ms < *until);
        before - map.len()
    }

    /// How many sessions are held.
    pub fn len(&self) -> usize {
        self.0.read().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Whether none is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_contains_and_purge() {
        let set = RevokedSessions::new([("a".to_string(), 1_000)]);
        set.insert("b", 3_000);
        set.insert("b", 2_000);
        assert!(set.contains("a", 999) && !set.contains("a", 1_000));
        assert!(set.contains("b", 2_500));
        assert!(!set.contains("c", 0));
        assert_eq!(set.purge(1_500), 1);
        assert_eq!(set.len(), 1);
        assert!(set.contains("b", 2_999));
    }
}
