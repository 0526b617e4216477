//! Issue 13, items 4 and 6: logout and reuse detection revoke every access token of
//! the refresh family (the `sid` claim), and two concurrent refreshes with the same
//! cookie do not log the user out (the default grace window).

use std::time::Duration;

use axum::body::Body;
use axum::http::StatusCode;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;
use token_warden_server::config::DbPath;

use crate::common::*;

/// The payload of a compact JWT (the tests issued it; no verification here).
fn claims(jwt: &str) -> Value {
    let payload = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

async fn logout(h: &Harness, refresh: Option<&str>, access: Option<&str>) -> Resp {
    let mut request = auth_request("/auth/logout");
    if let Some(refresh) = refresh {
        request = request.header("cookie", format!("{COOKIE}={refresh}"));
    }
    if let Some(access) = access {
        request = request.header("authorization", format!("Bearer {access}"));
    }
    h.send(request.body(Body::empty()).unwrap()).await
}

fn assert_revoked(r: &Resp) {
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());
    assert!(
        r.header("www-authenticate")
            .is_some_and(|v| v.contains(r#"error="invalid_token""#)),
        "{:?}",
        r.headers
    );
}

#[tokio::test]
async fn access_tokens_carry_the_family_as_sid() {
    let h = Harness::new();
    let (refresh, first) = h.login_alice().await;
    let r = h.refresh(&refresh).await;
    let second = r.access_token();
    let sid = claims(&first)["sid"].as_str().map(str::to_owned);
    assert!(
        sid.as_ref().is_some_and(|s| s.len() >= 16),
        "sid: {:?}",
        claims(&first)
    );
    assert_eq!(claims(&second)["sid"].as_str(), sid.as_deref());
    let (_, other) = h.login_alice().await;
    assert_ne!(claims(&other)["sid"].as_str(), sid.as_deref());
}

#[tokio::test]
async fn logout_refuses_every_access_token_of_the_family() {
    let h = Harness::new();
    let (r1, a1) = h.login_alice().await;
    let r = h.refresh(&r1).await;
    let (r2, a2) = (r.refresh_cookie().unwrap(), r.access_token());
    // Another tab's (or a script's) token of the same family, and another session.
    let a3 = h.refresh(&r2).await;
    let (r3, a3) = (a3.refresh_cookie().unwrap(), a3.access_token());
    let bob = h.login("bob", "builder-42").await.access_token();
    for access in [&a1, &a2, &a3, &bob] {
        assert_eq!(h.get_api("/api/me", access).await.status, StatusCode::OK);
    }

    assert_eq!(
        logout(&h, Some(&r3), Some(&a3)).await.status,
        StatusCode::NO_CONTENT
    );
    for access in [&a1, &a2, &a3] {
        assert_revoked(&h.get_api("/api/data", access).await);
    }
    assert_eq!(h.get_api("/api/me", &bob).await.status, StatusCode::OK);
}

#[tokio::test]
async fn logout_with_only_the_cookie_or_only_the_bearer_ends_the_family() {
    let h = Harness::new();
    let (r1, a1) = h.login_alice().await;
    assert_eq!(
        logout(&h, Some(&r1), None).await.status,
        StatusCode::NO_CONTENT
    );
    assert_revoked(&h.get_api("/api/me", &a1).await);

    let (r2, a2) = h.login_alice().await;
    let a3 = h.refresh(&r2).await.access_token();
    assert_eq!(
        logout(&h, None, Some(&a2)).await.status,
        StatusCode::NO_CONTENT
    );
    assert_revoked(&h.get_api("/api/me", &a3).await);
}

#[tokio::test]
async fn reuse_detection_refuses_every_access_token_of_the_family() {
    let h = Harness::new();
    let (r1, a1) = h.login_alice().await;
    let r = h.refresh(&r1).await;
    let (r2, a2) = (r.refresh_cookie().unwrap(), r.access_token());
    let r3 = h.refresh(&r2).await.refresh_cookie().unwrap();
    // r1 is two generations old: reuse whatever the grace window.
    let r = h.refresh(&r1).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(h.state.stats.snapshot().reuse_detections, 1);
    for access in [&a1, &a2] {
        assert_revoked(&h.get_api("/api/me", access).await);
    }
    assert_eq!(h.refresh(&r3).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn revoked_families_stay_refused_after_a_restart() {
    let dir = TempDir::new("sid-restart");
    let file_config = || {
        let mut config = config(&dir.0, &[]);
        config.db = DbPath::File(dir.0.join("data/tw.sqlite3"));
        config
    };
    let first = Harness::from_config(file_config(), TempDir::new("unused"));
    let (r1, a1) = first.login_alice().await;
    let a2 = first.refresh(&r1).await.access_token();
    let bob = first.login("bob", "builder-42").await.access_token();
    assert_eq!(
        logout(&first, None, Some(&a1)).await.status,
        StatusCode::NO_CONTENT
    );
    drop(first);

    let second = Harness::from_config(file_config(), TempDir::new("unused"));
    assert_revoked(&second.get_api("/api/me", &a2).await);
    assert_eq!(second.get_api("/api/me", &bob).await.status, StatusCode::OK);
}

#[tokio::test]
async fn two_concurrent_refreshes_with_one_cookie_keep_the_session() {
    let h = Harness::new();
    let (r1, _) = h.login_alice().await;
    let (x, y) = tokio::join!(h.refresh(&r1), h.refresh(&r1));
    assert_eq!(x.status, StatusCode::OK, "{}", x.text());
    assert_eq!(y.status, StatusCode::OK, "{}", y.text());
    // Exactly one of them rotated; the grace answer sets no cookie.
    let cookies: Vec<String> = [&x, &y].iter().filter_map(|r| r.refresh_cookie()).collect();
    assert_eq!(
        cookies.len(),
        1,
        "{:?} {:?}",
        x.set_cookies(),
        y.set_cookies()
    );
    let grace = if x.refresh_cookie().is_some() { &y } else { &x };
    assert!(grace.set_cookies().is_empty());
    assert!(grace.json().get("refresh_token").is_none());
    // Both access tokens work and belong to the one family.
    let (ax, ay) = (x.access_token(), y.access_token());
    assert_eq!(claims(&ax)["sid"], claims(&ay)["sid"]);
    for access in [&ax, &ay] {
        assert_eq!(h.get_api("/api/me", access).await.status, StatusCode::OK);
    }
    // The browser's jar now holds the rotated token, which goes on working.
    let r = h.refresh(&cookies[0]).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert_eq!(h.state.stats.snapshot().reuse_detections, 0);
    // The grace answer's token dies with the family, like every other.
    let current = r.refresh_cookie().unwrap();
    assert_eq!(
        logout(&h, Some(&current), None).await.status,
        StatusCode::NO_CONTENT
    );
    for access in [&ax, &ay] {
        assert_revoked(&h.get_api("/api/me", access).await);
    }
}

#[tokio::test]
async fn the_default_grace_is_a_few_seconds_and_a_later_replay_still_revokes() {
    let h = Harness::new();
    let grace = h.state.config.reuse_grace_ms;
    assert!(
        (1_000..=10_000).contains(&grace),
        "default grace {grace} ms"
    );
    let (r1, _) = h.login_alice().await;
    let r = h.refresh(&r1).await;
    let (r2, a2) = (r.refresh_cookie().unwrap(), r.access_token());

    h.advance(Duration::from_millis(grace + 1));
    let r = h.refresh(&r1).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.error(), "invalid_grant");
    assert_eq!(h.state.stats.snapshot().reuse_detections, 1);
    assert_eq!(h.refresh(&r2).await.status, StatusCode::UNAUTHORIZED);
    assert_revoked(&h.get_api("/api/me", &a2).await);
}

#[tokio::test]
async fn inside_the_window_only_the_immediate_predecessor_gets_grace() {
    let h = Harness::new();
    let (r1, _) = h.login_alice().await;
    let r2 = h.refresh(&r1).await.refresh_cookie().unwrap();
    let r = h.refresh(&r2).await;
    let (r3, a3) = (r.refresh_cookie().unwrap(), r.access_token());
    // r1 is older than the predecessor: reuse, even inside the window.
    assert_eq!(h.refresh(&r1).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(h.refresh(&r3).await.status, StatusCode::UNAUTHORIZED);
    assert_revoked(&h.get_api("/api/me", &a3).await);

    // The grace answer is one access token, once.
    let (s1, _) = h.login_alice().await;
    let s2 = h.refresh(&s1).await.refresh_cookie().unwrap();
    assert_eq!(h.refresh(&s1).await.status, StatusCode::OK);
    assert_eq!(h.refresh(&s1).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(h.refresh(&s2).await.status, StatusCode::UNAUTHORIZED);
}
