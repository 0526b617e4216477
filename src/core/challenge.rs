//! Which 401 asks for a new access token: the `WWW-Authenticate` challenge of a
//! protected resource (RFC 6750 §3, syntax of RFC 9110 §11.6.1).
//!
//! RFC 6750 §3.1 sends a client for a new token only on `invalid_token` (the token is
//! expired, revoked or malformed) or on a 401 that carries no error code. Any other
//! code (`insufficient_scope`, `invalid_request`, or one we do not know) says a new
//! token would not help: such a 401 goes back to the app untouched, like a 403.

/// What the `Bearer` challenge of a 401 says about the token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BearerError {
    /// No `Bearer` challenge carries an `error` parameter (or there is no header).
    None,
    /// `error="invalid_token"` (compared ASCII case-insensitively).
    InvalidToken,
    /// Any other error code, e.g. `insufficient_scope`.
    Other,
}

impl BearerError {
    /// Whether this 401 invites a new token (and one retry with it): RFC 6750 §3.1.
    pub fn invites_new_token(self) -> bool {
        self != BearerError::Other
    }
}

/// The error code of the first `Bearer` challenge in a `WWW-Authenticate` header value
/// that has one. The header may hold several challenges (`Basic realm="a", Bearer
/// error="insufficient_scope"`); parameter names and the scheme are case-insensitive,
/// values may be tokens or quoted strings with `\` escapes. Unparseable text (an
/// unterminated quoted string, a stray byte) ends the scan with what was found so far.
pub fn bearer_error(header: &str) -> BearerError {
    let b = header.as_bytes();
    let mut i = 0;
    let mut in_bearer = false;
    loop {
        i = skip_spaces(b, i, true);
        let start = i;
        while b.get(i).copied().is_some_and(is_tchar) {
            i += 1;
        }
        let name = match b.get(start..i) {
            Some(name) if !name.is_empty() => name,
            _ => return BearerError::None,
        };
        i = skip_spaces(b, i, false);
        if b.get(i) != Some(&b'=') {
            // A new challenge's scheme (or a token68 right after one): only the scheme
            // `Bearer` opens the parameters we read.
            in_bearer = name.eq_ignore_ascii_case(b"bearer");
            continue;
        }
        i = skip_spaces(b, i + 1, false);
        if matches!(b.get(i), None | Some(b'=' | b',')) {
            // token68 padding (`Negotiate abc==`): not a parameter.
            while b.get(i) == Some(&b'=') {
                i += 1;
            }
            continue;
        }
        // The value: a quoted string (`\x` stands for `x`) or a token. Its bytes are
        // compared with `invalid_token` as they are read.
        let quoted = b.get(i) == Some(&b'"');
        if quoted {
            i += 1;
        }
        let mut matched = 0;
        let mut same = true;
        loop {
            let Some(&c) = b.get(i) else {
                if quoted {
                    // Unterminated: nothing trustworthy was said.
                    return BearerError::None;
                }
                break;
            };
            i += 1;
            let c = match c {
                b'"' if quoted => break,
                b'\\' if quoted => match b.get(i) {
                    Some(&escaped) => {
                        i += 1;
                        escaped
                    }
                    None => return BearerError::None,
                },
                b',' | b' ' | b'\t' if !quoted => {
                    i -= 1;
                    break;
                }
                c => c,
            };
            same &= INVALID_TOKEN
                .get(matched)
                .is_some_and(|w| w.eq_ignore_ascii_case(&c));
            matched += 1;
        }
        if in_bearer && name.eq_ignore_ascii_case(b"error") {
            return if same && matched == INVALID_TOKEN.len() {
                BearerError::InvalidToken
            } else {
                BearerError::Other
            };
        }
    }
}

const INVALID_TOKEN: &[u8] = b"invalid_token";

/// The index of the first byte from `i` that is not a space or tab (nor a comma, with
/// `commas`).
fn skip_spaces(b: &[u8], mut i: usize, commas: bool) -> usize {
    while let Some(&c) = b.get(i) {
        if !(c == b' ' || c == b'\t' || (commas && c == b',')) {
            break;
        }
        i += 1;
    }
    i
}

/// An RFC 9110 `tchar`, plus `/` so a token68 is read whole.
fn is_tchar(b: u8) -> bool {
    matches!(b, b'0'..=b'9' | b'A'..=b'Z' | b'a'..=b'z' | b'!' | b'#'..=b'\'' | b'*' | b'+' | b'-' | b'.' | b'/' | b'^'..=b'`' | b'|' | b'~')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6750_examples() {
        // RFC 6750 §3: no token at all, then an expired token.
        assert_eq!(bearer_error(r#"Bearer realm="example""#), BearerError::None);
        assert_eq!(
            bearer_error(
                r#"Bearer realm="example", error="invalid_token", error_description="The access token expired""#
            ),
            BearerError::InvalidToken
        );
        assert_eq!(
            bearer_error(r#"Bearer error="insufficient_scope", scope="admin""#),
            BearerError::Other
        );
    }

    #[test]
    fn which_401_invites_a_new_token() {
        let rows = [
            ("", true),
            ("Bearer", true),
            ("Basic realm=\"x\"", true),
            ("Bearer error=\"invalid_token\"", true),
            ("bearer ERROR=invalid_token", true),
            ("Bearer error=\"INVALID_TOKEN\"", true),
            ("Bearer error=\"invalid\\_token\"", true),
            ("Bearer error=\"insufficient_scope\"", false),
            ("Bearer error=\"invalid_request\"", false),
            ("Bearer error=\"\"", false),
            // `error=` with nothing after reads as token68 padding, not an error code.
            ("Bearer error=", true),
            ("Bearer error=\"invalid_token_x\"", false),
            ("Bearer error=\"invalid_toke\"", false),
            // Several challenges, commas inside quoted strings.
            (
                "Basic realm=\"a, b\", Bearer error=\"insufficient_scope\", scope=\"x y\"",
                false,
            ),
            (
                "Newauth realm=\"x\", Bearer scope=\"a\", error=\"insufficient_scope\"",
                false,
            ),
            // An error parameter of another scheme is not the bearer's.
            (
                "DPoP error=\"insufficient_scope\", Bearer realm=\"x\"",
                true,
            ),
            (
                "DPoP error=\"invalid_token\", Bearer error=\"insufficient_scope\"",
                false,
            ),
            // Text that only looks like the parameter, inside another value.
            (
                "Bearer realm=\"error=\\\"invalid_token\\\"\", error=\"insufficient_scope\"",
                false,
            ),
            ("Bearer realm=\"error=\\\"insufficient_scope\\\"\"", true),
            // token68 before a Bearer challenge.
            (
                "Negotiate YIIB==, Bearer error=\"insufficient_scope\"",
                false,
            ),
            ("Negotiate a/b+c=, Bearer error=invalid_token", true),
            // Unterminated or odd text never panics and never invents a code.
            ("Bearer error=\"insufficient_scope", true),
            (
                "Bearer realm=\"unterminated, error=\"insufficient_scope\"",
                true,
            ),
            ("Bearer \u{1}", true),
            ("=,=,=", true),
            ("Bearer error = \"insufficient_scope\"", false),
        ];
        for (header, invited) in rows {
            assert_eq!(
                bearer_error(header).invites_new_token(),
                invited,
                "{header:?} -> {:?}",
                bearer_error(header)
            );
        }
    }
}
