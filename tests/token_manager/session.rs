//! The session: restore, schedule, expiry, claims, the exposed token, dispose.

use serde_json::json;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

use crate::support::*;

#[wasm_bindgen_test]
async fn start_restores_the_session_through_the_refresh_cookie() {
    let server = Server::new(60.0);
    let (tm, events) = manager(&server, json!({}));
    assert_eq!(tm.state(), "initial");
    assert!(tm.expires_at().is_null(), "no expiry before start");
    let before = js_sys::Date::now();
    let phase = settle(tm.start()).await.expect("start resolves");
    assert_eq!(phase.as_string().as_deref(), Some("signed-in"));
    assert_eq!(tm.state(), "signed-in");
    assert_eq!(events.states(), ["restoring", "signed-in"]);
    assert_eq!(server.refreshes(), 1);
    let expires = tm.expires_at().as_f64().expect("an expiry while signed in");
    assert!(
        expires > before + 50_000.0 && expires <= js_sys::Date::now() + 60_000.0,
        "expiresAt {expires}"
    );
    let refreshed = events.all("refreshed");
    assert_eq!(refreshed.len(), 1);
    assert_eq!(number(&refreshed[0], "expiresAt"), expires);
}

#[wasm_bindgen_test]
async fn no_refresh_cookie_means_signed_out_not_an_exception() {
    let server = Server::new(60.0);
    server.push(Answer::status(401, r#"{"error":"invalid_grant"}"#));
    let (tm, events) = manager(&server, json!({}));
    let phase = settle(tm.start())
        .await
        .expect("start resolves, not rejects");
    assert_eq!(phase.as_string().as_deref(), Some("signed-out"));
    assert_eq!(tm.state(), "signed-out");
    assert!(tm.expires_at().is_null(), "no expiry while signed out");
    assert!(tm.claims().is_null());
    assert!(
        events.ended().is_empty(),
        "nothing ended: there was no session"
    );
    assert_eq!(fetch_status(&tm, "/api/me").await, 401);
    assert_eq!(
        server.auth_of("/api/me"),
        [None],
        "no bearer while signed out"
    );
    assert_eq!(
        server.refreshes(),
        1,
        "a request while signed out does not refresh"
    );
}

#[wasm_bindgen_test]
async fn concurrent_starts_join_one_restore() {
    let server = Server::new(60.0);
    server.push(Answer::token().delay(50));
    let (tm, _events) = manager(&server, json!({}));
    let (a, b) = (tm.start(), tm.start());
    let (a, b) = (settle(a).await, settle(b).await);
    assert_eq!(
        a.ok().and_then(|v| v.as_string()).as_deref(),
        Some("signed-in")
    );
    assert_eq!(
        b.ok().and_then(|v| v.as_string()).as_deref(),
        Some("signed-in")
    );
    sleep(200).await;
    assert_eq!(server.refreshes(), 1, "one restore for both");
    assert_eq!(server.max_in_flight(), 1);
}

#[wasm_bindgen_test]
async fn a_short_lived_token_is_refreshed_before_it_expires_without_calls() {
    let server = Server::new(2.0);
    // The lead (60 s by default) is capped at half the lifetime: the timer refreshes
    // about 1 s in, with no call from the app.
    let (tm, events) = signed_in(&server, json!({})).await;
    let first = tm.expires_at().as_f64().expect("an expiry");
    let refreshed_at = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let log = refreshed_at.clone();
    let handler = wasm_bindgen::closure::Closure::<dyn FnMut(JsValue)>::new(move |_| {
        log.borrow_mut().push(js_sys::Date::now());
    });
    let _off = tm
        .on(JsValue::from_str("refreshed"), handler.into_js_value())
        .unwrap();
    assert!(
        wait_for(|| server.refreshes() >= 2, 3_000.0).await,
        "the timer refreshed"
    );
    assert_eq!(server.refreshes(), 2, "exactly one scheduled refresh");
    assert_eq!(events.all("refreshed").len(), 2);
    let at = refreshed_at.borrow()[0];
    assert!(
        at < first,
        "the refresh landed before the old token expired"
    );
    let second = tm.expires_at().as_f64().expect("an expiry");
    assert!(second > first, "a later expiry");
    assert_eq!(tm.state(), "signed-in");
    assert_eq!(fetch_status(&tm, "/api/me").await, 200);
    assert_eq!(server.auth_of("/api/me"), [server.bearer()]);
}

#[wasm_bindgen_test]
async fn claims_are_the_jwt_payload_and_null_for_opaque_tokens() {
    let server = Server::new(60.0);
    let (tm, _events) = signed_in(&server, json!({})).await;
    assert!(tm.claims().is_null(), "an opaque token has no claims");
    let exp = (js_sys::Date::now() / 1000.0).floor() + 120.0;
    let token = jwt(&json!({"sub": "user-7", "exp": exp, "scope": "read"}));
    let phase = tm
        .accept_token_response(js(&json!({"access_token": token, "token_type": "Bearer"})))
        .expect("a JWT with exp needs no expires_in");
    assert_eq!(phase, "signed-in");
    let claims = tm.claims();
    assert_eq!(text(&claims, "sub"), "user-7");
    assert_eq!(text(&claims, "scope"), "read");
    assert_eq!(number(&claims, "exp"), exp);
    assert_eq!(
        tm.expires_at().as_f64(),
        Some(exp * 1000.0),
        "exp sets the expiry"
    );
    let _ = settle(tm.logout()).await;
    assert!(tm.claims().is_null(), "no claims once signed out");
}

#[wasm_bindgen_test]
async fn the_raw_token_is_only_for_apps_that_opt_in() {
    let server = Server::new(60.0);
    let (tm, _events) = signed_in(&server, json!({})).await;
    let refused = settle(tm.access_token())
        .await
        .expect_err("not exposed by default");
    let msg = assert_tw_error(&refused, "token_not_exposed");
    assert!(
        !msg.contains(&server.current().unwrap()),
        "no token in the message"
    );

    let server = Server::new(60.0);
    let (tm, _events) = manager(&server, json!({"exposeAccessToken": true}));
    let before = settle(tm.access_token()).await;
    // Before start, asking for the token begins the restore and gets its token.
    let token = before.expect("a token after the restore it began");
    assert_eq!(token.as_string(), server.current());
    assert_eq!(server.refreshes(), 1);
    let again = settle(tm.access_token()).await.expect("the token");
    assert_eq!(again.as_string(), server.current());
    let _ = settle(tm.logout()).await;
    let gone = settle(tm.access_token()).await.expect_err("signed out");
    assert_tw_error(&gone, "not_signed_in");
}

#[wasm_bindgen_test]
async fn dispose_cancels_timers_and_later_calls_reject_disposed() {
    let server = Server::new(1.0);
    let (tm, events) = signed_in(&server, json!({})).await;
    tm.dispose();
    assert_eq!(tm.state(), "disposed");
    assert!(tm.expires_at().is_null());
    assert!(tm.claims().is_null());
    // The token's timer was due about 0.5 s in; it is cancelled.
    sleep(1_200).await;
    assert_eq!(server.refreshes(), 1, "no refresh after dispose");
    for (name, promise) in [
        (
            "fetch",
            tm.fetch(JsValue::from_str("/api/me"), JsValue::UNDEFINED),
        ),
        ("start", tm.start()),
        ("refresh", tm.refresh()),
        ("logout", tm.logout()),
        ("accessToken", tm.access_token()),
        (
            "signIn",
            tm.sign_in(
                JsValue::from_str(&server.url("/auth/login")),
                JsValue::UNDEFINED,
            ),
        ),
    ] {
        let error = settle(promise).await.expect_err(name);
        assert_eq!(code(&error), "disposed", "{name}");
    }
    let error = tm
        .accept_token_response(js(
            &json!({"access_token": "t", "token_type": "Bearer", "expires_in": 60}),
        ))
        .expect_err("acceptTokenResponse after dispose");
    assert_tw_error(&error, "disposed");
    assert_eq!(server.count("/api/me"), 0, "nothing was sent");
    assert_eq!(server.count(&server.url("/auth/logout")), 0);
    assert_eq!(events.states(), ["restoring", "signed-in", "disposed"]);
    assert_eq!(events.ended(), ["disposed"]);
}

#[wasm_bindgen_test]
async fn dispose_settles_a_waiting_refresh_and_aborts_the_request() {
    let server = Server::new(60.0);
    let (tm, _events) = signed_in(&server, json!({})).await;
    server.push(Answer::hang());
    let waiting = tm.refresh();
    assert!(wait_for(|| server.refreshes() == 2, 2_000.0).await);
    tm.dispose();
    let outcome = within(waiting, 2_000.0)
        .await
        .expect("the refresh() caller was settled");
    assert_eq!(code(&outcome.expect_err("rejects")), "disposed");
    assert!(
        wait_for(|| server.aborted() == 1, 2_000.0).await,
        "the hung refresh request was aborted"
    );
}

#[wasm_bindgen_test]
async fn waking_up_inside_the_lead_window_refreshes_at_once() {
    let server = Server::new(120.0);
    let (tm, _events) = signed_in(&server, json!({})).await;
    // The timer is 60 s away; the machine "sleeps" 100 s, so no timer ran.
    shift_clock(100_000.0);
    for event in ["focus", "online", "pageshow"] {
        fire_on_window(event);
    }
    let woke = wait_for(|| server.refreshes() >= 2, 2_000.0).await;
    sleep(100).await;
    let refreshes = server.refreshes();
    shift_clock(0.0);
    assert!(woke, "a wake-up event started the refresh");
    assert_eq!(refreshes, 2, "one refresh for all wake-up events");
    assert_eq!(tm.state(), "signed-in");
}

#[wasm_bindgen_test]
async fn the_first_request_after_sleeping_past_expiry_carries_a_fresh_token() {
    let server = Server::new(60.0);
    let (tm, _events) = signed_in(&server, json!({})).await;
    let old = server.bearer();
    shift_clock(120_000.0);
    let status = fetch_status(&tm, "/api/me").await;
    shift_clock(0.0);
    assert_eq!(status, 200);
    assert_eq!(
        server.count("/api/me"),
        1,
        "no 401 round trip: refreshed before sending"
    );
    assert_ne!(server.auth_of("/api/me")[0], old);
    assert_eq!(server.auth_of("/api/me"), [server.bearer()]);
    assert_eq!(server.refreshes(), 2);
}

#[wasm_bindgen_test]
async fn a_refresh_in_flight_at_logout_does_not_sign_back_in() {
    let server = Server::new(60.0);
    let (tm, events) = signed_in(&server, json!({})).await;
    server.push(Answer::token().delay(150));
    let refreshing = tm.refresh();
    assert!(wait_for(|| server.refreshes() == 2, 2_000.0).await);
    settle(tm.logout()).await.unwrap();
    let error = settle(refreshing)
        .await
        .expect_err("the refresh() caller hears of the logout");
    assert_tw_error(&error, "not_signed_in");
    sleep(300).await;
    assert_eq!(tm.state(), "signed-out");
    assert_eq!(events.states(), ["restoring", "signed-in", "signed-out"]);
    assert_eq!(server.aborted(), 1, "the refresh request was aborted");
    assert_eq!(fetch_status(&tm, "/api/me").await, 401);
    assert_eq!(server.auth_of("/api/me"), [None]);
}

#[wasm_bindgen_test]
async fn a_token_accepted_during_a_refresh_is_not_replaced_by_its_late_answer() {
    let server = Server::new(60.0);
    let (tm, events) = signed_in(&server, json!({})).await;
    server.push(Answer::token().delay(150));
    let refreshing = tm.refresh();
    assert!(wait_for(|| server.refreshes() == 2, 2_000.0).await);
    let accepted = server.mint();
    let response = js(&json!({"access_token": accepted, "token_type": "Bearer", "expires_in": 60}));
    assert_eq!(tm.accept_token_response(response).unwrap(), "signed-in");
    settle(refreshing)
        .await
        .expect("the accepted token serves the refresh() caller");
    sleep(300).await;
    assert_eq!(fetch_status(&tm, "/api/me").await, 200);
    assert_eq!(
        server.auth_of("/api/me"),
        [Some(format!("Bearer {accepted}"))]
    );
    assert_eq!(
        events.all("refreshed").len(),
        2,
        "the restore and the accepted token only"
    );
}
