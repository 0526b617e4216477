//! The single error type shared by the core and surfaced to JS as `code`.

/// Renders an optional (already sanitized) server description as a message
/// suffix, so users see the server's hint without a dangling "()".
fn suffix(description: &Option<String>) -> String {
    match description {
        Some(d) if !d.is_empty() => format!(" ({d})"),
        _ => String::new(),
    }
}

/// Longest server-provided text we keep; enough for a useful hint, too short
/// to smuggle a payload into logs.
pub const MAX_SERVER_TEXT_CHARS: usize = 200;

/// Everything that can go wrong, as stable machine-readable codes.
///
/// Messages never contain token bytes: they are logged and shown to users.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The caller's configuration cannot work; reported at construction time
    /// so misconfiguration fails loudly instead of looping at runtime.
    #[error("invalid option `{field}`: {reason}")]
    InvalidOptions {
        /// The option's JS-facing name.
        field: String,
        /// Why the value was refused.
        reason: String,
    },
    /// The refresh request never got an HTTP response.
    #[error("the refresh request failed at the network level")]
    Network,
    /// The refresh request took longer than the configured timeout.
    #[error("the refresh request timed out")]
    Timeout,
    /// The refresh token (cookie) was rejected: the session is over.
    #[error("the refresh token was rejected; sign in again{}", suffix(.description))]
    InvalidGrant {
        /// Sanitized `error_description`, if the server sent one.
        description: Option<String>,
    },
    /// Another RFC 6749 §5.2 error: a configuration problem, not a blip.
    #[error("the authorization server refused the refresh with `{error}` (HTTP {status}){}", suffix(.description))]
    OAuth {
        /// Sanitized RFC 6749 error code.
        error: String,
        /// Sanitized `error_description`, if any.
        description: Option<String>,
        /// HTTP status of the error response.
        status: u16,
    },
    /// 5xx: the server is having trouble; worth retrying.
    #[error("the authorization server failed with HTTP {status}")]
    Server {
        /// The 5xx status.
        status: u16,
    },
    /// 429: the server asked us to slow down.
    #[error("the authorization server is rate limiting refreshes")]
    RateLimited,
    /// A status the refresh protocol has no meaning for (3xx, 404, ...).
    #[error("the refresh endpoint answered with unexpected HTTP {status}")]
    HttpStatus {
        /// The unexpected status.
        status: u16,
    },
    /// The success body is not a usable token response.
    #[error("the token response is malformed: {reason}")]
    MalformedResponse {
        /// Which rule the body broke.
        reason: &'static str,
    },
    /// The access token itself is not acceptable.
    #[error("the access token is malformed: {reason}")]
    MalformedToken {
        /// Which rule the token broke (never the token).
        reason: &'static str,
    },
    /// Only bearer tokens can be attached by this library.
    #[error("the token response has a missing or unsupported token_type")]
    UnsupportedTokenType,
    /// `expires_in` (or the derived lifetime) cannot be trusted.
    #[error("the token lifetime is invalid: {reason}")]
    InvalidExpiresIn {
        /// Which rule the lifetime broke.
        reason: &'static str,
    },
    /// Neither `expires_in`, a JWT `exp` nor a default lifetime is available.
    #[error("the token expiry is unknown and no default lifetime is configured")]
    UnknownExpiry,
    /// No valid token could be obtained in time.
    #[error("no valid access token could be obtained in time")]
    TokenExpired,
    /// There is no session.
    #[error("not signed in")]
    NotSignedIn,
    /// The app chose not to expose the raw token to JS.
    #[error("the access token is not exposed to JavaScript")]
    TokenNotExposed,
    /// The instance was disposed.
    #[error("the token manager was disposed")]
    Disposed,
    /// The caller aborted its own request.
    #[error("the request was aborted by the caller")]
    Aborted,
    /// The refresh ceiling was hit; refusing to hammer the server.
    #[error("too many refreshes in the last minute")]
    TooManyRefreshes,
}

impl Error {
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
    fn messages_are_sentences() {
        let msg = Error::invalid_grant(Some("expired")).to_string();
        assert!(msg.contains("rejected") && msg.contains("(expired)"));
        assert_eq!(
            Error::invalid_grant(None).to_string(),
            "the refresh token was rejected; sign in again"
        );
    }
}
