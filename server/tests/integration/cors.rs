//! CORS: exact configured origins with credentials, nobody else, never `*`.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};

use crate::common::*;

const API_ORIGIN: &str = "http://api.test:9000";

fn harness() -> Harness {
    Harness::with_args(&[
        "--cors-origin",
        API_ORIGIN,
        "--cors-origin",
        "http://other.test",
    ])
}

#[tokio::test]
async fn allowed_origin_is_echoed_with_credentials() {
    let h = harness();
    let (_, access) = h.login_alice().await;
    let r = h
        .send(
            Request::get("/api/me")
                .header("origin", API_ORIGIN)
                .header("authorization", format!("Bearer {access}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("access-control-allow-origin"), Some(API_ORIGIN));
    assert_eq!(r.header("access-control-allow-credentials"), Some("true"));
    let exposed = r
        .header("access-control-expose-headers")
        .unwrap()
        .to_ascii_lowercase();
    for name in ["www-authenticate", "date", "retry-after"] {
        assert!(exposed.contains(name), "{exposed}");
    }
    assert!(r
        .header("vary")
        .unwrap()
        .to_ascii_lowercase()
        .contains("origin"));
}

#[tokio::test]
async fn other_origins_get_no_allow_origin_and_nobody_gets_a_star() {
    let h = harness();
    for origin in [
        "http://evil.test",
        "http://api.test:9001",
        "null",
        "http://api.test:9000.evil.test",
    ] {
        for path in ["/api/me", "/healthz", "/auth/refresh"] {
            let r = h
                .send(
                    Request::builder()
                        .method(Method::GET)
                        .uri(path)
                        .header("origin", origin)
                        .body(Body::empty())
                        .unwrap(),
                )
                .await;
            assert_eq!(
                r.header("access-control-allow-origin"),
                None,
                "{origin} {path}"
            );
        }
    }
    let plain = Harness::new();
    let r = plain
        .send(
            Request::get("/api/me")
                .header("origin", API_ORIGIN)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn preflight_allows_the_csrf_header_for_allowed_origins_only() {
    let h = harness();
    let preflight = |origin: &'static str| {
        Request::builder()
            .method(Method::OPTIONS)
            .uri("/auth/refresh")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header(
                "access-control-request-headers",
                "x-requested-with, content-type",
            )
            .body(Body::empty())
            .unwrap()
    };
    let r = h.send(preflight(API_ORIGIN)).await;
    assert!(r.status.is_success(), "{}", r.status);
    assert_eq!(r.header("access-control-allow-origin"), Some(API_ORIGIN));
    assert_eq!(r.header("access-control-allow-credentials"), Some("true"));
    let allowed = r
        .header("access-control-allow-headers")
        .unwrap()
        .to_ascii_lowercase();
    for name in ["authorization", "content-type", "x-requested-with"] {
        assert!(allowed.contains(name), "{allowed}");
    }
    assert!(r
        .header("access-control-allow-methods")
        .unwrap()
        .contains("POST"));

    let r = h.send(preflight("http://evil.test")).await;
    assert_eq!(r.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn an_allowed_origin_may_refresh_with_the_cookie() {
    let h = harness();
    let (refresh, _) = h.login_alice().await;
    let r = h
        .send(
            auth_request("/auth/refresh")
                .header("origin", API_ORIGIN)
                .header("sec-fetch-site", "same-site")
                .header("cookie", format!("{COOKIE}={refresh}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(r.header("access-control-allow-origin"), Some(API_ORIGIN));
}
