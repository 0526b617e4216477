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
async fn two_managers_share_the_cookie_and_the_first_hears_of_the_switch() {
    let server = Server::new(60.0);
    server.push(jwt_for("alice"));
    let (alice, alice_events) = signed_in(&server, json!({})).await;
    let (bob, bob_events) = manager(&server, json!({}));
    server.push(jwt_for("bob"));
    let login = JsValue::from_str(&server.url("/auth/login"));
    settle(bob.sign_in(login, JsValue::UNDEFINED))
        .await
        .expect("bob signs in");
    assert!(bob_events.ended().is_empty());
    // The cookie is bob's now: alice's manager's next refresh gets bob's token.
    server.push(jwt_for("bob"));
    settle(alice.refresh()).await.expect("refreshes");
    assert_eq!(alice_events.ended(), ["user-changed"]);
    assert_eq!(text(&alice.claims(), "sub"), "bob");
    assert_eq!(alice.state(), "signed-in");
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
