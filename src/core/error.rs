//! The single error type shared by the core and surfaced to JS as `code`.
//!
//! Messages are assembled with `push_str` rather than `format!`/`thiserror`: the
//! `core::fmt` machinery they would pull in is the largest single cost in the wasm.

use core::fmt;

/// Longest server-provided text we keep; enough for a useful hint, too short
/// to smuggle a payload into logs.
pub const MAX_SERVER_TEXT_CHARS: usize = 200;

/// Everything that can go wrong, as stable machine-readable codes.
///
/// Messages never contain token bytes: they are logged and shown to users.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// The caller's configuration cannot work; reported at construction time
    /// so misconfiguration fails loudly instead of looping at runtime.
    InvalidOptions {
        /// The option's JS-facing name.
        field: String,
        /// Why the value was refused.
        reason: String,
    },
    /// The refresh request never got an HTTP response.
    Network,
    /// The refresh request took longer than the configured timeout.
    Timeout,
    /// The refresh token (cookie) was rejected: the session is over.
    InvalidGrant {
        /// Sanitized `error_description`, if the server sent one.
        description: Option<String>,
    },
    /// Another RFC 6749 §5.2 error: a configuration problem, not a blip.
    OAuth {
        /// Sanitized RFC 6749 error code.
        error: String,
        /// Sanitized `error_description`, if any.
        description: Option<String>,
        /// HTTP status of the error response.
        status: u16,
    },
    /// 5xx: the server is having trouble; worth retrying.
    Server {
        /// The 5xx status.
        status: u16,
    },
    /// 429: the server asked us to slow down.
    RateLimited,
    /// A status the refresh protocol has no meaning for (3xx, 404, ...).
    HttpStatus {
        /// The unexpected status.
        status: u16,
    },
    /// The success body is not a usable token response.
    MalformedResponse {
        /// Which rule the body broke.
        reason: &'static str,
    },
    /// The access token itself is not acceptable.
    MalformedToken {
        /// Which rule the token broke (never the token).
        reason: &'static str,
    },
    /// Only bearer tokens can be attached by this library.
    UnsupportedTokenType,
    /// `expires_in` (or the derived lifetime) cannot be trusted.
    InvalidExpiresIn {
        /// Which rule the lifetime broke.
        reason: &'static str,
    },
    /// Neither `expires_in`, a JWT `exp` nor a default lifetime is available.
    UnknownExpiry,
    /// No valid token could be obtained in time.
    TokenExpired,
    /// There is no session.
    NotSignedIn,
    /// The app chose not to expose the raw token to JS.
    TokenNotExposed,
    /// The instance was disposed.
    Disposed,
    /// The caller aborted its own request.
    Aborted,
    /// The refresh ceiling was hit; refusing to hammer the server.
    TooManyRefreshes,
}

/// Which of our own requests an error is about, so its message names the right endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// The refresh endpoint (restore, silent refresh, `refresh()`).
    Refresh,
    /// The app's sign-in endpoint (`signIn`).
    SignIn,
}

/// Shows [`Error::message`].
impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl core::error::Error for Error {}

