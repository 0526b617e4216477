//! The refresh request, its failures and the backoff; offline.

use serde_json::json;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

use crate::support::*;

#[wasm_bindgen_test]
async fn the_refresh_is_a_credentialed_post_with_the_default_csrf_header() {
    let server = Server::new(60.0);
    let (tm, _events) = signed_in(&server, json!({})).await;
    settle(tm.refresh()).await.expect("refresh resolves");
    let sent = server.to(&server.refresh_path());
    assert_eq!(sent.len(), 2, "the restore and the refresh");
    for rec in sent {
        assert_eq!(rec.method, "POST");
        assert_eq!(rec.credentials, "include", "the refresh cookie goes along");
        assert_eq!(rec.cache, "no-store");
        assert_eq!(rec.redirect, "manual");
        assert_eq!(
            rec.csrf.as_deref(),
            Some("token-warden"),
            "X-Requested-With by default"
        );
        assert_eq!(rec.accept.as_deref(), Some("application/json"));
        assert_eq!(rec.authorization, None, "no bearer on a refresh");
        assert_eq!(
            rec.url,
            format!("{}{}", page_origin(), server.refresh_path())
        );
    }
}

#[wasm_bindgen_test]
async fn a_custom_csrf_header_replaces_the_default() {
    let server = Server::new(60.0);
    let csrf = json!({"csrfHeader": {"name": "X-CSRF-Token", "value": "s3cr3t-nonce"}});
    let (tm, _events) = signed_in(&server, csrf).await;
    let _ = settle(tm.logout()).await;
    let refresh = &server.to(&server.refresh_path())[0];
    assert_eq!(refresh.custom_csrf.as_deref(), Some("s3cr3t-nonce"));
    assert_eq!(refresh.csrf, None, "no default header besides it");
    let logout = &server.to(&server.url("/auth/logout"))[0];
    assert_eq!(
        logout.custom_csrf.as_deref(),
        Some("s3cr3t-nonce"),
        "every POST of ours carries it"
    );
}

#[wasm_bindgen_test]
async fn csrf_header_null_sends_none() {
    let server = Server::new(60.0);
    let (_tm, _events) = signed_in(&server, json!({"csrfHeader": null})).await;
    let refresh = &server.to(&server.refresh_path())[0];
    assert_eq!(refresh.csrf, None);
    assert_eq!(refresh.custom_csrf, None);
    assert_eq!(refresh.credentials, "include");
}

#[wasm_bindgen_test]
async fn invalid_grant_ends_the_session_and_later_fetches_go_bare() {
    let server = Server::new(60.0);
    let (tm, events) = signed_in(&server, json!({})).await;
    server.push(Answer::invalid_grant());
    let error = settle(tm.refresh()).await.expect_err("refresh rejects");
    let msg = assert_tw_error(&error, "invalid_grant");
    assert!(
        msg.contains("revoked"),
        "the error_description is kept: {msg}"
    );
    assert_eq!(tm.state(), "signed-out");
    assert!(tm.expires_at().is_null());
    assert_eq!(events.ended(), ["invalid_grant"]);
    assert_eq!(events.states(), ["restoring", "signed-in", "signed-out"]);
    assert_eq!(fetch_status(&tm, "/api/me").await, 401);
    assert_eq!(
        server.auth_of("/api/me"),
        [None],
        "no bearer after the session ended"
    );
    assert_eq!(server.refreshes(), 2, "nothing more was refreshed");
}

#[wasm_bindgen_test]
async fn server_errors_back_off_then_recover_with_numbered_refresh_errors() {
    let server = Server::new(60.0);
    let (tm, events) = signed_in(&server, json!({})).await;
    server.push(Answer::unavailable());
    server.push(Answer::status(429, ""));
    let before = js_sys::Date::now();
    settle(tm.refresh())
        .await
        .expect("the third attempt succeeds");
    assert_eq!(server.refreshes(), 4, "the restore and three attempts");
    let errors = events.refresh_errors();
    assert_eq!(errors.len(), 2);
    assert_eq!((errors[0].0.as_str(), errors[0].1), ("server_error", 1.0));
    assert_eq!((errors[1].0.as_str(), errors[1].1), ("rate_limited", 2.0));
    for (_, _, retry_at) in &errors {
        let retry_at = retry_at.expect("a retry is scheduled");
        assert!(
            retry_at >= before,
            "retryAt is a time, in ms since the epoch: {retry_at}"
        );
    }
    assert_eq!(events.all("refreshed").len(), 2);
    assert_eq!(tm.state(), "signed-in");
    assert_eq!(fetch_status(&tm, "/api/me").await, 200);
}

