//! [`Field`]: one member of a server's JSON object, as serde hands it over, kept loose
//! enough that the core can give each wrong shape its own error (RFC 6749 §5.1 says what
//! a member must be; a wrong member is an error of ours, not a decode failure).

use core::fmt;
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use zeroize::Zeroize;

/// A JSON object member of any shape. Absent members are [`Field::Absent`] (with
/// `#[serde(default)]`), `null` is [`Field::Null`]. A string is wiped on drop and never
/// shown by `Debug`, and there is no `PartialEq` (no comparison of secret bytes): the
/// `access_token` member travels in one.
#[derive(Default)]
pub enum Field {
    /// The member is not there.
    #[default]
    Absent,
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool,
    /// A number (serde_json gives only finite ones).
    Number(f64),
    /// A string, unescaped.
    Text(String),
    /// An array or object (its content is skipped).
    Compound,
}

impl Field {
    /// Whether the member is not there.
    pub fn is_absent(&self) -> bool {
        matches!(self, Field::Absent)
    }

    /// The string, if the member is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Field::Text(text) => Some(text),
            _ => None,
        }
    }

    /// Moves the string out (leaving an empty one), if the member is one.
    pub fn take_text(&mut self) -> Option<String> {
        match self {
            Field::Text(text) => Some(core::mem::take(text)),
            _ => None,
        }
    }
}

/// The shape only: a string member may be the token.
impl fmt::Debug for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Field::Absent => "Absent",
            Field::Null => "Null",
            Field::Bool => "Bool",
            Field::Number(_) => "Number",
            Field::Text(_) => "Text(..)",
            Field::Compound => "Compound",
        })
    }
}

impl Drop for Field {
    fn drop(&mut self) {
        if let Field::Text(text) = self {
            text.zeroize();
        }
    }
}

struct FieldVisitor;

impl<'de> Visitor<'de> for FieldVisitor {
    type Value = Field;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Field, E> {
        Ok(Field::Bool)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Field, E> {
        Ok(Field::Number(v as f64))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Field, E> {
        Ok(Field::Number(v as f64))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Field, E> {
        Ok(Field::Number(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Field, E> {
        // Exactly sized: no reallocation leaves an unwiped copy behind.
        Ok(Field::Text(String::from(v)))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Field, E> {
        Ok(Field::Text(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Field, E> {
        Ok(Field::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Field, E> {
        Ok(Field::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Field, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Field::Compound)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Field, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Field::Compound)
    }
}

/// Accepts every JSON value; only the document's syntax can fail.
impl<'de> Deserialize<'de> for Field {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Field, D::Error> {
        deserializer.deserialize_any(FieldVisitor)
    }
}
