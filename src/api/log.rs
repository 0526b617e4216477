//! The debug log (`logger` / `debug: true` options): one structured entry per decision
//! the manager takes, written as a plain object by one non-generic loop (a serde
//! `Serialize` per variant cost several KB of wasm); absent values are `null`. An entry names operations, endpoints (without query or fragment), origins,
//! statuses, codes and counts; never a token, a cookie, a header value or a body.
//! `LogEntry` in `types.d.ts` is the same union.

use js_sys::{Object, Reflect};
use wasm_bindgen::JsValue;

/// One log entry; `type` tells which (kebab-case), the fields are camelCase.
#[derive(Debug)]
pub enum Entry<'a> {
    /// The next refresh (or retry) is due at `at` (ms since the epoch), `in_ms` from now.
    RefreshScheduled {
        /// ms since the epoch.
        at: f64,
        /// ms from now.
        in_ms: f64,
    },
    /// One of our requests went out: `operation` is `sign-in`, `refresh` or `logout`;
    /// `attempt` (1-based, within the refresh cycle) for a refresh only.
    Sent {
        /// `sign-in`, `refresh`, `logout`.
        operation: &'a str,
        /// Absolute URL without query or fragment.
        endpoint: &'a str,
        /// The refresh attempt, or null.
        attempt: Option<u32>,
    },
    /// One of our requests was answered: `status` is the HTTP status (null without a
    /// response), `outcome` is `ok` or the error code.
    Answered {
        /// `sign-in`, `refresh`, `logout`.
        operation: &'a str,
        /// HTTP status, or null.
        status: Option<u32>,
        /// `ok` or the error code (`invalid_grant`, `network`, ...).
        outcome: &'a str,
    },
    /// A failed refresh is retried at `at` (backoff).
    RetryScheduled {
        /// The attempt that failed.
        attempt: u32,
        /// Its error code.
        code: &'a str,
        /// ms since the epoch.
        at: f64,
        /// ms from now.
        in_ms: f64,
    },
    /// The refresh cycle gave up after `attempt` attempts.
    GaveUp {
        /// The last attempt.
        attempt: u32,
        /// Its error code.
        code: &'a str,
    },
    /// A caller waits: `want` is `token` (a `tm.fetch` / `accessToken()`), `start` or
    /// `refresh`; `count` callers wait now, this one included.
    Waiting {
        /// `token`, `start`, `refresh`.
        want: &'a str,
        /// How many callers wait.
        count: u32,
    },
    /// A `tm.fetch` request went out to `origin`, with the bearer or without: `reason`
    /// is `token`, `not-allowed` (origin not in allowedOrigins), `has-authorization`
    /// (the app set its own), `no-session` or `no-token`.
    Request {
        /// The request's origin (never its path or query).
        origin: &'a str,
        /// Whether it carries the bearer.
        bearer: bool,
        /// Why.
        reason: &'a str,
    },
    /// A request to `origin` got a 401 that asks for a new token: it is retried once
    /// after a refresh.
    UnauthorizedRetry {
        /// The request's origin.
        origin: &'a str,
    },
    /// A message to (`posted`) or from (`heard`) another tab: `message` is `signed-in`,
    /// `refreshed` or `ended`.
    TabMessage {
        /// `posted` or `heard`.
        direction: &'a str,
        /// The message type.
        message: &'a str,
    },
    /// The session state changed.
    State {
        /// The new state.
        state: &'a str,
    },
    /// The session ended.
    SessionEnded {
        /// Why (as the `session-ended` event says).
        reason: &'a str,
    },
    /// A `warning` event.
    Warning {
        /// Its code.
        code: &'a str,
    },
}

fn text(value: &str) -> JsValue {
    JsValue::from_str(value)
}

fn number(value: f64) -> JsValue {
    JsValue::from_f64(value)
}

fn count(value: Option<u32>) -> JsValue {
    value.map_or(JsValue::NULL, |n| number(f64::from(n)))
}

/// `{ type, ...fields }` as a plain object.
fn object(kind: &str, fields: &[(&str, JsValue)]) -> JsValue {
    let object = Object::new();
    let _ = Reflect::set(&object, &text("type"), &text(kind));
    for (key, value) in fields {
        let _ = Reflect::set(&object, &text(key), value);
    }
    object.into()
}

/// The entry as a JS object: `{ type: 'refresh-scheduled', at, inMs }`, ... (see
/// `LogEntry` in `types.d.ts`).
pub fn to_js(entry: &Entry<'_>) -> JsValue {
    match *entry {
        Entry::RefreshScheduled { at, in_ms } => object(
            "refresh-scheduled",
            &[("at", number(at)), ("inMs", number(in_ms))],
        ),
        Entry::Sent {
            operation,
            endpoint,
            attempt,
        } => object(
            "sent",
            &[
                ("operation", text(operation)),
                ("endpoint", text(endpoint)),
                ("attempt", count(attempt)),
            ],
        ),
        Entry::Answered {
            operation,
            status,
            outcome,
        } => object(
            "answered",
            &[
                ("operation", text(operation)),
                ("status", count(status)),
                ("outcome", text(outcome)),
            ],
        ),
        Entry::RetryScheduled {
            attempt,
            code,
            at,
            in_ms,
        } => object(
            "retry-scheduled",
            &[
                ("attempt", count(Some(attempt))),
                ("code", text(code)),
                ("at", number(at)),
                ("inMs", number(in_ms)),
            ],
        ),
        Entry::GaveUp { attempt, code } => object(
            "gave-up",
            &[("attempt", count(Some(attempt))), ("code", text(code))],
        ),
        Entry::Waiting { want, count: n } => object(
            "waiting",
            &[("want", text(want)), ("count", count(Some(n)))],
        ),
        Entry::Request {
            origin,
            bearer,
            reason,
        } => object(
            "request",
            &[
                ("origin", text(origin)),
                ("bearer", JsValue::from_bool(bearer)),
                ("reason", text(reason)),
            ],
        ),
        Entry::UnauthorizedRetry { origin } => {
            object("unauthorized-retry", &[("origin", text(origin))])
        }
        Entry::TabMessage { direction, message } => object(
            "tab-message",
            &[("direction", text(direction)), ("message", text(message))],
        ),
        Entry::State { state } => object("state", &[("state", text(state))]),
        Entry::SessionEnded { reason } => object("session-ended", &[("reason", text(reason))]),
        Entry::Warning { code } => object("warning", &[("code", text(code))]),
    }
}
