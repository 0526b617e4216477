//! Random identifiers and secrets, straight from the operating system's RNG.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// The OS RNG failed (it practically never does; the request then fails with 500).
#[derive(Debug, thiserror::Error)]
#[error("no randomness from the operating system: {0}")]
pub struct RandomError(String);

/// `N` random bytes.
pub fn bytes<const N: usize>() -> Result<[u8; N], RandomError> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| RandomError(e.to_string()))?;
    Ok(buf)
}

/// `N` random bytes as unpadded base64url.
pub fn base64url<const N: usize>() -> Result<String, RandomError> {
    Ok(URL_SAFE_NO_PAD.encode(bytes::<N>()?))
}

/// `N` random bytes as lowercase hex.
pub fn hex<const N: usize>() -> Result<String, RandomError> {
    Ok(bytes::<N>()?.iter().map(|b| format!("{b:02x}")).collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn sizes_and_alphabets() {
        let t = super::base64url::<32>().unwrap();
        assert_eq!(t.len(), 43);
        assert!(t
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        assert_eq!(super::hex::<16>().unwrap().len(), 32);
        assert_ne!(super::hex::<16>().unwrap(), super::hex::<16>().unwrap());
    }
}
