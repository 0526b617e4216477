//! Fault mode: `/test/*` exists only with `--fault-mode`; scripted answers come in order.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use serde_json::json;

use crate::common::*;

fn test_request(method: Method, path: &str, body: serde_json::Value) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

async fn push(h: &Harness, faults: serde_json::Value) -> Resp {
    h.send(test_request(Method::POST, "/test/faults", faults))
        .await
}

async fn replay(h: &Harness, refresh: &str) -> Resp {
    h.send(
        Request::post("/test/replay")
            .header("cookie", format!("{COOKIE}={refresh}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await
}

#[tokio::test]
async fn without_fault_mode_the_test_routes_do_not_exist() {
    let h = Harness::new();
    for (method, path) in [
        (Method::POST, "/test/faults"),
        (Method::GET, "/test/stats"),
        (Method::POST, "/test/reset-stats"),
        (Method::POST, "/test/replay"),
        (Method::GET, "/test"),
    ] {
        let r = h
            .send(test_request(method.clone(), path, json!({"kind": "drop"})))
            .await;
        assert_eq!(r.status, StatusCode::NOT_FOUND, "{method} {path}");
    }
    // And a refresh is a refresh.
    let (refresh, _) = h.login_alice().await;
    assert_eq!(h.refresh(&refresh).await.status, StatusCode::OK);
}

#[tokio::test]
async fn scripted_faults_answer_in_order_and_do_not_rotate() {
    let h = Harness::with_args(&["--fault-mode"]);
    let (refresh, _) = h.login_alice().await;
    let r = push(
        &h,
        json!([
            {"kind": "status", "status": 503, "retry_after": 1, "count": 2},
            {"kind": "malformed"},
            {"kind": "status", "status": 400, "error": "invalid_request"},
            {"kind": "delay", "ms": 5},
        ]),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["pending"].as_array().unwrap().len(), 4);

    for _ in 0..2 {
        let r = h.refresh(&refresh).await;
        assert_eq!(r.status, StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.header("retry-after"), Some("1"));
        assert_eq!(r.error(), "temporarily_unavailable");
    }
    let r = h.refresh(&refresh).await;
    assert_eq!(r.status, StatusCode::OK);
    assert!(serde_json::from_slice::<serde_json::Value>(&r.body).is_err());
    assert!(r.set_cookies().is_empty());
    let r = h.refresh(&refresh).await;
    assert_eq!(
        (r.status, r.error()),
        (StatusCode::BAD_REQUEST, "invalid_request".into())
    );
    // The delay fault ends in a real refresh; the same token was still current.
    let r = h.refresh(&refresh).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    let next = r.refresh_cookie().unwrap();
    // Queue empty: back to normal.
    assert_eq!(h.refresh(&next).await.status, StatusCode::OK);

    let stats = h
        .send(Request::get("/test/stats").body(Body::empty()).unwrap())
        .await
        .json();
    let outcomes: Vec<&str> = stats["refresh_log"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        [
            "fault_status",
            "fault_status",
            "fault_malformed",
            "fault_status",
            "rotated",
            "rotated"
        ]
    );
    assert_eq!(stats["refreshes_ok"], 2);
    assert_eq!(stats["refreshes_failed"], 4);
    assert_eq!(stats["logins"], 1);
    assert_eq!(stats["max_concurrent_refreshes"], 1);
    for entry in stats["refresh_log"].as_array().unwrap() {
        assert!(entry["end_ms"].as_u64() >= entry["start_ms"].as_u64());
    }
    assert!(stats["refresh_log"][5]["family"].is_string());

    let r = h
        .send(
            Request::post("/test/reset-stats")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    let stats = h
        .send(Request::get("/test/stats").body(Body::empty()).unwrap())
        .await
        .json();
    assert_eq!(stats["refresh_log"].as_array().unwrap().len(), 0);
    assert_eq!(stats["logins"], 0);
}

#[tokio::test]
async fn unlimited_faults_stay_until_cleared_and_bad_faults_are_refused() {
    let h = Harness::with_args(&["--fault-mode"]);
    let (refresh, _) = h.login_alice().await;
    push(&h, json!({"kind": "status", "status": 502, "count": null})).await;
    for _ in 0..3 {
        assert_eq!(h.refresh(&refresh).await.status, StatusCode::BAD_GATEWAY);
    }
    let r = h
        .send(Request::delete("/test/faults").body(Body::empty()).unwrap())
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(h.refresh(&refresh).await.status, StatusCode::OK);

    for bad in [
        json!({"kind": "status"}),
        json!({"kind": "explode"}),
        json!({"kind": "delay"}),
        json!({"kind": "hang", "count": 0}),
        json!({"kind": "hang", "oops": true}),
    ] {
        assert_eq!(
            push(&h, bad.clone()).await.status,
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
}

#[tokio::test]
async fn a_fault_after_rotation_loses_the_new_token_like_a_lost_response() {
    let h = Harness::with_args(&["--fault-mode"]);
    let (refresh, _) = h.login_alice().await;
    push(
        &h,
        json!({"kind": "status", "status": 504, "after_rotate": true}),
    )
    .await;
    let r = h.refresh(&refresh).await;
    assert_eq!(r.status, StatusCode::GATEWAY_TIMEOUT);
    assert!(r.set_cookies().is_empty());
    // The client still holds the old token, which is now the predecessor. Inside
    // the grace window it gets an access token (and still no new cookie)...
    let r = h.refresh(&refresh).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
    assert!(r.set_cookies().is_empty());
    // ...and after the window its next refresh is reuse.
    h.advance(Duration::from_millis(h.state.config.reuse_grace_ms + 1));
    let r = h.refresh(&refresh).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(h.state.stats.snapshot().reuse_detections, 1);
}

#[tokio::test]
async fn replay_of_the_previous_token_revokes_the_family() {
    let h = Harness::with_args(&["--fault-mode", "--reuse-grace-ms", "0"]);
    let (first, _) = h.login_alice().await;
    let r = replay(&h, &first).await;
    assert_eq!(r.status, StatusCode::CONFLICT);
    assert_eq!(r.json()["outcome"], "no_previous_token");

    let second = h.refresh(&first).await.refresh_cookie().unwrap();
    let r = replay(&h, &second).await;
    assert_eq!(r.status, StatusCode::OK);
    let body = r.json();
    assert_eq!(body["outcome"], "reuse_detected");
    assert_eq!(body["family_revoked"], true);
    assert!(body["family"].is_string());
    assert_eq!(h.refresh(&second).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(h.state.stats.snapshot().reuse_detections, 1);

    let r = h
        .send(Request::post("/test/replay").body(Body::empty()).unwrap())
        .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.json()["outcome"], "no_session");
}

#[tokio::test]
async fn replay_inside_the_grace_window_is_reported_as_grace() {
    let h = Harness::with_args(&["--fault-mode", "--reuse-grace-ms", "5000"]);
    let (first, _) = h.login_alice().await;
    let second = h.refresh(&first).await.refresh_cookie().unwrap();
    let r = replay(&h, &second).await;
    assert_eq!(r.json()["outcome"], "grace");
    assert_eq!(r.json()["family_revoked"], false);
    // Grace is used up: the next replay is reuse.
    assert_eq!(
        replay(&h, &second).await.json()["outcome"],
        "reuse_detected"
    );
}
