//! Classifying failed refresh responses (RFC 6749 §5.2 and plain HTTP).

use serde::Deserialize;

use super::field::Field;
use super::{Answer, Error, MAX_WAIT_MS};

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

/// The members of an RFC 6749 §5.2 error response that the core reads; unknown members
/// (`error_uri`, ...) are ignored.
#[derive(Debug, Default, Deserialize)]
pub struct ErrorResponse {
    /// `error`: the error code; only a string with a visible character counts.
    #[serde(default)]
    pub error: Field,
    /// `error_description`: a human-readable hint, if a string.
    #[serde(default)]
    pub error_description: Field,
}

/// Maps a non-2xx refresh response to an error.
///
/// `body` is the decoded RFC 6749 §5.2 body, `None` when the body is not one (see
/// `crate::decode::error_response`). `retry_after_ms` is the `Retry-After` delay (see
/// [`retry_after_ms`]); it is honoured only for 429 and 5xx, where it means "come back
/// later".
pub fn classify_error_response(
    status: u16,
    body: Option<&ErrorResponse>,
    retry_after_ms: Option<u64>,
) -> RefreshFailure {
    let oauth = body.and_then(oauth_error);
    // Whatever the status, the server's `error` and `error_description` go along.
    let answer = match oauth {
        Some((code, description)) => Answer::new(status, Some(code), description),
        None => Answer::new(
            status,
            None,
            body.and_then(|b| b.error_description.as_str()),
        ),
    };
    let error = match status {
        // Any 401 from the refresh endpoint means the cookie is dead.
        401 => Error::InvalidGrant(answer),
        400 => match oauth {
            Some(("invalid_grant", _)) => Error::InvalidGrant(answer),
            Some(_) => Error::OAuth(answer),
            None => Error::HttpStatus(answer),
        },
        429 => Error::RateLimited(answer),
        500..=599 => Error::Server(answer),
        _ => Error::HttpStatus(answer),
    };
    let retry_after_ms = if error.is_transient() {
        retry_after_ms
    } else {
        None
    };
    RefreshFailure {
        error,
        retry_after_ms,
    }
}

/// The `error` code and `error_description` of an RFC 6749 error body, or `None` when
/// it has no usable `error` string.
fn oauth_error(body: &ErrorResponse) -> Option<(&str, Option<&str>)> {
    let code = body.error.as_str()?;
    if !code.chars().any(|c| c.is_ascii_graphic()) {
        return None;
    }
    Some((code, body.error_description.as_str()))
}

/// The delay `Retry-After` asks for, in ms (RFC 9110 §10.2.3), capped at
/// [`MAX_WAIT_MS`] so a hostile value cannot stall refreshes for days.
///
/// `header` is the raw value: delta-seconds (ASCII digits, read by `str::parse`; too
/// many digits mean the cap). Otherwise `header_date_ms` is the value read as an
/// HTTP-date by the runtime (`Date.parse`, ms since the epoch, NaN when it is none); a
/// date in the past means "now" (0). `None` when the header is absent or neither.
pub fn retry_after_ms(header: &str, header_date_ms: f64, now_ms: u64) -> Option<u64> {
    let value = header.trim();
    let delay = if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        value
            .parse::<u64>()
            .map_or(u64::MAX, |secs| secs.saturating_mul(1_000))
    } else {
        epoch_ms(header_date_ms)?.saturating_sub(now_ms)
    };
    Some(delay.min(MAX_WAIT_MS))
}

