//! Classifying failed refresh responses (RFC 6749 §5.2 and plain HTTP).

use alloc::borrow::ToOwned;
use alloc::string::String;

use super::http_date::parse_retry_after;
use super::json::{self, Json};
use super::Error;

/// A failed refresh and how long the server asked us to wait.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefreshFailure {
    /// What went wrong.
    pub error: Error,
    /// Server-requested delay from `Retry-After`, already capped.
    pub retry_after_ms: Option<u64>,
}

impl From<Error> for RefreshFailure {
    /// For failures without an HTTP response (network, timeout).
    fn from(error: Error) -> Self {
        RefreshFailure {
            error,
            retry_after_ms: None,
        }
    }
}

/// Maps a non-2xx refresh response to an error.
///
/// `retry_after` is the raw `Retry-After` header; it is honoured only for
/// 429 and 5xx, where it means "come back later".
pub fn parse_error_response(
    status: u16,
    body: &str,
    retry_after: Option<&str>,
    now_ms: u64,
) -> RefreshFailure {
    let error = match status {
        // Any 401 from the refresh endpoint means the cookie is dead.
        401 => Error::invalid_grant(oauth_error(body).and_then(|(_, d)| d).as_deref()),
        400 => match oauth_error(body) {
            Some((code, description)) if code == "invalid_grant" => {
                Error::invalid_grant(description.as_deref())
            }
            Some((code, description)) => Error::oauth(&code, description.as_deref(), status),
            None => Error::HttpStatus { status },
        },
        429 => Error::RateLimited,
        500..=599 => Error::Server { status },
        _ => Error::HttpStatus { status },
    };
    let retry_after_ms = if error.is_transient() {
        retry_after.and_then(|value| parse_retry_after(value, now_ms))
    } else {
        None
    };
    RefreshFailure {
        error,
        retry_after_ms,
    }
}

/// The `error` code and `error_description` of an RFC 6749 error body, or
/// `None` when the body is not one (no usable `error` string).
fn oauth_error(body: &str) -> Option<(String, Option<String>)> {
    let tree = json::parse(body).ok()?;
    let code = tree.get("error").and_then(Json::as_str)?;
    if !code.chars().any(|c| c.is_ascii_graphic()) {
        return None;
    }
    let description = tree
        .get("error_description")
        .and_then(Json::as_str)
        .map(str::to_owned);
    Some((code.to_owned(), description))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(status: u16, body: &str) -> Error {
        parse_error_response(status, body, None, 0).error
    }

    #[test]
    fn any_401_is_invalid_grant() {
        assert_eq!(err(401, ""), Error::InvalidGrant { description: None });
        assert_eq!(
            err(401, "<html>"),
            Error::InvalidGrant { description: None }
        );
        assert_eq!(
            err(
                401,
                r#"{"error":"invalid_client","error_description":"nope"}"#
            ),
            Error::InvalidGrant {
                description: Some("nope".into())
            }
        );
    }

    #[test]
    fn rfc6749_400_bodies() {
        assert_eq!(
            err(
                400,
                r#"{"error":"invalid_grant","error_description":"Token expired"}"#
            ),
            Error::InvalidGrant {
                description: Some("Token expired".into())
            }
        );
        assert_eq!(
            err(400, r#"{"error":"invalid_grant"}"#),
            Error::InvalidGrant { description: None }
        );
        for code in [
            "invalid_request",
            "invalid_client",
            "unauthorized_client",
            "unsupported_grant_type",
            "invalid_scope",
        ] {
            let e = err(
                400,
                &format!(r#"{{"error":"{code}","error_uri":"https://x"}}"#),
            );
            assert_eq!(
                e,
                Error::OAuth {
                    error: code.into(),
                    description: None,
                    status: 400
                }
            );
            assert!(!e.is_transient());
        }
        assert_eq!(err(400, "not json"), Error::HttpStatus { status: 400 });
        assert_eq!(
            err(400, r#"{"message":"bad"}"#),
            Error::HttpStatus { status: 400 }
        );
        assert_eq!(
            err(400, r#"{"error":42}"#),
            Error::HttpStatus { status: 400 }
        );
        assert_eq!(
            err(400, r#"{"error":"\u0001\n"}"#),
            Error::HttpStatus { status: 400 }
        );
        assert_eq!(err(400, ""), Error::HttpStatus { status: 400 });
    }

    #[test]
    fn server_text_is_sanitized() {
        let e = err(
            400,
            r#"{"error":"invalid_request\r\nX-Injected: 1","error_description":"bad\u001b[2J\nthing\u0000é"}"#,
        );
        assert_eq!(
            e,
            Error::OAuth {
                error: "invalid_requestX-Injected: 1".into(),
                description: Some("bad[2Jthing".into()),
                status: 400
            }
        );
        let long = format!(
            r#"{{"error":"invalid_grant","error_description":"{}"}}"#,
            "y".repeat(5000)
        );
        let Error::InvalidGrant {
            description: Some(d),
        } = err(400, &long)
        else {
            panic!()
        };
        assert_eq!(d.len(), 200);
    }

    #[test]
    fn statuses() {
        assert_eq!(err(429, ""), Error::RateLimited);
        assert_eq!(err(500, ""), Error::Server { status: 500 });
        assert_eq!(err(503, "<html>"), Error::Server { status: 503 });
        assert_eq!(err(599, ""), Error::Server { status: 599 });
        assert_eq!(err(404, ""), Error::HttpStatus { status: 404 });
        assert_eq!(err(302, ""), Error::HttpStatus { status: 302 });
        assert_eq!(
            err(403, r#"{"error":"invalid_grant"}"#),
            Error::HttpStatus { status: 403 }
        );
        assert_eq!(err(0, ""), Error::HttpStatus { status: 0 });
    }

    #[test]
    fn retry_after_only_for_transient_statuses() {
        let f = parse_error_response(429, "", Some("30"), 0);
        assert_eq!(f.retry_after_ms, Some(30_000));
        let f = parse_error_response(503, "", Some("Thu, 01 Jan 1970 00:01:00 GMT"), 10_000);
        assert_eq!(f.retry_after_ms, Some(50_000));
        let f = parse_error_response(500, "", Some("garbage"), 0);
        assert_eq!(f.retry_after_ms, None);
        let f = parse_error_response(400, r#"{"error":"invalid_grant"}"#, Some("30"), 0);
        assert_eq!(f.retry_after_ms, None);
        assert_eq!(RefreshFailure::from(Error::Network).retry_after_ms, None);
    }
}
