//! RFC 6750 answers of the protected API to missing, bad, expired and
//! under-scoped tokens.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};

use crate::common::*;

fn forge(header: &str, payload: &str, key: &[u8]) -> String {
    let head = URL_SAFE_NO_PAD.encode(header);
    let body = URL_SAFE_NO_PAD.encode(payload);
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    mac.update(format!("{head}.{body}").as_bytes());
    let sig = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{head}.{body}.{sig}")
}

fn claims(aud: &str, exp: u64, scope: &str) -> String {
    format!(
        r#"{{"sub":"bob","aud":"{aud}","iat":1,"exp":{exp},"jti":"forged","scope":"{scope}","sid":"forged-session"}}"#
    )
}

fn assert_invalid_token(r: &Resp, description: &str) {
    assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{}", r.text());
    assert_eq!(r.error(), "invalid_token");
    assert_eq!(
        r.header("www-authenticate").unwrap(),
        format!(r#"Bearer error="invalid_token", error_description="{description}""#)
    );
}

#[tokio::test]
async fn missing_token_gets_a_bare_challenge() {
    let h = Harness::new();
    for auth in [
        None,
        Some("Basic YWxpY2U6eA=="),
        Some("Bearer "),
        Some("Bearer"),
    ] {
        let mut request = Request::get("/api/me");
        if let Some(value) = auth {
            request = request.header("authorization", value);
        }
        let r = h.send(request.body(Body::empty()).unwrap()).await;
        assert_eq!(r.status, StatusCode::UNAUTHORIZED, "{auth:?}");
        assert_eq!(
            r.header("www-authenticate"),
            Some(r#"Bearer realm="token-warden""#)
        );
    }
}

#[tokio::test]
async fn bad_tokens_are_invalid_token() {
    let h = Harness::new();
    let far = h.state.now_ms() / 1000 + 3600;
    let good = forge(
        r#"{"alg":"HS256","typ":"JWT"}"#,
        &claims("token-warden", far, "read admin"),
        KEY,
    );
    assert_eq!(
        h.get_api("/api/admin", &good).await.status,
        StatusCode::OK,
        "control"
    );

    let other_key = forge(
        r#"{"alg":"HS256"}"#,
        &claims("token-warden", far, "read admin"),
        b"some-other-key-that-is-long-enough-too",
    );
    assert_invalid_token(&h.get_api("/api/me", &other_key).await, "bad signature");

    let none = format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims("token-warden", far, "read admin"))
    );
    let r = h.get_api("/api/admin", &none).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.error(), "invalid_token");
    assert!(r
        .header("www-authenticate")
        .unwrap()
        .starts_with(r#"Bearer error="invalid_token""#));

    let hs384 = forge(
        r#"{"alg":"HS384"}"#,
        &claims("token-warden", far, "read"),
        KEY,
    );
    assert_invalid_token(&h.get_api("/api/me", &hs384).await, "algorithm not allowed");

    let wrong_aud = forge(
        r#"{"alg":"HS256"}"#,
        &claims("someone-else", far, "read"),
        KEY,
    );
    assert_invalid_token(&h.get_api("/api/me", &wrong_aud).await, "wrong audience");

    let tampered = {
        let (_, access) = h.login_alice().await;
        let mut parts: Vec<String> = access.split('.').map(String::from).collect();
        parts[1] = URL_SAFE_NO_PAD.encode(claims("token-warden", far, "read admin"));
        parts.join(".")
    };
    assert_invalid_token(&h.get_api("/api/admin", &tampered).await, "bad signature");

    let r = h.get_api("/api/me", "not.a.jwt").await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.error(), "invalid_token");
}

#[tokio::test]
async fn expired_tokens_are_invalid_token() {
    let h = Harness::new();
    let (_, access) = h.login_alice().await;
    h.advance(Duration::from_secs(299));
    assert_eq!(h.get_api("/api/data", &access).await.status, StatusCode::OK);
    h.advance(Duration::from_secs(1));
    assert_invalid_token(&h.get_api("/api/data", &access).await, "token expired");
}

#[tokio::test]
async fn admin_needs_the_admin_scope() {
    let h = Harness::new();
    let (_, alice) = h.login_alice().await;
    let r = h.get_api("/api/admin", &alice).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.error(), "insufficient_scope");
    assert_eq!(
        r.header("www-authenticate"),
        Some(r#"Bearer error="insufficient_scope", scope="admin""#)
    );
    let bob = h.login("bob", "builder-42").await.access_token();
    let r = h.get_api("/api/admin", &bob).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["sub"], "bob");
}
