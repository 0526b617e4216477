//! Two managers with the same refresh URL on one page hear each other as two tabs do
//! (a BroadcastChannel named after the refresh URL; a channel object never hears itself).

use serde_json::json;
use wasm_bindgen_test::wasm_bindgen_test;

use crate::support::*;

/// Lets the messages the tabs sent while signing in arrive (each is a task), so that a
/// test acts on tabs that have heard everything. Without it a tab that signs out next
/// would still hear the other's `signed-in` afterwards (see the last test).
async fn messages_delivered() {
    sleep(50).await;
}

#[wasm_bindgen_test]
async fn logout_in_one_tab_ends_the_other() {
    let server = Server::new(60.0);
    let (tm1, e1) = signed_in(&server, json!({})).await;
    let (tm2, e2) = signed_in(&server, json!({})).await;
    messages_delivered().await;
    settle(tm1.logout()).await.unwrap();
    assert!(
        wait_for(|| tm2.state() == "signed-out", 2_000.0).await,
        "the other tab heard"
    );
    assert_eq!(e2.ended(), ["logout"]);
    assert_eq!(
        e1.ended(),
        ["logout"],
        "no echo back to the tab that logged out"
    );
    assert!(tm2.expires_at().is_null());
    assert_eq!(fetch_status(&tm2, "/api/me").await, 401);
    assert_eq!(
        server.auth_of("/api/me"),
        [None],
        "the other tab sends no bearer any more"
    );
    assert_eq!(
        server.count(&server.url("/auth/logout")),
        1,
        "only the tab that logged out told the server"
    );
}

#[wasm_bindgen_test]
async fn invalid_grant_in_one_tab_ends_the_other() {
    let server = Server::new(60.0);
    let (tm1, _e1) = signed_in(&server, json!({})).await;
    let (tm2, e2) = signed_in(&server, json!({})).await;
    messages_delivered().await;
    server.push(Answer::invalid_grant());
    let error = settle(tm1.refresh()).await.expect_err("the cookie is dead");
    assert_tw_error(&error, "invalid_grant");
    assert!(
        wait_for(|| tm2.state() == "signed-out", 2_000.0).await,
        "the other tab heard"
    );
    assert_eq!(e2.ended(), ["invalid_grant"]);
    assert_eq!(
        server.refreshes(),
        3,
        "the other tab did not try the dead cookie"
    );
}

#[wasm_bindgen_test]
async fn an_expired_give_up_in_one_tab_does_not_end_the_other() {
    let server = Server::new(60.0);
    let options = json!({"refreshLeadSeconds": 0, "retry": {"maxAttempts": 1}});
    let (tm1, e1) = signed_in(&server, options.clone()).await;
    let (tm2, e2) = signed_in(&server, options).await;
    messages_delivered().await;
    // Tab 1 gets a token that expires in 1 s; its refresh then fails and gives up.
    server.always(Some(Answer::unavailable()));
    let short =
        js(&json!({"access_token": "short-lived-1", "token_type": "Bearer", "expires_in": 1}));
    assert_eq!(tm1.accept_token_response(short).unwrap(), "signed-in");
    assert!(
        wait_for(|| tm1.state() == "signed-out", 3_000.0).await,
        "tab 1 gave up"
    );
    assert_eq!(e1.ended(), ["expired"]);
    server.always(None);
    assert_eq!(tm2.state(), "signed-in", "tab 2 keeps its session");
    assert!(tm2.expires_at().is_truthy());
    // Then tab 1 signs in and logs out. Messages from one tab arrive in order, so once
    // tab 2 has heard the logout it has heard everything tab 1 told before it.
    let again =
        js(&json!({"access_token": "short-lived-2", "token_type": "Bearer", "expires_in": 60}));
    assert_eq!(tm1.accept_token_response(again).unwrap(), "signed-in");
    settle(tm1.logout()).await.unwrap();
    assert!(
        wait_for(|| !e2.ended().is_empty(), 2_000.0).await,
        "tab 2 heard the logout"
    );
    assert_eq!(
        e2.ended(),
        ["logout"],
        "the expired end of tab 1 was not tab 2's"
    );
    assert_eq!(tm2.state(), "signed-out");
    assert_eq!(
        server.refreshes(),
        3,
        "the two restores and tab 1's failed refresh"
    );
}

#[wasm_bindgen_test]
async fn a_sign_in_in_one_tab_restores_a_signed_out_tab_through_the_cookie() {
    let server = Server::new(60.0);
    server.push(Answer::status(401, r#"{"error":"invalid_grant"}"#));
    let (tm2, e2) = manager(&server, json!({}));
    let phase = settle(tm2.start()).await.unwrap();
    assert_eq!(phase.as_string().as_deref(), Some("signed-out"));
    let (tm1, _e1) = manager(&server, json!({}));
    let login = wasm_bindgen::JsValue::from_str(&server.url("/auth/login"));
    settle(tm1.sign_in(login, wasm_bindgen::JsValue::UNDEFINED))
        .await
        .unwrap();
    assert!(
        wait_for(|| tm2.state() == "signed-in", 2_000.0).await,
        "tab 2 picked the session up"
    );
    assert_eq!(server.refreshes(), 2, "tab 2 restored through the cookie");
    assert_eq!(
        e2.states(),
        ["restoring", "signed-out", "restoring", "signed-in"]
    );
    assert_eq!(fetch_status(&tm2, "/api/me").await, 200);
}

/// The race of `logout_in_one_tab_ends_the_other`, with a server that takes a moment to
/// process the logout: tab 2's `signed-in` (sent when its start finished, before tab 1's
/// logout) reaches tab 1 after it logged out.
#[wasm_bindgen_test]
async fn a_tab_that_logged_out_is_not_signed_back_in_by_a_message_sent_before_its_logout() {
    let server = Server::new(60.0);
    server.logout_answer(Answer::status(204, "").delay(300));
    let (tm1, e1) = signed_in(&server, json!({})).await;
    let (tm2, _e2) = signed_in(&server, json!({})).await;
    // Still in the microtasks after tab 2's start resolved: its message is a task away.
    let before = server.refreshes();
    let logout = tm1.logout();
    assert_eq!(tm1.state(), "signed-out");
    settle(logout).await.unwrap();
    assert!(!server.has_cookie(), "the server cleared the cookie");
    sleep(200).await;
    assert_eq!(e1.ended(), ["logout"]);
    assert_eq!(
        tm1.state(),
        "signed-out",
        "the user logged out in this tab; it stays signed out (states {:?})",
        e1.states()
    );
    assert_eq!(tm2.state(), "signed-out", "and every tab is signed out");
    assert_eq!(
        server.refreshes(),
        before,
        "a tab that just logged out sent no refresh (the signed-in it heard predates its logout)"
    );
}
