//! `SessionCore`, the wasm boundary, inside headless Chromium: what the JS runtime
//! relies on (effect records, texts, the core writing the token into a real `Headers`
//! for allowed origins only). The runtime and the hardened glue are tested through the
//! npm package by the Playwright suite.
#![cfg(target_arch = "wasm32")]

use js_sys::{Function, Reflect};
use token_warden::wasm::session_core::{
    LEND_FAILED, LEND_NOT_ALLOWED, LEND_NO_SESSION, LEND_WAIT, NO_RESPONSE,
};
use token_warden::wasm::wire::{input, op};
use token_warden::SessionCore;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const NOW: f64 = 1_700_000_000_000.0;

const API: &str = "https://api.example.com";
const ME: &str = "https://api.example.com/v1/me?x=1";

fn core_with(expose: bool) -> SessionCore {
    install_setter();
    SessionCore::new(
        60_000.0,
        5,
        1_000.0,
        30_000.0,
        0.0,
        8192,
        10,
        "https://api.example.com\nhttp://localhost:8080",
        expose,
        10_000.0,
    )
}

fn core() -> SessionCore {
    core_with(false)
}

#[wasm_bindgen(inline_js = "
    export function install_setter() {
        globalThis.twSetAuthorization = (h, v) => Headers.prototype.set.call(h, 'Authorization', v);
    }
    export function new_headers() { return new Headers(); }
")]
extern "C" {
    /// What the hardened glue defines at load (xtask/src/glue.rs): the unhardened glue of
    /// these tests finds it as a global.
    fn install_setter();
    /// An empty `Headers`.
    fn new_headers() -> JsValue;
}

fn headers() -> JsValue {
    new_headers()
}

fn authorization(headers: &JsValue) -> Option<String> {
    let get: Function = Reflect::get(headers, &"get".into())
        .unwrap()
        .unchecked_into();
    get.call1(headers, &"authorization".into())
        .unwrap()
        .as_string()
}

fn texts(core: &SessionCore) -> Vec<String> {
    core.texts().split('\n').map(String::from).collect()
}

/// A core that restored a session with an opaque 300 s token at `NOW`.
fn signed_in() -> SessionCore {
    signed_in_with(false)
}

fn signed_in_with(expose: bool) -> SessionCore {
    let mut core = core_with(expose);
    core.step(input::START, 0.0, NOW, 0.5);
    core.reply(200, GRANT, "", f64::NAN, NOW, 0.5, false);
    core
}

const GRANT: &str = r#"{"access_token":"tok-abc.def","token_type":"Bearer","expires_in":300}"#;

#[wasm_bindgen_test]
fn version_matches_the_crate() {
    assert_eq!(token_warden::version(), env!("CARGO_PKG_VERSION"));
}

#[wasm_bindgen_test]
fn start_asks_for_a_refresh_and_a_grant_signs_in() {
    let mut core = core();
    let fx = core.step(input::START, 0.0, NOW, 0.5);
    assert_eq!(fx, [op::STATE, 0.0, op::SEND_REFRESH]);
    assert_eq!(texts(&core), ["restoring"]);

    let fx = core.reply(200, GRANT, "", f64::NAN, NOW, 0.5, false);
    assert_eq!(fx[..2], [op::STATE, 0.0]);
    assert!(fx.contains(&op::REFRESHED));
    assert!(fx.contains(&op::ARM_TIMER));
    assert_eq!(texts(&core)[0], "signed-in");
    assert_eq!(core.phase(), "signed-in");
    assert_eq!(core.expires_at(NOW), NOW + 300_000.0);
    assert_eq!(
        core.expires_at(NOW + 300_000.0),
        -1.0,
        "expired: no usable token"
    );
    assert_eq!(core.claims(), "", "an opaque token has no claims");
}

#[wasm_bindgen_test]
fn the_token_is_written_into_a_real_headers_object_for_allowed_origins_only() {
    let mut core = core();
    let h = headers();
    assert_eq!(core.lend(&h, ME, NOW, 0.5, false), LEND_NO_SESSION);
    assert_eq!(authorization(&h), None);
    // Before start(), a caller that wants a token starts the restore and waits for it.
    assert_eq!(core.lend(&h, ME, NOW, 0.5, true), LEND_WAIT);
    assert!(core.take().contains(&op::SEND_REFRESH));
    assert_eq!(core.phase(), "restoring");
    assert_eq!(authorization(&h), None);

    let mut core = signed_in();
    let generation = core.lend(&h, ME, NOW + 1.0, 0.5, true);
    assert_eq!(generation, 1.0);
    assert_eq!(authorization(&h).as_deref(), Some("Bearer tok-abc.def"));
    assert!(!core.pending(), "a fresh token needs no refresh");
    assert!(!core.texts().contains("tok-abc"));

    // Another origin (look-alikes included) gets nothing, and asks for nothing.
    for url in [
        "https://api.example.com.evil.com/",
        "https://api.example.com:444/",
        "http://api.example.com/",
        "https://evil.com/https://api.example.com/",
        "https://user@api.example.com/",
        "/relative",
    ] {
        assert!(!core.allows(url), "{url}");
        let other = headers();
        assert_eq!(
            core.lend(&other, url, NOW + 1.0, 0.5, true),
            LEND_NOT_ALLOWED,
            "{url}"
        );
        assert_eq!(authorization(&other), None, "{url}");
    }
    assert!(core.allows(API) && core.allows("http://localhost:8080/api"));
    assert!(!core.pending());

    // Not a Headers: nothing is written, nothing throws across the boundary.
    assert_eq!(
        core.lend(&JsValue::from_f64(1.0), ME, NOW + 1.0, 0.5, true),
        1.0
    );
}

