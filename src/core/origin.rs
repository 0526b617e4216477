//! Which requests may carry the bearer token: the allow-list of exact origins
//! (RFC 6454 §6.2 serialization: `scheme "://" host [ ":" port ]`).
//!
//! The decision is made here, inside the wasm, on the request's URL as the browser
//! serialized it (the runtime reads it through the `Request.prototype.url` getter it
//! captured when the manager was created). Nothing a page script can replace later
//! (`Array.prototype.includes`, the `URL.prototype.origin` getter, ...) takes part in it.
//!
//! A serialized `http(s)` URL always has the form `scheme "://" authority path...`, its
//! path starting with `/`, its scheme and host lowercase and its default port omitted,
//! so its origin is exactly the text before the first `/` after `://`. Anything that
//! is not of that form (other schemes, userinfo, no host) has no origin here and gets
//! no token: the comparison is exact, so a mistake can only withhold a token.

/// The origin of a serialized `http:` or `https:` URL, e.g. `https://api.example.com:8443`
/// for `https://api.example.com:8443/v1?x`; `None` for any other scheme, a URL with
/// userinfo or without a host.
pub fn origin_of(url: &str) -> Option<&str> {
    let start = if url.starts_with("https://") {
        "https://".len()
    } else if url.starts_with("http://") {
        "http://".len()
    } else {
        return None;
    };
    // Bytes, not chars: every delimiter is ASCII, so `end` is a char boundary.
    let bytes = url.as_bytes();
    let mut end = start;
    while let Some(&byte) = bytes.get(end) {
        match byte {
            b'/' | b'?' | b'#' => break,
            b'@' => return None,
            _ => end += 1,
        }
    }
    if end == start {
        return None;
    }
    url.get(..end)
}

/// The exact origins whose requests get `Authorization: Bearer`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedOrigins(Vec<String>);

impl AllowedOrigins {
    /// The origins in `list`, one per line (the runtime validated and serialized them);
    /// lines that are not an origin (a path, another scheme) are dropped.
    pub fn parse(list: &str) -> Self {
        let mut origins = Vec::new();
        let mut rest = list;
        while !rest.is_empty() {
            // Bytes, not `split`: '\n' is ASCII, so both halves are valid UTF-8.
            let end = rest.bytes().position(|b| b == b'\n').unwrap_or(rest.len());
            let (line, next) = (
                rest.get(..end).unwrap_or(""),
                rest.get(end + 1..).unwrap_or(""),
            );
            if origin_of(line) == Some(line) {
                origins.push(String::from(line));
            }
            rest = next;
        }
        AllowedOrigins(origins)
    }

    /// Whether a request to the serialized `url` may carry the token.
    pub fn allows(&self, url: &str) -> bool {
        origin_of(url).is_some_and(|origin| self.0.iter().any(|allowed| allowed == origin))
    }

    /// How many origins are allowed.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether no origin is allowed.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_origin_is_the_text_before_the_path() {
        assert_eq!(
            origin_of("https://api.example.com/v1?x#y"),
            Some("https://api.example.com")
        );
        assert_eq!(
            origin_of("http://127.0.0.1:8080/"),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(origin_of("http://[::1]:9/a"), Some("http://[::1]:9"));
        assert_eq!(origin_of("https://a.example?q"), Some("https://a.example"));
        assert_eq!(origin_of("https://a.example"), Some("https://a.example"));
    }

    #[test]
    fn urls_without_an_http_origin_have_none() {
        for url in [
            "",
            "/api/me",
            "ftp://a.example/",
            "https:///path",
            "https://",
            "https://user:pw@a.example/",
            "https://a.example@b.example/",
            "blob:https://a.example/1",
            "HTTPS://A.EXAMPLE/",
        ] {
            assert_eq!(origin_of(url), None, "{url}");
        }
    }

    #[test]
    fn only_exact_origins_are_allowed() {
        let allowed = AllowedOrigins::parse("https://api.example.com\nhttp://localhost:8080");
        assert_eq!(allowed.len(), 2);
        assert!(allowed.allows("https://api.example.com/v1/me"));
        assert!(allowed.allows("http://localhost:8080/api?x=1"));
        for url in [
            "https://api.example.com.evil.com/",
            "https://api.example.com:444/",
            "http://api.example.com/",
            "https://evil.com/https://api.example.com/",
            "https://evil.com?https://api.example.com",
            "http://localhost:80801/",
            "http://localhost/",
            "https://api.example.com\\@evil.com/",
            "https://api.example.com@evil.com/",
        ] {
            assert!(!allowed.allows(url), "{url}");
        }
    }

    #[test]
    fn lines_that_are_not_origins_are_dropped() {
        let allowed =
            AllowedOrigins::parse("https://a.example/path\n\nftp://b.example\nhttps://c.example");
        assert_eq!(allowed, AllowedOrigins::parse("https://c.example"));
        assert!(!allowed.allows("https://a.example/path"));
        assert!(AllowedOrigins::parse("").is_empty());
    }
}
