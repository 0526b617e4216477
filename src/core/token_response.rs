//! RFC 6749 §5.1 successful token response: its serde type and its validation.

use serde::Deserialize;

use super::claims::{Claims, Subject};
use super::expiry::resolve_expiry;
use super::field::Field;
use super::secret::AccessToken;
use super::token_syntax::validate_bearer_token;
use super::Error;

pub use super::error_response::{classify_error_response, RefreshFailure};
pub use super::expiry::{ExpiryPolicy, ExpirySource};

/// A validated access token with everything the session needs to schedule
/// its refresh.
#[derive(Debug)]
pub struct TokenGrant {
    /// The token itself.
    pub token: AccessToken,
    /// Local wall-clock ms at which the token stops being usable.
    pub expires_at_ms: u64,
    /// Lifetime from receipt; bounds the refresh lead to half of it.
    pub lifetime_ms: u64,
    /// The body carried a `refresh_token`, which was discarded: it belongs in
    /// the HttpOnly cookie, and the app should be told its server leaks it.
    pub dropped_refresh_token: bool,
    /// Which input decided the expiry.
    pub expiry_source: ExpirySource,
    /// Unverified JWT claims, if the token is a JWT.
    pub claims: Option<Claims>,
    /// Granted scope, if the server said.
    pub scope: Option<String>,
    /// Whom the token is for: the access token's JWT `sub`, else the `sub` of an OIDC
    /// `id_token` in the same response; `None` for an opaque token without one.
    pub subject: Option<Subject>,
}

/// The members of an RFC 6749 §5.1 token response that the core reads; unknown members
/// are ignored, a duplicated one is refused by the decoder (different parsers pick
/// different duplicates, so it refuses instead of guessing). `access_token` and
/// `token_type` are required and `expires_in` must be a positive number: each broken
/// rule has its own error, given by [`TokenGrant::from_response`], so every member is a
/// loose [`Field`] here.
#[derive(Debug, Default, Deserialize)]
pub struct TokenResponse {
    /// `access_token`: required, a string.
    #[serde(default)]
    pub access_token: Field,
    /// `token_type`: required, `Bearer` in any case.
    #[serde(default)]
    pub token_type: Field,
    /// `expires_in`: seconds, a positive number or a string of ASCII digits.
    #[serde(default)]
    pub expires_in: Field,
    /// `refresh_token`: discarded if present (it belongs in the HttpOnly cookie).
    #[serde(default)]
    pub refresh_token: Field,
    /// `scope`: granted scope, a string.
    #[serde(default)]
    pub scope: Field,
    /// `id_token` (OpenID Connect Core §3.1.3.3): only its `sub` is read, unverified,
    /// when the access token has none.
    #[serde(default)]
    pub id_token: Field,
}

