//! The CSRF layer covers every /auth route, and a refused request changes nothing.

use axum::body::Body;
use axum::http::StatusCode;
use token_warden_server::routes::auth::ROUTES;

use crate::common::*;

/// A request to `route` that would succeed, with `tweak` applied on top.
fn request(
    route: &str,
    refresh: &str,
    tweak: &dyn Fn(axum::http::request::Builder) -> axum::http::request::Builder,
    drop_csrf_header: bool,
) -> axum::http::Request<Body> {
    let mut builder = axum::http::Request::post(route)
        .header("host", HOST)
        .header("cookie", format!("{COOKIE}={refresh}"));
    if !drop_csrf_header {
        builder = builder.header(CSRF.0, CSRF.1);
    }
    let builder = tweak(builder);
    let body = if route.ends_with("/login") {
        Body::from(r#"{"username":"alice","password":"wonderland-42"}"#)
    } else {
        Body::empty()
    };
    builder.body(body).unwrap()
}

fn json(b: axum::http::request::Builder) -> axum::http::request::Builder {
    b.header("content-type", "application/json")
}

#[tokio::test]
async fn every_auth_route_refuses_cross_site_requests_and_touches_nothing() {
    let h = Harness::new();
    let (refresh, _) = h.login_alice().await;
    h.state.stats.reset();

    type Tweak = Box<dyn Fn(axum::http::request::Builder) -> axum::http::request::Builder>;
    let cases: Vec<(&str, Tweak, bool)> = vec![
        ("missing header", Box::new(json), true),
        (
            "empty header",
            Box::new(|b| json(b).header(CSRF.0, "")),
            true,
        ),
        (
            "cross-site fetch",
            Box::new(|b| json(b).header("sec-fetch-site", "cross-site")),
            false,
        ),
        (
            "foreign origin",
            Box::new(|b| json(b).header("origin", "http://evil.test")),
            false,
        ),
        (
            "opaque origin",
            Box::new(|b| json(b).header("origin", "null")),
            false,
        ),
        (
            "same host, other port",
            Box::new(|b| json(b).header("origin", "http://app.test:8443")),
            false,
        ),
        (
            "urlencoded form",
            Box::new(|b| b.header("content-type", "application/x-www-form-urlencoded")),
            false,
        ),
        (
            "multipart form",
            Box::new(|b| b.header("content-type", "multipart/form-data; boundary=x")),
            false,
        ),
        (
            "text/plain",
            Box::new(|b| b.header("content-type", "text/plain;charset=UTF-8")),
            false,
        ),
    ];
    for route in ROUTES {
        for (name, tweak, drop_header) in &cases {
            let r = h
                .send(request(route, &refresh, tweak.as_ref(), *drop_header))
                .await;
            assert_eq!(r.status, StatusCode::FORBIDDEN, "{route}: {name}");
            assert_eq!(r.error(), "csrf", "{route}: {name}");
            assert!(r.set_cookies().is_empty(), "{route}: {name}");
        }
    }
    // No handler ran: no login, no refresh, no logout...
    let stats = h.state.stats.snapshot();
    assert_eq!((stats.logins, stats.logouts), (0, 0));
    assert!(stats.refresh_log.is_empty());
    // ...and the session is intact: the same token still rotates.
    assert_eq!(h.refresh(&refresh).await.status, StatusCode::OK);
}

#[tokio::test]
async fn own_origin_and_same_origin_fetches_pass() {
    let h = Harness::new();
    for route in ROUTES {
        let (refresh, _) = h.login_alice().await;
        let r = h
            .send(request(
                route,
                &refresh,
                &|b| {
                    json(b)
                        .header("origin", "http://app.test")
                        .header("sec-fetch-site", "same-origin")
                },
                false,
            ))
            .await;
        assert!(r.status.is_success(), "{route}: {} {}", r.status, r.text());
    }
}

#[tokio::test]
async fn the_layer_also_covers_routes_it_does_not_know() {
    let h = Harness::new();
    let r = h
        .send(
            axum::http::Request::post("/auth/added-later")
                .header("host", HOST)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.error(), "csrf");
    let r = h
        .send(
            auth_request("/auth/added-later")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn the_header_name_is_configurable() {
    let h = Harness::with_args(&["--csrf-header", "X-Token-Warden"]);
    let r = h.login("alice", "wonderland-42").await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "the default header no longer counts"
    );
    let r = h
        .send(
            axum::http::Request::post("/auth/login")
                .header("host", HOST)
                .header("x-token-warden", "1")
                .header("content-type", "application/json")
                .body(Body::from(
                    r#"{"username":"alice","password":"wonderland-42"}"#,
                ))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
}
