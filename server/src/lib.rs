//! The reference backend of token-warden: a *token-mediating backend* (IETF draft
//! "OAuth 2.0 for Browser-Based Applications"). The browser keeps a short-lived
//! access token in memory; the session lives here, behind an `HttpOnly` refresh
//! cookie that rotates on every use.
//!
//! Routes: `POST /auth/login|refresh|logout` (CSRF layer, refresh cookie),
//! `GET /api/me|data|admin` (bearer JWT), `/healthz`, `/test/*` with
//! `--fault-mode`, and the demo (`www/`) and package (`pkg/`) as static files.
//! State (users, refresh families as hashes, deny-list, revoked sessions) is in
//! SQLite. Logins are throttled ([`throttle`]); connections that trickle or idle
//! are closed ([`serve`]).

#![deny(missing_docs)]

pub mod clock;
pub mod config;
pub mod cookies;
pub mod cors;
pub mod csrf;
pub mod db;
pub mod faults;
pub mod oauth;
pub mod random;
pub mod refresh;
pub mod revoked;
pub mod routes;
pub mod serve;
pub mod state;
pub mod static_files;
pub mod stats;
pub mod throttle;
pub mod tokens;
pub mod users;

use std::net::SocketAddr;

use axum::http::HeaderValue;
use axum::Router;
pub use clock::{Clock, ManualClock, SystemClock};
pub use config::Config;
pub use state::{AppState, StartError};

/// Builds the whole application router for `state`.
pub fn app(state: &AppState) -> Router {
    routes::router(state, &[])
}

/// The router for a server bound to `addrs`: with `--cors-allow-listeners`, every
/// listener's own origin is an allowed CORS origin too.
pub fn app_for_listeners(state: &AppState, addrs: &[SocketAddr]) -> Router {
    if !state.config.cors_allow_listeners {
        return app(state);
    }
    let mut origins = Vec::new();
    for addr in addrs {
        origins.push(format!("http://{addr}"));
        if addr.ip().is_loopback() {
            origins.push(format!("http://localhost:{}", addr.port()));
        }
    }
    let origins: Vec<HeaderValue> = origins
        .into_iter()
        .filter_map(|o| HeaderValue::try_from(o).ok())
        .collect();
    routes::router(state, &origins)
}
