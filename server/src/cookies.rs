//! The refresh cookie: `__Host-Http-refresh=<token>; Max-Age=N; Path=/; Secure; HttpOnly; SameSite=Strict`.
//!
//! Why `__Host-Http-` and `Path=/` rather than a plain name with `Path=/auth`:
//!
//! * The `__Host-` prefix makes the browser refuse the cookie unless it is `Secure`,
//!   has `Path=/` and has **no** `Domain`. So it is host-only: a sibling subdomain
//!   cannot set or overwrite it (no cookie tossing / session fixation from
//!   `evil.example.com`), and a plain-http page cannot plant it.
//! * The `__Http-` part (`__Host-Http-`) additionally requires `HttpOnly` and makes
//!   the browser refuse the cookie when a script tries to set it through
//!   `document.cookie`, so even an XSS cannot plant a cookie of that name.
//! * `Path=/auth` would look tighter, but the path is not a security boundary
//!   (RFC 6265 §8.5): any page of the origin can `fetch('/auth/refresh')` and the
//!   browser attaches the cookie, and a same-origin script can frame a page under
//!   `/auth` and act from there. It would protect nothing and cost the `__Host-`
//!   guarantees above, because `__Host-` requires `Path=/`. (Sending the cookie
//!   to `/api` too is harmless: the API ignores it and only reads the bearer token.)
//!
//! Chromium treats `http://localhost` and `http://127.0.0.1` as secure contexts and
//! keeps `Secure` cookies there, so the demo needs no TLS. `SameSite=Strict` keeps
//! the cookie off every cross-site request; the CSRF layer does the rest.

use axum::http::header::{InvalidHeaderValue, COOKIE};
use axum::http::{HeaderMap, HeaderValue};

use crate::refresh::RefreshToken;

const ATTRIBUTES: &str = "Path=/; Secure; HttpOnly; SameSite=Strict";

/// `Set-Cookie` value carrying `token` for `max_age_secs` seconds (at least 1).
pub fn set(
    name: &str,
    token: &RefreshToken,
    max_age_secs: u64,
) -> Result<HeaderValue, InvalidHeaderValue> {
    HeaderValue::try_from(format!(
        "{name}={}; Max-Age={}; {ATTRIBUTES}",
        token.expose(),
        max_age_secs.max(1)
    ))
}

/// `Set-Cookie` value that deletes the cookie (same attributes, `Max-Age=0`).
pub fn clear(name: &str) -> Result<HeaderValue, InvalidHeaderValue> {
    HeaderValue::try_from(format!("{name}=; Max-Age=0; {ATTRIBUTES}"))
}

/// Seconds from `now_ms` until `expiry_ms`, rounded up.
pub fn max_age_secs(expiry_ms: u64, now_ms: u64) -> u64 {
    expiry_ms.saturating_sub(now_ms).div_ceil(1000)
}

/// The first non-empty cookie called `name` in the request's `Cookie` headers.
pub fn read(headers: &HeaderMap, name: &str) -> Option<RefreshToken> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, v)| *n == name && !v.is_empty())
        .map(|(_, v)| RefreshToken::presented(v.trim_matches('"')))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_exact() {
        let token = RefreshToken::presented("abc");
        let v = set("__Host-Http-refresh", &token, 42).unwrap();
        assert_eq!(
            v,
            "__Host-Http-refresh=abc; Max-Age=42; Path=/; Secure; HttpOnly; SameSite=Strict"
        );
        assert_eq!(
            clear("__Host-Http-refresh").unwrap(),
            "__Host-Http-refresh=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=Strict"
        );
        assert_eq!(max_age_secs(10_001, 0), 11);
        assert_eq!(max_age_secs(0, 5), 0);
    }

    #[test]
    fn reads_the_named_cookie_among_others() {
        let mut headers = HeaderMap::new();
        headers.append(
            COOKIE,
            HeaderValue::from_static("a=1; __Host-Http-refresh=; b=2"),
        );
        headers.append(
            COOKIE,
            HeaderValue::from_static("__Host-Http-refresh=tok; c=3"),
        );
        assert_eq!(
            read(&headers, "__Host-Http-refresh").unwrap().expose(),
            "tok"
        );
        assert!(read(&headers, "missing").is_none());
    }
}
