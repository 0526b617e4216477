//! The access token newtype: the only place raw token bytes live.

use core::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop};

/// An OAuth access token held in WASM memory only.
///
/// No `Display`, no `PartialEq` (use [`AccessToken::ct_eq`]), a redacted
/// `Debug`, and the bytes are wiped on drop, so neither logging nor a stray
/// comparison can leak or time the secret.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct AccessToken(String);

impl AccessToken {
    /// Wraps a token; validation is the parser's job so that tests and the
    /// browser layer can wrap already-validated strings cheaply.
    pub fn new(token: String) -> Self {
        AccessToken(token)
    }

    /// The raw token, for building the `Authorization` header. Keep the
    /// borrow short: every copy made from it is outside our zeroization.
    pub fn secret(&self) -> &str {
        &self.0
    }

    /// Length in bytes; safe to log, unlike the token.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the token is empty (never true for a validated token).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Compares without an early exit, so response timing does not reveal
    /// how many leading bytes matched. Only the length may leak.
    pub fn ct_eq(&self, other: &AccessToken) -> bool {
        let a = self.0.as_bytes();
        let b = other.0.as_bytes();
        if a.len() != b.len() {
            return false;
        }
        let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
        core::hint::black_box(diff) == 0
    }
}

impl fmt::Debug for AccessToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AccessToken([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let t = AccessToken::new("s3cr3t-token".into());
        let shown = format!("{t:?} {:?} {:#?}", Some(&t), t);
        assert!(!shown.contains("s3cr3t"));
        assert!(shown.contains("AccessToken([redacted])"));
    }

    #[test]
    fn accessors() {
        let t = AccessToken::new("abc".into());
        assert_eq!(t.secret(), "abc");
        assert_eq!(t.len(), 3);
        assert!(!t.is_empty());
        assert!(AccessToken::new(String::new()).is_empty());
    }

    #[test]
    fn ct_eq_compares_content() {
        let a = AccessToken::new("abc".into());
        assert!(a.ct_eq(&AccessToken::new("abc".into())));
        assert!(!a.ct_eq(&AccessToken::new("abd".into())));
        assert!(!a.ct_eq(&AccessToken::new("abcd".into())));
        assert!(!a.ct_eq(&AccessToken::new(String::new())));
    }

    #[test]
    fn zeroize_wipes_the_bytes() {
        let mut t = AccessToken::new("secret".into());
        t.zeroize();
        assert!(t.is_empty());
    }
}
