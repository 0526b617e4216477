//! signIn, acceptTokenResponse, logout and the event API.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Function;
use serde_json::json;
use wasm_bindgen::closure::Closure;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

use crate::support::*;

#[wasm_bindgen_test]
async fn sign_in_posts_the_apps_request_and_takes_the_token() {
    let server = Server::new(60.0);
    let (tm, events) = manager(&server, json!({}));
    let login = server.url("/auth/login");
    let init = js(&json!({
        "method": "POST",
        "headers": {"Content-Type": "application/json"},
        "body": "{\"user\":\"ada\",\"password\":\"pw\"}",
    }));
    let phase = settle(tm.sign_in(JsValue::from_str(&login), init))
        .await
        .expect("signIn resolves");
    assert_eq!(phase.as_string().as_deref(), Some("signed-in"));
    assert_eq!(tm.state(), "signed-in");
    assert_eq!(events.states(), ["signed-in"]);
    let sent = server.to(&login);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, "POST");
    assert_eq!(sent[0].credentials, "include");
    assert_eq!(sent[0].csrf.as_deref(), Some("token-warden"));
    assert_eq!(
        sent[0].body.as_deref(),
        Some("{\"user\":\"ada\",\"password\":\"pw\"}")
    );
    assert_eq!(sent[0].authorization, None);
    assert_eq!(server.refreshes(), 0, "signing in is not a refresh");
    assert_eq!(fetch_status(&tm, "/api/me").await, 200);
    assert_eq!(server.auth_of("/api/me"), [server.bearer()]);
}

/// `signIn(url: string | URL, init?)` (types.d.ts): a `URL` object is a URL.
#[wasm_bindgen_test]
async fn sign_in_takes_a_url_object() {
    let server = Server::new(60.0);
    let (tm, _events) = manager(&server, json!({}));
    let login =
        web_sys::Url::new(&format!("{}{}", page_origin(), server.url("/auth/login"))).unwrap();
    match settle(tm.sign_in(login.into(), JsValue::UNDEFINED)).await {
        Ok(phase) => assert_eq!(phase.as_string().as_deref(), Some("signed-in")),
        Err(error) => panic!("rejected: {} / {}", text(&error, "name"), message(&error)),
    }
    assert_eq!(server.count(&server.url("/auth/login")), 1);
}

