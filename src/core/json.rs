//! A small strict RFC 8259 JSON parser.
//!
//! Hand-written instead of serde_json to keep the WASM small, and strict
//! because its inputs (token responses, JWT payloads) come from the network.

use alloc::string::String;
use alloc::vec::Vec;

use core::fmt;
use zeroize::Zeroize;

use super::number::parse_decimal;

/// Deepest array/object nesting accepted. Token responses are flat; the limit
/// exists so hostile input cannot exhaust the (small) WASM stack.
pub const MAX_DEPTH: usize = 64;

/// A parsed JSON value. Object members keep their order and duplicates.
#[derive(Clone, PartialEq)]
pub enum Json {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// Any number; may be infinite when the literal overflows `f64`. Correctly rounded
    /// for literals of up to 19 significant digits (a small parser replaces `core`'s
    /// ~10 KB one); longer ones are within one unit in the last place.
    Number(f64),
    /// A string with escapes resolved.
    String(String),
    /// An array.
    Array(Vec<Json>),
    /// An object as (key, value) pairs in document order.
    Object(Vec<(String, Json)>),
}

/// Why a document was rejected. Carries a byte offset, never input text,
/// because the input may contain a token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonError {
    /// What was wrong.
    pub reason: &'static str,
    /// Byte offset where it was noticed.
    pub offset: usize,
}

impl fmt::Display for JsonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid JSON at byte {}: {}", self.offset, self.reason)
    }
}

impl Json {
    /// The first member named `key`, if this is an object. First wins so the
    /// answer is deterministic; callers that care reject duplicates with
    /// [`Json::count_key`].
    pub fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(members) => members.iter().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// Mutable [`Json::get`], so secrets can be moved out without a copy.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Json> {
        match self {
            Json::Object(members) => members.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// How many members are named `key` (0 for non-objects).
    pub fn count_key(&self, key: &str) -> usize {
        match self {
            Json::Object(members) => members.iter().filter(|(k, _)| k == key).count(),
            _ => 0,
        }
    }

    /// The string value, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number, if this is a number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Json::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// Whether this is an object.
    pub fn is_object(&self) -> bool {
        matches!(self, Json::Object(_))
    }
}

/// Strings are redacted: a token response tree holds the access token.
impl fmt::Debug for Json {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Json::Null => f.write_str("Null"),
            Json::Bool(b) => write!(f, "Bool({b})"),
            Json::Number(n) => write!(f, "Number({n})"),
            Json::String(_) => f.write_str("String([redacted])"),
            Json::Array(items) => f.debug_list().entries(items).finish(),
            Json::Object(members) => f
                .debug_map()
                .entries(members.iter().map(|(k, v)| (k, v)))
                .finish(),
        }
    }
}

/// Wipes every string (keys included) so a parsed token response leaves no
/// copy of the token behind.
impl Zeroize for Json {
    fn zeroize(&mut self) {
        match self {
            Json::Null => {}
            Json::Bool(b) => b.zeroize(),
            Json::Number(n) => n.zeroize(),
            Json::String(s) => s.zeroize(),
            Json::Array(items) => items.zeroize(),
            Json::Object(members) => members.zeroize(),
        }
        *self = Json::Null;
    }
}

/// Parses one JSON document (surrounding whitespace allowed, nothing else).
pub fn parse(text: &str) -> Result<Json, JsonError> {
    let mut parser = Parser { text, pos: 0 };
    parser.skip_ws();
    let mut value = parser.value(0)?;
    parser.skip_ws();
    if parser.pos != text.len() {
        value.zeroize();
        return Err(parser.error("trailing characters after the JSON value"));
    }
    Ok(value)
}

struct Parser<'a> {
    text: &'a str,
    pos: usize,
}

