//! Login, refresh rotation, reuse detection, grace window, expiry, logout.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use token_warden_server::routes::auth::ROUTES;

use crate::common::*;

const DAY: Duration = Duration::from_secs(24 * 3600);

/// The attributes of a `Set-Cookie` value, lowercased names, after `name=value`.
fn attributes(set_cookie: &str) -> Vec<String> {
    set_cookie
        .split(';')
        .skip(1)
        .map(|a| a.trim().to_string())
        .collect()
}

#[tokio::test]
async fn login_answers_a_token_response_and_the_refresh_cookie() {
    let h = Harness::new();
    let r = h.login("alice", "wonderland-42").await;
    assert_eq!(r.status, StatusCode::OK);
    let body = r.json();
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 300);
    assert_eq!(body["scope"], "read");
    assert!(body["access_token"].as_str().unwrap().split('.').count() == 3);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.header("pragma"), Some("no-cache"));
    assert_eq!(
        r.header("content-security-policy"),
        Some("frame-ancestors 'none'")
    );
    assert_eq!(r.header("x-frame-options"), Some("DENY"));

    let cookies = r.set_cookies();
    assert_eq!(cookies.len(), 1);
    let cookie = &cookies[0];
    let (name, value) = cookie.split(';').next().unwrap().split_once('=').unwrap();
    assert_eq!(name, "__Host-Http-refresh");
    assert_eq!(value.len(), 43, "256 bits as unpadded base64url");
    let mut attrs = attributes(cookie);
    attrs.sort();
    assert_eq!(
        attrs,
        [
            "HttpOnly",
            "Max-Age=1209600",
            "Path=/",
            "SameSite=Strict",
            "Secure"
        ]
    );
    assert!(!cookie.to_ascii_lowercase().contains("domain"));

    let claims = h
        .state
        .tokens
        .verify(&r.access_token(), h.state.now_ms())
        .unwrap();
    assert_eq!(claims.sub, "alice");
    assert_eq!(claims.aud, "token-warden");
    assert_eq!(claims.exp - claims.iat, 300);
    assert!(!claims.jti.is_empty());
}

#[tokio::test]
async fn bad_credentials_are_invalid_grant_without_a_cookie() {
    let h = Harness::new();
    for (user, password) in [
        ("alice", "wrong"),
        ("nobody", "wonderland-42"),
        ("alice", ""),
    ] {
        let r = h.login(user, password).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{user}");
        assert_eq!(r.error(), "invalid_grant");
        assert!(r.set_cookies().is_empty());
        assert_eq!(r.header("cache-control"), Some("no-store"));
    }
    assert_eq!(h.state.stats.snapshot().login_failures, 3);
    assert_eq!(h.state.stats.snapshot().logins, 0);

    let xml = h
        .send(
            auth_request("/auth/login")
                .header("content-type", "application/xml")
                .body(Body::from("<x/>"))
                .unwrap(),
        )
        .await;
    assert_eq!(xml.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let broken = h
        .send(
            auth_request("/auth/login")
                .header("content-type", "application/json")
                .body(Body::from("{\"username\":"))
                .unwrap(),
        )
        .await;
    assert_eq!(broken.status, StatusCode::BAD_REQUEST);
    assert_eq!(broken.error(), "invalid_request");
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_whole_family() {
    let h = Harness::new();
    let (first, _) = h.login_alice().await;

    let r = h.refresh(&first).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("cache-control"), Some("no-store"));
    assert_eq!(r.header("pragma"), Some("no-cache"));
    let second = r.refresh_cookie().unwrap();
    assert_ne!(second, first);
    let access = r.access_token();
    assert_eq!(h.get_api("/api/me", &access).await.status, StatusCode::OK);

    // The new token is accepted...
    let r = h.refresh(&second).await;
    assert_eq!(r.status, StatusCode::OK);
    let third = r.refresh_cookie().unwrap();

    // ...an old one is refused, and that is reuse: the family dies...
    let r = h.refresh(&first).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.error(), "invalid_grant");
    assert_eq!(h.state.stats.snapshot().reuse_detections, 1);
    // ...the cookie is deleted...
    assert!(r.set_cookies()[0].contains("Max-Age=0"));
    // ...and the newest token stops working too.
    let r = h.refresh(&third).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.error(), "invalid_grant");
}

