//! The CSRF layer: one middleware wrapping the whole `/auth` router, so a route added
//! there later cannot forget it. A request is refused with 403 `{"error":"csrf"}`,
//! before any handler runs (so nothing rotates or is revoked), when:
//!
//! * the custom header (`X-Requested-With` by default, any non-empty value) is
//!   missing: a cross-origin page can only add it after a CORS preflight, which only
//!   the configured origins pass;
//! * `Sec-Fetch-Site: cross-site`;
//! * `Origin` is present and is neither this server's own origin (from `Host`) nor a
//!   configured CORS origin (`Origin: null` included);
//! * the body is a form type (`application/x-www-form-urlencoded`,
//!   `multipart/form-data`, `text/plain`): the "simple" types an HTML form or a
//!   no-preflight `fetch` can send.
//!
//! The refresh cookie is also `SameSite=Strict`; this layer is the second fence.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::header::{CONTENT_TYPE, HOST, ORIGIN};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;

const FORM_TYPES: [&str; 3] = [
    "application/x-www-form-urlencoded",
    "multipart/form-data",
    "text/plain",
];

/// What the layer checks.
#[derive(Debug, Clone)]
pub struct CsrfPolicy {
    header: HeaderName,
    allowed_origins: Arc<[HeaderValue]>,
}

impl CsrfPolicy {
    /// Requires `header`; accepts `Origin`s in `allowed_origins` besides our own.
    pub fn new(header: HeaderName, allowed_origins: &[HeaderValue]) -> Self {
        Self {
            header,
            allowed_origins: allowed_origins.into(),
        }
    }

    /// `Ok` if the request may proceed, else why not (for the log).
    pub fn check(&self, headers: &HeaderMap) -> Result<(), &'static str> {
        let custom = headers
            .get(&self.header)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| !v.trim().is_empty());
        if !custom {
            return Err("missing custom header");
        }
        if headers
            .get("sec-fetch-site")
            .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"cross-site"))
        {
            return Err("cross-site request");
        }
        if let Some(content_type) = headers.get(CONTENT_TYPE) {
            let essence = content_type
                .to_str()
                .unwrap_or("")
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase();
            if FORM_TYPES.contains(&essence.as_str()) {
                return Err("form content type");
            }
        }
        if let Some(origin) = headers.get(ORIGIN) {
            if !self.origin_allowed(origin, headers.get(HOST)) {
                return Err("foreign origin");
            }
        }
        Ok(())
    }

    fn origin_allowed(&self, origin: &HeaderValue, host: Option<&HeaderValue>) -> bool {
        if self.allowed_origins.iter().any(|o| o == origin) {
            return true;
        }
        let (Ok(origin), Some(Ok(host))) = (origin.to_str(), host.map(|h| h.to_str())) else {
            return false;
        };
        let own = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"));
        own.is_some_and(|authority| authority.eq_ignore_ascii_case(host))
    }
}

/// The middleware (`axum::middleware::from_fn_with_state`).
pub async fn enforce(State(policy): State<CsrfPolicy>, request: Request, next: Next) -> Response {
    match policy.check(request.headers()) {
        Ok(()) => next.run(request).await,
        Err(reason) => {
            tracing::warn!(reason, path = request.uri().path(), "csrf: request refused");
            rejection()
        }
    }
}

/// 403 `{"error":"csrf"}`.
pub fn rejection() -> Response {
    (
        StatusCode::FORBIDDEN,
        Json(serde_json::json!({
            "error": "csrf",
            "error_description": "cross-site request refused",
        })),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> CsrfPolicy {
        CsrfPolicy::new(
            HeaderName::from_static("x-requested-with"),
            &[HeaderValue::from_static("http://api.test:9000")],
        )
    }

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-requested-with", HeaderValue::from_static("token-warden"));
        h.insert(HOST, HeaderValue::from_static("app.test:8080"));
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn accepts_own_and_configured_origins() {
        let p = policy();
        assert!(p.check(&headers(&[])).is_ok());
        assert!(p
            .check(&headers(&[("origin", "http://app.test:8080")]))
            .is_ok());
        assert!(p
            .check(&headers(&[("origin", "http://api.test:9000")]))
            .is_ok());
        assert!(p
            .check(&headers(&[("sec-fetch-site", "same-origin")]))
            .is_ok());
        assert!(p
            .check(&headers(&[("content-type", "application/json")]))
            .is_ok());
    }

    #[test]
    fn refuses_the_rest() {
        let p = policy();
        let mut missing = headers(&[]);
        missing.remove("x-requested-with");
        assert!(p.check(&missing).is_err());
        assert!(p.check(&headers(&[("x-requested-with", " ")])).is_err());
        assert!(p
            .check(&headers(&[("sec-fetch-site", "cross-site")]))
            .is_err());
        assert!(p
            .check(&headers(&[("origin", "http://evil.test")]))
            .is_err());
        assert!(p.check(&headers(&[("origin", "null")])).is_err());
        assert!(p
            .check(&headers(&[("origin", "http://app.test:8081")]))
            .is_err());
        for ct in [
            "text/plain;charset=UTF-8",
            "multipart/form-data; boundary=x",
            "Application/X-WWW-Form-Urlencoded",
        ] {
            assert!(p.check(&headers(&[("content-type", ct)])).is_err(), "{ct}");
        }
    }
}