#[wasm_bindgen_test]
async fn retry_gives_up_after_max_attempts_and_refresh_rejects_with_the_code() {
    let server = Server::new(60.0);
    let retry = json!({"retry": {"maxAttempts": 3, "baseDelayMs": 10, "maxDelayMs": 50}});
    let (tm, events) = signed_in(&server, retry).await;
    server.always(Some(Answer::unavailable()));
    let error = settle(tm.refresh()).await.expect_err("the cycle gives up");
    let msg = assert_tw_error(&error, "server_error");
    assert!(msg.contains("503"), "{msg}");
    assert_eq!(
        server.refreshes(),
        4,
        "the restore and exactly three attempts"
    );
    let errors = events.refresh_errors();
    let attempts: Vec<f64> = errors.iter().map(|e| e.1).collect();
    assert_eq!(attempts, [1.0, 2.0, 3.0]);
    assert!(errors[0].2.is_some() && errors[1].2.is_some());
    assert_eq!(errors[2].2, None, "retryAt is null when giving up");
    // The token is still valid: it stays in use, nothing ended.
    assert_eq!(tm.state(), "signed-in");
    assert!(events.ended().is_empty());
    server.always(None);
    sleep(100).await;
    assert_eq!(server.refreshes(), 4, "no attempt after giving up");
}

#[wasm_bindgen_test]
async fn retry_after_is_a_floor_of_the_announced_retry_time() {
    let server = Server::new(60.0);
    let (tm, events) = signed_in(&server, json!({})).await;
    server.push(Answer::unavailable().header("Retry-After", "30"));
    let before = js_sys::Date::now();
    let pending = tm.refresh();
    assert!(wait_for(|| !events.refresh_errors().is_empty(), 2_000.0).await);
    let (code, attempt, retry_at) = events.refresh_errors()[0].clone();
    assert_eq!((code.as_str(), attempt), ("server_error", 1.0));
    let retry_at = retry_at.expect("a retry is scheduled");
    // The backoff alone (maxDelayMs 50) would retry within 50 ms.
    assert!(
        retry_at >= before + 30_000.0,
        "retryAt {retry_at} honours Retry-After: 30"
    );
    assert_eq!(server.refreshes(), 2, "the retry waits");
    tm.dispose();
    let error = settle(pending)
        .await
        .expect_err("dispose settles the waiting refresh()");
    assert_tw_error(&error, "disposed");
}

#[wasm_bindgen_test]
async fn a_network_error_on_refresh_is_code_network() {
    let server = Server::new(60.0);
    let (tm, events) = signed_in(&server, json!({"retry": {"maxAttempts": 1}})).await;
    server.push(Answer::network_error());
    let error = settle(tm.refresh()).await.expect_err("rejects");
    assert_tw_error(&error, "network");
    assert_eq!(events.refresh_errors(), [("network".to_owned(), 1.0, None)]);
    assert_eq!(tm.state(), "signed-in", "the valid token stays in use");
    assert_eq!(fetch_status(&tm, "/api/me").await, 200);
}

#[wasm_bindgen_test]
async fn a_hung_refresh_is_aborted_and_rejects_timeout() {
    let server = Server::new(60.0);
    let options = json!({"requestTimeoutMs": 200, "retry": {"maxAttempts": 1}});
    let (tm, _events) = signed_in(&server, options).await;
    server.push(Answer::hang());
    let outcome = within(tm.refresh(), 3_000.0)
        .await
        .expect("settles, bounded by requestTimeoutMs");
    assert_tw_error(&outcome.expect_err("rejects"), "timeout");
    assert_eq!(server.aborted(), 1, "the hung request was aborted");
    assert_eq!(tm.state(), "signed-in");
}

#[wasm_bindgen_test]
async fn a_fetch_waiting_for_a_hung_refresh_gives_up_with_a_clear_code() {
    let server = Server::new(1.0);
    let options =
        json!({"refreshLeadSeconds": 0, "requestTimeoutMs": 300, "retry": {"maxAttempts": 1}});
    let (tm, _events) = signed_in(&server, options).await;
    server.push(Answer::hang());
    assert!(
        wait_for(|| tm.expires_at().is_null(), 3_000.0).await,
        "the token expired"
    );
    let outcome = within(
        tm.fetch(JsValue::from_str("/api/me"), JsValue::UNDEFINED),
        3_000.0,
    )
    .await
    .expect("the waiting fetch settles");
    let error = outcome.expect_err("no token came");
    let code = code(&error);
    assert!(code == "token_expired" || code == "timeout", "code {code}");
    assert_eq!(server.count("/api/me"), 0, "never sent without its token");
}

