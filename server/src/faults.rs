//! Scripted faults for `/auth/refresh` (fault mode only).
//!
//! `POST /test/faults` appends one fault or a list to a queue; each `/auth/refresh`
//! call takes one use of the fault at the front (in order). A fault with
//! `"count": null` stays at the front forever (use it last, or `DELETE /test/faults`).
//!
//! | `kind`      | fields                                   | answer                                             |
//! |-------------|------------------------------------------|----------------------------------------------------|
//! | `status`    | `status`, `retry_after`?, `error`?       | that status, `{"error": error or "temporarily_unavailable"}`, `Retry-After` if given |
//! | `hang`      |                                          | never answers (until the client gives up or the server stops) |
//! | `malformed` |                                          | 200, `Content-Type: application/json`, a non-JSON body |
//! | `drop`      |                                          | closes the connection without a response          |
//! | `delay`     | `ms`                                     | waits, then refreshes normally                     |
//!
//! Common fields: `count` (default 1, `null` = every call) and `after_rotate`
//! (default false). Without `after_rotate` a fault answers *instead of* the refresh
//! (nothing rotates). With `"after_rotate": true` the refresh happens first and its
//! answer is replaced by the fault: the "server committed, response lost" case,
//! after which the client still holds the rotated-away token.

use std::collections::VecDeque;
use std::sync::{Mutex, PoisonError};

use serde::{Deserialize, Serialize};

/// What a fault does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer with a status.
    Status,
    /// Never answer.
    Hang,
    /// 200 with a body that is not JSON.
    Malformed,
    /// Close the connection without an answer.
    Drop,
    /// Wait, then refresh normally.
    Delay,
}

/// One scripted fault, as posted to `/test/faults`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fault {
    /// What it does.
    pub kind: FaultKind,
    /// `status`: the HTTP status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// `status`: the `Retry-After` seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
    /// `status`: the `error` code in the body.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// `delay`: milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ms: Option<u64>,
    /// How many refresh calls it applies to; `null` = all of them.
    #[serde(default = "one")]
    pub count: Option<u32>,
    /// Refresh first, then answer with the fault.
    #[serde(default)]
    pub after_rotate: bool,
}

fn one() -> Option<u32> {
    Some(1)
}

impl Fault {
    /// Checks the fields that `kind` needs.
    pub fn validate(&self) -> Result<(), String> {
        if self.count == Some(0) {
            return Err("\"count\" must be at least 1 (or null)".into());
        }
        match self.kind {
            FaultKind::Status => match self.status {
                Some(s) if (200..=599).contains(&s) => Ok(()),
                _ => Err("a status fault needs \"status\" between 200 and 599".into()),
            },
            FaultKind::Delay if self.ms.is_none() => Err("a delay fault needs \"ms\"".into()),
            _ => Ok(()),
        }
    }
}

/// The queue of pending faults.
#[derive(Debug, Default)]
pub struct FaultQueue(Mutex<VecDeque<Fault>>);

impl FaultQueue {
    fn lock(&self) -> std::sync::MutexGuard<'_, VecDeque<Fault>> {
        // Plain data: a panic elsewhere cannot leave it half-updated.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Appends faults at the back.
    pub fn push(&self, faults: impl IntoIterator<Item = Fault>) {
        self.lock().extend(faults);
    }

    /// Drops every pending fault.
    pub fn clear(&self) {
        self.lock().clear();
    }

    /// The pending faults, front first.
    pub fn pending(&self) -> Vec<Fault> {
        self.lock().iter().cloned().collect()
    }

    /// Takes one use of the front fault.
    pub fn take(&self) -> Option<Fault> {
        let mut queue = self.lock();
        let front = queue.front_mut()?;
        match front.count {
            None => Some(front.clone()),
            Some(n) if n > 1 => {
                front.count = Some(n - 1);
                Some(front.clone())
            }
            Some(_) => queue.pop_front(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(json: &str) -> Fault {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn parses_the_documented_shapes() {
        let f = parse(r#"{"kind":"status","status":503,"retry_after":1,"count":3}"#);
        assert_eq!(
            (f.kind, f.status, f.retry_after, f.count),
            (FaultKind::Status, Some(503), Some(1), Some(3))
        );
        assert_eq!(parse(r#"{"kind":"hang"}"#).count, Some(1));
        assert_eq!(parse(r#"{"kind":"delay","ms":5,"count":null}"#).count, None);
        assert!(serde_json::from_str::<Fault>(r#"{"kind":"boom"}"#).is_err());
        assert!(serde_json::from_str::<Fault>(r#"{"kind":"hang","typo":1}"#).is_err());
        assert!(parse(r#"{"kind":"status"}"#).validate().is_err());
        assert!(parse(r#"{"kind":"delay"}"#).validate().is_err());
        assert!(parse(r#"{"kind":"drop","count":0}"#).validate().is_err());
    }

    #[test]
    fn takes_in_order_and_counts_down() {
        let q = FaultQueue::default();
        q.push([
            parse(r#"{"kind":"status","status":503,"count":2}"#),
            parse(r#"{"kind":"drop"}"#),
            parse(r#"{"kind":"delay","ms":1,"count":null}"#),
        ]);
        let kinds: Vec<_> = (0..5).map(|_| q.take().unwrap().kind).collect();
        assert_eq!(
            kinds,
            [
                FaultKind::Status,
                FaultKind::Status,
                FaultKind::Drop,
                FaultKind::Delay,
                FaultKind::Delay
            ]
        );
        q.clear();
        assert!(q.take().is_none());
    }
}
