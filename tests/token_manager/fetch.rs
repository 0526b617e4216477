//! `tm.fetch`: the allow-list, the caller's own headers, 401 → one refresh → one retry,
//! single-flight, waiting callers and their signals.

use js_sys::{Array, Promise};
use serde_json::json;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_test::wasm_bindgen_test;
use web_sys::AbortController;

use crate::support::*;

/// `n` calls of `tm.fetch(url)` at once; their statuses once all have settled.
async fn fetch_all(tm: &token_warden::TokenManager, url: &str, n: usize) -> Vec<u16> {
    let all: Array = (0..n)
        .map(|_| JsValue::from(tm.fetch(JsValue::from_str(url), JsValue::UNDEFINED)))
        .collect();
    let responses = settle(Promise::all(&all))
        .await
        .expect("every fetch resolves");
    Array::from(&responses).iter().map(|r| status(&r)).collect()
}

#[wasm_bindgen_test]
async fn fetch_attaches_the_bearer_only_to_allowed_origins() {
    let server = Server::new(60.0);
    let (tm, _events) = signed_in(&server, json!({})).await;
    // allowedOrigins defaults to the page's origin.
    assert_eq!(fetch_status(&tm, "/api/me").await, 200);
    assert_eq!(server.auth_of("/api/me"), [server.bearer()]);
    assert_eq!(
        fetch_status(&tm, "https://api.example.com/v1/items").await,
        200
    );
    assert_eq!(
        server.auth_of("https://api.example.com/v1/items"),
        [None],
        "no bearer to a foreign origin"
    );

    let server = Server::new(60.0);
    let origin = page_origin();
    let (tm, _events) = signed_in(
        &server,
        json!({"allowedOrigins": [origin, "https://api.example.com"]}),
    )
    .await;
    let bearer = server.bearer();
    for (url, path, expected) in [
        (
            "https://api.example.com/v1/items",
            "https://api.example.com/v1/items",
            bearer.clone(),
        ),
        (
            "https://api.example.com.evil.test/x",
            "https://api.example.com.evil.test/x",
            None,
        ),
        ("http://api.example.com/x", "http://api.example.com/x", None),
        (
            "https://api.example.com:8443/x",
            "https://api.example.com:8443/x",
            None,
        ),
        (
            "https://evil.example.com/x",
            "https://evil.example.com/x",
            None,
        ),
        ("/api/me", "/api/me", bearer.clone()),
    ] {
        let _ = fetch_status(&tm, url).await;
        assert_eq!(server.auth_of(path), [expected], "{url}");
    }
    assert_eq!(server.refreshes(), 1, "no request refreshed");
}

#[wasm_bindgen_test]
async fn a_callers_own_authorization_is_left_alone() {
    let server = Server::new(60.0);
    let (tm, _events) = signed_in(&server, json!({})).await;
    let init = js(&json!({"headers": {"Authorization": "Basic dXNlcjpwYXNz"}}));
    let response = settle(tm.fetch(JsValue::from_str("/api/me"), init))
        .await
        .expect("resolves");
    assert_eq!(
        status(&response),
        401,
        "the server refused the caller's credentials"
    );
    assert_eq!(
        server.auth_of("/api/me"),
        [Some("Basic dXNlcjpwYXNz".to_owned())]
    );
    assert_eq!(
        server.refreshes(),
        1,
        "a 401 on the caller's own credentials is not ours to fix"
    );
}

#[wasm_bindgen_test]
async fn a_request_input_gets_the_bearer_too() {
    let server = Server::new(60.0);
    let (tm, _events) = signed_in(&server, json!({})).await;
    let request = web_sys::Request::new_with_str("/api/request-input").expect("a Request");
    let response = settle(tm.fetch(request.into(), JsValue::UNDEFINED))
        .await
        .expect("resolves");
    assert_eq!(status(&response), 200);
    assert_eq!(server.auth_of("/api/request-input"), [server.bearer()]);
}

#[wasm_bindgen_test]
async fn a_401_refreshes_once_and_retries_once() {
    let server = Server::new(60.0);
    let (tm, _events) = signed_in(&server, json!({})).await;
    let old = server.bearer();
    server.revoke_current();
    assert_eq!(fetch_status(&tm, "/api/me").await, 200);
    assert_eq!(server.refreshes(), 2, "one refresh");
    assert_eq!(
        server.auth_of("/api/me"),
        [old, server.bearer()],
        "one retry, with the new token"
    );
}

#[wasm_bindgen_test]
async fn a_401_without_a_challenge_also_invites_a_new_token() {
    let server = Server::new(60.0);
    let (tm, _events) = signed_in(&server, json!({})).await;
    server.www_authenticate(None);
    server.revoke_current();
    assert_eq!(fetch_status(&tm, "/api/me").await, 200);
    assert_eq!(server.refreshes(), 2);
    assert_eq!(server.count("/api/me"), 2);
}