/// Appends the decimal digits of `n` (no `core::fmt`).
pub fn push_decimal(out: &mut String, n: u64) {
    let mut digits = [0u8; 20];
    let mut len = 0;
    let mut rest = n;
    for slot in digits.iter_mut().rev() {
        // `rest % 10` is a single digit, so the cast cannot truncate.
        *slot = b'0'.saturating_add((rest % 10) as u8);
        len += 1;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    for &d in digits.iter().skip(digits.len().saturating_sub(len)) {
        out.push(char::from(d));
    }
}

/// Concatenates `parts` into one string.
pub fn concat(parts: &[&str]) -> String {
    let mut out = String::new();
    for part in parts {
        out.push_str(part);
    }
    out
}

impl Error {
    /// The human-readable message shown to users and logs, for an error of the refresh
    /// endpoint (or none). Never holds token bytes.
    pub fn message(&self) -> String {
        self.message_for(Endpoint::Refresh)
    }

    /// [`Error::message`] for an error of `endpoint`: the transport and HTTP errors of
    /// the sign-in request name the sign-in endpoint, not the refresh endpoint.
    pub fn message_for(&self, endpoint: Endpoint) -> String {
        let sign_in = endpoint == Endpoint::SignIn;
        let pick = |refresh: &'static str, sign_in_text: &'static str| {
            if sign_in {
                sign_in_text
            } else {
                refresh
            }
        };
        let (text, detail) = match self {
            Error::InvalidOptions { field, reason } => {
                return concat(&["invalid option `", field, "`: ", reason]);
            }
            Error::Network => (
                pick(
                    "the refresh request failed at the network level",
                    "the sign-in request failed at the network level",
                ),
                None,
            ),
            Error::Timeout => (
                pick(
                    "the refresh request timed out",
                    "the sign-in request timed out",
                ),
                None,
            ),
            Error::InvalidGrant { description } => {
                let mut m = String::from(pick(
                    "the refresh token was rejected; sign in again",
                    "the sign-in endpoint rejected the credentials",
                ));
                push_description(&mut m, description);
                return m;
            }
            Error::OAuth {
                error,
                description,
                status,
            } => {
                let mut m = concat(&[
                    pick(
                        "the authorization server refused the refresh with `",
                        "the sign-in endpoint refused the sign-in with `",
                    ),
                    error,
                    "` (HTTP ",
                ]);
                push_decimal(&mut m, u64::from(*status));
                m.push(')');
                push_description(&mut m, description);
                return m;
            }
            Error::Server { status } => {
                let mut m = String::from(pick(
                    "the authorization server failed with HTTP ",
                    "the sign-in endpoint failed with HTTP ",
                ));
                push_decimal(&mut m, u64::from(*status));
                return m;
            }
            Error::RateLimited => (
                pick(
                    "the authorization server is rate limiting refreshes",
                    "the sign-in endpoint is rate limiting sign-ins",
                ),
                None,
            ),
            Error::HttpStatus { status } => {
                let mut m = String::from(pick(
                    "the refresh endpoint answered with unexpected HTTP ",
                    "the sign-in endpoint answered with unexpected HTTP ",
                ));
                push_decimal(&mut m, u64::from(*status));
                return m;
            }
            Error::MalformedResponse { reason } => {
                ("the token response is malformed: ", Some(*reason))
            }
            Error::MalformedToken { reason } => ("the access token is malformed: ", Some(*reason)),
            Error::UnsupportedTokenType => (
                "the token response has a missing or unsupported token_type",
                None,
            ),
            Error::InvalidExpiresIn { reason } => {
                ("the token lifetime is invalid: ", Some(*reason))
            }
            Error::UnknownExpiry => (
                "the token expiry is unknown and no default lifetime is configured",
                None,
            ),
            Error::TokenExpired => ("no valid access token could be obtained in time", None),
            Error::NotSignedIn => ("not signed in", None),
            Error::TokenNotExposed => ("the access token is not exposed to JavaScript", None),
            Error::Disposed => ("the token manager was disposed", None),
            Error::Aborted => ("the request was aborted by the caller", None),
            Error::TooManyRefreshes => ("too many refreshes in the last minute", None),
        };
        concat(&[text, detail.unwrap_or("")])
    }

    /// Stable code for JS (`err.code`), so apps never match on messages.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidOptions { .. } => "invalid_options",
            Error::Network => "network",
            Error::Timeout => "timeout",
            Error::InvalidGrant { .. } => "invalid_grant",
            Error::OAuth { .. } => "oauth_error",
            Error::Server { .. } => "server_error",
            Error::RateLimited => "rate_limited",
            Error::HttpStatus { .. } => "http_error",
            Error::MalformedResponse { .. } => "malformed_response",
            Error::MalformedToken { .. } => "malformed_token",
            Error::UnsupportedTokenType => "unsupported_token_type",
            Error::InvalidExpiresIn { .. } => "invalid_expires_in",
            Error::UnknownExpiry => "unknown_expiry",
            Error::TokenExpired => "token_expired",
            Error::NotSignedIn => "not_signed_in",
            Error::TokenNotExposed => "token_not_exposed",
            Error::Disposed => "disposed",
            Error::Aborted => "aborted",
            Error::TooManyRefreshes => "too_many_refreshes",
        }
    }

    /// Whether retrying the same request later can plausibly succeed; only
    /// these errors enter the backoff loop.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::Network | Error::Timeout | Error::Server { .. } | Error::RateLimited
        )
    }

    /// Builds [`Error::OAuth`] with server text made safe for logs and UIs.
    pub fn oauth(error: &str, description: Option<&str>, status: u16) -> Self {
        Error::OAuth {
            error: sanitize_server_text(error),
            description: description.map(sanitize_server_text),
            status,
        }
    }

    /// Builds [`Error::InvalidGrant`] with a sanitized description.
    pub fn invalid_grant(description: Option<&str>) -> Self {
        Error::InvalidGrant {
            description: description.map(sanitize_server_text),
        }
    }
}

/// Renders an optional (already sanitized) server description as a message
/// suffix, so users see the server's hint without a dangling "()".
fn push_description(out: &mut String, description: &Option<String>) {
    if let Some(d) = description.as_deref().filter(|d| !d.is_empty()) {
        out.push_str(" (");
        out.push_str(d);
        out.push(')');
    }
}

