//! The single error type shared by the core and surfaced to JS as `code`.
//!
//! Messages are assembled with `push_str` rather than `format!`/`thiserror`: the
//! `core::fmt` machinery they would pull in is the largest single cost in the wasm.

use core::fmt;

/// Longest server-provided text we keep; enough for a useful hint, too short
/// to smuggle a payload into logs.
pub const MAX_SERVER_TEXT_CHARS: usize = 200;

/// What the server answered to one of our requests: its status and its RFC 6749 §5.2
/// body (`error`, `error_description`), sanitized ([`sanitize_server_text`]). Kept for
/// every status, so a 403 `{"error":"csrf"}` from a proxy or a 404 page says what it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status (302 for any redirect, which is not followed).
    pub status: u16,
    /// The body's `error` (sanitized), when the body is an RFC 6749 error object.
    pub error: Option<String>,
    /// The body's `error_description` (sanitized), if any.
    pub description: Option<String>,
}

impl Answer {
    /// An answer of `status` with the server's `error` and `error_description` made safe
    /// for logs and UIs; an empty (after sanitizing) text counts as absent.
    pub fn new(status: u16, error: Option<&str>, description: Option<&str>) -> Answer {
        let clean = |text: &str| Some(sanitize_server_text(text)).filter(|t| !t.is_empty());
        Answer {
            status,
            error: error.and_then(clean),
            description: description.and_then(clean),
        }
    }

    /// An answer of `status` without an RFC 6749 body.
    pub fn bare(status: u16) -> Answer {
        Answer::new(status, None, None)
    }
}

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
    /// The request never got an HTTP response.
    Network,
    /// The request took longer than the configured timeout.
    Timeout,
    /// The grant was refused (RFC 6749 `invalid_grant`, or any 401): for a refresh, the
    /// refresh token (cookie) is dead; for a sign-in, the credentials were refused.
    InvalidGrant(Answer),
    /// Another RFC 6749 §5.2 error of a 400: a configuration problem, not a blip.
    OAuth(Answer),
    /// 5xx: the server is having trouble; worth retrying.
    Server(Answer),
    /// 429: the server asked us to slow down.
    RateLimited(Answer),
    /// A status the protocol has no meaning for (3xx, 403, 404, a 400 without an RFC 6749
    /// body, ...).
    HttpStatus(Answer),
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

/// Which operation an error is about: `err.operation` in JS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// `signIn()`: the app's login endpoint.
    SignIn,
    /// The refresh endpoint (restore, silent refresh, `refresh()`).
    Refresh,
    /// `logout()`: the logout endpoint.
    Logout,
    /// A request of the app sent through `tm.fetch`.
    Request,
}

impl Operation {
    /// Stable name for JS: `sign-in`, `refresh`, `logout`, `request`.
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::SignIn => "sign-in",
            Operation::Refresh => "refresh",
            Operation::Logout => "logout",
            Operation::Request => "request",
        }
    }
}

/// The request an error is about: what the message names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct At<'a> {
    /// The operation.
    pub operation: Operation,
    /// The endpoint: an absolute URL without query or fragment (see [`endpoint_of`]).
    pub endpoint: &'a str,
    /// Whether the endpoint is on another origin than the page (a network failure may
    /// then be CORS).
    pub cross_origin: bool,
}