#[wasm_bindgen_test]
async fn a_persistent_401_is_returned_after_one_retry_never_a_loop() {
    let server = Server::new(60.0);
    let (tm, _events) = signed_in(&server, json!({})).await;
    server.api_always_401();
    assert_eq!(fetch_status(&tm, "/api/me").await, 401);
    assert_eq!(server.count("/api/me"), 2, "the request and one retry");
    assert_eq!(server.refreshes(), 2, "one refresh");
    // Given time, nothing more happens.
    sleep(200).await;
    assert_eq!(server.count("/api/me"), 2);
    assert_eq!(server.refreshes(), 2);
}

#[wasm_bindgen_test]
async fn a_401_with_insufficient_scope_is_returned_untouched() {
    let server = Server::new(60.0);
    let (tm, _events) = signed_in(&server, json!({})).await;
    server.www_authenticate(Some(
        r#"Bearer realm="api", error="insufficient_scope", scope="admin""#,
    ));
    server.revoke_current();
    assert_eq!(fetch_status(&tm, "/api/admin").await, 401);
    assert_eq!(server.count("/api/admin"), 1, "no retry");
    assert_eq!(
        server.refreshes(),
        1,
        "no refresh: a new token would not have the scope"
    );
}

#[wasm_bindgen_test]
async fn a_403_is_returned_as_is_and_never_refreshes() {
    let server = Server::new(60.0);
    let (tm, _events) = signed_in(&server, json!({})).await;
    assert_eq!(fetch_status(&tm, "/api/forbidden").await, 403);
    assert_eq!(server.auth_of("/api/forbidden"), [server.bearer()]);
    assert_eq!(server.refreshes(), 1);
}

#[wasm_bindgen_test]
async fn fifty_concurrent_fetches_at_expiry_send_exactly_one_refresh() {
    let server = Server::new(1.0);
    let (tm, _events) = signed_in(&server, json!({"refreshLeadSeconds": 0})).await;
    server.push(Answer::token().delay(200));
    sleep(1_010).await; // the token has just expired
    let statuses = fetch_all(&tm, "/api/data", 50).await;
    assert_eq!(statuses.len(), 50);
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(
        server.refreshes(),
        2,
        "the restore plus exactly one refresh"
    );
    assert_eq!(server.max_in_flight(), 1);
    // None is queued behind the Web Lock either.
    sleep(300).await;
    assert_eq!(server.refreshes(), 2, "no refresh was still on its way");
    assert!(
        server
            .auth_of("/api/data")
            .iter()
            .all(|a| *a == server.bearer()),
        "all with the new token"
    );
}

#[wasm_bindgen_test]
async fn fifty_concurrent_401s_send_exactly_one_refresh() {
    let server = Server::new(60.0);
    let (tm, _events) = signed_in(&server, json!({})).await;
    server.push(Answer::token().delay(50));
    let old = server.bearer();
    server.revoke_current();
    let statuses = fetch_all(&tm, "/api/data", 50).await;
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    assert_eq!(server.refreshes(), 2, "one refresh for fifty 401s");
    sleep(300).await;
    assert_eq!(
        server.refreshes(),
        2,
        "none was still on its way (queued behind the Web Lock)"
    );
    let auth = server.auth_of("/api/data");
    assert_eq!(
        auth.iter().filter(|a| **a == old).count(),
        50,
        "each sent once with the old token"
    );
    assert_eq!(
        auth.iter().filter(|a| **a == server.bearer()).count(),
        50,
        "and retried once with the new one"
    );
}

#[wasm_bindgen_test]
async fn callers_during_a_refresh_wait_and_all_get_the_new_token() {
    let server = Server::new(60.0);
    let (tm, _events) = signed_in(&server, json!({"exposeAccessToken": true})).await;
    let old = server.bearer();
    server.push(Answer::token().delay(150));
    server.revoke_current();
    // The 401 of the first call stops the old token and starts the refresh.
    let first = tm.fetch(JsValue::from_str("/api/me"), JsValue::UNDEFINED);
    assert!(wait_for(|| server.refreshes() == 2, 2_000.0).await);
    let second = tm.fetch(JsValue::from_str("/api/me"), JsValue::UNDEFINED);
    let other = tm.fetch(JsValue::from_str("/api/other"), JsValue::UNDEFINED);
    let refreshed = tm.refresh();
    let token = tm.access_token();
    assert_eq!(status(&settle(first).await.unwrap()), 200);
    assert_eq!(status(&settle(second).await.unwrap()), 200);
    assert_eq!(status(&settle(other).await.unwrap()), 200);
    settle(refreshed)
        .await
        .expect("refresh() joined the running refresh");
    assert_eq!(settle(token).await.unwrap().as_string(), server.current());
    assert_eq!(server.refreshes(), 2, "everyone joined the one refresh");
    let me = server.auth_of("/api/me");
    assert_eq!(me.len(), 3, "the first call, its retry, the second call");
    assert_eq!(me[0], old);
    assert!(me[1..].iter().all(|a| *a == server.bearer()), "{me:?}");
    assert_eq!(
        server.auth_of("/api/other"),
        [server.bearer()],
        "waited: never sent with the old token"
    );
}