/// A `Date.parse` result as ms since the epoch: `None` for NaN, infinities and dates
/// before 1970 (no server sends those).
pub fn epoch_ms(date_ms: f64) -> Option<u64> {
    // NaN and infinities are outside the range; below 2^64, so the cast is exact after
    // the floor.
    (0.0..1.8e19)
        .contains(&date_ms)
        .then(|| libm::floor(date_ms) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::parse_error_response;

    fn err(status: u16, body: &str) -> Error {
        parse_error_response(status, body, "", f64::NAN, 0).error
    }

    fn a(status: u16, error: Option<&str>, description: Option<&str>) -> Answer {
        Answer::new(status, error, description)
    }

    #[test]
    fn any_401_is_invalid_grant() {
        assert_eq!(err(401, ""), Error::InvalidGrant(Answer::bare(401)));
        assert_eq!(err(401, "<html>"), Error::InvalidGrant(Answer::bare(401)));
        assert_eq!(
            err(
                401,
                r#"{"error":"invalid_client","error_description":"nope"}"#
            ),
            Error::InvalidGrant(a(401, Some("invalid_client"), Some("nope")))
        );
    }

    #[test]
    fn rfc6749_400_bodies() {
        assert_eq!(
            err(
                400,
                r#"{"error":"invalid_grant","error_description":"Token expired"}"#
            ),
            Error::invalid_grant(Some("Token expired"))
        );
        assert_eq!(
            err(400, r#"{"error":"invalid_grant"}"#),
            Error::invalid_grant(None)
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
            assert_eq!(e, Error::OAuth(a(400, Some(code), None)));
            assert!(!e.is_transient());
        }
        let bare = Error::HttpStatus(Answer::bare(400));
        assert_eq!(err(400, "not json"), bare);
        assert_eq!(err(400, r#"{"message":"bad"}"#), bare);
        assert_eq!(err(400, r#"{"error":42}"#), bare);
        assert_eq!(err(400, r#"{"error":"\u0001\n"}"#), bare);
        assert_eq!(err(400, ""), bare);
        // A description without an error code is still carried.
        assert_eq!(
            err(400, r#"{"error_description":"missing field"}"#),
            Error::HttpStatus(a(400, None, Some("missing field")))
        );
    }

    #[test]
    fn server_text_is_sanitized() {
        let e = err(
            400,
            r#"{"error":"invalid_request\r\nX-Injected: 1","error_description":"bad\u001b[2J\nthing\u0000é"}"#,
        );
        assert_eq!(
            e,
            Error::OAuth(a(
                400,
                Some("invalid_requestX-Injected: 1"),
                Some("bad[2Jthing")
            ))
        );
        let long = format!(
            r#"{{"error":"invalid_grant","error_description":"{}"}}"#,
            "y".repeat(5000)
        );
        let error = err(400, &long);
        let d = error.answer().and_then(|a| a.description.as_deref());
        assert_eq!(d.map(str::len), Some(200));
    }

    #[test]
    fn statuses_keep_the_body() {
        assert_eq!(err(429, ""), Error::RateLimited(Answer::bare(429)));
        assert_eq!(err(500, ""), Error::Server(Answer::bare(500)));
        assert_eq!(err(503, "<html>"), Error::Server(Answer::bare(503)));
        assert_eq!(err(599, ""), Error::Server(Answer::bare(599)));
        assert_eq!(err(404, ""), Error::HttpStatus(Answer::bare(404)));
        assert_eq!(err(302, ""), Error::HttpStatus(Answer::bare(302)));
        assert_eq!(err(0, ""), Error::HttpStatus(Answer::bare(0)));
        // A dev proxy's CSRF refusal: a 403 with the body kept, not "unexpected HTTP 403".
        assert_eq!(
            err(403, r#"{"error":"csrf"}"#),
            Error::HttpStatus(a(403, Some("csrf"), None))
        );
        assert_eq!(
            err(403, r#"{"error":"invalid_grant"}"#),
            Error::HttpStatus(a(403, Some("invalid_grant"), None))
        );
        assert_eq!(
            err(
                404,
                r#"{"error":"not_found","error_description":"no route"}"#
            ),
            Error::HttpStatus(a(404, Some("not_found"), Some("no route")))
        );
        assert_eq!(
            err(503, r#"{"error":"temporarily_unavailable"}"#),
            Error::Server(a(503, Some("temporarily_unavailable"), None))
        );
        assert_eq!(
            err(429, r#"{"error":"slow_down"}"#),
            Error::RateLimited(a(429, Some("slow_down"), None))
        );
    }

    #[test]
    fn retry_after_only_for_transient_statuses() {
        let f = parse_error_response(429, "", "30", f64::NAN, 0);
        assert_eq!(f.retry_after_ms, Some(30_000));
        // The HTTP-date form arrives as `Date.parse` read it.
        let f = parse_error_response(503, "", "Thu, 01 Jan 1970 00:01:00 GMT", 60_000.0, 10_000);
        assert_eq!(f.retry_after_ms, Some(50_000));
        let f = parse_error_response(500, "", "garbage", f64::NAN, 0);
        assert_eq!(f.retry_after_ms, None);
        let f = parse_error_response(400, r#"{"error":"invalid_grant"}"#, "30", f64::NAN, 0);
        assert_eq!(f.retry_after_ms, None);
        assert_eq!(RefreshFailure::from(Error::Network).retry_after_ms, None);
    }
}

#[cfg(test)]
mod retry_after_tests {
    use super::*;

    #[test]
    fn delta_seconds_and_dates() {
        assert_eq!(retry_after_ms("120", f64::NAN, 0), Some(120_000));
        assert_eq!(retry_after_ms(" 0 ", f64::NAN, 0), Some(0));
        assert_eq!(
            retry_after_ms("99999999999999999999999", f64::NAN, 0),
            Some(MAX_WAIT_MS)
        );
        assert_eq!(retry_after_ms("7200", f64::NAN, 0), Some(MAX_WAIT_MS));
        // A sign is not delta-seconds, even though `str::parse` would take "+5".
        assert_eq!(retry_after_ms("+5", f64::NAN, 0), None);
        assert_eq!(retry_after_ms("", f64::NAN, 0), None);
        assert_eq!(retry_after_ms("x", 70_000.0, 10_000), Some(60_000));
        assert_eq!(retry_after_ms("x", 5_000.0, 10_000), Some(0));
        assert_eq!(retry_after_ms("x", 1e15, 0), Some(MAX_WAIT_MS));
        for bad in [f64::NAN, f64::INFINITY, -1.0] {
            assert_eq!(retry_after_ms("x", bad, 0), None);
        }
    }

    #[test]
    fn epoch_ms_refuses_what_is_no_date() {
        assert_eq!(epoch_ms(784_111_777_000.0), Some(784_111_777_000));
        assert_eq!(epoch_ms(1.5), Some(1));
        for bad in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, -1.0, 1e20] {
            assert_eq!(epoch_ms(bad), None);
        }
    }
}
