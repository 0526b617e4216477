//! `POST /auth/login`, `/auth/refresh`, `/auth/logout`: the cookie-authenticated
//! routes. All of them sit behind the CSRF layer (see [`crate::csrf`]); none ever
//! redirects.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, RETRY_AFTER, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Extension, Router};
use serde::Deserialize;

use crate::refresh::{self, RefreshToken, Refreshed, Rejected};
use crate::stats::RefreshSpan;
use crate::{cookies, db, oauth, random, users, AppState};

/// Every route of the `/auth` router, for tests that must cover them all.
pub const ROUTES: [&str; 3] = ["/auth/login", "/auth/refresh", "/auth/logout"];

/// The `/auth` router (the CSRF layer is added by the caller, around all of it).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", post(login))
        .route("/refresh", post(refresh))
        .route("/logout", post(logout))
        .fallback(super::not_found)
}

#[derive(Deserialize)]
struct LoginRequest {
    username: String,
    password: String,
}

impl fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginRequest")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("application/json"))
}

/// Logs an internal failure and answers 500 without details.
fn internal(what: &str, error: &dyn fmt::Display) -> Response {
    tracing::error!(%error, "{what} failed");
    oauth::server_error()
}

/// How a username appears in the log: quoted and escaped (`Debug`), at most 64
/// characters, so a crafted name cannot forge log lines or flood them.
fn loggable(username: &str) -> String {
    let cut: String = username.chars().take(64).collect();
    format!("{cut:?}")
}

async fn login(
    State(state): State<AppState>,
    peer: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if !is_json(&headers) {
        return oauth::error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "invalid_request",
            "send application/json",
        );
    }
    let Ok(request) = serde_json::from_slice::<LoginRequest>(&body) else {
        return oauth::error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "expected {\"username\", \"password\"}",
        );
    };
    // The TCP peer (`serve` records it on every connection); tests that call the
    // router directly may leave it out.
    let address = peer.map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |p| p.0 .0.ip());
    if let Some(throttled) = state.login_throttle.check(&request.username, address) {
        state.stats.login(false);
        tracing::warn!(
            user = %loggable(&request.username),
            %address,
            scope = throttled.scope(),
            retry_after_s = throttled.retry_after_secs(),
            "login throttled"
        );
        let mut response = oauth::error(
            StatusCode::TOO_MANY_REQUESTS,
            "temporarily_unavailable",
            "too many failed logins; retry later",
        );
        response
            .headers_mut()
            .insert(RETRY_AFTER, HeaderValue::from(throttled.retry_after_secs()));
        return response;
    }
    let username = request.username.clone();
    let user = match state.db.call(move |c| users::find(c, &username)).await {
        Ok(user) => user,
        Err(e) => return internal("user lookup", &e),
    };
    // At most `--hash-concurrency` hashes at once. The permit moves into the blocking
    // task, so a client that hangs up does not free it before the hash is done.
    let Ok(permit) = state.hash_permits.clone().acquire_owned().await else {
        return internal("password check", &"the hash semaphore is closed");
    };
    let check = state.passwords.clone();
    let hash = user.as_ref().map(|u| u.password_hash.clone());
    let password = request.password;
    let verified = tokio::task::spawn_blocking(move || {
        let verified = check.verify(hash.as_deref(), &password);
        drop(permit);
        verified
    })
    .await;
    let user = match (verified, user) {
        (Ok(true), Some(user)) => user,
        (Ok(_), _) => {
            state.stats.login(false);
            state.login_throttle.failed(&request.username, address);
            tracing::warn!(
                user = %loggable(&request.username),
                %address,
                "login refused: bad username or password"
            );
            return oauth::invalid_grant("bad username or password", None);
        }
        (Err(e), _) => return internal("password check", &e),
    };
    state.login_throttle.succeeded(&user.username);

    let (token, family) = match (RefreshToken::generate(), random::hex::<16>()) {
        (Ok(token), Ok(family)) => (token, family),
        (Err(e), _) | (_, Err(e)) => return internal("randomness", &e),
    };
    let (now, policy) = (state.now_ms(), state.policy());
    // A login from a browser that still holds a session ends that session.
    let old = cookies::read(&headers, &state.config.cookie_name).map(|t| t.hash());
    let username = user.username.clone();
    let started = state
        .db
        .call(move |c| {
            let replaced = match old {
                Some(hash) => refresh::revoke_presented(c, &hash, now, "relogin", policy)?,
                None => None,
            };
            Ok((
                replaced,
                refresh::start(c, &username, token, family, now, policy)?,
            ))
        })
        .await;
    let (replaced, new) = match started {
        Ok(pair) => pair,
        Err(e) => return internal("session start", &e),
    };
    if let Some(family) = &replaced {
        state.note_revoked(family);
    }
    let (access, _) = match state
        .tokens
        .issue(&user.username, &user.scope, &new.family, now)
    {
        Ok(issued) => issued,
        Err(e) => return internal("signing", &e),
    };
    let max_age = cookies::max_age_secs(new.absolute_expiry_ms, now);
    let cookie = match cookies::set(&state.config.cookie_name, &new.token, max_age) {
        Ok(cookie) => cookie,
        Err(e) => return internal("cookie", &e),
    };
    state.stats.login(true);
    tracing::info!(user = %user.username, family = %new.family, replaced = ?replaced, %address, "login");
    oauth::token_response(&access, state.expires_in(), &user.scope, Some(cookie))
}

