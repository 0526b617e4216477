//! Issue 13, item 5: login throttling per account and per client address (429 with
//! `Retry-After`, a delay that grows), successful logins not penalised.

use std::net::SocketAddr;
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::StatusCode;

use crate::common::*;

/// A login as the server sees it from `from` (the peer address of the connection).
async fn login_from(h: &Harness, from: &str, username: &str, password: &str) -> Resp {
    let body = serde_json::json!({"username": username, "password": password}).to_string();
    let mut request = auth_request("/auth/login")
        .header("content-type", "application/json")
        .body(Body::from(body))
        .unwrap();
    let addr: SocketAddr = from.parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(addr));
    h.send(request).await
}

fn retry_after(r: &Resp) -> u64 {
    r.header("retry-after")
        .unwrap_or_else(|| panic!("429 without Retry-After: {:?}", r.headers))
        .parse()
        .unwrap()
}

#[tokio::test]
async fn wrong_passwords_for_one_account_get_429_with_a_growing_retry_after() {
    let h = Harness::new();
    let mut statuses = Vec::new();
    // 300 wrong passwords for alice, spread over addresses so that only the
    // per-account limit can stop them.
    for i in 0..300u32 {
        let from = format!("198.51.100.{}:4000", i % 250);
        let r = login_from(&h, &from, "alice", "wrong").await;
        statuses.push(r.status);
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
    }
    let until_429 = statuses.len();
    println!(
        "300 wrong passwords for one account: {} answered 401, then 429 at request {until_429}",
        until_429 - 1
    );
    assert_eq!(statuses.last(), Some(&StatusCode::TOO_MANY_REQUESTS));
    assert!(until_429 <= 11, "first 429 only at request {until_429}");
    assert!(statuses[..until_429 - 1]
        .iter()
        .all(|s| *s == StatusCode::UNAUTHORIZED));

    // While throttled, even the right password is refused without a hash.
    let r = login_from(&h, "203.0.113.9:1", "alice", "wonderland-42").await;
    assert_eq!(r.status, StatusCode::TOO_MANY_REQUESTS);
    let first_wait = retry_after(&r);
    assert!(first_wait >= 1);
    assert_eq!(r.json()["error"], "temporarily_unavailable");
    // Other accounts are not affected.
    let r = login_from(&h, "203.0.113.9:1", "bob", "builder-42").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());

    // After the announced wait, one more guess goes through; an attacker who keeps
    // guessing at that pace meets a longer wait.
    let mut waits = vec![first_wait];
    for _ in 0..40 {
        h.advance(Duration::from_secs(*waits.last().unwrap()));
        let r = login_from(&h, "198.51.100.77:1", "alice", "wrong").await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());
        let mut throttled = None;
        for _ in 0..5 {
            let r = login_from(&h, "198.51.100.78:1", "alice", "wrong").await;
            if r.status == StatusCode::TOO_MANY_REQUESTS {
                throttled = Some(retry_after(&r));
                break;
            }
            assert_eq!(r.status, StatusCode::UNAUTHORIZED);
        }
        waits.push(throttled.expect("guessing again right after the wait is throttled"));
    }
    println!("Retry-After while guessing at the allowed pace (s): {waits:?}");
    assert!(
        waits.last().unwrap() >= &(first_wait * 5),
        "the delay does not grow: {waits:?}"
    );
    // And the owner gets in once the wait is over.
    h.advance(Duration::from_secs(*waits.last().unwrap()));
    let r = login_from(&h, "203.0.113.9:1", "alice", "wonderland-42").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text());
}

#[tokio::test]
async fn one_address_guessing_many_accounts_gets_429() {
    let h = Harness::new();
    let mut until_429 = None;
    for i in 0..200u32 {
        let r = login_from(&h, "192.0.2.1:5555", &format!("user{i}"), "guess").await;
        if r.status == StatusCode::TOO_MANY_REQUESTS {
            assert!(retry_after(&r) >= 1);
            until_429 = Some(i + 1);
            break;
        }
        assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    }
    println!("one address, 200 accounts: first 429 at request {until_429:?}");
    let until_429 = until_429.expect("200 logins from one address, never a 429");
    assert!(until_429 <= 101, "first 429 only at request {until_429}");
    // Another address is not throttled.
    let r = login_from(&h, "192.0.2.2:5555", "alice", "wonderland-42").await;
    assert_eq!(r.status, StatusCode::OK);
    // IPv6 clients are counted by their /64.
    let mut v6 = StatusCode::OK;
    for i in 0..200u32 {
        let from = format!("[2001:db8:1:2::{:x}]:443", i + 1);
        v6 = login_from(&h, &from, &format!("v6user{i}"), "guess")
            .await
            .status;
        if v6 == StatusCode::TOO_MANY_REQUESTS {
            break;
        }
    }
    assert_eq!(v6, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn successful_logins_are_not_penalised() {
    let h = Harness::new();
    // The e2e suites log in often from one address; so does a user who mistypes.
    for round in 0..6 {
        for _ in 0..3 {
            let r = login_from(&h, "127.0.0.1:40000", "alice", "typo").await;
            assert_eq!(r.status, StatusCode::UNAUTHORIZED, "round {round}");
        }
        let r = login_from(&h, "127.0.0.1:40000", "alice", "wonderland-42").await;
        assert_eq!(r.status, StatusCode::OK, "round {round}: {}", r.text());
    }
    for i in 0..20 {
        let r = login_from(&h, "127.0.0.1:40001", "bob", "builder-42").await;
        assert_eq!(r.status, StatusCode::OK, "login {i}: {}", r.text());
    }
}
