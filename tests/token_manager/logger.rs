//! The debug log: the expected entries appear, and no token ever reaches the logger.

use std::cell::RefCell;
use std::rc::Rc;

use serde_json::json;
use token_warden::TokenManager;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::wasm_bindgen_test;

use crate::support::*;

/// Every entry a `logger` got, as JSON text.
#[derive(Clone, Default)]
struct Log(Rc<RefCell<Vec<String>>>);

impl Log {
    /// The `logger` option feeding this log.
    fn logger(&self) -> JsValue {
        let entries = self.0.clone();
        Closure::<dyn FnMut(JsValue)>::new(move |entry: JsValue| {
            let text = js_sys::JSON::stringify(&entry)
                .ok()
                .and_then(|t| t.as_string())
                .unwrap_or_default();
            entries.borrow_mut().push(text);
        })
        .into_js_value()
    }

    fn all(&self) -> Vec<String> {
        self.0.borrow().clone()
    }

    fn has(&self, fragment: &str) -> bool {
        self.0.borrow().iter().any(|e| e.contains(fragment))
    }
}

fn with_logger(server: &Server, log: &Log, extra: serde_json::Value) -> TokenManager {
    let options = options(server, extra);
    js_sys::Reflect::set(&options, &JsValue::from_str("logger"), &log.logger()).expect("set");
    TokenManager::new(options).expect("valid options")
}

/// The tokens the server minted carry the server's prefix; accepted ones are listed.
fn assert_no_secret(log: &Log, server: &Server, secrets: &[String]) {
    let prefix = format!("tok{}-", server.url("").trim_start_matches('/'));
    for entry in log.all() {
        assert!(!entry.contains(&prefix), "a minted token in {entry}");
        assert!(!entry.contains("abcdef"), "a token in {entry}");
        for secret in secrets {
            assert!(!entry.contains(secret.as_str()), "{secret} in {entry}");
        }
        assert!(!entry.contains("Bearer"), "a header value in {entry}");
        assert!(!entry.contains("access_token"), "a body in {entry}");
    }
}