/// Keeps only printable ASCII and at most [`MAX_SERVER_TEXT_CHARS`] chars, so a
/// hostile server cannot inject terminal escapes, newlines (log forging) or
/// bidi tricks into messages.
pub fn sanitize_server_text(text: &str) -> String {
    text.chars()
        .filter(|c| matches!(c, ' '..='~'))
        .take(MAX_SERVER_TEXT_CHARS)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stable() {
        assert_eq!(Error::Network.code(), "network");
        assert_eq!(Error::invalid_grant(None).code(), "invalid_grant");
        assert_eq!(
            Error::oauth("invalid_client", None, 400).code(),
            "oauth_error"
        );
        assert_eq!(Error::Server { status: 503 }.code(), "server_error");
        assert_eq!(Error::HttpStatus { status: 404 }.code(), "http_error");
        assert_eq!(Error::TooManyRefreshes.code(), "too_many_refreshes");
        assert_eq!(Error::UnknownExpiry.code(), "unknown_expiry");
    }

    #[test]
    fn only_network_timeout_server_and_429_are_transient() {
        assert!(Error::Network.is_transient());
        assert!(Error::Timeout.is_transient());
        assert!(Error::Server { status: 500 }.is_transient());
        assert!(Error::RateLimited.is_transient());
        assert!(!Error::invalid_grant(None).is_transient());
        assert!(!Error::HttpStatus { status: 404 }.is_transient());
        assert!(!Error::MalformedResponse { reason: "x" }.is_transient());
        assert!(!Error::oauth("invalid_request", None, 400).is_transient());
    }

    #[test]
    fn server_text_is_sanitized_and_truncated() {
        let e = Error::oauth("bad\r\nerror", Some("line1\nline2\u{1b}[31m\u{202e}é"), 400);
        let Error::OAuth {
            error, description, ..
        } = &e
        else {
            panic!("wrong variant")
        };
        assert_eq!(error, "baderror");
        assert_eq!(description.as_deref(), Some("line1line2[31m"));
        let long = "x".repeat(1000);
        assert_eq!(sanitize_server_text(&long).len(), MAX_SERVER_TEXT_CHARS);
    }

    #[test]
    fn messages_match_the_former_format_strings() {
        let d = Some("hint".to_owned());
        let rows = [
            (
                Error::InvalidOptions {
                    field: "retry.maxAttempts".into(),
                    reason: "expected a number from 1 to 100".into(),
                },
                "invalid option `retry.maxAttempts`: expected a number from 1 to 100".to_owned(),
            ),
            (
                Error::OAuth {
                    error: "invalid_client".into(),
                    description: d.clone(),
                    status: 400,
                },
                "the authorization server refused the refresh with `invalid_client` (HTTP 400) (hint)"
                    .to_owned(),
            ),
            (
                Error::OAuth {
                    error: "x".into(),
                    description: Some(String::new()),
                    status: 0,
                },
                "the authorization server refused the refresh with `x` (HTTP 0)".to_owned(),
            ),
            (
                Error::Server { status: 503 },
                "the authorization server failed with HTTP 503".to_owned(),
            ),
            (
                Error::HttpStatus { status: 65535 },
                "the refresh endpoint answered with unexpected HTTP 65535".to_owned(),
            ),
            (
                Error::InvalidGrant { description: d },
                "the refresh token was rejected; sign in again (hint)".to_owned(),
            ),
            (
                Error::MalformedToken { reason: "r" },
                "the access token is malformed: r".to_owned(),
            ),
            (
                Error::MalformedResponse { reason: "r" },
                "the token response is malformed: r".to_owned(),
            ),
            (
                Error::InvalidExpiresIn { reason: "r" },
                "the token lifetime is invalid: r".to_owned(),
            ),
            (Error::NotSignedIn, "not signed in".to_owned()),
        ];
        for (error, expected) in rows {
            assert_eq!(error.message(), expected);
            assert_eq!(error.to_string(), expected);
        }
    }

    #[test]
    fn sign_in_errors_name_the_sign_in_endpoint() {
        let rows = [
            Error::Network,
            Error::Timeout,
            Error::invalid_grant(Some("bad password")),
            Error::oauth("invalid_request", None, 400),
            Error::Server { status: 503 },
            Error::RateLimited,
            Error::HttpStatus { status: 404 },
        ];
        for error in rows {
            let m = error.message_for(Endpoint::SignIn);
            assert!(m.contains("sign-in"), "{m}");
            assert!(!m.contains("refresh"), "{m}");
            assert_eq!(error.message_for(Endpoint::Refresh), error.message());
        }
        assert_eq!(
            Error::HttpStatus { status: 404 }.message_for(Endpoint::SignIn),
            "the sign-in endpoint answered with unexpected HTTP 404"
        );
        assert_eq!(
            Error::invalid_grant(Some("bad password")).message_for(Endpoint::SignIn),
            "the sign-in endpoint rejected the credentials (bad password)"
        );
        // Errors about the body read the same whichever endpoint sent it.
        let body = Error::MalformedResponse { reason: "r" };
        assert_eq!(body.message_for(Endpoint::SignIn), body.message());
    }

    #[test]
    fn decimals() {
        for n in [0, 7, 10, 99, 100, 65_535, 3_600_000, u64::MAX] {
            let mut s = String::new();
            push_decimal(&mut s, n);
            assert_eq!(s, n.to_string());
        }
    }

    #[test]
    fn messages_are_sentences() {
        let msg = Error::invalid_grant(Some("expired")).to_string();
        assert!(msg.contains("rejected") && msg.contains("(expired)"));
        assert_eq!(
            Error::invalid_grant(None).to_string(),
            "the refresh token was rejected; sign in again"
        );
    }
}
