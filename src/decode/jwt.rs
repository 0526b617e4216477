//! Unverified JWT claim decoding (RFC 7519), used only to learn `exp`/`iat` and to show
//! claims to the app: segments through the base64 crate, the payload through serde_json
//! into the core's [`JwtClaims`]. Nothing here checks a signature.

use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64::{alphabet, Engine};
use serde::Deserialize;

use super::{json_object, ObjectError};
use crate::core::{Claims, Error, JwtClaims};
use zeroize::{Zeroize, Zeroizing};

/// JWT segments (RFC 7515 §2): the URL-safe alphabet, with or without padding.
const BASE64URL: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// A JWT header: any JSON object (nothing in it is read).
#[derive(Deserialize)]
struct JwtHeader {}

/// Whether a token is shaped like a compact JWS (exactly three segments).
pub fn looks_like_jwt(token: &str) -> bool {
    token.bytes().filter(|&b| b == b'.').count() == 2
}

/// Decodes the claims if the token looks like a JWT; opaque tokens give
/// `Ok(None)`. A JWT-shaped token that fails to decode is an error rather
/// than "opaque", because a broken JWT points at a server or proxy bug.
pub fn decode_if_jwt(token: &str) -> Result<Option<Claims>, Error> {
    if looks_like_jwt(token) {
        dangerous::decode_unverified(token).map(Some)
    } else {
        Ok(None)
    }
}

/// Decoding without verification lives here so every call site reads as
/// what it is. The result must never drive an authorization decision.
pub mod dangerous {
    use super::*;

    /// Decodes a JWT's header and payload without checking the signature.
    pub fn decode_unverified(token: &str) -> Result<Claims, Error> {
        decode(token).map_err(|reason| Error::MalformedToken { reason })
    }

    /// [`decode_unverified`] with the bare reason as the error: a two-word error is
    /// cheaper to pass up than an [`Error`].
    fn decode(token: &str) -> Result<Claims, &'static str> {
        let Some((header, payload)) = header_and_payload(token) else {
            return Err("token is not a JWT");
        };

        let header_text = decode_segment(
            header,
            "JWT header is not base64url",
            "JWT header is not UTF-8",
        )?;
        if json_object::<JwtHeader>(&header_text).is_err() {
            return Err("JWT header is not a JSON object");
        }