/// `url` without its query and fragment (which may carry secrets), for messages and
/// `err.endpoint`.
pub fn endpoint_of(url: &str) -> &str {
    match url.find(['?', '#']) {
        Some(at) => url.get(..at).unwrap_or(url),
        None => url,
    }
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

/// Appends `HTTP <status>[ <error>][ (<description>)]`.
fn push_answer(out: &mut String, answer: &Answer) {
    out.push_str("HTTP ");
    push_decimal(out, u64::from(answer.status));
    if let Some(error) = &answer.error {
        out.push(' ');
        out.push_str(error);
    }
    push_description(out, &answer.description);
}

impl Error {
    /// The message for an error not tied to a request (or of the refresh endpoint, when
    /// it is unknown). Never holds token bytes.
    pub fn message(&self) -> String {
        self.message_at(None)
    }

    /// The message for an error of the request `at`: it names the operation, the
    /// endpoint, the HTTP status and what the server said, e.g. `sign-in at
    /// https://app.example/auth/login was refused: HTTP 401 invalid_grant (Invalid
    /// username or password)`. Errors not about a request ([`Error::about_request`]
    /// false) read the same with or without `at`.
    pub fn message_at(&self, at: Option<&At<'_>>) -> String {
        let Some(at) = at.filter(|_| self.about_request()) else {
            return self.base_message();
        };
        let mut m = concat(&[at.operation.as_str(), " at ", at.endpoint]);
        match self {
            Error::Network => {
                m.push_str(if at.cross_origin {
                    " got no response: the server is unreachable, or it is on another origin and CORS may be the cause (its answer must allow this page's origin with credentials)"
                } else {
                    " got no response: the server is unreachable or the browser is offline"
                });
            }
            Error::Timeout => m.push_str(" timed out"),
            Error::InvalidGrant(answer) | Error::OAuth(answer) => {
                m.push_str(" was refused: ");
                push_answer(&mut m, answer);
                if at.operation == Operation::Refresh {
                    m.push_str("; the session is over, sign in again");
                }
            }
            Error::Server(answer) => {
                m.push_str(" failed: ");
                push_answer(&mut m, answer);
            }
            Error::RateLimited(answer) => {
                m.push_str(" was rate limited: ");
                push_answer(&mut m, answer);
            }
            Error::HttpStatus(answer) => {
                let redirect = (300..400).contains(&answer.status);
                m.push_str(if redirect {
                    " answered with a redirect, which is not followed: "
                } else {
                    " was refused: "
                });
                push_answer(&mut m, answer);
                if answer.status == 404 {
                    m.push_str("; check the URL");
                }
            }
            _ => {
                m.push_str(": ");
                m.push_str(&self.base_message());
            }
        }
        m
    }

    fn base_message(&self) -> String {
        let (text, detail) = match self {
            Error::InvalidOptions { field, reason } => {
                return concat(&["invalid option `", field, "`: ", reason]);
            }
            Error::Network => ("the request failed at the network level", None),
            Error::Timeout => ("the request timed out", None),
            Error::InvalidGrant(answer)
            | Error::OAuth(answer)
            | Error::Server(answer)
            | Error::RateLimited(answer)
            | Error::HttpStatus(answer) => {
                let mut m = String::from("the server answered ");
                push_answer(&mut m, answer);
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

    /// Whether the error is about one of our requests (or the `tm.fetch` call it
    /// happened in): it then carries `operation` and `endpoint` in JS. `false` for
    /// `invalid_options`, `not_signed_in`, `token_not_exposed`, `disposed`, `aborted`.
    pub fn about_request(&self) -> bool {
        !matches!(
            self,
            Error::InvalidOptions { .. }
                | Error::NotSignedIn
                | Error::TokenNotExposed
                | Error::Disposed
                | Error::Aborted
        )
    }

    /// What the server answered, for the errors that come from an HTTP response.
    pub fn answer(&self) -> Option<&Answer> {
        match self {
            Error::InvalidGrant(answer)
            | Error::OAuth(answer)
            | Error::Server(answer)
            | Error::RateLimited(answer)
            | Error::HttpStatus(answer) => Some(answer),
            _ => None,
        }
    }

    /// Stable code for JS (`err.code`), so apps never match on messages.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidOptions { .. } => "invalid_options",
            Error::Network => "network",
            Error::Timeout => "timeout",
            Error::InvalidGrant(_) => "invalid_grant",
            Error::OAuth(_) => "oauth_error",
            Error::Server(_) => "server_error",
            Error::RateLimited(_) => "rate_limited",
            Error::HttpStatus(_) => "http_error",
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
            Error::Network | Error::Timeout | Error::Server(_) | Error::RateLimited(_)
        )
    }

    /// Builds [`Error::OAuth`] with server text made safe for logs and UIs.
    pub fn oauth(error: &str, description: Option<&str>, status: u16) -> Self {
        Error::OAuth(Answer::new(status, Some(error), description))
    }

    /// Builds a 400 [`Error::InvalidGrant`] (`error: invalid_grant`) with a sanitized
    /// description.
    pub fn invalid_grant(description: Option<&str>) -> Self {
        Error::InvalidGrant(Answer::new(400, Some("invalid_grant"), description))
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

    fn at(operation: Operation, endpoint: &str, cross_origin: bool) -> At<'_> {
        At {
            operation,
            endpoint,
            cross_origin,
        }
    }

    #[test]
    fn codes_are_stable() {
        assert_eq!(Error::Network.code(), "network");
        assert_eq!(Error::invalid_grant(None).code(), "invalid_grant");
        assert_eq!(
            Error::oauth("invalid_client", None, 400).code(),
            "oauth_error"
        );
        assert_eq!(Error::Server(Answer::bare(503)).code(), "server_error");
        assert_eq!(Error::HttpStatus(Answer::bare(404)).code(), "http_error");
        assert_eq!(Error::TooManyRefreshes.code(), "too_many_refreshes");
        assert_eq!(Error::UnknownExpiry.code(), "unknown_expiry");
    }

    #[test]
    fn only_network_timeout_server_and_429_are_transient() {
        assert!(Error::Network.is_transient());
        assert!(Error::Timeout.is_transient());
        assert!(Error::Server(Answer::bare(500)).is_transient());
        assert!(Error::RateLimited(Answer::bare(429)).is_transient());
        assert!(!Error::invalid_grant(None).is_transient());
        assert!(!Error::HttpStatus(Answer::bare(404)).is_transient());
        assert!(!Error::MalformedResponse { reason: "x" }.is_transient());
        assert!(!Error::oauth("invalid_request", None, 400).is_transient());
    }

    #[test]
    fn server_text_is_sanitized_and_truncated() {
        let e = Error::oauth("bad\r\nerror", Some("line1\nline2\u{1b}[31m\u{202e}é"), 400);
        let answer = e.answer().expect("an answer");
        assert_eq!(answer.error.as_deref(), Some("baderror"));
        assert_eq!(answer.description.as_deref(), Some("line1line2[31m"));
        let long = "x".repeat(1000);
        assert_eq!(sanitize_server_text(&long).len(), MAX_SERVER_TEXT_CHARS);
        // Nothing visible left: absent, not "".
        assert_eq!(Answer::new(403, Some("\u{1b}\n"), Some("")).error, None);
        assert_eq!(Answer::new(403, None, Some("\u{202e}")).description, None);
    }

    #[test]
    fn messages_without_a_request() {
        let rows = [
            (
                Error::InvalidOptions {
                    field: "retry.maxAttempts".into(),
                    reason: "expected a number from 1 to 100".into(),
                },
                "invalid option `retry.maxAttempts`: expected a number from 1 to 100",
            ),
            (
                Error::oauth("invalid_client", Some("hint"), 400),
                "the server answered HTTP 400 invalid_client (hint)",
            ),
            (
                Error::Server(Answer::bare(503)),
                "the server answered HTTP 503",
            ),
            (
                Error::MalformedToken { reason: "r" },
                "the access token is malformed: r",
            ),
            (
                Error::MalformedResponse { reason: "r" },
                "the token response is malformed: r",
            ),
            (
                Error::InvalidExpiresIn { reason: "r" },
                "the token lifetime is invalid: r",
            ),
            (Error::NotSignedIn, "not signed in"),
        ];
        for (error, expected) in rows {
            assert_eq!(error.message(), expected);
            assert_eq!(error.to_string(), expected);
        }
    }

    #[test]
    fn messages_name_the_operation_the_endpoint_and_the_answer() {
        let login = "http://127.0.0.1:8080/auth/login";
        let refresh = "http://127.0.0.1:8080/auth/refresh";
        let wrong_password = Error::InvalidGrant(Answer::new(
            401,
            Some("invalid_grant"),
            Some("Invalid username or password"),
        ));
        let sign_in = at(Operation::SignIn, login, false);
        assert_eq!(
            wrong_password.message_at(Some(&sign_in)),
            "sign-in at http://127.0.0.1:8080/auth/login was refused: HTTP 401 invalid_grant (Invalid username or password)"
        );
        // A wrong password does not read like a refresh-token rejection.
        assert!(!wrong_password
            .message_at(Some(&sign_in))
            .contains("refresh"));
        assert_eq!(
            Error::invalid_grant(Some("revoked"))
                .message_at(Some(&at(Operation::Refresh, refresh, false))),
            "refresh at http://127.0.0.1:8080/auth/refresh was refused: HTTP 400 invalid_grant (revoked); the session is over, sign in again"
        );
        assert_eq!(
            Error::HttpStatus(Answer::new(403, Some("csrf"), None)).message_at(Some(&sign_in)),
            "sign-in at http://127.0.0.1:8080/auth/login was refused: HTTP 403 csrf"
        );
        assert_eq!(
            Error::HttpStatus(Answer::bare(404)).message_at(Some(&sign_in)),
            "sign-in at http://127.0.0.1:8080/auth/login was refused: HTTP 404; check the URL"
        );
        assert_eq!(
            Error::HttpStatus(Answer::bare(302)).message_at(Some(&sign_in)),
            "sign-in at http://127.0.0.1:8080/auth/login answered with a redirect, which is not followed: HTTP 302"
        );
        assert_eq!(
            Error::Server(Answer::new(503, Some("temporarily_unavailable"), None))
                .message_at(Some(&at(Operation::Refresh, refresh, false))),
            "refresh at http://127.0.0.1:8080/auth/refresh failed: HTTP 503 temporarily_unavailable"
        );
        assert_eq!(
            Error::RateLimited(Answer::bare(429)).message_at(Some(&sign_in)),
            "sign-in at http://127.0.0.1:8080/auth/login was rate limited: HTTP 429"
        );
        assert_eq!(
            Error::MalformedResponse { reason: "response body is HTML, not JSON" }
                .message_at(Some(&sign_in)),
            "sign-in at http://127.0.0.1:8080/auth/login: the token response is malformed: response body is HTML, not JSON"
        );
        assert_eq!(
            Error::Timeout.message_at(Some(&at(
                Operation::Logout,
                "https://a.example/logout",
                false
            ))),
            "logout at https://a.example/logout timed out"
        );
        assert_eq!(
            Error::TokenExpired.message_at(Some(&at(
                Operation::Request,
                "https://api.example/items",
                true
            ))),
            "request at https://api.example/items: no valid access token could be obtained in time"
        );
    }

    #[test]
    fn a_network_failure_to_another_origin_names_cors() {
        let same = Error::Network.message_at(Some(&at(Operation::SignIn, "http://a/x", false)));
        assert!(
            same.contains("unreachable or the browser is offline"),
            "{same}"
        );
        assert!(!same.contains("CORS"), "{same}");
        let cross = Error::Network.message_at(Some(&at(Operation::SignIn, "http://b/x", true)));
        assert!(
            cross.starts_with("sign-in at http://b/x got no response"),
            "{cross}"
        );
        assert!(cross.contains("CORS may be the cause"), "{cross}");
    }

    #[test]
    fn errors_not_about_a_request_ignore_it() {
        let a = at(Operation::Refresh, "http://a/r", false);
        for error in [
            Error::NotSignedIn,
            Error::Disposed,
            Error::TokenNotExposed,
            Error::Aborted,
            Error::InvalidOptions {
                field: "refreshUrl".into(),
                reason: "is required".into(),
            },
        ] {
            assert!(!error.about_request());
            assert_eq!(error.message_at(Some(&a)), error.message());
            assert!(error.answer().is_none());
        }
        assert!(Error::Network.about_request());
        assert!(Error::TokenExpired.about_request());
    }

    #[test]
    fn endpoints_lose_query_and_fragment() {
        assert_eq!(
            endpoint_of("https://a.example/p?code=secret#x"),
            "https://a.example/p"
        );
        assert_eq!(
            endpoint_of("https://a.example/p#frag"),
            "https://a.example/p"
        );
        assert_eq!(endpoint_of("https://a.example/p"), "https://a.example/p");
    }

    #[test]
    fn operations_are_stable() {
        let names: Vec<_> = [
            Operation::SignIn,
            Operation::Refresh,
            Operation::Logout,
            Operation::Request,
        ]
        .iter()
        .map(|o| o.as_str())
        .collect();
        assert_eq!(names, ["sign-in", "refresh", "logout", "request"]);
    }

    #[test]
    fn decimals() {
        for n in [0, 7, 10, 99, 100, 65_535, 3_600_000, u64::MAX] {
            let mut s = String::new();
            push_decimal(&mut s, n);
            assert_eq!(s, n.to_string());
        }
    }
}
