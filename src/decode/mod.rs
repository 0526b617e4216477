//! The text → type step: server bodies and JWT segments become the core's serde types
//! here, through `serde_json`, and nowhere else. The wasm boundary
//! ([`crate::api::engine::Engine::reply`]) calls these; the core takes the typed values.
//!
//! Copies `serde_json` makes that are not wiped: a string with escapes is unescaped
//! through its scratch buffer before it reaches [`Field`](crate::core::field::Field)
//! (which wipes its own copy); an unescaped string is borrowed from the body and copied
//! once, into the `Field`.

pub mod jwt;

use serde::de::IgnoredAny;
use serde::Deserialize;

use crate::core::error_response::{classify_error_response, epoch_ms, retry_after_ms};
use crate::core::{Error, ErrorResponse, ExpiryPolicy, RefreshFailure, TokenGrant, TokenResponse};

/// Why a text is not the JSON object a type wants.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectError {
    /// Not JSON at all (RFC 8259).
    NotJson,
    /// JSON, but not an object.
    NotObject,
    /// A JSON object the type refuses: a member it reads appears twice.
    Refused,
    /// A JSON object where a member the type reads holds a number beyond the f64 range
    /// (`1e999`): `serde_json` refuses to read it (RFC 8259 §6 lets it).
    OutOfRange,
}

/// Decodes `text`, which must be one JSON object (RFC 8259 §4), into `T`.
///
/// The derived `Deserialize` of a struct would also take an array, so the object is
/// checked by its first character after JSON whitespace.
pub fn json_object<'a, T: Deserialize<'a>>(text: &'a str) -> Result<T, ObjectError> {
    let is_object = text
        .trim_start_matches([' ', '\t', '\n', '\r'])
        .starts_with('{');
    if !is_object {
        return Err(match serde_json::from_str::<IgnoredAny>(text) {
            Ok(_) => ObjectError::NotObject,
            Err(_) => ObjectError::NotJson,
        });
    }
    let refused = match serde_json::from_str::<T>(text) {
        Ok(value) => return Ok(value),
        // Every member type accepts any value, so a data error is a duplicate member.
        Err(e) if e.is_data() => ObjectError::Refused,
        Err(_) => ObjectError::OutOfRange,
    };
    // `IgnoredAny` checks the syntax without reading numbers.
    match serde_json::from_str::<IgnoredAny>(text) {
        Ok(_) => Err(refused),
        Err(_) => Err(ObjectError::NotJson),
    }
}

/// Decodes a 2xx body as an RFC 6749 §5.1 token response. Errors are all
/// `malformed_response`: `response body is empty`, `... is HTML, not JSON`,
/// `... is not JSON`, `... is not a JSON object`, `... has duplicate fields`,
/// `... has a number out of range`.
pub fn token_response(body: &str) -> Result<TokenResponse, Error> {
    let malformed = |reason| Err(Error::MalformedResponse { reason });
    let start = body.trim_start();
    if start.is_empty() {
        return malformed("response body is empty");
    }
    if start.starts_with('<') {
        return malformed("response body is HTML, not JSON");
    }
    match json_object(body) {
        Ok(response) => Ok(response),
        Err(ObjectError::NotJson) => malformed("response body is not JSON"),
        Err(ObjectError::NotObject) => malformed("response body is not a JSON object"),
        Err(ObjectError::Refused) => malformed("response body has duplicate fields"),
        Err(ObjectError::OutOfRange) => malformed("response body has a number out of range"),
    }
}

/// Decodes an error body as an RFC 6749 §5.2 error response; `None` when it is not a
/// JSON object with at most one of each member read.
pub fn error_response(body: &str) -> Option<ErrorResponse> {
    json_object(body).ok()
}

