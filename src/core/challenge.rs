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
    let mut scan = Scan {
        bytes: header.as_bytes(),
        at: 0,
    };
    let mut in_bearer = false;
    loop {
        scan.skip(|b| b == b',' || is_space(b));
        if scan.at >= scan.bytes.len() {
            return BearerError::None;
        }
        let name = scan.take(is_tchar);
        if name.is_empty() {
            return BearerError::None;
        }
        scan.skip(is_space);
        if scan.peek() == Some(b'=') && !scan.is_padding() {
            scan.at += 1;
            scan.skip(is_space);
            let Some(value) = scan.value() else {
                return BearerError::None;
            };
            if in_bearer && name.eq_ignore_ascii_case(b"error") {
                return if value.is_invalid_token() {
                    BearerError::InvalidToken
                } else {
                    BearerError::Other
                };
            }
        } else if scan.peek() == Some(b'=') {
            // token68 padding (`Negotiate abc==`): not a parameter.
            scan.skip(|b| b == b'=');
        } else {
            // A new challenge's scheme (or a token68 right after one): only the scheme
            // `Bearer` opens the parameters we read.
            in_bearer = name.eq_ignore_ascii_case(b"bearer");
        }
    }
}

/// A value as it appears in the header: a token, or the inside of a quoted string.
struct Value<'a> {
    raw: &'a [u8],
    quoted: bool,
}

impl Value<'_> {
    fn is_invalid_token(&self) -> bool {
        const WANTED: &[u8] = b"invalid_token";
        if !self.quoted {
            return self.raw.eq_ignore_ascii_case(WANTED);
        }
        // Unescape on the fly: `\x` stands for `x`.
        let mut wanted = WANTED.iter();
        let mut raw = self.raw.iter();
        while let Some(&b) = raw.next() {
            let b = if b == b'\\' {
                match raw.next() {
                    Some(&escaped) => escaped,
                    None => return false,
                }
            } else {
                b
            };
            match wanted.next() {
                Some(w) if w.eq_ignore_ascii_case(&b) => {}
                _ => return false,
            }
        }
        wanted.next().is_none()
    }
}

struct Scan<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Scan<'a> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn skip(&mut self, keep: impl Fn(u8) -> bool) {
        while self.peek().is_some_and(&keep) {
            self.at += 1;
        }
    }

    fn take(&mut self, keep: impl Fn(u8) -> bool) -> &'a [u8] {
        let start = self.at;
        self.skip(keep);
        self.bytes.get(start..self.at).unwrap_or_default()
    }

    /// Whether the `=` at the cursor is token68 padding: followed by another `=`, a
    /// comma, or the end, rather than by a parameter value.
    fn is_padding(&self) -> bool {
        let mut next = self.at + 1;
        while self.bytes.get(next).is_some_and(|&b| is_space(b)) {
            next += 1;
        }
        matches!(self.bytes.get(next), None | Some(b'=') | Some(b','))
    }

    /// A parameter value: a quoted string (its inside, escapes kept) or a token.
    fn value(&mut self) -> Option<Value<'a>> {
        if self.peek() != Some(b'"') {
            let raw = self.take(|b| b != b',' && !is_space(b));
            return Some(Value { raw, quoted: false });
        }
        self.at += 1;
        let start = self.at;
        loop {
            match self.peek()? {
                b'"' => break,
                b'\\' => self.at += 2,
                _ => self.at += 1,
            }
        }
        let raw = self.bytes.get(start..self.at)?;
        self.at += 1;
        Some(Value { raw, quoted: true })
    }
}

fn is_space(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// An RFC 9110 `tchar`, plus `/` so a token68 is read whole.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~/".contains(&b)
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