#[wasm_bindgen_test]
async fn sign_in_errors_name_the_sign_in_endpoint() {
    let server = Server::new(60.0);
    let (tm, _events) = manager(&server, json!({}));
    let login = JsValue::from_str(&server.url("/auth/login"));
    server.push(Answer::status(400, r#"{"error":"invalid_grant"}"#));
    let error = settle(tm.sign_in(login.clone(), JsValue::UNDEFINED))
        .await
        .expect_err("rejects");
    let msg = assert_tw_error(&error, "invalid_grant");
    let at = format!("sign-in at {}{}", page_origin(), server.url("/auth/login"));
    assert_eq!(msg, format!("{at} was refused: HTTP 400 invalid_grant"));
    server.push(Answer::status(500, ""));
    let error = settle(tm.sign_in(login.clone(), JsValue::UNDEFINED))
        .await
        .expect_err("rejects");
    let msg = assert_tw_error(&error, "server_error");
    assert_eq!(msg, format!("{at} failed: HTTP 500"));
    server.push(Answer::network_error());
    let error = settle(tm.sign_in(login, JsValue::UNDEFINED))
        .await
        .expect_err("rejects");
    let msg = assert_tw_error(&error, "network");
    assert!(msg.contains("sign-in"), "{msg}");
    assert_eq!(tm.state(), "initial", "a refused sign-in changes nothing");
    let error = settle(tm.sign_in(JsValue::from_f64(5.0), JsValue::UNDEFINED))
        .await
        .expect_err("not a URL");
    let msg = assert_tw_error(&error, "invalid_options");
    assert!(msg.contains("`url`"), "{msg}");
}

#[wasm_bindgen_test]
async fn accept_token_response_takes_an_object_and_json_text() {
    let server = Server::new(60.0);
    let (tm, _events) = manager(&server, json!({}));
    let first = server.mint();
    let phase = tm
        .accept_token_response(js(
            &json!({"access_token": first, "token_type": "Bearer", "expires_in": 60}),
        ))
        .expect("an object");
    assert_eq!(phase, "signed-in");
    assert_eq!(fetch_status(&tm, "/api/me").await, 200);
    let second = server.mint();
    let body =
        json!({"access_token": second, "token_type": "bearer", "expires_in": 60, "scope": "read"})
            .to_string();
    let phase = tm
        .accept_token_response(JsValue::from_str(&body))
        .expect("JSON text");
    assert_eq!(phase, "signed-in");
    assert_eq!(fetch_status(&tm, "/api/me").await, 200);
    assert_eq!(
        server.auth_of("/api/me"),
        [
            Some(format!("Bearer {first}")),
            Some(format!("Bearer {second}"))
        ]
    );
    assert_eq!(server.refreshes(), 0);
}

#[wasm_bindgen_test]
async fn malformed_token_responses_get_typed_codes_and_no_token_in_the_message() {
    let server = Server::new(60.0);
    let (tm, _events) = manager(&server, json!({}));
    let cases = [
        (
            js(&json!({"token_type": "Bearer", "expires_in": 60})),
            "malformed_response",
        ),
        (
            JsValue::from_str("access_token=SECRET-1&token_type=Bearer"),
            "malformed_response",
        ),
        (
            js(&json!({"access_token": "SECRET-2", "token_type": "mac", "expires_in": 60})),
            "unsupported_token_type",
        ),
        (
            js(&json!({"access_token": "SECRET-3", "expires_in": 60})),
            "unsupported_token_type",
        ),
        (
            js(&json!({"access_token": "SECRET-4", "token_type": "Bearer", "expires_in": 0})),
            "invalid_expires_in",
        ),
        (
            js(&json!({"access_token": "SECRET-5", "token_type": "Bearer", "expires_in": "soon"})),
            "invalid_expires_in",
        ),
        (
            js(&json!({"access_token": "SECRET-6", "token_type": "Bearer", "expires_in": -60})),
            "invalid_expires_in",
        ),
        (
            js(&json!({"access_token": "SECRET 7", "token_type": "Bearer", "expires_in": 60})),
            "malformed_token",
        ),
        (
            js(&json!({"access_token": "SECRET-8", "token_type": "Bearer"})),
            "unknown_expiry",
        ),
    ];
    for (response, expected) in cases {
        let error = tm.accept_token_response(response).expect_err(expected);
        let msg = assert_tw_error(&error, expected);
        assert!(!msg.contains("SECRET"), "no token in the message: {msg}");
    }
    assert_eq!(tm.state(), "initial", "nothing was taken");
    assert!(tm.expires_at().is_null());
}

#[wasm_bindgen_test]
async fn expires_in_as_a_numeric_string_is_accepted() {
    let server = Server::new(60.0);
    let (tm, _events) = manager(&server, json!({}));
    let token = server.mint();
    let before = js_sys::Date::now();
    let phase = tm
        .accept_token_response(js(
            &json!({"access_token": token, "token_type": "Bearer", "expires_in": "3600"}),
        ))
        .expect("\"3600\" is 3600 seconds");
    let after = js_sys::Date::now();
    assert_eq!(phase, "signed-in");
    let expires = tm.expires_at().as_f64().expect("an expiry");
    assert!(
        expires >= (before + 3_600_000.0).floor() && expires <= after + 3_600_000.0,
        "expiresAt {expires}"
    );
}

#[wasm_bindgen_test]
async fn logout_sends_the_bearer_and_clears_the_session_at_once() {
    let server = Server::new(60.0);
    let (tm, events) = signed_in(&server, json!({})).await;
    let bearer = server.bearer();
    server.logout_answer(Answer::status(204, "").delay(100));
    let logout = tm.logout();
    // Before the server has answered.
    assert_eq!(tm.state(), "signed-out");
    assert!(tm.expires_at().is_null());
    assert_eq!(events.ended(), ["logout"]);
    let done = settle(logout).await.expect("resolves");
    assert!(done.is_undefined());
    let sent = server.to(&server.url("/auth/logout"));
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, "POST");
    assert_eq!(
        sent[0].authorization, bearer,
        "the bearer lets the server deny-list the token"
    );
    assert_eq!(
        sent[0].credentials, "include",
        "the cookie goes along to be cleared"
    );
    assert_eq!(sent[0].csrf.as_deref(), Some("token-warden"));
    assert!(events.warnings().is_empty());
    assert_eq!(fetch_status(&tm, "/api/me").await, 401);
    assert_eq!(server.auth_of("/api/me"), [None]);
    assert_eq!(server.refreshes(), 1);
}

#[wasm_bindgen_test]
async fn a_failing_logout_is_a_logout_failed_warning_not_a_rejection() {
    let server = Server::new(60.0);
    let (tm, events) = signed_in(&server, json!({})).await;
    server.logout_answer(Answer::status(500, ""));
    settle(tm.logout()).await.expect("resolves anyway");
    assert_eq!(tm.state(), "signed-out");
    assert_eq!(events.warnings(), ["logout_failed"]);
    let message = text(&events.all("warning")[0], "message");
    assert!(message.contains("500"), "{message}");
    assert!(!message.contains(&server.current().unwrap()));

    let (tm, events) = signed_in(&server, json!({})).await;
    server.logout_answer(Answer::network_error());
    settle(tm.logout()).await.expect("resolves anyway");
    assert_eq!(events.warnings(), ["logout_failed"]);
    assert_eq!(tm.state(), "signed-out");
}

#[wasm_bindgen_test]
async fn logout_without_a_logout_url_only_clears_memory() {
    let server = Server::new(60.0);
    let (tm, events) = signed_in(&server, json!({"logoutUrl": null})).await;
    settle(tm.logout()).await.expect("resolves");
    assert_eq!(tm.state(), "signed-out");
    assert_eq!(events.ended(), ["logout"]);
    assert_eq!(server.requests().len(), 1, "only the restore was ever sent");
}

#[wasm_bindgen_test]
async fn on_refuses_an_unknown_event_and_a_non_function() {
    let server = Server::new(60.0);
    let (tm, _events) = manager(&server, json!({}));
    let handler = Function::new_no_args("");
    let error = tm
        .on(JsValue::from_str("refresh"), handler.clone().into())
        .expect_err("unknown event");
    let msg = assert_tw_error(&error, "invalid_options");
    assert!(msg.contains("event"), "{msg}");
    let error = tm
        .on(JsValue::from_f64(1.0), handler.into())
        .expect_err("not a name");
    assert_tw_error(&error, "invalid_options");
    let error = tm
        .on(JsValue::from_str("state"), JsValue::from_str("x"))
        .expect_err("not a function");
    let msg = assert_tw_error(&error, "invalid_options");
    assert!(msg.contains("handler"), "{msg}");
}

/// A handler recording the `state` payloads it gets.
fn recorder() -> (Rc<RefCell<Vec<String>>>, JsValue) {
    let seen = Rc::new(RefCell::new(Vec::new()));
    let log = seen.clone();
    let handler = Closure::<dyn FnMut(JsValue)>::new(move |state: JsValue| {
        log.borrow_mut().push(state.as_string().unwrap_or_default());
    });
    (seen, handler.into_js_value())
}

#[wasm_bindgen_test]
async fn unsubscribing_stops_the_events() {
    let server = Server::new(60.0);
    let (tm, _events) = manager(&server, json!({}));
    let (kept, kept_handler) = recorder();
    let (dropped, dropped_handler) = recorder();
    tm.on(JsValue::from_str("state"), kept_handler).unwrap();
    let off = tm.on(JsValue::from_str("state"), dropped_handler).unwrap();
    off.call0(&JsValue::UNDEFINED).unwrap();
    off.call0(&JsValue::UNDEFINED)
        .expect("unsubscribing twice is harmless");
    settle(tm.start()).await.unwrap();
    assert_eq!(*kept.borrow(), ["restoring", "signed-in"]);
    assert!(dropped.borrow().is_empty(), "{:?}", dropped.borrow());
}

#[wasm_bindgen_test]
async fn a_handler_that_throws_does_not_break_the_others() {
    let server = Server::new(60.0);
    let (tm, _events) = manager(&server, json!({}));
    let thrower = Function::new_no_args("throw new Error('handler bug')");
    tm.on(JsValue::from_str("state"), thrower.into()).unwrap();
    let (seen, handler) = recorder();
    tm.on(JsValue::from_str("state"), handler).unwrap();
    let phase = settle(tm.start())
        .await
        .expect("start is not broken by a handler");
    assert_eq!(phase.as_string().as_deref(), Some("signed-in"));
    assert_eq!(*seen.borrow(), ["restoring", "signed-in"]);
    assert_eq!(fetch_status(&tm, "/api/me").await, 200);
}