        let mut payload_json = decode_segment(
            payload,
            "JWT payload is not base64url",
            "JWT payload is not UTF-8",
        )?;
        let parsed = json_object::<JwtClaims>(&payload_json).map_err(|e| match e {
            ObjectError::NotJson | ObjectError::Refused => "JWT payload is not JSON",
            ObjectError::NotObject => "JWT payload is not a JSON object",
            ObjectError::OutOfRange => "JWT payload has a number out of range",
        })?;
        // Moved, not copied, so the only copy left is the zeroized one.
        Claims::from_payload(&parsed, core::mem::take(&mut *payload_json))
    }

    /// The first two of exactly three `.`-separated segments.
    fn header_and_payload(token: &str) -> Option<(&str, &str)> {
        let dots: [usize; 2] = {
            let mut found = token.bytes().enumerate().filter(|&(_, b)| b == b'.');
            let first = found.next()?.0;
            let second = found.next()?.0;
            if found.next().is_some() {
                return None;
            }
            [first, second]
        };
        // Dots are ASCII, so these are char boundaries and `get` always succeeds.
        let header = token.get(..dots[0])?;
        let payload = token.get(dots[0].saturating_add(1)..dots[1])?;
        Some((header, payload))
    }

    fn decode_segment(
        segment: &str,
        not_base64url: &'static str,
        not_utf8: &'static str,
    ) -> Result<Zeroizing<String>, &'static str> {
        let bytes = BASE64URL.decode(segment).map_err(|_| not_base64url)?;
        match String::from_utf8(bytes) {
            Ok(text) => Ok(Zeroizing::new(text)),
            Err(e) => {
                e.into_bytes().zeroize();
                Err(not_utf8)
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;

    /// Builds an unsigned test JWT from raw header and payload text.
    pub(crate) fn jwt(header: &str, payload: &str) -> String {
        format!(
            "{}.{}.c2ln",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload)
        )
    }

    fn reason(token: &str) -> &'static str {
        match decode_if_jwt(token) {
            Err(Error::MalformedToken { reason }) => reason,
            other => panic!("expected MalformedToken, got {other:?}"),
        }
    }

    const HDR: &str = r#"{"alg":"RS256"}"#;

    #[test]
    fn opaque_tokens_are_not_jwts() {
        for t in ["abc", "a.b", "a.b.c.d", "....", "opaque-token_123"] {
            assert!(decode_if_jwt(t).unwrap().is_none(), "{t}");
        }
    }

    #[test]
    fn decodes_exp_and_iat() {
        let t = jwt(HDR, r#"{"sub":"u1","exp":1700000000,"iat":1699996400.5}"#);
        let c = decode_if_jwt(&t).unwrap().unwrap();
        assert_eq!(c.exp, Some(1_700_000_000.0));
        assert_eq!(c.iat, Some(1_699_996_400.5));
        assert_eq!(
            c.payload_json,
            r#"{"sub":"u1","exp":1700000000,"iat":1699996400.5}"#
        );
        let c = decode_if_jwt(&jwt(HDR, "{}")).unwrap().unwrap();
        assert_eq!((c.exp, c.iat), (None, None));
    }

    #[test]
    fn padded_segments_and_empty_signature_are_tolerated() {
        let payload = base64::engine::general_purpose::URL_SAFE.encode(r#"{"exp":10}"#);
        assert!(payload.ends_with("=="));
        let t = format!("{}.{payload}.", URL_SAFE_NO_PAD.encode(HDR));
        assert_eq!(decode_if_jwt(&t).unwrap().unwrap().exp, Some(10.0));
    }

    #[test]
    fn malformed_jwts() {
        let p = URL_SAFE_NO_PAD.encode(r#"{"exp":1}"#);
        let h = URL_SAFE_NO_PAD.encode(HDR);
        assert_eq!(reason(&format!("a.{p}.sig")), "JWT header is not base64url");
        let not_utf8_hdr = URL_SAFE_NO_PAD.encode([0xc3, 0x28]);
        assert_eq!(
            reason(&format!("{not_utf8_hdr}.{p}.sig")),
            "JWT header is not UTF-8"
        );
        assert_eq!(
            reason(&format!(".{p}.sig")),
            "JWT header is not a JSON object"
        );
        assert_eq!(reason(&jwt("[1]", "{}")), "JWT header is not a JSON object");
        assert_eq!(
            reason(&jwt("nope", "{}")),
            "JWT header is not a JSON object"
        );
        assert_eq!(
            reason(&format!("{h}.a.sig")),
            "JWT payload is not base64url"
        );
        assert_eq!(
            reason(&format!("{h}.ab+c.sig")),
            "JWT payload is not base64url"
        );
        assert_eq!(reason(&format!("{h}..sig")), "JWT payload is not JSON");
        let not_utf8 = URL_SAFE_NO_PAD.encode([0xff, 0xfe, 0x7b]);
        assert_eq!(
            reason(&format!("{h}.{not_utf8}.sig")),
            "JWT payload is not UTF-8"
        );
        assert_eq!(reason(&jwt(HDR, "not json")), "JWT payload is not JSON");
        assert_eq!(
            reason(&jwt(HDR, "[1,2]")),
            "JWT payload is not a JSON object"
        );
        assert_eq!(reason(&jwt(HDR, "42")), "JWT payload is not a JSON object");
    }

    #[test]
    fn non_numeric_times_are_rejected() {
        for p in [
            r#"{"exp":"1700000000"}"#,
            r#"{"exp":null}"#,
            r#"{"exp":true}"#,
            r#"{"exp":{}}"#,
        ] {
            assert_eq!(reason(&jwt(HDR, p)), "exp is not a number", "{p}");
        }
        assert_eq!(reason(&jwt(HDR, r#"{"iat":"x"}"#)), "iat is not a number");
        // serde_json reads no number beyond the f64 range (RFC 8259 §6 lets it).
        assert_eq!(
            reason(&jwt(HDR, r#"{"exp":1e400}"#)),
            "JWT payload has a number out of range"
        );
    }

    #[test]
    fn dangerous_decode_refuses_non_jwts() {
        assert!(matches!(
            dangerous::decode_unverified("opaque"),
            Err(Error::MalformedToken {
                reason: "token is not a JWT"
            })
        ));
    }

    #[test]
    fn debug_shows_only_times() {
        let c = decode_if_jwt(&jwt(HDR, r#"{"email":"PRIVATE","exp":5}"#))
            .unwrap()
            .unwrap();
        let d = format!("{c:?}");
        assert!(d.contains("exp: Some(5.0)") && !d.contains("PRIVATE"));
    }
}