impl Parser<'_> {
    fn error(&self, reason: &'static str) -> JsonError {
        JsonError {
            reason,
            offset: self.pos,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn bump(&mut self) -> Option<u8> {
        let b = self.peek()?;
        self.pos = self.pos.saturating_add(1);
        Some(b)
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos = self.pos.saturating_add(1);
        }
    }

    fn consume(&mut self, byte: u8, reason: &'static str) -> Result<(), JsonError> {
        if self.peek() == Some(byte) {
            self.pos = self.pos.saturating_add(1);
            Ok(())
        } else {
            Err(self.error(reason))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, JsonError> {
        match self.peek() {
            None => Err(self.error("unexpected end of input")),
            Some(b'{') => self.object(depth.saturating_add(1)),
            Some(b'[') => self.array(depth.saturating_add(1)),
            Some(b'"') => self.string().map(Json::String),
            Some(b't') => self.literal("true", Json::Bool(true)),
            Some(b'f') => self.literal("false", Json::Bool(false)),
            Some(b'n') => self.literal("null", Json::Null),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(_) => Err(self.error("unexpected character")),
        }
    }

    fn literal(&mut self, word: &'static str, value: Json) -> Result<Json, JsonError> {
        let end = self.pos.saturating_add(word.len());
        if self.text.as_bytes().get(self.pos..end) == Some(word.as_bytes()) {
            self.pos = end;
            Ok(value)
        } else {
            Err(self.error("invalid literal"))
        }
    }

    fn array(&mut self, depth: usize) -> Result<Json, JsonError> {
        if depth > MAX_DEPTH {
            return Err(self.error("nesting is too deep"));
        }
        self.consume(b'[', "expected '['")?;
        let mut items = Vec::new();
        let result = self.array_items(depth, &mut items);
        match result {
            Ok(()) => Ok(Json::Array(items)),
            Err(e) => {
                items.zeroize();
                Err(e)
            }
        }
    }

    fn array_items(&mut self, depth: usize, items: &mut Vec<Json>) -> Result<(), JsonError> {
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.pos = self.pos.saturating_add(1);
            return Ok(());
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth)?);
            self.skip_ws();
            let next = self.peek();
            if matches!(next, Some(b',' | b']')) {
                self.pos = self.pos.saturating_add(1);
            }
            match next {
                Some(b',') => {}
                Some(b']') => return Ok(()),
                _ => return Err(self.error("expected ',' or ']'")),
            }
        }
    }

    fn object(&mut self, depth: usize) -> Result<Json, JsonError> {
        if depth > MAX_DEPTH {
            return Err(self.error("nesting is too deep"));
        }
        self.consume(b'{', "expected '{'")?;
        let mut members = Vec::new();
        match self.object_members(depth, &mut members) {
            Ok(()) => Ok(Json::Object(members)),
            Err(e) => {
                members.zeroize();
                Err(e)
            }
        }
    }

    fn object_members(
        &mut self,
        depth: usize,
        members: &mut Vec<(String, Json)>,
    ) -> Result<(), JsonError> {
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.pos = self.pos.saturating_add(1);
            return Ok(());
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                return Err(self.error("expected a string key"));
            }
            let mut key = self.string()?;
            self.skip_ws();
            if let Err(e) = self.consume(b':', "expected ':'") {
                key.zeroize();
                return Err(e);
            }
            self.skip_ws();
            let value = match self.value(depth) {
                Ok(v) => v,
                Err(e) => {
                    key.zeroize();
                    return Err(e);
                }
            };
            members.push((key, value));
            self.skip_ws();
            let next = self.peek();
            if matches!(next, Some(b',' | b'}')) {
                self.pos = self.pos.saturating_add(1);
            }
            match next {
                Some(b',') => {}
                Some(b'}') => return Ok(()),
                _ => return Err(self.error("expected ',' or '}'")),
            }
        }
    }

    /// Decoded length never exceeds the raw length, so sizing the buffer
    /// from the raw span means it never reallocates and leaves no stale
    /// unzeroized copy of a secret behind.
    fn raw_string_len(&self) -> usize {
        let bytes = self.text.as_bytes().get(self.pos..).unwrap_or_default();
        let mut escaped = false;
        for (i, &b) in bytes.iter().enumerate() {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                return i;
            }
        }
        bytes.len()
    }

    fn string(&mut self) -> Result<String, JsonError> {
        self.consume(b'"', "expected '\"'")?;
        let mut out = String::with_capacity(self.raw_string_len());
        match self.string_body(&mut out) {
            Ok(()) => Ok(out),
            Err(e) => {
                out.zeroize();
                Err(e)
            }
        }
    }

    fn string_body(&mut self, out: &mut String) -> Result<(), JsonError> {
        loop {
            let start = self.pos;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos = self.pos.saturating_add(1);
            }
            // Runs end only at ASCII bytes, so they are on char boundaries.
            let run = self
                .text
                .get(start..self.pos)
                .ok_or_else(|| self.error("invalid UTF-8 boundary"))?;
            out.push_str(run);
            match self.bump() {
                None => return Err(self.error("unterminated string")),
                Some(b'"') => return Ok(()),
                Some(b'\\') => self.escape(out)?,
                Some(_) => {
                    self.pos = self.pos.saturating_sub(1);
                    return Err(self.error("control character in string"));
                }
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<(), JsonError> {
        let c = match self.bump() {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => self.unicode_escape()?,
            _ => return Err(self.error("invalid escape")),
        };
        out.push(c);
        Ok(())
    }

    fn unicode_escape(&mut self) -> Result<char, JsonError> {
        let first = self.hex4()?;
        let code = match first {
            0xD800..=0xDBFF => {
                if self.bump() != Some(b'\\') || self.bump() != Some(b'u') {
                    return Err(self.error("lone high surrogate"));
                }
                let second = self.hex4()?;
                if !(0xDC00..=0xDFFF).contains(&second) {
                    return Err(self.error("lone high surrogate"));
                }
                // Both halves were range-checked, so this cannot saturate.
                (first.saturating_sub(0xD800) << 10)
                    .saturating_add(second.saturating_sub(0xDC00))
                    .saturating_add(0x10000)
            }
            0xDC00..=0xDFFF => return Err(self.error("lone low surrogate")),
            _ => first,
        };
        char::from_u32(code).ok_or_else(|| self.error("invalid code point"))
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let mut value = 0u32;
        for _ in 0..4 {
            let digit = self
                .bump()
                .and_then(|b| char::from(b).to_digit(16))
                .ok_or_else(|| self.error("invalid \\u escape"))?;
            value = (value << 4) | digit;
        }
        Ok(value)
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while let Some(b'0'..=b'9') = self.peek() {
            self.pos = self.pos.saturating_add(1);
        }
        self.pos.saturating_sub(start)
    }

    fn number(&mut self) -> Result<Json, JsonError> {
        let start = self.pos;
        if self.peek() == Some(b'-') {
            self.pos = self.pos.saturating_add(1);
        }
        match self.peek() {
            Some(b'0') => self.pos = self.pos.saturating_add(1),
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.error("invalid number")),
        }
        if self.peek() == Some(b'.') {
            self.pos = self.pos.saturating_add(1);
            if self.digits() == 0 {
                return Err(self.error("invalid number: no digits after '.'"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.pos = self.pos.saturating_add(1);
            if let Some(b'+' | b'-') = self.peek() {
                self.pos = self.pos.saturating_add(1);
            }
            if self.digits() == 0 {
                return Err(self.error("invalid number: no exponent digits"));
            }
        }
        self.text
            .get(start..self.pos)
            .map(|s| Json::Number(parse_decimal(s)))
            .ok_or_else(|| self.error("invalid number"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &str) -> Json {
        Json::String(v.into())
    }

    #[test]
    fn parses_scalars() {
        assert_eq!(parse("null").unwrap(), Json::Null);
        assert_eq!(parse(" true ").unwrap(), Json::Bool(true));
        assert_eq!(parse("\tfalse\r\n").unwrap(), Json::Bool(false));
        assert_eq!(parse("0").unwrap(), Json::Number(0.0));
        assert_eq!(parse("-12.5e2").unwrap(), Json::Number(-1250.0));
        assert_eq!(parse("1E+2").unwrap(), Json::Number(100.0));
        assert_eq!(parse("1e-2").unwrap(), Json::Number(0.01));
        assert_eq!(parse("\"hi\"").unwrap(), s("hi"));
    }

    #[test]
    fn parses_containers() {
        let v = parse(r#" {"a": [1, {"b": null}], "c": "d", "a": 2} "#).unwrap();
        assert_eq!(
            v.get("a"),
            Some(&Json::Array(vec![
                Json::Number(1.0),
                Json::Object(vec![("b".into(), Json::Null)])
            ]))
        );
        assert_eq!(v.get("c").and_then(Json::as_str), Some("d"));
        assert_eq!(v.count_key("a"), 2);
        assert_eq!(v.get("zz"), None);
        assert_eq!(parse("[]").unwrap(), Json::Array(vec![]));
        assert_eq!(parse("{}").unwrap(), Json::Object(vec![]));
        assert_eq!(Json::Null.get("a"), None);
    }

    #[test]
    fn string_escapes() {
        assert_eq!(
            parse(r#""\"\\\/\b\f\n\r\t""#).unwrap(),
            s("\"\\/\u{8}\u{c}\n\r\t")
        );
        assert_eq!(parse(r#""\u00e9\u20AC""#).unwrap(), s("é€"));
        assert_eq!(parse(r#""\ud83d\ude00""#).unwrap(), s("😀"));
        assert_eq!(
            parse(r#""\ud840\udc00\udbff\udfff""#).unwrap(),
            s("\u{20000}\u{10ffff}")
        );
        assert_eq!(parse("\"é😀\"").unwrap(), s("é😀"));
    }

    #[test]
    fn surrogate_errors() {
        for bad in [
            r#""\ud83d""#,
            r#""\ud83dx""#,
            r#""\ud83d\u0041""#,
            r#""\ude00""#,
            r#""\ud83d\n""#,
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn big_numbers_become_infinite() {
        assert_eq!(parse("1e400").unwrap(), Json::Number(f64::INFINITY));
        assert_eq!(parse("-1e400").unwrap(), Json::Number(f64::NEG_INFINITY));
        assert_eq!(parse("1e308").unwrap(), Json::Number(1e308));
    }

    #[test]
    fn rejects_invalid_corpus() {
        let corpus = [
            "",
            " ",
            "{",
            "}",
            "[",
            "]",
            "[1,]",
            "[,1]",
            "{\"a\":1,}",
            "{,}",
            "{\"a\"}",
            "{\"a\" 1}",
            "{a:1}",
            "{'a':1}",
            "'a'",
            "01",
            "-",
            "-a",
            "1.",
            ".5",
            "1e",
            "1e+",
            "+1",
            "0x10",
            "NaN",
            "Infinity",
            "tru",
            "nul",
            "truex",
            "[1 2]",
            "\"abc",
            "\"a\u{1}b\"",
            "\"a\nb\"",
            "\"\\x\"",
            "\"\\u12\"",
            "\"\\u12G4\"",
            "1 2",
            "{} x",
            "\u{feff}{}",
            "[1]]",
            "{\"a\":1}}",
            "<html>",
            "\"\\",
            "[\"a\\",
        ];
        for bad in corpus {
            assert!(parse(bad).is_err(), "should reject {bad:?}");
        }
    }

    #[test]
    fn error_reports_offset_not_content() {
        let e = parse("{\"token\":\"SECRET\" x}").unwrap_err();
        assert_eq!(e.reason, "expected ',' or '}'");
        assert_eq!(e.offset, 18);
        assert!(!format!("{e} {e:?}").contains("SECRET"));
    }

    #[test]
    fn depth_limit_without_stack_overflow() {
        let deep = "[".repeat(100_000);
        assert_eq!(parse(&deep).unwrap_err().reason, "nesting is too deep");
        let deep_obj = "{\"a\":".repeat(100_000);
        assert_eq!(parse(&deep_obj).unwrap_err().reason, "nesting is too deep");
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(&ok).is_ok());
        let too_deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(parse(&too_deep).is_err());
    }

    #[test]
    fn zeroize_clears_tree_and_debug_redacts() {
        let mut v = parse(r#"{"access_token":"SECRET","n":[1,"x"]}"#).unwrap();
        assert!(!format!("{v:?}").contains("SECRET"));
        assert!(format!("{v:?}").contains("access_token"));
        if let Some(Json::String(t)) = v.get_mut("access_token") {
            assert_eq!(t, "SECRET");
        }
        v.zeroize();
        assert_eq!(v, Json::Null);
    }
}
