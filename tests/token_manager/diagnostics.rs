//! What an error says (operation, endpoint, status, the server's answer), empty URLs,
//! `on()` after `dispose()`, and a handler that throws (`reportError`).

use std::cell::RefCell;
use std::rc::Rc;

use serde_json::json;
use token_warden::TokenManager;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;

use crate::support::*;

/// The five request fields of a `TokenWardenError`: each an own property.
fn fields(error: &JsValue) -> [JsValue; 5] {
    [
        "operation",
        "endpoint",
        "status",
        "serverError",
        "serverErrorDescription",
    ]
    .map(|key| {
        let own = js_sys::Object::has_own(
            error.unchecked_ref::<js_sys::Object>(),
            &JsValue::from_str(key),
        );
        assert!(own, "`{key}` is an own property");
        get(error, key)
    })
}

fn assert_no_request(error: &JsValue) {
    for value in fields(error) {
        assert!(
            value.is_null(),
            "null for an error about no request: {value:?}"
        );
    }
}

fn s(value: &str) -> JsValue {
    JsValue::from_str(value)
}

async fn sign_in_error(tm: &TokenManager, url: &str, answer: Answer, server: &Server) -> JsValue {
    server.push(answer);
    settle(tm.sign_in(s(url), JsValue::UNDEFINED))
        .await
        .expect_err("the sign-in is refused")
}

