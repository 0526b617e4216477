//! The wire shapes: RFC 6749 §5.1 token responses and §5.2 errors, RFC 6750
//! bearer challenges.

use axum::http::header::{CACHE_CONTROL, PRAGMA, SET_COOKIE, WWW_AUTHENTICATE};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::tokens::AccessToken;

/// The realm in `WWW-Authenticate` challenges.
pub const REALM: &str = "token-warden";

#[derive(Serialize)]
struct TokenBody<'a> {
    access_token: &'a str,
    token_type: &'static str,
    expires_in: i64,
    scope: &'a str,
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: &'a str,
    error_description: &'a str,
}

/// 200 `{"access_token","token_type":"Bearer","expires_in","scope"}`, not cacheable,
/// with the refresh cookie if there is a new one.
pub fn token_response(
    access: &AccessToken,
    expires_in: i64,
    scope: &str,
    set_cookie: Option<HeaderValue>,
) -> Response {
    let body = TokenBody {
        access_token: access.expose(),
        token_type: "Bearer",
        expires_in,
        scope,
    };
    let mut response = (StatusCode::OK, Json(body)).into_response();
    no_store(&mut response);
    if let Some(cookie) = set_cookie {
        response.headers_mut().append(SET_COOKIE, cookie);
    }
    response
}

/// `Cache-Control: no-store` and `Pragma: no-cache` (RFC 6749 §5.1).
pub fn no_store(response: &mut Response) {
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
}

/// `{"error","error_description"}` with `status`, not cacheable.
pub fn error(status: StatusCode, code: &str, description: &str) -> Response {
    let mut response = (
        status,
        Json(ErrorBody {
            error: code,
            error_description: description,
        }),
    )
        .into_response();
    no_store(&mut response);
    response
}

/// 401 `invalid_grant`, optionally deleting the refresh cookie.
pub fn invalid_grant(description: &str, clear_cookie: Option<HeaderValue>) -> Response {
    let mut response = error(StatusCode::UNAUTHORIZED, "invalid_grant", description);
    if let Some(cookie) = clear_cookie {
        response.headers_mut().append(SET_COOKIE, cookie);
    }
    response
}

/// 500 `server_error` (details go to the log, not to the client).
pub fn server_error() -> Response {
    error(
        StatusCode::INTERNAL_SERVER_ERROR,
        "server_error",
        "internal error",
    )
}

/// Why a protected resource refused the request (RFC 6750 §3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BearerError {
    /// No `Authorization: Bearer` at all: a bare challenge, no error code.
    Missing,
    /// Bad, expired or revoked token; the text goes into `error_description`.
    InvalidToken(&'static str),
    /// The token lacks this scope.
    InsufficientScope(&'static str),
    /// The server could not check (database down).
    Internal,
}

impl IntoResponse for BearerError {
    fn into_response(self) -> Response {
        let (status, challenge, code, description) = match self {
            Self::Missing => (
                StatusCode::UNAUTHORIZED,
                format!("Bearer realm=\"{REALM}\""),
                "unauthorized",
                "a bearer token is required",
            ),
            Self::InvalidToken(why) => (
                StatusCode::UNAUTHORIZED,
                format!("Bearer error=\"invalid_token\", error_description=\"{why}\""),
                "invalid_token",
                why,
            ),
            Self::InsufficientScope(scope) => (
                StatusCode::FORBIDDEN,
                format!("Bearer error=\"insufficient_scope\", scope=\"{scope}\""),
                "insufficient_scope",
                "the token lacks a required scope",
            ),
            Self::Internal => return server_error(),
        };
        let mut response = error(status, code, description);
        if let Ok(value) = HeaderValue::try_from(challenge) {
            response.headers_mut().insert(WWW_AUTHENTICATE, value);
        }
        response
    }
}