#[wasm_bindgen_test]
async fn every_flow_is_logged_and_no_token_reaches_the_logger() {
    let server = Server::new(60.0);
    let log = Log::default();
    let tm = with_logger(
        &server,
        &log,
        json!({ "logoutUrl": server.url("/auth/logout") }),
    );
    let origin = page_origin();
    let refresh = format!("{origin}{}", server.refresh_path());

    // Restore.
    settle(tm.start()).await.expect("restores");
    assert!(
        log.has(r#"{"type":"waiting","want":"start","count":1}"#),
        "{:?}",
        log.all()
    );
    assert!(
        log.has(&format!(
            r#"{{"type":"sent","operation":"refresh","endpoint":"{refresh}","attempt":1}}"#
        )),
        "{:?}",
        log.all()
    );
    assert!(log.has(r#"{"type":"answered","operation":"refresh","status":200,"outcome":"ok"}"#));
    assert!(log.has(r#"{"type":"state","state":"restoring"}"#));
    assert!(log.has(r#"{"type":"state","state":"signed-in"}"#));
    assert!(log.has(r#"{"type":"refresh-scheduled","at":"#));
    assert!(log.has(r#"{"type":"tab-message","direction":"posted","message":"signed-in"}"#));

    // Requests: with the bearer, to another origin, with the app's own Authorization.
    assert_eq!(fetch_status(&tm, "/api/me").await, 200);
    assert!(log.has(&format!(
        r#"{{"type":"request","origin":"{origin}","bearer":true,"reason":"token"}}"#
    )));
    let _ = settle(tm.fetch(
        JsValue::from_str("https://elsewhere.example/x?q=secret-query"),
        JsValue::UNDEFINED,
    ))
    .await;
    assert!(log.has(r#"{"type":"request","origin":"https://elsewhere.example","bearer":false,"reason":"not-allowed"}"#));
    assert!(!log.has("secret-query"), "no query in the log");
    let init = object(&[(
        "headers",
        object(&[(
            "Authorization",
            JsValue::from_str("Basic c2VjcmV0LWhlYWRlcg=="),
        )]),
    )]);
    let _ = settle(tm.fetch(JsValue::from_str("/api/me"), init)).await;
    assert!(log.has(r#""bearer":false,"reason":"has-authorization"}"#));
    assert!(!log.has("c2VjcmV0LWhlYWRlcg"), "no header value in the log");

    // A 401 retry.
    server.revoke_current();
    assert_eq!(fetch_status(&tm, "/api/me").await, 200);
    assert!(log.has(&format!(
        r#"{{"type":"unauthorized-retry","origin":"{origin}"}}"#
    )));
    assert!(log.has(r#"{"type":"waiting","want":"token","count":1}"#));

    // A retried refresh, then one that gives up.
    server.push(Answer::unavailable());
    settle(tm.refresh()).await.expect("refreshes after a retry");
    assert!(log
        .has(r#"{"type":"answered","operation":"refresh","status":503,"outcome":"server_error"}"#));
    assert!(log.has(r#"{"type":"retry-scheduled","attempt":1,"code":"server_error","at":"#));
    assert!(log.has(r#""attempt":2}"#), "the second attempt is numbered");

    server.always(Some(Answer::unavailable()));
    settle(tm.refresh()).await.expect_err("gives up");
    server.always(None);
    assert!(
        log.has(r#"{"type":"gave-up","attempt":5,"code":"server_error"}"#),
        "{:?}",
        log.all()
    );

    // Sign-in and acceptTokenResponse.
    let login = server.url("/auth/login");
    let _ = settle(tm.sign_in(
        JsValue::from_str(&login),
        object(&[("body", JsValue::from_str(r#"{"password":"pw-secret-42"}"#))]),
    ))
    .await
    .expect("signed in");
    assert!(log.has(&format!(
        r#"{{"type":"sent","operation":"sign-in","endpoint":"{origin}{login}","attempt":null}}"#
    )));
    assert!(log.has(r#"{"type":"answered","operation":"sign-in","status":200,"outcome":"ok"}"#));
    let accepted = String::from("accepted-secret-token-0123456789");
    tm.accept_token_response(js(
        &json!({"access_token": accepted, "token_type": "Bearer", "expires_in": 60}),
    ))
    .expect("accepted");

    // A second manager of the same app hears this one's tab messages.
    let log2 = Log::default();
    let other = with_logger(&server, &log2, json!({}));
    settle(tm.logout()).await.expect("logged out");
    assert!(log.has(r#"{"type":"sent","operation":"logout""#));
    assert!(log.has(r#"{"type":"answered","operation":"logout","status":204,"outcome":"ok"}"#));
    assert!(log.has(r#"{"type":"session-ended","reason":"logout"}"#));
    assert!(log.has(r#"{"type":"state","state":"signed-out"}"#));
    drop(other);

    // An error flow: a refused restore.
    let log3 = Log::default();
    let third = with_logger(&server, &log3, json!({}));
    server.push(Answer::invalid_grant());
    let _ = settle(third.start()).await;
    assert!(log3.has(
        r#"{"type":"answered","operation":"refresh","status":400,"outcome":"invalid_grant"}"#
    ));
    assert!(log3.has(r#"{"type":"state","state":"signed-out"}"#));

    let secrets = [accepted, "pw-secret-42".to_owned()];
    assert_no_secret(&log, &server, &secrets);
    assert_no_secret(&log2, &server, &secrets);
    assert_no_secret(&log3, &server, &secrets);
    assert!(log.all().len() > 20, "{} entries", log.all().len());
}

#[wasm_bindgen_test]
async fn tab_messages_are_logged_both_ways() {
    let server = Server::new(60.0);
    let (log1, log2) = (Log::default(), Log::default());
    let first = with_logger(&server, &log1, json!({}));
    let second = with_logger(&server, &log2, json!({}));
    settle(first.start()).await.expect("restores");
    assert!(
        wait_for(
            || log2.has(r#"{"type":"tab-message","direction":"heard","message":"signed-in"}"#),
            2000.0
        )
        .await,
        "{:?}",
        log2.all()
    );
    settle(first.logout()).await.expect("logged out");
    assert!(
        wait_for(
            || log2.has(r#""direction":"heard","message":"ended"}"#),
            2000.0
        )
        .await
    );
    assert!(log1.has(r#""direction":"posted","message":"ended"}"#));
    assert_no_secret(&log1, &server, &[]);
    assert_no_secret(&log2, &server, &[]);
    drop(second);
}

#[wasm_bindgen_test]
async fn a_logger_that_throws_breaks_nothing() {
    let server = Server::new(60.0);
    let options = options(&server, json!({}));
    let calls = Rc::new(RefCell::new(0));
    let count = calls.clone();
    let logger = Closure::<dyn FnMut(JsValue) -> Result<(), JsValue>>::new(move |_| {
        *count.borrow_mut() += 1;
        Err(js_sys::Error::new("logger bug").into())
    });
    js_sys::Reflect::set(
        &options,
        &JsValue::from_str("logger"),
        &logger.into_js_value(),
    )
    .expect("set");
    // The reports go to the window's `error` event; keep them from failing the run.
    let swallow =
        Closure::<dyn FnMut(web_sys::Event)>::new(|e: web_sys::Event| e.prevent_default());
    let window = web_sys::window().expect("a window");
    window
        .add_event_listener_with_callback("error", swallow.as_ref().unchecked_ref())
        .expect("listen");
    let tm = TokenManager::new(options).expect("valid");
    let events = Events::of(&tm);
    settle(tm.start()).await.expect("restores");
    assert_eq!(fetch_status(&tm, "/api/me").await, 200);
    settle(tm.refresh()).await.expect("refreshes");
    assert!(*calls.borrow() > 5);
    assert_eq!(events.states(), ["restoring", "signed-in"]);
    let _ = window.remove_event_listener_with_callback("error", swallow.as_ref().unchecked_ref());
}

#[wasm_bindgen_test]
async fn debug_true_logs_to_console_debug_with_the_prefix() {
    let server = Server::new(60.0);
    let console =
        js_sys::Reflect::get(&js_sys::global(), &JsValue::from_str("console")).expect("console");
    let original =
        js_sys::Reflect::get(&console, &JsValue::from_str("debug")).expect("console.debug");
    let seen = Rc::new(RefCell::new(Vec::<(String, String)>::new()));
    let log = seen.clone();
    let spy =
        Closure::<dyn FnMut(JsValue, JsValue)>::new(move |prefix: JsValue, entry: JsValue| {
            let text = js_sys::JSON::stringify(&entry)
                .ok()
                .and_then(|t| t.as_string())
                .unwrap_or_default();
            log.borrow_mut()
                .push((prefix.as_string().unwrap_or_default(), text));
        });
    js_sys::Reflect::set(&console, &JsValue::from_str("debug"), spy.as_ref()).expect("spy");
    let tm = TokenManager::new(options(&server, json!({"debug": true}))).expect("valid");
    let outcome = settle(tm.start()).await;
    js_sys::Reflect::set(&console, &JsValue::from_str("debug"), &original).expect("restore");
    outcome.expect("restores");
    let seen = seen.borrow();
    assert!(!seen.is_empty());
    assert!(seen.iter().all(|(prefix, _)| prefix == "token-warden"));
    assert!(seen.iter().any(|(_, e)| e.contains(r#""type":"state""#)));
    assert!(seen.iter().all(|(_, e)| !e.contains("abcdef")), "no token");
    let error = TokenManager::new(options(&server, json!({"debug": "yes"})))
        .err()
        .expect("refused");
    assert!(assert_tw_error(&error, "invalid_options").contains("`debug`"));
    let error = TokenManager::new(options(&server, json!({"logger": 5})))
        .err()
        .expect("refused");
    assert!(assert_tw_error(&error, "invalid_options").contains("`logger`"));
}