#[wasm_bindgen_test]
async fn an_abort_while_waiting_rejects_with_the_signal_reason_and_sends_nothing() {
    let server = Server::new(60.0);
    let (tm, _events) = signed_in(&server, json!({})).await;
    server.push(Answer::hang());
    server.revoke_current();
    let first = tm.fetch(JsValue::from_str("/api/me"), JsValue::UNDEFINED);
    assert!(
        wait_for(|| server.refreshes() == 2, 2_000.0).await,
        "the refresh hangs"
    );
    let controller = AbortController::new().unwrap();
    let init = object(&[("signal", controller.signal().into())]);
    let waiting = tm.fetch(JsValue::from_str("/api/waiting"), init);
    let reason = JsValue::from_str("the user left the page");
    controller.abort_with_reason(&reason);
    let outcome = within(waiting, 1_000.0).await.expect("settled at once");
    assert_eq!(
        outcome.expect_err("rejects"),
        reason,
        "rejects with signal.reason"
    );
    // An already aborted signal: rejected before anything is sent.
    let init = object(&[("signal", controller.signal().into())]);
    let error = settle(tm.fetch(JsValue::from_str("/api/waiting"), init))
        .await
        .expect_err("rejects");
    assert_eq!(error, reason);
    sleep(50).await;
    assert_eq!(
        server.count("/api/waiting"),
        0,
        "nothing was sent for the aborted calls"
    );
    tm.dispose();
    let first = settle(first)
        .await
        .expect("the first call gets its 401 back");
    assert_eq!(status(&first), 401);
}

#[wasm_bindgen_test]
async fn a_401_on_a_request_with_a_body_retries_with_the_same_body() {
    let server = Server::new(60.0);
    let (tm, _events) = signed_in(&server, json!({})).await;
    server.revoke_current();
    let init = js(
        &json!({"method": "PUT", "body": "{\"name\":\"x\"}", "headers": {"Content-Type": "application/json"}}),
    );
    let response = settle(tm.fetch(JsValue::from_str("/api/items/1"), init))
        .await
        .unwrap();
    assert_eq!(status(&response), 200);
    let sent = server.to("/api/items/1");
    assert_eq!(sent.len(), 2);
    assert!(sent.iter().all(|r| r.method == "PUT"));
    assert!(
        sent.iter()
            .all(|r| r.body.as_deref() == Some("{\"name\":\"x\"}")),
        "{sent:?}"
    );
    assert_eq!(sent[1].authorization, server.bearer());
}

#[wasm_bindgen_test]
async fn fetch_rejects_like_fetch_on_a_network_error_and_a_bad_url() {
    let server = Server::new(60.0);
    let (tm, _events) = signed_in(&server, json!({})).await;
    let error = settle(tm.fetch(JsValue::from_str("/api/down"), JsValue::UNDEFINED))
        .await
        .expect_err("a network error rejects");
    assert!(error.is_instance_of::<js_sys::TypeError>(), "{error:?}");
    let error = settle(tm.fetch(JsValue::from_str("http://[bad"), JsValue::UNDEFINED))
        .await
        .expect_err("a bad URL rejects");
    assert!(error.is_instance_of::<js_sys::TypeError>(), "{error:?}");
    assert_eq!(server.refreshes(), 1);
    assert_eq!(tm.state(), "signed-in");
}

#[wasm_bindgen_test]
async fn a_fetch_before_start_begins_the_restore_and_carries_its_token() {
    let server = Server::new(60.0);
    let (tm, events) = manager(&server, json!({}));
    assert_eq!(fetch_status(&tm, "/api/me").await, 200);
    assert_eq!(server.refreshes(), 1);
    assert_eq!(server.auth_of("/api/me"), [server.bearer()]);
    assert_eq!(events.states(), ["restoring", "signed-in"]);
    let phase = settle(tm.start()).await.unwrap();
    assert_eq!(phase.as_string().as_deref(), Some("signed-in"));
    assert_eq!(server.refreshes(), 1, "start() found the session restored");
}

#[wasm_bindgen_test]
async fn a_streamed_body_is_never_replayed_and_its_401_is_returned() {
    let server = Server::new(60.0);
    let (tm, _events) = signed_in(&server, json!({})).await;
    server.revoke_current();
    let response = settle(tm.fetch(JsValue::from_str("/api/upload"), stream_init()))
        .await
        .unwrap();
    assert_eq!(status(&response), 401);
    let sent = server.to("/api/upload");
    assert_eq!(sent.len(), 1, "not replayed");
    assert_eq!(sent[0].body.as_deref(), Some("streamed"));
    // The 401 still told the manager its token is bad: the next call gets a new one.
    assert!(
        wait_for(|| server.refreshes() == 2, 2_000.0).await,
        "the 401 started a refresh"
    );
    assert_eq!(fetch_status(&tm, "/api/me").await, 200);
}
