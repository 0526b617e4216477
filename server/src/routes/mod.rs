//! The router: `/auth` (behind the CSRF layer), `/api`, `/test` (fault mode only),
//! `/healthz`, and the static demo for everything else; CORS around all of it.

pub mod api;
pub mod auth;
pub mod test_hooks;

use std::time::{Duration, Instant};

use axum::extract::Request;
use axum::http::header::{
    AUTHORIZATION, CACHE_CONTROL, CONTENT_SECURITY_POLICY, COOKIE, PRAGMA, SET_COOKIE,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Router;
use tower_http::sensitive_headers::{
    SetSensitiveRequestHeadersLayer, SetSensitiveResponseHeadersLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::RequestBodyDeadlineLayer;

use crate::csrf::{self, CsrfPolicy};
use crate::{cors, oauth, static_files, AppState};

/// Builds the whole application for `state`; `extra_origins` are allowed (CORS and
/// CSRF) besides the configured `--cors-origin`s.
pub fn router(state: &AppState, extra_origins: &[HeaderValue]) -> Router {
    let config = &state.config;
    let mut origins = config.cors_origins.clone();
    origins.extend(extra_origins.iter().cloned());
    let csrf_policy = CsrfPolicy::new(config.csrf_header.clone(), &origins);
    let auth = auth::router().layer(middleware::from_fn_with_state(csrf_policy, csrf::enforce));
    let mut dynamic = Router::new()
        .nest("/auth", auth)
        .nest("/api", api::router())
        .route("/healthz", get(healthz));
    dynamic = if config.fault_mode {
        dynamic.nest("/test", test_hooks::router())
    } else {
        dynamic
            .route("/test", any(not_found))
            .route("/test/{*rest}", any(not_found))
    };
    let dynamic = security_headers(dynamic).with_state(state.clone());

    let sensitive: [HeaderName; 3] = [AUTHORIZATION, COOKIE, config.csrf_header.clone()];
    dynamic
        .merge(static_files::router(config))
        .layer(cors::layer(&origins, &config.csrf_header))
        .layer(middleware::from_fn(log_request))
        // A body that trickles is cut off `--read-timeout` after its head.
        .layer(RequestBodyDeadlineLayer::new(Duration::from_secs(
            config.read_timeout_secs.max(1),
        )))
        .layer(SetSensitiveResponseHeadersLayer::new([SET_COOKIE]))
        .layer(SetSensitiveRequestHeadersLayer::new(sensitive))
}

/// No caching, no framing, no sniffing for every dynamic answer.
fn security_headers(router: Router<AppState>) -> Router<AppState> {
    let headers = [
        (CACHE_CONTROL, "no-store"),
        (PRAGMA, "no-cache"),
        (CONTENT_SECURITY_POLICY, "frame-ancestors 'none'"),
        (X_FRAME_OPTIONS, "DENY"),
        (X_CONTENT_TYPE_OPTIONS, "nosniff"),
    ];
    headers.into_iter().fold(router, |router, (name, value)| {
        router.layer(SetResponseHeaderLayer::overriding(
            name,
            HeaderValue::from_static(value),
        ))
    })
}

async fn healthz() -> &'static str {
    "ok"
}

/// 404 `{"error":"not_found"}`.
pub async fn not_found() -> Response {
    oauth::error(StatusCode::NOT_FOUND, "not_found", "no such route")
}

/// One log line per dynamic request: method, path (never the query), status, time.
/// Headers are never logged, and the sensitive-headers layers mark `Authorization`,
/// `Cookie` and `Set-Cookie` so that no `Debug` print shows them either.
async fn log_request(request: Request, next: Next) -> impl IntoResponse {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let status = response.status().as_u16();
    let ms = started.elapsed().as_millis();
    let is_static = !["/auth", "/api", "/test", "/healthz"]
        .iter()
        .any(|p| path.starts_with(p));
    if is_static {
        tracing::debug!(%method, path, status, ms, "request");
    } else {
        tracing::info!(%method, path, status, ms, "request");
    }
    response
}