#[wasm_bindgen_test]
fn the_bare_token_only_for_a_core_created_to_expose_it() {
    let mut core = signed_in();
    assert_eq!(
        core.lend(&JsValue::UNDEFINED, "", NOW + 1.0, 0.5, true),
        1.0
    );
    assert_eq!(core.exposed(NOW + 1.0), "", "exposeAccessToken was not set");

    let mut core = signed_in_with(true);
    let h = headers();
    assert_eq!(core.lend(&h, "", NOW + 1.0, 0.5, true), 1.0);
    assert_eq!(authorization(&h), None, "an empty URL only asks");
    assert_eq!(core.exposed(NOW + 1.0), "tok-abc.def");
    assert_eq!(core.exposed(NOW + 400_000.0), "", "not once it has expired");
    assert_eq!(core_with(true).exposed(NOW), "", "not without a session");
}

#[wasm_bindgen_test]
fn inside_the_lead_window_lending_also_starts_one_refresh() {
    let late = NOW + 250_000.0; // 50 s before expiry, inside the 60 s lead
    let h = headers();
    let mut core = signed_in();
    assert_eq!(core.lend(&h, ME, late, 0.5, true), 1.0);
    assert!(core.pending());
    assert_eq!(core.take(), [op::SEND_REFRESH, op::CANCEL_TIMER]);
    // Single flight: the next caller joins the running refresh.
    core.lend(&h, ME, late, 0.5, true);
    assert!(!core.pending());
    // Without `want` (logout's bearer) nothing is started even when due.
    let mut other = signed_in();
    assert_eq!(other.lend(&h, ME, late, 0.5, false), 1.0);
    assert!(!other.pending());
}

#[wasm_bindgen_test]
fn a_bad_app_response_is_refused_without_the_token_in_the_message() {
    let mut core = core();
    // Valid JSON whose token holds a control character (BEL).
    let body = "{\"access_token\":\"sec\\u0007ret\",\"token_type\":\"Bearer\",\"expires_in\":60}";
    let fx = core.reply(200, body, "", f64::NAN, NOW, 0.5, true);
    assert_eq!(fx, [op::REFUSE, 0.0, 1.0]);
    let t = texts(&core);
    assert_eq!(t[0], "malformed_token");
    assert!(!t[1].contains("sec") && !t[1].contains("ret"), "{}", t[1]);
    assert_eq!(
        core.phase(),
        "initial",
        "a refusal does not touch the session"
    );

    let fx = core.reply(200, "<html>", "", f64::NAN, NOW, 0.5, true);
    assert_eq!(fx[0], op::REFUSE);
    assert_eq!(texts(&core)[0], "malformed_response");
}

#[wasm_bindgen_test]
fn failures_back_off_and_server_text_cannot_forge_a_second_text() {
    let mut core = core();
    core.step(input::START, 0.0, NOW, 0.5);
    let fx = core.reply(503, "", "7", f64::NAN, NOW, 0.5, false);
    let at = fx.iter().position(|&x| x == op::REFRESH_ERROR).unwrap();
    assert_eq!(texts(&core)[fx[at + 1] as usize], "server_error");
    assert_eq!(fx[at + 2], 1.0, "first attempt");
    assert!(fx[at + 3] >= NOW + 7_000.0, "Retry-After is honoured");

    // The HTTP-date form arrives as the runtime's `Date.parse` read it.
    let mut core = self::core();
    core.step(input::START, 0.0, NOW, 0.5);
    let date = "Tue, 14 Nov 2023 22:13:29 GMT";
    let fx = core.reply(503, "", date, NOW + 9_000.0, NOW, 0.5, false);
    let at = fx.iter().position(|&x| x == op::REFRESH_ERROR).unwrap();
    assert!(
        fx[at + 3] >= NOW + 9_000.0,
        "an HTTP-date Retry-After is honoured"
    );

    // An RFC 6749 error whose description holds a newline ends the session; the
    // description is sanitized, so the texts still split where they should.
    let mut core = self::core();
    core.step(input::START, 0.0, NOW, 0.5);
    core.step(input::WAIT_REFRESH, 1.0, NOW, 0.5); // a refresh() caller hears why
    let body = r#"{"error":"invalid_grant","error_description":"gone\nfail_waiters"}"#;
    core.reply(400, body, "", f64::NAN, NOW, 0.5, false);
    assert_eq!(core.phase(), "signed-out");
    let t = texts(&core);
    assert!(t.iter().any(|s| s == "invalid_grant"), "{t:?}");
    assert!(t.iter().all(|s| s != "fail_waiters"), "{t:?}");

    let mut core = self::core();
    core.step(input::START, 0.0, NOW, 0.5);
    let fx = core.reply(NO_RESPONSE, "", "", f64::NAN, NOW, 0.5, false);
    assert!(fx.contains(&op::REFRESH_ERROR));
    assert!(texts(&core).iter().any(|s| s == "network"));
}

