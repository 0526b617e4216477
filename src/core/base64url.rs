//! Base64url decoding for JWT segments.

use alloc::vec::Vec;

use base64::engine::general_purpose::URL_SAFE_NO_PAD_INDIFFERENT;
use base64::Engine;

/// Decodes base64url (RFC 4648 §5). JWTs omit padding, but some issuers add
/// it, so both are accepted; the standard alphabet (`+`, `/`) is refused.
pub fn decode_base64url(segment: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD_INDIFFERENT.decode(segment).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_with_and_without_padding() {
        assert_eq!(decode_base64url("eyJhIjoxfQ").unwrap(), br#"{"a":1}"#);
        assert_eq!(decode_base64url("eyJhIjoxfQ==").unwrap(), br#"{"a":1}"#);
        assert_eq!(decode_base64url("").unwrap(), b"");
        assert_eq!(decode_base64url("_-8").unwrap(), [0xff, 0xef]);
    }

    #[test]
    fn rejects_non_base64url() {
        for bad in ["a", "ab+c", "ab/c", "a b", "é", "abc=d", "ab*c"] {
            assert!(decode_base64url(bad).is_none(), "{bad}");
        }
    }
}
