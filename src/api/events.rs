//! Event payloads on their way to the app's handlers, as serde types written with
//! `serde_wasm_bindgen::to_value` (absent values as `null`). None carries a token.

use serde::Serialize;
use wasm_bindgen::JsValue;

use crate::core::Event;

/// The event names the app may subscribe to.
pub const EVENTS: [&str; 5] = [
    "state",
    "refreshed",
    "refresh-error",
    "session-ended",
    "warning",
];

/// `refreshed`: `{ expiresAt }` (ms since the epoch).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Refreshed {
    expires_at: f64,
}

/// `refresh-error`: `{ code, attempt, retryAt }` (`retryAt` ms since the epoch, or null
/// when giving up).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RefreshError<'a> {
    code: &'a str,
    attempt: u32,
    retry_at: Option<f64>,
}

/// `session-ended`: `{ reason }`.
#[derive(Serialize)]
struct SessionEnded<'a> {
    reason: &'a str,
}

/// `warning`: `{ code, message }`.
#[derive(Serialize)]
struct Warning<'a> {
    code: &'a str,
    message: &'a str,
}

fn to_js<T: Serialize>(value: &T) -> JsValue {
    let serializer = serde_wasm_bindgen::Serializer::new().serialize_missing_as_null(true);
    value.serialize(&serializer).unwrap_or(JsValue::NULL)
}

/// A `warning` payload.
pub fn warning(code: &str, message: &str) -> JsValue {
    to_js(&Warning { code, message })
}

/// The name and payload of a core event.
pub fn payload(event: &Event) -> (&'static str, JsValue) {
    match event {
        Event::State(phase) => ("state", JsValue::from_str(phase.as_str())),
        Event::Refreshed { expires_at_ms } => (
            "refreshed",
            to_js(&Refreshed {
                expires_at: *expires_at_ms as f64,
            }),
        ),
        Event::RefreshError {
            code,
            attempt,
            retry_at_ms,
        } => (
            "refresh-error",
            to_js(&RefreshError {
                code,
                attempt: *attempt,
                retry_at: retry_at_ms.map(|at| at as f64),
            }),
        ),
        Event::SessionEnded { reason } => (
            "session-ended",
            to_js(&SessionEnded {
                reason: reason.as_str(),
            }),
        ),
        Event::Warning { code, message } => ("warning", warning(code, message)),
    }
}
