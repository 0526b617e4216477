//! RFC 6750 §2.1 `b64token` syntax check for access tokens.

use super::Error;

/// Accepts exactly `^[A-Za-z0-9._~+/-]+=*$` up to `max_bytes`.
///
/// The token ends up in an `Authorization` header; anything outside the
/// grammar could split headers or be rejected by proxies, so we refuse it at
/// the door. Error reasons say which rule failed but never show the token or
/// the offending character.
pub fn validate_bearer_token(token: &str, max_bytes: usize) -> Result<(), Error> {
    let bad = |reason| Err(Error::MalformedToken { reason });
    if token.is_empty() {
        return bad("token is empty");
    }
    if token.len() > max_bytes {
        return bad("token is longer than maxTokenBytes");
    }
    let mut body_len = 0usize;
    let mut in_padding = false;
    for &b in token.as_bytes() {
        match b {
            b'=' => in_padding = true,
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'_' | b'~' | b'+' | b'/' | b'-' => {
                if in_padding {
                    return bad("token has '=' padding before its end");
                }
                body_len = body_len.saturating_add(1);
            }
            0x00..=0x20 | 0x7f => return bad("token contains whitespace or a control character"),
            0x80..=0xff => return bad("token contains a non-ASCII character"),
            _ => return bad("token contains a character outside the b64token set"),
        }
    }
    if body_len == 0 {
        return bad("token has only '=' padding");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reason(token: &str, max: usize) -> &'static str {
        match validate_bearer_token(token, max) {
            Err(Error::MalformedToken { reason }) => reason,
            other => panic!("expected MalformedToken, got {other:?}"),
        }
    }

    #[test]
    fn accepts_the_b64token_alphabet() {
        for t in [
            "a",
            "AZaz09._~+/-",
            "abc==",
            "x=",
            "eyJ.eyJ.sig",
            "a-b_c~d+e/f",
        ] {
            assert!(validate_bearer_token(t, 100).is_ok(), "{t}");
        }
    }

    #[test]
    fn rejects_with_distinct_reasons() {
        assert_eq!(reason("", 10), "token is empty");
        assert_eq!(reason("abcdef", 5), "token is longer than maxTokenBytes");
        assert!(validate_bearer_token("abcde", 5).is_ok());
        for t in ["ab cd", "ab\rcd", "ab\ncd", "ab\tcd", "ab\0", "a\u{7f}"] {
            assert_eq!(
                reason(t, 100),
                "token contains whitespace or a control character"
            );
        }
        assert_eq!(reason("abé", 100), "token contains a non-ASCII character");
        for t in ["a\"b", "a,b", "a;b", "a:b", "a%b", "a@b", "a\\b"] {
            assert_eq!(
                reason(t, 100),
                "token contains a character outside the b64token set"
            );
        }
        assert_eq!(reason("ab=c", 100), "token has '=' padding before its end");
        assert_eq!(reason("==", 100), "token has only '=' padding");
    }

    #[test]
    fn reasons_never_contain_the_token() {
        let e = validate_bearer_token("SECRETVALUE\n", 100).unwrap_err();
        assert!(!format!("{e} {e:?}").contains("SECRETVALUE"));
    }
}