#[wasm_bindgen_test]
async fn a_malformed_refresh_answer_rejects_with_its_code_and_no_token() {
    let server = Server::new(60.0);
    let (tm, events) = signed_in(&server, json!({})).await;
    for (body, expected) in [
        (
            r#"{"access_token":"SECRET-mac-123","token_type":"mac","expires_in":60}"#,
            "unsupported_token_type",
        ),
        (
            r#"{"access_token":"SECRET-neg-123","token_type":"Bearer","expires_in":-5}"#,
            "invalid_expires_in",
        ),
        (
            "<!DOCTYPE html><p>SECRET-html-123</p>",
            "malformed_response",
        ),
    ] {
        server.push(Answer::status(200, body));
        let error = settle(tm.refresh()).await.expect_err(expected);
        let msg = assert_tw_error(&error, expected);
        assert!(!msg.contains("SECRET"), "no token in {msg}");
    }
    let codes: Vec<String> = events.refresh_errors().into_iter().map(|e| e.0).collect();
    assert_eq!(
        codes,
        [
            "unsupported_token_type",
            "invalid_expires_in",
            "malformed_response"
        ]
    );
    assert_eq!(server.refreshes(), 4, "a malformed answer is not retried");
    assert_eq!(
        fetch_status(&tm, "/api/me").await,
        200,
        "the valid token stays in use"
    );
}

#[wasm_bindgen_test]
async fn a_refresh_token_in_the_body_is_dropped_with_a_warning() {
    let server = Server::new(60.0);
    server.push(Answer::token_with(json!({"refresh_token": "RT-SECRET-1"})));
    let (tm, events) = signed_in(&server, json!({})).await;
    assert_eq!(events.warnings(), ["refresh_token_in_body"]);
    let message = text(&events.all("warning")[0], "message");
    assert!(!message.contains("RT-SECRET"), "{message}");
    assert_eq!(
        fetch_status(&tm, "/api/me").await,
        200,
        "the access token is still taken"
    );
}

#[wasm_bindgen_test]
async fn refresh_while_signed_out_rejects_not_signed_in() {
    let server = Server::new(60.0);
    server.push(Answer::invalid_grant());
    let (tm, _events) = manager(&server, json!({}));
    let phase = settle(tm.start()).await.unwrap();
    assert_eq!(phase.as_string().as_deref(), Some("signed-out"));
    let error = settle(tm.refresh()).await.expect_err("rejects");
    assert_tw_error(&error, "not_signed_in");
    assert_eq!(server.refreshes(), 1);
}

#[wasm_bindgen_test]
async fn offline_pauses_the_scheduled_refresh_and_online_resumes_it() {
    let server = Server::new(1.0);
    let (tm, _events) = signed_in(&server, json!({})).await;
    fire_on_window("offline");
    // The timer's refresh was due about 0.5 s in and the token expired at 1 s.
    sleep(1_200).await;
    let while_offline = server.refreshes();
    fire_on_window("online");
    let resumed = wait_for(|| server.refreshes() >= 2, 2_000.0).await;
    assert_eq!(while_offline, 1, "no scheduled refresh while offline");
    assert!(resumed, "back online, the refresh goes out");
    assert!(wait_for(|| tm.expires_at().is_truthy(), 2_000.0).await);
    assert_eq!(tm.state(), "signed-in");
    assert_eq!(
        server.refreshes(),
        2,
        "one refresh for the online and wake-up signals"
    );
}

#[wasm_bindgen_test]
async fn a_cycle_that_gives_up_after_expiry_ends_the_session_as_expired() {
    let server = Server::new(1.0);
    let options = json!({"refreshLeadSeconds": 0, "retry": {"maxAttempts": 2, "baseDelayMs": 10, "maxDelayMs": 50}});
    let (tm, events) = signed_in(&server, options).await;
    server.always(Some(Answer::unavailable()));
    assert!(
        wait_for(|| tm.state() == "signed-out", 3_000.0).await,
        "gave up"
    );
    assert_eq!(events.ended(), ["expired"]);
    assert_eq!(server.refreshes(), 3, "the restore and two attempts");
    assert_eq!(fetch_status(&tm, "/api/me").await, 401);
    assert_eq!(server.auth_of("/api/me"), [None]);
}

#[wasm_bindgen_test]
async fn the_refresh_ceiling_refuses_with_too_many_refreshes() {
    let server = Server::new(60.0);
    let (tm, events) = signed_in(&server, json!({"maxRefreshesPerMinute": 2})).await;
    settle(tm.refresh())
        .await
        .expect("the second refresh of the minute");
    let error = settle(tm.refresh())
        .await
        .expect_err("the third is over the ceiling");
    assert_tw_error(&error, "too_many_refreshes");
    assert_eq!(server.refreshes(), 2, "not sent");
    assert_eq!(events.warnings(), ["too_many_refreshes"]);
    assert_eq!(
        fetch_status(&tm, "/api/me").await,
        200,
        "the valid token stays in use"
    );
}

#[wasm_bindgen_test]
async fn start_rejects_with_the_first_failure_while_the_restore_goes_on() {
    let server = Server::new(60.0);
    server.push(Answer::unavailable());
    let (tm, events) = manager(&server, json!({}));
    let error = settle(tm.start()).await.expect_err("the server is down");
    assert_tw_error(&error, "server_error");
    assert!(
        wait_for(|| tm.state() == "signed-in", 2_000.0).await,
        "the restore went on"
    );
    assert_eq!(events.states(), ["restoring", "signed-in"]);
    assert_eq!(server.refreshes(), 2);
}