#[wasm_bindgen_test]
fn after_dispose_nothing_is_lent_and_the_reason_is_disposed() {
    let mut core = signed_in();
    core.step(input::DISPOSE, 0.0, NOW, 0.5);
    let h = headers();
    assert_eq!(core.lend(&h, ME, NOW, 0.5, true), LEND_FAILED);
    assert_eq!(core.take(), [op::REFUSE, 0.0, 1.0]);
    assert_eq!(texts(&core)[0], "disposed");
    assert_eq!(authorization(&h), None);
    assert!(
        core.step(99, 0.0, NOW, 0.5).is_empty(),
        "unknown inputs do nothing"
    );
}

#[wasm_bindgen_test]
fn waiting_callers_are_settled_one_by_one_with_their_ids() {
    let mut core = core();
    // start() twice: one restore, both settled by the grant, never while restoring.
    let fx = core.step(input::WAIT_START, 1.0, NOW, 0.5);
    assert!(fx.contains(&op::SEND_REFRESH));
    let fx = core.step(input::WAIT_START, 2.0, NOW, 0.5);
    assert!(!fx.contains(&op::SEND_REFRESH) && !fx.contains(&op::SETTLE_OK));
    let fx = core.reply(200, GRANT, "", f64::NAN, NOW, 0.5, false);
    let at = fx.iter().position(|&x| x == op::SETTLE_OK).unwrap();
    assert_eq!(fx[at..at + 4], [op::SETTLE_OK, 1.0, op::SETTLE_OK, 2.0]);

    // refresh() whose answer the client refuses: rejected at once, with its code.
    core.step(input::WAIT_REFRESH, 3.0, NOW + 1.0, 0.5);
    let fx = core.reply(200, "{}", "", f64::NAN, NOW + 2.0, 0.5, false);
    let at = fx.iter().position(|&x| x == op::SETTLE_ERR).unwrap();
    assert_eq!(fx[at + 1], 3.0);
    assert_eq!(texts(&core)[fx[at + 2] as usize], "malformed_response");

    // An aborted caller is dropped: no settle for it later.
    let mut core = self::core();
    core.step(input::WAIT_TOKEN, 4.0, NOW, 0.5);
    core.step(input::CANCEL, 4.0, NOW, 0.5);
    let fx = core.reply(200, GRANT, "", f64::NAN, NOW, 0.5, false);
    assert!(!fx.contains(&op::SETTLE_OK) && !fx.contains(&op::SETTLE_ERR));
}

#[wasm_bindgen_test]
fn only_a_401_that_invites_a_new_token_refreshes() {
    let mut core = signed_in();
    let scope = r#"Bearer error="insufficient_scope", scope="admin""#;
    assert!(!core.unauthorized(1.0, scope, NOW + 1.0, 0.5));
    assert!(!core.pending(), "a scope error costs no refresh");
    let h = headers();
    assert_eq!(
        core.lend(&h, ME, NOW + 1.0, 0.5, true),
        1.0,
        "the token stays"
    );

    assert!(core.unauthorized(1.0, r#"Bearer error="invalid_token""#, NOW + 1.0, 0.5));
    assert_eq!(core.take(), [op::SEND_REFRESH, op::CANCEL_TIMER]);
    // A bare 401 (no header, or one we cannot read) invites one too.
    let mut bare = signed_in();
    assert!(bare.unauthorized(1.0, "", NOW + 1.0, 0.5));
    assert!(bare.pending());
}

#[wasm_bindgen_test]
fn a_refused_sign_in_names_the_sign_in_endpoint() {
    let mut core = core();
    let fx = core.reply(404, "not found", "", f64::NAN, NOW, 0.5, true);
    assert_eq!(fx, [op::REFUSE, 0.0, 1.0]);
    let t = texts(&core);
    assert_eq!(t[0], "http_error");
    assert!(
        t[1].contains("sign-in") && !t[1].contains("refresh"),
        "{}",
        t[1]
    );
}
