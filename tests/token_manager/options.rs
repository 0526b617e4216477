//! `new TokenManager(options)`: every bad option is `invalid_options` naming the field.

use serde_json::{json, Value};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

use token_warden::TokenManager;

use crate::support::*;

/// Asserts that `options` is refused with `invalid_options` naming `field`.
fn refused(options: JsValue, field: &str) {
    let label = format!("{options:?}");
    let error = match TokenManager::new(options) {
        Ok(_) => panic!("{label} was accepted"),
        Err(error) => error,
    };
    let msg = assert_tw_error(&error, "invalid_options");
    assert!(
        msg.contains(&format!("`{field}`")),
        "{label}: {msg} names {field}"
    );
}

fn with_refresh(extra: Value) -> JsValue {
    let mut o = json!({"refreshUrl": "/auth/refresh"});
    if let (Some(o), Some(extra)) = (o.as_object_mut(), extra.as_object()) {
        o.extend(extra.clone());
    }
    js(&o)
}

#[wasm_bindgen_test]
fn an_unknown_option_is_refused_by_name() {
    refused(with_refresh(json!({"refreshURL": "/r"})), "refreshURL");
    refused(
        with_refresh(json!({"retry": {"maxAttempt": 3}})),
        "retry.maxAttempt",
    );
}

#[wasm_bindgen_test]
fn a_bad_number_is_refused_by_name() {
    refused(
        with_refresh(json!({"refreshLeadSeconds": -1})),
        "refreshLeadSeconds",
    );
    refused(
        with_refresh(json!({"requestTimeoutMs": "fast"})),
        "requestTimeoutMs",
    );
    refused(
        with_refresh(json!({"retry": {"maxAttempts": 0}})),
        "retry.maxAttempts",
    );
    refused(
        with_refresh(json!({"retry": {"baseDelayMs": 5000, "maxDelayMs": 1000}})),
        "retry.baseDelayMs",
    );
    refused(with_refresh(json!({"maxTokenBytes": 8})), "maxTokenBytes");
    refused(
        with_refresh(json!({"defaultLifetimeSeconds": 0})),
        "defaultLifetimeSeconds",
    );
    refused(
        with_refresh(json!({"maxRefreshesPerMinute": 1e9})),
        "maxRefreshesPerMinute",
    );
    let nan = object(&[
        ("refreshUrl", JsValue::from_str("/r")),
        ("requestTimeoutMs", JsValue::from_f64(f64::NAN)),
    ]);
    refused(nan, "requestTimeoutMs");
}

#[wasm_bindgen_test]
fn a_bad_csrf_header_is_refused() {
    for csrf in [
        json!({"name": "Bad Header", "value": "x"}),
        json!({"name": "Cookie", "value": "x"}),
        json!({"name": "authorization", "value": "x"}),
        json!({"name": "X-A", "value": "bad\n"}),
        json!({"name": "X-A", "value": ""}),
        json!({"name": "X-A"}),
        json!("X-Requested-With"),
    ] {
        refused(with_refresh(json!({"csrfHeader": csrf})), "csrfHeader");
    }
}

#[wasm_bindgen_test]
fn a_missing_or_bad_refresh_url_is_refused() {
    refused(js(&json!({})), "refreshUrl");
    refused(js(&json!({"refreshUrl": 5})), "refreshUrl");
    refused(
        js(&json!({"refreshUrl": "javascript:alert(1)"})),
        "refreshUrl",
    );
    refused(
        with_refresh(json!({"logoutUrl": "ftp://files.example"})),
        "logoutUrl",
    );
    refused(JsValue::NULL, "options");
    refused(js(&json!([])), "options");
}

#[wasm_bindgen_test]
fn bad_allowed_origins_are_refused() {
    refused(
        with_refresh(json!({"allowedOrigins": "https://a.example"})),
        "allowedOrigins",
    );
    refused(
        with_refresh(json!({"allowedOrigins": ["https://a.example/path"]})),
        "allowedOrigins",
    );
    refused(
        with_refresh(json!({"allowedOrigins": ["*"]})),
        "allowedOrigins",
    );
    refused(
        with_refresh(json!({"allowedOrigins": ["https://*.example.com"]})),
        "allowedOrigins",
    );
    refused(
        with_refresh(json!({"allowedOrigins": ["ftp://a.example"]})),
        "allowedOrigins",
    );
    refused(
        with_refresh(json!({"exposeAccessToken": "yes"})),
        "exposeAccessToken",
    );
}

#[wasm_bindgen_test]
fn options_at_the_edges_of_their_ranges_are_accepted() {
    let full = with_refresh(json!({
        "logoutUrl": "/auth/logout",
        "allowedOrigins": [page_origin(), "https://api.example.com"],
        "refreshLeadSeconds": 0,
        "csrfHeader": {"name": "X-CSRF-Token", "value": "v"},
        "requestTimeoutMs": 1,
        "retry": {"maxAttempts": 1, "baseDelayMs": 1, "maxDelayMs": 1},
        "defaultLifetimeSeconds": 60,
        "maxTokenBytes": 16,
        "exposeAccessToken": false,
        "maxRefreshesPerMinute": 1,
    }));
    let tm = TokenManager::new(full).expect("every option at an edge of its range");
    assert_eq!(tm.state(), "initial");
}

/// `refreshUrl: string | URL` (types.d.ts): a `URL` object is a URL.
#[wasm_bindgen_test]
fn a_url_object_is_accepted_as_refresh_url() {
    let url = web_sys::Url::new(&format!("{}/auth/refresh", page_origin())).unwrap();
    let options = object(&[("refreshUrl", url.into())]);
    match TokenManager::new(options) {
        Ok(tm) => assert_eq!(tm.state(), "initial"),
        Err(error) => panic!("refused: {} / {}", text(&error, "name"), message(&error)),
    }
}
