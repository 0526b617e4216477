//! A grant for another subject than the token in memory ends the old session first
//! (`session-ended` `user-changed`), then signs the new one in.

use serde_json::json;
use wasm_bindgen::JsValue;
use wasm_bindgen_test::wasm_bindgen_test;

use crate::support::*;

/// A token response whose access token is a JWT for `sub`.
fn jwt_for(sub: &str) -> Answer {
    Answer::token_with(
        json!({ "access_token": jwt(&json!({ "sub": sub, "exp": 4_000_000_000u64 })) }),
    )
}

/// A token response with an opaque access token and an OIDC id_token for `sub`.
fn id_token_for(sub: &str) -> Answer {
    Answer::token_with(json!({ "id_token": jwt(&json!({ "sub": sub })) }))
}

fn reasons_and_states(events: &Events) -> (Vec<String>, Vec<String>) {
    (events.ended(), events.states())
}

#[wasm_bindgen_test]
async fn a_refresh_for_another_subject_ends_the_old_session_first() {
    let server = Server::new(60.0);
    server.push(jwt_for("alice"));
    let (tm, events) = signed_in(&server, json!({})).await;
    assert_eq!(text(&tm.claims(), "sub"), "alice");
    server.push(jwt_for("bob"));
    settle(tm.refresh()).await.expect("refreshes");
    let (ended, states) = reasons_and_states(&events);
    assert_eq!(ended, ["user-changed"]);
    assert_eq!(
        states,
        ["restoring", "signed-in", "signed-out", "signed-in"]
    );
    assert_eq!(events.all("refreshed").len(), 2);
    assert_eq!(tm.state(), "signed-in");
    assert_eq!(text(&tm.claims(), "sub"), "bob", "the new user's claims");
    // The order: the old session ends before the new one signs in and is refreshed.
    let names = events.names();
    assert_eq!(
        names[names.len() - 4..],
        ["state", "session-ended", "state", "refreshed"]
    );
    // The same user again is no switch.
    server.push(jwt_for("bob"));
    settle(tm.refresh()).await.expect("refreshes");
    assert_eq!(events.ended(), ["user-changed"]);
}

#[wasm_bindgen_test]
async fn the_id_tokens_subject_counts_for_an_opaque_access_token() {
    let server = Server::new(60.0);
    server.push(id_token_for("alice"));
    let (tm, events) = signed_in(&server, json!({})).await;
    let login = JsValue::from_str(&server.url("/auth/login"));
    server.push(id_token_for("bob"));
    settle(tm.sign_in(login, JsValue::UNDEFINED))
        .await
        .expect("signed in");
    assert_eq!(
        events.ended(),
        ["user-changed"],
        "a sign-in as someone else"
    );
    // An opaque token without an id_token: nothing to compare, no event.
    settle(tm.refresh()).await.expect("refreshes");
    server.push(id_token_for("carol"));
    settle(tm.refresh()).await.expect("refreshes");
    assert_eq!(events.ended(), ["user-changed"]);
}

#[wasm_bindgen_test]
async fn a_sign_in_elsewhere_makes_a_signed_in_manager_refresh_at_once_and_report_the_switch() {
    let server = Server::new(60.0);
    server.push(jwt_for("alice"));
    let (alice, alice_events) = signed_in(&server, json!({})).await;
    // A restore elsewhere (no sign-in) is no reason to refresh.
    let (carol, _) = manager(&server, json!({}));
    let before = server.refreshes();
    server.push(jwt_for("alice"));
    settle(carol.start()).await.expect("restores");
    sleep(200).await;
    assert_eq!(server.refreshes(), before + 1, "only the restore itself");
    assert!(alice_events.ended().is_empty());
    // A sign-in elsewhere replaces the cookie: alice's manager refreshes by itself.
    let (bob, bob_events) = manager(&server, json!({}));
    server.push(jwt_for("bob")); // bob's login
    server.push(jwt_for("bob")); // alice's refresh (and carol's: the same cookie)
    server.push(jwt_for("bob"));
    let login = JsValue::from_str(&server.url("/auth/login"));
    settle(bob.sign_in(login, JsValue::UNDEFINED))
        .await
        .expect("bob signs in");
    assert!(bob_events.ended().is_empty());
    assert!(
        wait_for(|| alice_events.ended() == ["user-changed"], 3_000.0).await,
        "alice's manager reported the switch without being asked: {:?}",
        alice_events.names()
    );
    assert_eq!(text(&alice.claims(), "sub"), "bob");
    assert_eq!(alice.state(), "signed-in");
}

#[wasm_bindgen_test]
async fn a_401_is_not_retried_with_another_users_token() {
    let server = Server::new(60.0);
    server.www_authenticate(Some(r#"Bearer error="invalid_token""#));
    server.push(id_token_for("alice"));
    let (tm, events) = signed_in(&server, json!({})).await;
    assert_eq!(fetch_status(&tm, "/api/data").await, 200);
    let alices = server.bearer();
    // The server drops alice's token; the cookie now answers with bob's.
    server.revoke_current();
    server.push(id_token_for("bob"));
    assert_eq!(
        fetch_status(&tm, "/api/data").await,
        401,
        "the 401 is returned"
    );
    assert_eq!(events.ended(), ["user-changed"]);
    let bobs = server.bearer();
    assert_ne!(bobs, alices);
    let sent = server.auth_of("/api/data");
    assert_eq!(sent, [alices.clone(), alices], "no retry with bob's token");
    // The control: within one user's session the 401 is refreshed and retried.
    server.revoke_current();
    server.push(id_token_for("bob"));
    assert_eq!(fetch_status(&tm, "/api/data").await, 200);
    assert_eq!(
        server.auth_of("/api/data").last().cloned().flatten(),
        server.bearer()
    );
}

#[wasm_bindgen_test]
async fn a_call_waiting_across_a_switch_goes_out_without_the_new_users_token() {
    let server = Server::new(60.0);
    server.www_authenticate(Some(r#"Bearer error="invalid_token""#));
    server.push(id_token_for("alice"));
    let (tm, events) = signed_in(&server, json!({})).await;
    let alices = server.bearer();
    server.revoke_current();
    server.push(id_token_for("bob").delay(300));
    // The first call's 401 starts the refresh; the second begins while it runs.
    let first = tm.fetch(JsValue::from_str("/api/data"), JsValue::UNDEFINED);
    assert!(
        wait_for(|| server.refreshes() >= 2, 2_000.0).await,
        "the refresh went out"
    );
    let second = tm.fetch(JsValue::from_str("/api/data"), JsValue::UNDEFINED);
    let first = settle(first).await.expect("resolves");
    let second = settle(second).await.expect("resolves");
    assert_eq!(events.ended(), ["user-changed"]);
    assert_eq!((status(&first), status(&second)), (401, 401));
    // Sent: the first with alice's token, the second with none; never with bob's.
    assert_eq!(server.auth_of("/api/data"), [alices, None]);
}

#[wasm_bindgen_test]
async fn accept_token_response_for_another_subject_switches_too() {
    let server = Server::new(60.0);
    server.push(jwt_for("alice"));
    let (tm, events) = signed_in(&server, json!({})).await;
    let bob = jwt(&json!({ "sub": "bob", "exp": 4_000_000_000u64 }));
    tm.accept_token_response(js(
        &json!({"access_token": bob, "token_type": "Bearer", "expires_in": 60}),
    ))
    .expect("accepted");
    assert_eq!(events.ended(), ["user-changed"]);
    assert_eq!(
        events.states(),
        ["restoring", "signed-in", "signed-out", "signed-in"]
    );
}
