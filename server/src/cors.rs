//! CORS for an API page on another origin: exact configured origins only, with
//! credentials, never `*`. Preflights are answered here, before the CSRF layer
//! (a preflight carries no custom header).

use std::time::Duration;

use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, DATE, RETRY_AFTER, WWW_AUTHENTICATE};
use axum::http::{HeaderName, HeaderValue, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// The layer: `origins` may read responses and send cookies; a request from any
/// other origin gets no `Access-Control-Allow-Origin`.
pub fn layer(origins: &[HeaderValue], csrf_header: &HeaderName) -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AllowOrigin::list(origins.iter().cloned()))
        .allow_credentials(true)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([AUTHORIZATION, CONTENT_TYPE, csrf_header.clone()])
        .expose_headers([WWW_AUTHENTICATE, DATE, RETRY_AFTER])
        .max_age(Duration::from_secs(600))
}
