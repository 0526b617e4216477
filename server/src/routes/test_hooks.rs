//! `/test/*`, mounted only with `--fault-mode`:
//!
//! * `POST /test/faults`: one fault or a list (see [`crate::faults`]); answers
//!   `{"pending": [...]}`. `GET` lists, `DELETE` clears.
//! * `POST /test/replay`: with the caller's refresh cookie, refreshes server-side with
//!   the family's *previous* token, as an attacker holding a stolen old token would.
//! * `GET /test/stats`, `POST /test/reset-stats`: see [`crate::stats::Snapshot`].

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http_body::Frame;
use serde::Deserialize;
use serde_json::json;

use crate::faults::{Fault, FaultKind};
use crate::refresh::{self, RefreshToken, Refreshed, Rejected};
use crate::stats::RefreshSpan;
use crate::{cookies, oauth, AppState};

/// How long a `hang` fault waits at most (the server's own safety net).
const HANG_LIMIT: Duration = Duration::from_secs(600);

/// The `/test` router.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/faults",
            post(add_faults).get(list_faults).delete(clear_faults),
        )
        .route("/replay", post(replay))
        .route("/stats", get(stats))
        .route("/reset-stats", post(reset_stats))
        .fallback(super::not_found)
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    Many(Vec<Fault>),
    One(Fault),
}

async fn add_faults(State(state): State<AppState>, body: Bytes) -> Response {
    let faults = match serde_json::from_slice::<OneOrMany>(&body) {
        Ok(OneOrMany::One(fault)) => vec![fault],
        Ok(OneOrMany::Many(faults)) => faults,
        Err(e) => return oauth::error(StatusCode::BAD_REQUEST, "invalid_request", &e.to_string()),
    };
    if let Some(why) = faults.iter().find_map(|f| f.validate().err()) {
        return oauth::error(StatusCode::BAD_REQUEST, "invalid_request", &why);
    }
    state.faults.push(faults);
    list_faults(State(state)).await.into_response()
}

async fn list_faults(State(state): State<AppState>) -> Json<serde_json::Value> {
    Json(json!({ "pending": state.faults.pending() }))
}

async fn clear_faults(State(state): State<AppState>) -> StatusCode {
    state.faults.clear();
    StatusCode::NO_CONTENT
}

async fn stats(State(state): State<AppState>) -> Json<crate::stats::Snapshot> {
    Json(state.stats.snapshot())
}

async fn reset_stats(State(state): State<AppState>) -> StatusCode {
    state.stats.reset();
    StatusCode::NO_CONTENT
}

/// Replays the family's previous refresh token. Answers 200
/// `{"outcome": "reuse_detected" | "grace" | ..., "family", "family_revoked"}`,
/// 409 `{"outcome":"no_previous_token"}` before the first rotation, 401
/// `{"outcome":"no_session"}` without a known cookie.
async fn replay(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(cookie) = cookies::read(&headers, &state.config.cookie_name) else {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"outcome": "no_session"})),
        )
            .into_response();
    };
    let hash = cookie.hash();
    let Ok(next) = RefreshToken::generate() else {
        return oauth::server_error();
    };
    let (now, policy) = (state.now_ms(), state.policy());
    let result = state
        .db
        .call(move |c| match refresh::previous_of(c, &hash)? {
            None => Ok(None),
            Some((family, None)) => Ok(Some((family, None))),
            Some((family, Some(previous))) => {
                let outcome = refresh::refresh(c, &previous, next, now, policy)?;
                Ok(Some((family, Some(outcome))))
            }
        })
        .await;
    let (family, outcome) = match result {
        Ok(Some(found)) => found,
        Ok(None) => {
            return (
                StatusCode::UNAUTHORIZED,
                Json(json!({"outcome": "no_session"})),
            )
                .into_response()
        }
        Err(e) => {
            tracing::error!(error = %e, "replay failed");
            return oauth::server_error();
        }
    };
    let (status, outcome, revoked) = match outcome {
        None => (StatusCode::CONFLICT, "no_previous_token", false),
        Some(Ok(Refreshed::Grace { .. })) => (StatusCode::OK, "grace", false),
        // Cannot happen: the previous hash never equals the current one.
        Some(Ok(Refreshed::Rotated { .. })) => (StatusCode::OK, "rotated", false),
        Some(Err(rejected)) => {
            if let Some(revoked) = rejected.family() {
                state.note_revoked(revoked);
            }
            if let Rejected::Reused { .. } = rejected {
                state.stats.reuse_detected();
                tracing::warn!(%family, "replayed refresh token: reuse detected, family revoked");
            }
            (
                StatusCode::OK,
                rejected.reason(),
                matches!(rejected, Rejected::Reused { .. }),
            )
        }
    };
    (
        status,
        Json(json!({"outcome": outcome, "family": family, "family_revoked": revoked})),
    )
        .into_response()
}

/// The scripted answer for one refresh call.
pub async fn fault_response(state: &AppState, fault: &Fault, span: &mut RefreshSpan) -> Response {
    match fault.kind {
        FaultKind::Status => {
            span.outcome("fault_status", None);
            let status = fault
                .status
                .and_then(|s| StatusCode::from_u16(s).ok())
                .unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let code = fault
                .error
                .as_deref()
                .unwrap_or(if status.is_server_error() {
                    "temporarily_unavailable"
                } else {
                    "invalid_request"
                });
            let mut response = oauth::error(status, code, "injected fault");
            if let Some(seconds) = fault.retry_after {
                response
                    .headers_mut()
                    .insert(RETRY_AFTER, HeaderValue::from(seconds));
            }
            response
        }
        FaultKind::Hang => {
            span.outcome("fault_hang", None);
            tokio::select! {
                () = state.shutting_down() => {}
                () = tokio::time::sleep(HANG_LIMIT) => {}
            }
            oauth::error(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "hung",
            )
        }
        FaultKind::Malformed => {
            span.outcome("fault_malformed", None);
            let mut response = (StatusCode::OK, "<html>this is not JSON").into_response();
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response
        }
        FaultKind::Drop => {
            span.outcome("fault_drop", None);
            // A body that fails before its first byte: hyper then closes the
            // connection without having flushed the status line.
            Response::new(Body::new(FailingBody))
        }
        // Delays are handled before the refresh; answering normally is not ours.
        FaultKind::Delay => oauth::server_error(),
    }
}

/// A response body whose first poll is an error.
struct FailingBody;

impl http_body::Body for FailingBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        Poll::Ready(Some(Err(std::io::Error::other(
            "fault: drop the connection",
        ))))
    }
}