async fn refresh(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let mut span = state.stats.begin_refresh(state.clock.clone());
    let mut replace_with = None;
    if state.config.fault_mode {
        if let Some(fault) = state.faults.take() {
            if let Some(ms) = fault
                .ms
                .filter(|_| fault.kind == crate::faults::FaultKind::Delay)
            {
                tokio::time::sleep(std::time::Duration::from_millis(ms)).await;
            } else if fault.after_rotate {
                replace_with = Some(fault);
            } else {
                return super::test_hooks::fault_response(&state, &fault, &mut span).await;
            }
        }
    }
    let response = do_refresh(&state, &headers, &mut span).await;
    match replace_with {
        Some(fault) => super::test_hooks::fault_response(&state, &fault, &mut span).await,
        None => response,
    }
}

/// The refresh proper, recording its outcome in `span`.
async fn do_refresh(state: &AppState, headers: &HeaderMap, span: &mut RefreshSpan) -> Response {
    let name = &state.config.cookie_name;
    let Some(presented) = cookies::read(headers, name) else {
        span.outcome("no_cookie", None);
        return oauth::invalid_grant("no refresh cookie", None);
    };
    let hash = presented.hash();
    drop(presented);
    let next = match RefreshToken::generate() {
        Ok(next) => next,
        Err(e) => return internal("randomness", &e),
    };
    let (now, policy) = (state.now_ms(), state.policy());
    let result = state
        .db
        .call(move |c| refresh::refresh(c, &hash, next, now, policy))
        .await;
    match result {
        Ok(Ok(refreshed)) => answer_refreshed(state, refreshed, now, span),
        Ok(Err(rejected)) => {
            span.outcome(rejected.reason(), rejected.family());
            answer_rejected(state, &rejected)
        }
        Err(e) => {
            span.outcome("error", None);
            internal("refresh", &e)
        }
    }
}

fn answer_refreshed(
    state: &AppState,
    refreshed: Refreshed,
    now: u64,
    span: &mut RefreshSpan,
) -> Response {
    let (session, cookie) = match refreshed {
        Refreshed::Rotated { session, token } => {
            let max_age = cookies::max_age_secs(session.absolute_expiry_ms, now);
            match cookies::set(&state.config.cookie_name, &token, max_age) {
                Ok(cookie) => (session, Some(cookie)),
                Err(e) => return internal("cookie", &e),
            }
        }
        Refreshed::Grace { session } => (session, None),
    };
    let outcome = if cookie.is_some() { "rotated" } else { "grace" };
    let (access, _) =
        match state
            .tokens
            .issue(&session.username, &session.scope, &session.family, now)
        {
            Ok(issued) => issued,
            Err(e) => {
                span.outcome("error", Some(&session.family));
                return internal("signing", &e);
            }
        };
    span.outcome(outcome, Some(&session.family));
    tracing::info!(family = %session.family, user = %session.username, outcome, "refresh");
    oauth::token_response(&access, state.expires_in(), &session.scope, cookie)
}

/// Records a refused refresh and answers `invalid_grant` (deleting the cookie).
/// Every rejection that names a family left it revoked: its access tokens go too.
pub fn answer_rejected(state: &AppState, rejected: &Rejected) -> Response {
    if let Some(family) = rejected.family() {
        state.note_revoked(family);
    }
    let reason = rejected.reason();
    if let Rejected::Reused { family } = rejected {
        state.stats.reuse_detected();
        tracing::warn!(%family, "refresh token reuse detected: family revoked");
    } else {
        tracing::info!(family = rejected.family(), reason, "refresh refused");
    }
    let description = match rejected {
        Rejected::Unknown => "unknown refresh token",
        Rejected::Revoked { .. } => "session revoked",
        Rejected::Expired { .. } => "session expired",
        Rejected::IdleExpired { .. } => "session expired (idle)",
        Rejected::Reused { .. } => "refresh token reuse detected; session revoked",
        Rejected::UserGone { .. } => "user no longer exists",
    };
    oauth::invalid_grant(description, cookies::clear(&state.config.cookie_name).ok())
}

/// Ends the session: revokes the family of the refresh cookie and the family (`sid`)
/// of a valid bearer token, so every access token of either is refused from now on,
/// and deny-lists the bearer token itself.
async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (now, policy) = (state.now_ms(), state.policy());
    let presented = cookies::read(&headers, &state.config.cookie_name).map(|t| t.hash());
    let bearer_claims = bearer(&headers).and_then(|token| state.tokens.verify(token, now).ok());
    let denied = bearer_claims
        .as_ref()
        .map(|claims| (claims.jti.clone(), claims.exp.saturating_mul(1000)));
    let sid = bearer_claims.map(|claims| claims.sid);
    let result = state
        .db
        .call(move |c| {
            let family = match presented {
                Some(hash) => refresh::revoke_presented(c, &hash, now, "logout", policy)?,
                None => None,
            };
            let sid = match sid {
                Some(sid) if refresh::revoke_family(c, &sid, now, "logout", policy)? => Some(sid),
                _ => None,
            };
            if let Some((jti, exp_ms)) = &denied {
                db::deny_jti(c, jti, *exp_ms)?;
            }
            Ok((family, sid, denied.is_some()))
        })
        .await;
    match result {
        Ok((family, sid, denied)) => {
            for revoked in family.iter().chain(sid.iter()) {
                state.note_revoked(revoked);
            }
            tracing::info!(family, sid, access_token_denied = denied, "logout");
        }
        Err(e) => return internal("logout", &e),
    }
    state.stats.logout();
    let mut response = StatusCode::NO_CONTENT.into_response();
    oauth::no_store(&mut response);
    if let Ok(clear) = cookies::clear(&state.config.cookie_name) {
        response.headers_mut().append(SET_COOKIE, clear);
    }
    response
}

/// The token of an `Authorization: Bearer <token>` header (scheme case-insensitive).
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers
        .get(AUTHORIZATION)
        .and_then(|v: &HeaderValue| v.to_str().ok())?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}