#[wasm_bindgen_test]
async fn a_refused_sign_in_names_the_endpoint_the_status_and_the_servers_error() {
    let server = Server::new(60.0);
    let (tm, _events) = manager(&server, json!({}));
    let login = server.url("/auth/login");
    let endpoint = format!("{}{login}", page_origin());

    // A wrong password: it does not read like a refresh-token rejection.
    let error = sign_in_error(
        &tm,
        &login,
        Answer::status(
            401,
            r#"{"error":"invalid_grant","error_description":"Invalid username or password"}"#,
        ),
        &server,
    )
    .await;
    let msg = assert_tw_error(&error, "invalid_grant");
    assert_eq!(
        msg,
        format!("sign-in at {endpoint} was refused: HTTP 401 invalid_grant (Invalid username or password)")
    );
    assert!(!msg.contains("refresh"), "{msg}");
    let [operation, at, status, server_error, description] = fields(&error);
    assert_eq!(operation.as_string().as_deref(), Some("sign-in"));
    assert_eq!(at.as_string(), Some(endpoint.clone()));
    assert_eq!(status.as_f64(), Some(401.0));
    assert_eq!(server_error.as_string().as_deref(), Some("invalid_grant"));
    assert_eq!(
        description.as_string().as_deref(),
        Some("Invalid username or password")
    );

    // A CSRF refusal of a dev proxy: a 403 whose body is kept.
    let error = sign_in_error(
        &tm,
        &login,
        Answer::status(
            403,
            r#"{"error":"csrf","error_description":"cross-site request refused"}"#,
        ),
        &server,
    )
    .await;
    let msg = assert_tw_error(&error, "http_error");
    assert_eq!(
        msg,
        format!("sign-in at {endpoint} was refused: HTTP 403 csrf (cross-site request refused)")
    );
    let [_, _, status, server_error, description] = fields(&error);
    assert_eq!(status.as_f64(), Some(403.0));
    assert_eq!(server_error.as_string().as_deref(), Some("csrf"));
    assert_eq!(
        description.as_string().as_deref(),
        Some("cross-site request refused")
    );

    // A mistyped URL: a 404 that says so, with a body that is not JSON.
    let error = sign_in_error(
        &tm,
        &login,
        Answer::status(404, "<h1>Not Found</h1>"),
        &server,
    )
    .await;
    let msg = assert_tw_error(&error, "http_error");
    assert_eq!(
        msg,
        format!("sign-in at {endpoint} was refused: HTTP 404; check the URL")
    );
    let [_, _, status, server_error, description] = fields(&error);
    assert_eq!(status.as_f64(), Some(404.0));
    assert!(server_error.is_null() && description.is_null());

    // Query and fragment never reach the error.
    let error = sign_in_error(
        &tm,
        &format!("{login}?next=%2Fsecret#code=xyz"),
        Answer::status(400, r#"{"error":"invalid_request"}"#),
        &server,
    )
    .await;
    let msg = assert_tw_error(&error, "oauth_error");
    assert_eq!(get(&error, "endpoint").as_string(), Some(endpoint.clone()));
    assert!(!msg.contains("secret") && !msg.contains("xyz"), "{msg}");

    // No response from the page's own origin: unreachable or offline, not CORS.
    let error = sign_in_error(&tm, &login, Answer::network_error(), &server).await;
    let msg = assert_tw_error(&error, "network");
    assert!(
        msg.starts_with(&format!("sign-in at {endpoint} got no response")),
        "{msg}"
    );
    assert!(
        msg.contains("unreachable or the browser is offline"),
        "{msg}"
    );
    assert!(!msg.contains("CORS"), "{msg}");
    let [operation, _, status, server_error, _] = fields(&error);
    assert_eq!(operation.as_string().as_deref(), Some("sign-in"));
    assert!(status.is_null() && server_error.is_null());
    assert_eq!(tm.state(), "initial", "a refused sign-in changes nothing");
}

#[wasm_bindgen_test]
async fn no_response_from_another_origin_says_cors_may_be_the_cause() {
    let server = Server::new(60.0);
    let (tm, _events) = manager(&server, json!({}));
    let error = settle(tm.sign_in(s("https://auth.example.test/api/down"), JsValue::UNDEFINED))
        .await
        .expect_err("no response");
    let msg = assert_tw_error(&error, "network");
    assert!(
        msg.starts_with("sign-in at https://auth.example.test/api/down got no response"),
        "{msg}"
    );
    assert!(msg.contains("CORS may be the cause"), "{msg}");
    assert_eq!(
        get(&error, "endpoint").as_string().as_deref(),
        Some("https://auth.example.test/api/down")
    );
}

#[wasm_bindgen_test]
async fn refresh_errors_name_the_refresh_endpoint_and_carry_the_answer() {
    let server = Server::new(60.0);
    let endpoint = format!("{}{}", page_origin(), server.refresh_path());
    let (tm, _events) = signed_in(&server, json!({})).await;
    server.push(Answer::invalid_grant());
    let error = settle(tm.refresh()).await.expect_err("refused");
    let msg = assert_tw_error(&error, "invalid_grant");
    assert_eq!(
        msg,
        format!("refresh at {endpoint} was refused: HTTP 400 invalid_grant (the refresh token was revoked); the session is over, sign in again")
    );
    let [operation, at, status, server_error, description] = fields(&error);
    assert_eq!(operation.as_string().as_deref(), Some("refresh"));
    assert_eq!(at.as_string(), Some(endpoint.clone()));
    assert_eq!(status.as_f64(), Some(400.0));
    assert_eq!(server_error.as_string().as_deref(), Some("invalid_grant"));
    assert_eq!(
        description.as_string().as_deref(),
        Some("the refresh token was revoked")
    );

    // A restore refused by a proxy's CSRF check: start() rejects with the 403 and its body.
    let server = Server::new(60.0);
    let (tm, _events) = manager(&server, json!({}));
    server.push(Answer::status(403, r#"{"error":"csrf"}"#));
    let error = settle(tm.start()).await.expect_err("refused");
    let msg = assert_tw_error(&error, "http_error");
    assert!(msg.ends_with("was refused: HTTP 403 csrf"), "{msg}");
    assert_eq!(get(&error, "status").as_f64(), Some(403.0));
    assert_eq!(
        get(&error, "serverError").as_string().as_deref(),
        Some("csrf")
    );
    assert_eq!(
        get(&error, "operation").as_string().as_deref(),
        Some("refresh")
    );
}

#[wasm_bindgen_test]
async fn errors_about_no_request_have_null_request_fields() {
    let server = Server::new(60.0);
    let error = TokenManager::new(options(&server, json!({"maxTokenBytes": 1})))
        .err()
        .expect("refused");
    assert_tw_error(&error, "invalid_options");
    assert_no_request(&error);
    let (tm, _events) = manager(&server, json!({}));
    let error = settle(tm.access_token()).await.expect_err("not exposed");
    assert_tw_error(&error, "token_not_exposed");
    assert_no_request(&error);
    tm.dispose();
    let error = settle(tm.refresh()).await.expect_err("disposed");
    assert_tw_error(&error, "disposed");
    assert_no_request(&error);
    let (tm, _events) = manager(&server, json!({}));
    settle(tm.logout()).await.expect("logout resolves");
    let error = settle(tm.refresh()).await.expect_err("signed out");
    assert_tw_error(&error, "not_signed_in");
    assert_no_request(&error);
}

#[wasm_bindgen_test]
async fn empty_urls_are_refused_naming_the_field() {
    let server = Server::new(60.0);
    for (field, value) in [
        ("refreshUrl", ""),
        ("refreshUrl", "   "),
        ("logoutUrl", ""),
        ("logoutUrl", " \t"),
    ] {
        let error = TokenManager::new(options(&server, json!({ field: value })))
            .err()
            .unwrap_or_else(|| panic!("{field}: {value:?} is refused"));
        let msg = assert_tw_error(&error, "invalid_options");
        assert!(msg.contains(&format!("`{field}`")), "{msg}");
        assert!(msg.contains("must not be empty"), "{msg}");
    }
    let (tm, _events) = manager(&server, json!({}));
    for value in ["", "  "] {
        let error = settle(tm.sign_in(s(value), JsValue::UNDEFINED))
            .await
            .expect_err("refused");
        let msg = assert_tw_error(&error, "invalid_options");
        assert!(
            msg.contains("`url`") && msg.contains("must not be empty"),
            "{msg}"
        );
    }
    assert_eq!(server.count(&server.url("/auth/login")), 0, "nothing sent");
    assert_eq!(tm.state(), "initial");
}

#[wasm_bindgen_test]
async fn on_after_dispose_throws_disposed() {
    let server = Server::new(60.0);
    let (tm, _events) = manager(&server, json!({}));
    tm.dispose();
    let handler = Closure::<dyn Fn()>::new(|| {}).into_js_value();
    let error = tm.on(s("state"), handler).expect_err("throws");
    assert_tw_error(&error, "disposed");
    assert_no_request(&error);
}

/// The `error` events the window gets (as `reportError` dispatches them), recorded and
/// kept from failing the test run; removed on drop.
struct ReportedErrors {
    seen: Rc<RefCell<Vec<JsValue>>>,
    listener: Closure<dyn FnMut(web_sys::Event)>,
}

impl ReportedErrors {
    fn listen() -> ReportedErrors {
        let seen = Rc::new(RefCell::new(Vec::new()));
        let log = seen.clone();
        let listener = Closure::<dyn FnMut(web_sys::Event)>::new(move |event: web_sys::Event| {
            event.prevent_default();
            log.borrow_mut().push(get(&event, "error"));
        });
        web_sys::window()
            .expect("a window")
            .add_event_listener_with_callback("error", listener.as_ref().unchecked_ref())
            .expect("listen");
        ReportedErrors { seen, listener }
    }

    fn messages(&self) -> Vec<String> {
        self.seen.borrow().iter().map(message).collect()
    }
}

impl Drop for ReportedErrors {
    fn drop(&mut self) {
        if let Some(window) = web_sys::window() {
            let _ = window.remove_event_listener_with_callback(
                "error",
                self.listener.as_ref().unchecked_ref(),
            );
        }
    }
}

fn throwing(text: &'static str) -> JsValue {
    Closure::<dyn Fn(JsValue) -> Result<(), JsValue>>::new(move |_| {
        Err(js_sys::Error::new(text).into())
    })
    .into_js_value()
}

#[wasm_bindgen_test]
async fn a_handler_that_throws_is_reported_and_the_others_still_run() {
    let reported = ReportedErrors::listen();
    let server = Server::new(60.0);
    let (tm, events) = manager(&server, json!({}));
    // Subscribed after `events`' handlers and before a second one of ours.
    tm.on(s("state"), throwing("handler bug"))
        .expect("subscribed");
    let later = Rc::new(RefCell::new(Vec::new()));
    let log = later.clone();
    let handler = Closure::<dyn FnMut(JsValue)>::new(move |state: JsValue| {
        log.borrow_mut().push(state.as_string().unwrap_or_default());
    });
    tm.on(s("state"), handler.into_js_value())
        .expect("subscribed");
    let phase = settle(tm.start()).await.expect("start resolves");
    assert_eq!(phase.as_string().as_deref(), Some("signed-in"));
    assert_eq!(
        *later.borrow(),
        ["restoring", "signed-in"],
        "the handler after it ran"
    );
    assert_eq!(events.states(), ["restoring", "signed-in"]);
    assert_eq!(
        reported.messages(),
        ["handler bug", "handler bug"],
        "one report per throw"
    );
    // The manager goes on.
    assert_eq!(fetch_status(&tm, "/api/me").await, 200);
    settle(tm.refresh()).await.expect("refreshes");
}

#[wasm_bindgen_test]
async fn a_call_that_waits_out_its_bound_names_its_own_request() {
    let server = Server::new(60.0);
    let (tm, _events) = manager(&server, json!({"requestTimeoutMs": 100}));
    server.push(Answer::hang());
    let error = settle(tm.fetch(s("/api/me?q=secret#frag"), JsValue::UNDEFINED))
        .await
        .expect_err("no token in time");
    let msg = assert_tw_error(&error, "token_expired");
    let endpoint = format!("{}/api/me", page_origin());
    assert_eq!(
        msg,
        format!("request at {endpoint}: no valid access token could be obtained in time")
    );
    let [operation, at, status, server_error, _] = fields(&error);
    assert_eq!(operation.as_string().as_deref(), Some("request"));
    assert_eq!(at.as_string(), Some(endpoint));
    assert!(status.is_null() && server_error.is_null());
}

#[wasm_bindgen_test]
async fn a_refused_logout_is_a_warning_that_names_the_endpoint_and_the_answer() {
    let server = Server::new(60.0);
    let logout = server.url("/auth/logout");
    let (tm, events) = signed_in(&server, json!({ "logoutUrl": logout })).await;
    server.logout_answer(Answer::status(403, r#"{"error":"csrf"}"#));
    settle(tm.logout()).await.expect("logout resolves");
    let warnings = events.all("warning");
    assert_eq!(warnings.len(), 1);
    assert_eq!(text(&warnings[0], "code"), "logout_failed");
    assert_eq!(
        text(&warnings[0], "message"),
        format!(
            "logout at {}{logout} was refused: HTTP 403 csrf; the session was cleared locally anyway",
            page_origin()
        )
    );
    assert_eq!(tm.state(), "signed-out");
}
