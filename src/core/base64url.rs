//! Base64url decoding for JWT segments.
//!
//! Hand-written (a few hundred bytes of wasm instead of the `base64` crate's engine),
//! with the same acceptance rules as `base64`'s `URL_SAFE_NO_PAD_INDIFFERENT`.

use alloc::vec::Vec;

/// Decodes base64url (RFC 4648 §5). JWTs omit padding, but some issuers add
/// it, so both are accepted; the standard alphabet (`+`, `/`) is refused.
///
/// Exactly as strict as the `base64` crate's indifferent-padding engine: padding only
/// at the end of the last quad and after at least two symbols, no length that leaves
/// a lone symbol, and no set bits in the unused tail of the last symbol.
pub fn decode_base64url(segment: &str) -> Option<Vec<u8>> {
    let bytes = segment.as_bytes();
    let body = trim_padding(bytes);
    let padding = bytes.len().saturating_sub(body.len());
    // Symbols of the last quad (1..=4) that are not padding: at least two.
    let last_quad = match bytes.len() % 4 {
        0 => 4,
        rest => rest,
    };
    if !bytes.is_empty() && last_quad < padding.saturating_add(2) {
        return None;
    }
    // Sized up front so the (possibly secret) output never reallocates.
    let mut out = Vec::with_capacity(body.len() / 4 * 3 + 2);
    let mut acc: u32 = 0;
    let mut bits: u32 = 0;
    for &symbol in body {
        acc = (acc << 6) | u32::from(sextet(symbol)?);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            // The byte is the top 8 of the `bits + 8` pending bits.
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    // Leftover bits must be zero (canonical encoding).
    (acc == 0).then_some(out)
}

fn trim_padding(bytes: &[u8]) -> &[u8] {
    let mut body = bytes;
    while let [rest @ .., b'='] = body {
        body = rest;
    }
    body
}

fn sextet(symbol: u8) -> Option<u8> {
    Some(match symbol {
        b'A'..=b'Z' => symbol - b'A',
        b'a'..=b'z' => symbol - b'a' + 26,
        b'0'..=b'9' => symbol - b'0' + 52,
        b'-' => 62,
        b'_' => 63,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::{URL_SAFE, URL_SAFE_NO_PAD, URL_SAFE_NO_PAD_INDIFFERENT};
    use base64::Engine;

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

    /// Same verdict and bytes as the `base64` crate on every short input over a
    /// small alphabet that hits each rule, and on random round trips.
    #[test]
    fn agrees_with_the_base64_crate() {
        let alphabet = [b'A', b'B', b'Q', b'g', b'w', b'_', b'-', b'=', b'+', b'.'];
        let mut input = Vec::new();
        for len in 0..=6u32 {
            for mut n in 0..alphabet.len().pow(len) {
                input.clear();
                for _ in 0..len {
                    input.push(alphabet[n % alphabet.len()]);
                    n /= alphabet.len();
                }
                let text = core::str::from_utf8(&input).unwrap();
                let reference = URL_SAFE_NO_PAD_INDIFFERENT.decode(text).ok();
                assert_eq!(decode_base64url(text), reference, "{text:?}");
            }
        }
        let mut state: u64 = 0x2545_F491_4F6C_DD1D;
        for len in 0..300usize {
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state as u8
                })
                .collect();
            for encoded in [URL_SAFE_NO_PAD.encode(&data), URL_SAFE.encode(&data)] {
                assert_eq!(decode_base64url(&encoded).as_deref(), Some(&data[..]));
            }
        }
    }
}
