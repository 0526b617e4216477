//! The protected API: `GET /api/me`, `/api/data`, `/api/admin` (scope `admin`).
//! Bearer tokens only; the refresh cookie means nothing here.

use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::auth::bearer;
use crate::oauth::BearerError;
use crate::tokens::Claims;
use crate::{db, users, AppState};

/// The `/api` router.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/me", get(me))
        .route("/data", get(data))
        .route("/admin", get(admin))
        .fallback(super::not_found)
}

/// A request with a valid, unexpired access token that is not deny-listed and whose
/// session (`sid`) is not revoked.
#[derive(Debug)]
pub struct Authenticated(pub Claims);

impl FromRequestParts<AppState> for Authenticated {
    type Rejection = BearerError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, BearerError> {
        let token = bearer(&parts.headers).ok_or(BearerError::Missing)?;
        let claims = state
            .tokens
            .verify(token, state.now_ms())
            .map_err(|e| BearerError::InvalidToken(e.description()))?;
        // The session (refresh family) was revoked: logout or reuse detection.
        if state.revoked.contains(&claims.sid, state.now_ms()) {
            return Err(BearerError::InvalidToken("token revoked"));
        }
        let jti = claims.jti.clone();
        match state.db.call(move |c| db::is_denied(c, &jti)).await {
            Ok(false) => Ok(Self(claims)),
            Ok(true) => Err(BearerError::InvalidToken("token revoked")),
            Err(e) => {
                tracing::error!(error = %e, "deny-list lookup failed");
                Err(BearerError::Internal)
            }
        }
    }
}

async fn me(State(state): State<AppState>, Authenticated(claims): Authenticated) -> Json<Value> {
    let sub = claims.sub.clone();
    let name = match state.db.call(move |c| users::find(c, &sub)).await {
        Ok(Some(user)) => user.name,
        _ => claims.sub.clone(),
    };
    Json(json!({
        "sub": claims.sub,
        "name": name,
        "scope": claims.scope,
        "exp": claims.exp,
    }))
}

async fn data(State(state): State<AppState>, Authenticated(claims): Authenticated) -> Json<Value> {
    Json(json!({
        "sub": claims.sub,
        "server_time_ms": state.now_ms(),
        "items": [
            {"id": 1, "title": "Keep the access token in memory"},
            {"id": 2, "title": "Keep the refresh token in an HttpOnly cookie"},
            {"id": 3, "title": "Rotate the refresh token on every use"},
        ],
    }))
}

async fn admin(
    State(state): State<AppState>,
    Authenticated(claims): Authenticated,
) -> Result<Json<Value>, BearerError> {
    if !claims.has_scope("admin") {
        return Err(BearerError::InsufficientScope("admin"));
    }
    Ok(Json(json!({
        "sub": claims.sub,
        "server_time_ms": state.now_ms(),
        "message": "welcome, administrator",
    })))
}