/// [`token_response`] then [`TokenGrant::from_response`]: a 2xx body to a grant.
/// `server_date_ms` is the `Date` header in ms since the epoch.
pub fn parse_token_response(
    body: &str,
    received_at_ms: u64,
    server_date_ms: Option<u64>,
    policy: &ExpiryPolicy,
) -> Result<TokenGrant, Error> {
    TokenGrant::from_response(
        token_response(body)?,
        received_at_ms,
        server_date_ms,
        policy,
        jwt::decode_if_jwt,
    )
}

/// [`error_response`] then [`classify_error_response`]: a non-2xx answer to a failure.
/// `retry_after` is the raw `Retry-After` header (empty when absent) and
/// `retry_after_date_ms` the same header read by `Date.parse` (NaN when it is no date).
pub fn parse_error_response(
    status: u16,
    body: &str,
    retry_after: &str,
    retry_after_date_ms: f64,
    now_ms: u64,
) -> RefreshFailure {
    let delay = retry_after_ms(retry_after, retry_after_date_ms, now_ms);
    classify_error_response(status, error_response(body).as_ref(), delay)
}

/// A `Date` header read by `Date.parse` (ms, NaN when unparseable) as the server's
/// clock, if it is a date after 1970.
pub fn server_date_ms(date_ms: f64) -> Option<u64> {
    epoch_ms(date_ms)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::field::Field;

    #[test]
    fn objects_only() {
        #[derive(Deserialize, Debug)]
        struct Two {
            #[serde(default)]
            a: Field,
        }
        assert!(matches!(
            json_object::<Two>(" {\"a\":1}").unwrap().a,
            Field::Number(n) if n == 1.0
        ));
        assert_eq!(
            json_object::<Two>("[1]").unwrap_err(),
            ObjectError::NotObject
        );
        assert_eq!(json_object::<Two>("1").unwrap_err(), ObjectError::NotObject);
        assert_eq!(json_object::<Two>("{").unwrap_err(), ObjectError::NotJson);
        assert_eq!(
            json_object::<Two>("{} x").unwrap_err(),
            ObjectError::NotJson
        );
        assert_eq!(
            json_object::<Two>(r#"{"a":1,"a":2}"#).unwrap_err(),
            ObjectError::Refused
        );
        assert_eq!(
            json_object::<Two>(r#"{"a":1e999}"#).unwrap_err(),
            ObjectError::OutOfRange
        );
        assert!(json_object::<Two>(r#"{"b":1e999}"#).is_ok());
        // Unknown members are ignored, duplicated or not.
        assert!(json_object::<Two>(r#"{"b":1,"b":[{}]}"#).is_ok());
    }

    #[test]
    fn fields_keep_their_shape() {
        #[derive(Deserialize)]
        struct All {
            #[serde(default)]
            n: Field,
            #[serde(default)]
            s: Field,
            #[serde(default)]
            z: Field,
            #[serde(default)]
            b: Field,
            #[serde(default)]
            c: Field,
            #[serde(default)]
            gone: Field,
        }
        let all: All =
            json_object(r#"{"n":-2.5,"s":"a\"b","z":null,"b":false,"c":{"x":[1]}}"#).unwrap();
        assert!(matches!(all.n, Field::Number(n) if n == -2.5));
        assert_eq!(all.s.as_str(), Some("a\"b"));
        assert!(matches!(all.z, Field::Null));
        assert!(matches!(all.b, Field::Bool));
        assert!(matches!(all.c, Field::Compound));
        assert!(all.gone.is_absent());
        assert_eq!(format!("{:?}", all.s), "Text(..)");
    }

    #[test]
    fn error_bodies() {
        let e = error_response(r#"{"error":"invalid_grant","error_uri":"x"}"#).unwrap();
        assert_eq!(e.error.as_str(), Some("invalid_grant"));
        assert!(error_response(r#"["invalid_grant"]"#).is_none());
        assert!(error_response("").is_none());
    }

    #[test]
    fn server_dates() {
        assert_eq!(server_date_ms(784_111_777_000.0), Some(784_111_777_000));
        assert_eq!(server_date_ms(f64::NAN), None);
        assert_eq!(server_date_ms(-1.0), None);
    }
}