#[tokio::test]
async fn the_predecessor_is_reuse_when_grace_is_off() {
    let h = Harness::with_args(&["--reuse-grace-ms", "0"]);
    let (first, _) = h.login_alice().await;
    let second = h.refresh(&first).await.refresh_cookie().unwrap();
    assert_eq!(h.refresh(&first).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(h.refresh(&second).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn grace_window_honours_the_predecessor_once_without_rotating() {
    let h = Harness::with_args(&["--reuse-grace-ms", "1000"]);
    let (first, _) = h.login_alice().await;
    let second = h.refresh(&first).await.refresh_cookie().unwrap();

    h.advance(Duration::from_millis(400));
    let r = h.refresh(&first).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.set_cookies().is_empty(), "grace answers do not rotate");
    let access = r.access_token();
    assert_eq!(h.get_api("/api/me", &access).await.status, StatusCode::OK);

    // The current token still works.
    let third = h.refresh(&second).await.refresh_cookie().unwrap();

    // Outside the window the predecessor is reuse.
    h.advance(Duration::from_millis(1001));
    assert_eq!(h.refresh(&second).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(h.refresh(&third).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(h.state.stats.snapshot().reuse_detections, 1);
}

#[tokio::test]
async fn idle_expiry_counts_from_the_last_use() {
    let h = Harness::new();
    let (mut token, _) = h.login_alice().await;
    for _ in 0..3 {
        h.advance(DAY - Duration::from_secs(60));
        let r = h.refresh(&token).await;
        assert_eq!(r.status, StatusCode::OK);
        token = r.refresh_cookie().unwrap();
    }
    h.advance(DAY);
    let r = h.refresh(&token).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json()["error_description"], "session expired (idle)");
}

#[tokio::test]
async fn absolute_expiry_holds_however_often_the_token_is_used() {
    let h = Harness::with_args(&["--refresh-ttl", "100", "--refresh-idle-ttl", "60"]);
    let (mut token, _) = h.login_alice().await;
    for (step, max_age) in [(50, 50), (49, 1)] {
        h.advance(Duration::from_secs(step));
        let r = h.refresh(&token).await;
        assert_eq!(r.status, StatusCode::OK);
        assert!(
            r.set_cookies()[0].contains(&format!("Max-Age={max_age};")),
            "Max-Age is the family's remaining lifetime: {:?}",
            r.set_cookies()
        );
        token = r.refresh_cookie().unwrap();
    }
    h.advance(Duration::from_secs(1));
    let r = h.refresh(&token).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json()["error_description"], "session expired");
}

#[tokio::test]
async fn logout_revokes_the_family_denies_the_access_token_and_clears_the_cookie() {
    let h = Harness::new();
    let (refresh, access) = h.login_alice().await;
    assert_eq!(h.get_api("/api/me", &access).await.status, StatusCode::OK);

    let r = h
        .send(
            auth_request("/auth/logout")
                .header("cookie", format!("{COOKIE}={refresh}"))
                .header("authorization", format!("Bearer {access}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(
        r.set_cookies(),
        ["__Host-Http-refresh=; Max-Age=0; Path=/; Secure; HttpOnly; SameSite=Strict"]
    );

    let api = h.get_api("/api/me", &access).await;
    assert_eq!(api.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        api.header("www-authenticate"),
        Some(r#"Bearer error="invalid_token", error_description="token revoked""#)
    );
    assert_eq!(h.refresh(&refresh).await.status, StatusCode::UNAUTHORIZED);

    // Without any session: still 204, still clears.
    let r = h
        .send(auth_request("/auth/logout").body(Body::empty()).unwrap())
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(r.set_cookies().len(), 1);
    assert_eq!(h.state.stats.snapshot().logouts, 2);
}

#[tokio::test]
async fn a_new_login_ends_the_session_the_browser_still_held() {
    let h = Harness::new();
    let (old, _) = h.login_alice().await;
    let body = r#"{"username":"bob","password":"builder-42"}"#;
    let r = h
        .send(
            auth_request("/auth/login")
                .header("content-type", "application/json")
                .header("cookie", format!("{COOKIE}={old}"))
                .body(Body::from(body))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["scope"], "read admin");
    assert_eq!(h.refresh(&old).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        h.refresh(&r.refresh_cookie().unwrap()).await.status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn missing_or_unknown_cookie_is_invalid_grant() {
    let h = Harness::new();
    let r = h
        .send(auth_request("/auth/refresh").body(Body::empty()).unwrap())
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.error(), "invalid_grant");
    let r = h.refresh("bm90LWEtdG9rZW4").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.error(), "invalid_grant");
}

#[tokio::test]
async fn short_access_tokens_and_a_lying_expires_in() {
    let h = Harness::with_args(&["--access-ttl", "1", "--issue-expires-in", "0"]);
    let r = h.login("alice", "wonderland-42").await;
    assert_eq!(r.json()["expires_in"], 0);
    let access = r.access_token();
    let claims = h.state.tokens.verify(&access, h.state.now_ms()).unwrap();
    assert_eq!(
        claims.exp - claims.iat,
        1,
        "the token itself keeps the real lifetime"
    );
    h.advance(Duration::from_secs(1));
    let api = h.get_api("/api/me", &access).await;
    assert_eq!(api.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        api.header("www-authenticate"),
        Some(r#"Bearer error="invalid_token", error_description="token expired""#)
    );
}

#[tokio::test]
async fn api_routes_answer_for_a_valid_token() {
    let h = Harness::new();
    let (_, access) = h.login_alice().await;
    let me = h.get_api("/api/me", &access).await.json();
    assert_eq!(me["sub"], "alice");
    assert_eq!(me["name"], "Alice");
    assert_eq!(me["scope"], "read");
    assert!(me["exp"].as_u64().unwrap() > 0);
    let data = h.get_api("/api/data", &access).await;
    assert_eq!(data.status, StatusCode::OK);
    assert!(data.json()["items"].as_array().unwrap().len() >= 2);
    assert!(data.json()["server_time_ms"].as_u64().is_some());
    assert_eq!(data.header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn auth_routes_never_redirect() {
    let h = Harness::new();
    for route in ROUTES {
        for path in [
            route.to_string(),
            format!("{route}/"),
            format!("{route}?next=https://evil.test"),
        ] {
            for method in [Method::GET, Method::POST] {
                let r = h
                    .send(
                        Request::builder()
                            .method(method.clone())
                            .uri(&path)
                            .header("host", HOST)
                            .header(CSRF.0, CSRF.1)
                            .body(Body::empty())
                            .unwrap(),
                    )
                    .await;
                assert!(!r.status.is_redirection(), "{method} {path}: {}", r.status);
                assert!(r.header("location").is_none());
                assert_eq!(r.header("x-frame-options"), Some("DENY"), "{method} {path}");
            }
        }
    }
}

#[tokio::test]
async fn healthz_is_ok() {
    let h = Harness::new();
    let r = h
        .send(Request::get("/healthz").body(Body::empty()).unwrap())
        .await;
    assert_eq!(r.status, StatusCode::OK);
}