impl TokenGrant {
    /// Validates a decoded 2xx token response (see `crate::decode::token_response`).
    ///
    /// `received_at_ms` is the local time the response arrived; `server_date_ms` is its
    /// `Date` header in ms since the epoch, used to correct JWT `exp` for clock skew.
    /// The token is moved into an [`AccessToken`] first, so it is wiped on every path.
    /// `claims_of` reads a token's JWT claims (`crate::decode::jwt::decode_if_jwt`; the
    /// core reads no text itself): `Ok(None)` for an opaque token.
    /// Errors: `malformed_response` (`access_token missing`), `malformed_token`,
    /// `unsupported_token_type`, `invalid_expires_in`, `unknown_expiry`.
    pub fn from_response(
        mut response: TokenResponse,
        received_at_ms: u64,
        server_date_ms: Option<u64>,
        policy: &ExpiryPolicy,
        claims_of: fn(&str) -> Result<Option<Claims>, Error>,
    ) -> Result<TokenGrant, Error> {
        let Some(token) = response.access_token.take_text().map(AccessToken::new) else {
            return Err(Error::MalformedResponse {
                reason: "access_token missing",
            });
        };
        validate_bearer_token(token.secret(), policy.max_token_bytes)?;
        match response.token_type.as_str() {
            Some(t) if t.eq_ignore_ascii_case("bearer") => {}
            _ => return Err(Error::UnsupportedTokenType),
        }
        let dropped_refresh_token = !response.refresh_token.is_absent();
        let claims = claims_of(token.secret())?;
        let expires_in = (!response.expires_in.is_absent()).then_some(&response.expires_in);
        let expiry = resolve_expiry(
            expires_in,
            claims.as_ref(),
            received_at_ms,
            server_date_ms,
            policy,
        )?;
        let scope = response.scope.as_str().map(String::from);
        let subject = match claims.as_ref().and_then(|c| c.sub.as_deref()) {
            Some(sub) => Subject::new(sub),
            // A broken id_token is no reason to refuse the access token: no subject.
            None => response
                .id_token
                .as_str()
                .and_then(|id_token| claims_of(id_token).ok().flatten())
                .and_then(|c| c.sub.as_deref().and_then(Subject::new)),
        };
        Ok(TokenGrant {
            token,
            expires_at_ms: expiry.expires_at_ms,
            lifetime_ms: expiry.lifetime_ms,
            dropped_refresh_token,
            expiry_source: expiry.source,
            claims,
            scope,
            subject,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::MAX_LIFETIME_MS;
    use crate::decode::jwt::tests::jwt;
    use crate::decode::parse_token_response;

    const NOW: u64 = 1_700_000_000_000;

    fn policy() -> ExpiryPolicy {
        ExpiryPolicy::default()
    }

    fn parse(body: &str) -> Result<TokenGrant, Error> {
        parse_token_response(body, NOW, None, &policy())
    }

    fn body(token: &str, extra: &str) -> String {
        format!(r#"{{"access_token":"{token}","token_type":"Bearer"{extra}}}"#)
    }

    fn malformed(body: &str) -> &'static str {
        match parse(body) {
            Err(Error::MalformedResponse { reason }) => reason,
            other => panic!("expected MalformedResponse for {body:?}, got {other:?}"),
        }
    }

    fn token_reason(body: &str) -> &'static str {
        match parse(body) {
            Err(Error::MalformedToken { reason }) => reason,
            other => panic!("expected MalformedToken for {body:?}, got {other:?}"),
        }
    }

    fn expires_reason(body: &str) -> &'static str {
        match parse(body) {
            Err(Error::InvalidExpiresIn { reason }) => reason,
            other => panic!("expected InvalidExpiresIn for {body:?}, got {other:?}"),
        }
    }

    #[test]
    fn happy_path_with_expires_in() {
        let g = parse(&body(
            "opaque-123",
            r#","expires_in":3600,"scope":"read write""#,
        ))
        .unwrap();
        assert_eq!(g.token.secret(), "opaque-123");
        assert_eq!(g.expires_at_ms, NOW + 3_600_000);
        assert_eq!(g.lifetime_ms, 3_600_000);
        assert_eq!(g.expiry_source, ExpirySource::ExpiresIn);
        assert!(!g.dropped_refresh_token);
        assert!(g.claims.is_none());
        assert_eq!(g.scope.as_deref(), Some("read write"));
    }

    #[test]
    fn token_type_is_case_insensitive_and_required() {
        let ok = r#"{"access_token":"t","token_type":"bEaReR","expires_in":60}"#;
        assert!(parse(ok).is_ok());
        for bad in [
            r#"{"access_token":"t","expires_in":60}"#,
            r#"{"access_token":"t","token_type":"mac","expires_in":60}"#,
            r#"{"access_token":"t","token_type":"DPoP","expires_in":60}"#,
            r#"{"access_token":"t","token_type":null,"expires_in":60}"#,
            r#"{"access_token":"t","token_type":"Bearer ","expires_in":60}"#,
        ] {
            assert_eq!(
                parse(bad).unwrap_err(),
                Error::UnsupportedTokenType,
                "{bad}"
            );
        }
    }

    #[test]
    fn bodies_that_are_not_token_objects() {
        assert_eq!(malformed(""), "response body is empty");
        assert_eq!(malformed("  \n"), "response body is empty");
        assert_eq!(
            malformed("<!DOCTYPE html><html></html>"),
            "response body is HTML, not JSON"
        );
        assert_eq!(malformed("  <html>"), "response body is HTML, not JSON");
        assert_eq!(
            malformed("access_token=abc&token_type=bearer"),
            "response body is not JSON"
        );
        assert_eq!(malformed("{\"access_token\":"), "response body is not JSON");
        assert_eq!(malformed("[]"), "response body is not a JSON object");
        assert_eq!(malformed("null"), "response body is not a JSON object");
        assert_eq!(malformed("\"token\""), "response body is not a JSON object");
        assert_eq!(malformed("{}"), "access_token missing");
        assert_eq!(
            malformed(r#"{"access_token":123,"token_type":"Bearer"}"#),
            "access_token missing"
        );
        assert_eq!(
            malformed(r#"{"access_token":null,"token_type":"Bearer"}"#),
            "access_token missing"
        );
        assert_eq!(
            malformed(
                r#"{"access_token":"a","access_token":"b","token_type":"Bearer","expires_in":5}"#
            ),
            "response body has duplicate fields"
        );
    }

    #[test]
    fn bad_token_syntax() {
        assert_eq!(
            token_reason(&body("", ",\"expires_in\":60")),
            "token is empty"
        );
        for t in ["ab\\rcd", "ab\\ncd", "ab cd", "ab\\u0000"] {
            assert_eq!(
                token_reason(&body(t, ",\"expires_in\":60")),
                "token contains whitespace or a control character",
                "{t}"
            );
        }
        assert_eq!(
            token_reason(&body("tökén", ",\"expires_in\":60")),
            "token contains a non-ASCII character"
        );
        let long = "a".repeat(8193);
        assert_eq!(
            token_reason(&body(&long, ",\"expires_in\":60")),
            "token is longer than maxTokenBytes"
        );
        assert!(parse(&body(&"a".repeat(8192), ",\"expires_in\":60")).is_ok());
    }

    #[test]
    fn refresh_token_in_body_is_dropped() {
        let g = parse(&body(
            "t",
            r#","expires_in":60,"refresh_token":"RT-SECRET""#,
        ))
        .unwrap();
        assert!(g.dropped_refresh_token);
        assert!(!format!("{g:?}").contains("RT-SECRET"));
    }

    #[test]
    fn expires_in_rows() {
        assert_eq!(
            expires_reason(&body("t", r#","expires_in":-1"#)),
            "expires_in is negative"
        );
        assert_eq!(
            expires_reason(&body("t", r#","expires_in":0"#)),
            "expires_in must be positive"
        );
        assert_eq!(
            expires_reason(&body("t", r#","expires_in":0.5"#)),
            "expires_in must be positive"
        );
        assert_eq!(
            expires_reason(&body("t", r#","expires_in":"36x0""#)),
            "expires_in is not a number"
        );
        // A string of digits, as some hosted identity providers send, is its number.
        let g = parse(&body("t", r#","expires_in":"3600""#)).unwrap();
        assert_eq!(g.lifetime_ms, 3_600_000);
        assert_eq!(
            expires_reason(&body("t", r#","expires_in":null"#)),
            "expires_in is not a number"
        );
        assert_eq!(
            expires_reason(&body("t", r#","expires_in":1e308"#)),
            "expires_in is absurdly large"
        );
        // serde_json reads no number beyond the f64 range (RFC 8259 §6 lets it).
        assert_eq!(
            malformed(&body("t", r#","expires_in":1e999"#)),
            "response body has a number out of range"
        );
        let g = parse(&body("t", r#","expires_in":3599.9"#)).unwrap();
        assert_eq!(g.lifetime_ms, 3_599_000);
    }

    #[test]
    fn opaque_token_expiry_fallbacks() {
        assert_eq!(
            parse(&body("opaque", "")).unwrap_err(),
            Error::UnknownExpiry
        );
        let p = ExpiryPolicy {
            default_lifetime_ms: Some(300_000),
            ..policy()
        };
        let g = parse_token_response(&body("opaque", ""), NOW, None, &p).unwrap();
        assert_eq!(g.expiry_source, ExpirySource::Default);
        assert_eq!(g.expires_at_ms, NOW + 300_000);
    }

    const HDR: &str = r#"{"alg":"RS256","typ":"JWT"}"#;

    #[test]
    fn the_subject_is_the_access_tokens_sub_else_the_id_tokens() {
        let hdr = r#"{"alg":"RS256"}"#;
        let alice = jwt(hdr, r#"{"sub":"alice"}"#);
        let bob_id = jwt(hdr, r#"{"sub":"bob"}"#);
        let expires = r#","expires_in":60"#;
        let sub = |body: &str| parse(body).expect("a grant").subject;
        assert_eq!(sub(&body(&alice, expires)), Subject::new("alice"));
        // The access token's own sub wins over an id_token's.
        let with_id = format!(r#"{expires},"id_token":"{bob_id}""#);
        assert_eq!(sub(&body(&alice, &with_id)), Subject::new("alice"));
        // An opaque access token: the id_token says whom it is for.
        assert_eq!(sub(&body("opaque-token", &with_id)), Subject::new("bob"));
        // Neither: nothing to compare. A broken id_token is no subject, not an error.
        assert_eq!(sub(&body("opaque-token", expires)), None);
        let broken = format!(r#"{expires},"id_token":"a.b.c""#);
        assert_eq!(sub(&body("opaque-token", &broken)), None);
        let empty = jwt(hdr, r#"{"sub":""}"#);
        assert_eq!(sub(&body(&empty, expires)), None);
        assert_eq!(format!("{:?}", Subject::new("alice")), "Some(Subject(..))");
    }

    #[test]
    fn jwt_expiry_and_claims() {
        let exp = NOW / 1000 + 900;
        let t = jwt(HDR, &format!(r#"{{"sub":"me","exp":{exp}}}"#));
        let g = parse(&body(&t, "")).unwrap();
        assert_eq!(g.expiry_source, ExpirySource::JwtExp);
        assert_eq!(g.lifetime_ms, 900_000);
        assert_eq!(g.claims.as_ref().unwrap().exp, Some(exp as f64));
        // expires_in wins over exp.
        let g = parse(&body(&t, r#","expires_in":60"#)).unwrap();
        assert_eq!(
            (g.expiry_source, g.lifetime_ms),
            (ExpirySource::ExpiresIn, 60_000)
        );
        assert!(g.claims.is_some());
    }

    #[test]
    fn jwt_skew_correction_via_date_and_iat() {
        let server_now = NOW - 3_600_000; // our clock is an hour fast
        let exp = server_now / 1000 + 600;
        let t = jwt(HDR, &format!(r#"{{"exp":{exp}}}"#));
        let g = parse_token_response(&body(&t, ""), NOW, Some(server_now), &policy()).unwrap();
        assert_eq!((g.lifetime_ms, g.expires_at_ms), (600_000, NOW + 600_000));
        let iat = server_now / 1000;
        let t = jwt(HDR, &format!(r#"{{"exp":{exp},"iat":{iat}}}"#));
        let g = parse(&body(&t, "")).unwrap();
        assert_eq!(g.lifetime_ms, 600_000);
        // Without any skew info the token would look long expired.
        let t = jwt(HDR, &format!(r#"{{"exp":{exp}}}"#));
        assert_eq!(expires_reason(&body(&t, "")), "token is already expired");
    }

    #[test]
    fn jwt_rows() {
        // exp missing: falls through to default / unknown.
        let t = jwt(HDR, r#"{"sub":"x"}"#);
        assert_eq!(parse(&body(&t, "")).unwrap_err(), Error::UnknownExpiry);
        // exp in the past.
        let t = jwt(HDR, &format!(r#"{{"exp":{}}}"#, NOW / 1000 - 1));
        assert_eq!(expires_reason(&body(&t, "")), "token is already expired");
        // exp non-numeric, even with expires_in.
        let t = jwt(HDR, r#"{"exp":"soon"}"#);
        assert_eq!(
            token_reason(&body(&t, r#","expires_in":60"#)),
            "exp is not a number"
        );
        // Malformed segments are rejected even when expires_in is present.
        let p = r#","expires_in":60"#;
        assert_eq!(
            token_reason(&body("a.b.c", p)),
            "JWT header is not base64url"
        );
        let h = jwt(HDR, "{}");
        let h = h.split('.').next().unwrap();
        assert_eq!(
            token_reason(&body(&format!("{h}.a.sig"), p)),
            "JWT payload is not base64url"
        );
        assert_eq!(
            token_reason(&body(&jwt(HDR, "[1]"), p)),
            "JWT payload is not a JSON object"
        );
        assert_eq!(
            token_reason(&body(&jwt(HDR, "nope"), p)),
            "JWT payload is not JSON"
        );
        assert_eq!(
            token_reason(&body(&jwt("[]", "{}"), p)),
            "JWT header is not a JSON object"
        );
        // Opaque tokens with dots but not three segments are fine.
        assert!(parse(&body("a.b", p)).is_ok());
        let huge_exp = jwt(HDR, r#"{"exp":1e300}"#);
        assert_eq!(
            parse(&body(&huge_exp, "")).unwrap().lifetime_ms,
            MAX_LIFETIME_MS
        );
    }

    #[test]
    fn debug_never_shows_the_token() {
        let g = parse(&body("SUPERSECRETTOKEN", r#","expires_in":60"#)).unwrap();
        assert!(!format!("{g:?} {g:#?}").contains("SUPERSECRETTOKEN"));
        let e = parse(&body("SUPERSECRETTOKEN\\n", r#","expires_in":60"#)).unwrap_err();
        assert!(!format!("{e:?} {e}").contains("SUPERSECRETTOKEN"));
    }
}
