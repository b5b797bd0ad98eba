//! Building blocks shared by the models: a tri-state field, timestamps kept verbatim, `_links`, and
//! string enums that never fail on a value Okta adds later.

use std::fmt;
use std::ops::Deref;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A field that may be absent, `null`, or a value.
///
/// `Option` cannot tell `"lastLogin": null` from a missing `lastLogin`, so a round trip through it
/// would drop or invent keys. Declare fields with
/// `#[serde(default, skip_serializing_if = "Nullable::is_absent")]`: absent stays absent, `null`
/// stays `null`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub enum Nullable<T> {
    /// The key was not in the JSON.
    #[default]
    Absent,
    /// The key was there with `null`.
    Null,
    /// The key had a value.
    Value(T),
}

impl<T> Nullable<T> {
    /// The key was not in the JSON (the field is skipped when serializing).
    pub fn is_absent(&self) -> bool {
        matches!(self, Nullable::Absent)
    }
    /// The key was there with `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Nullable::Null)
    }
    /// The value, if there is one (absent and `null` are both `None`).
    pub fn get(&self) -> Option<&T> {
        match self {
            Nullable::Value(v) => Some(v),
            _ => None,
        }
    }
    /// The value, mutably, if there is one.
    pub fn get_mut(&mut self) -> Option<&mut T> {
        match self {
            Nullable::Value(v) => Some(v),
            _ => None,
        }
    }
    /// The value, if there is one.
    pub fn into_option(self) -> Option<T> {
        match self {
            Nullable::Value(v) => Some(v),
            _ => None,
        }
    }
    /// `Some(&str)` for a `Nullable<String>`, and so on.
    pub fn as_deref(&self) -> Option<&T::Target>
    where
        T: Deref,
    {
        self.get().map(Deref::deref)
    }
}

impl<T> From<T> for Nullable<T> {
    fn from(value: T) -> Self {
        Nullable::Value(value)
    }
}

impl<T: Serialize> Serialize for Nullable<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            // `Absent` is normally skipped by `skip_serializing_if`; if not, `null` is the closest.
            Nullable::Absent | Nullable::Null => serializer.serialize_none(),
            Nullable::Value(v) => v.serialize(serializer),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Nullable<T> {
    /// Only called when the key is present (absent keys take the `Default`), so `None` means `null`.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(deserializer)? {
            Some(v) => Nullable::Value(v),
            None => Nullable::Null,
        })
    }
}

/// An Okta timestamp (`2024-05-02T18:46:21.121Z`), kept as the exact text Okta sent so it
/// round-trips byte for byte; [`Timestamp::parse`] gives the instant.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Timestamp(pub String);

impl Timestamp {
    /// The text exactly as Okta sent it.
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// The instant, when the text is RFC 3339 (Okta's API always sends that).
    pub fn parse(&self) -> Option<OffsetDateTime> {
        OffsetDateTime::parse(&self.0, &Rfc3339).ok()
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A resource's `_links`: relation name → `{"href": ...}` (or a list of them), kept as JSON.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Links(pub Map<String, Value>);

impl Links {
    /// The `href` of a relation (the first one when Okta sends a list).
    pub fn href(&self, rel: &str) -> Option<&str> {
        let link = match self.0.get(rel)? {
            Value::Array(items) => items.first()?,
            other => other,
        };
        link.get("href")?.as_str()
    }
}

/// Declares a string enum with a fallback variant `Other(String)`, so a value Okta introduces
/// later parses (and serializes back unchanged) instead of failing the whole response.
macro_rules! string_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
            /// A value this client does not know, kept verbatim.
            Other(String),
        }

        impl $name {
            /// The text Okta uses for this value.
            pub fn as_str(&self) -> &str {
                match self {
                    $($name::$variant => $text,)*
                    $name::Other(text) => text,
                }
            }
        }

        impl From<&str> for $name {
            fn from(text: &str) -> Self {
                match text {
                    $($text => $name::$variant,)*
                    other => $name::Other(other.to_string()),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                Ok($name::from(text.as_str()))
            }
        }
    };
}
pub(crate) use string_enum;

/// Models that keep unknown fields in a catch-all can list them: the key paths (`profile.costCenter`,
/// `target[].detailEntry`) that landed in an `extra` map anywhere inside. Useful to see what a
/// response carries that the models do not type (and in tests against recorded traffic).
pub trait CatchAll {
    /// Appends the untyped key paths under `prefix` to `out`.
    fn collect_untyped(&self, prefix: &str, out: &mut Vec<String>);

    /// The untyped key paths of this value.
    fn untyped_fields(&self) -> Vec<String> {
        let mut out = Vec::new();
        self.collect_untyped("", &mut out);
        out
    }
}

/// `prefix.key`, or `key` at the top.
pub(crate) fn join_path(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

impl<T: CatchAll> CatchAll for Nullable<T> {
    fn collect_untyped(&self, prefix: &str, out: &mut Vec<String>) {
        if let Nullable::Value(v) = self {
            v.collect_untyped(prefix, out);
        }
    }
}

impl<T: CatchAll> CatchAll for Option<T> {
    fn collect_untyped(&self, prefix: &str, out: &mut Vec<String>) {
        if let Some(v) = self {
            v.collect_untyped(prefix, out);
        }
    }
}

impl<T: CatchAll> CatchAll for Vec<T> {
    fn collect_untyped(&self, prefix: &str, out: &mut Vec<String>) {
        let prefix = format!("{prefix}[]");
        for item in self {
            item.collect_untyped(&prefix, out);
        }
    }
}

impl<T: CatchAll> CatchAll for indexmap::IndexMap<String, T> {
    fn collect_untyped(&self, prefix: &str, out: &mut Vec<String>) {
        let prefix = join_path(prefix, "*");
        for item in self.values() {
            item.collect_untyped(&prefix, out);
        }
    }
}

/// Implements [`CatchAll`] for a struct with an `extra` map and the given typed children.
macro_rules! catch_all {
    ($ty:ty $(, $field:ident = $name:literal)* $(,)?) => {
        impl $crate::models::CatchAll for $ty {
            fn collect_untyped(&self, prefix: &str, out: &mut Vec<String>) {
                out.extend(self.extra.keys().map(|k| $crate::models::common::join_path(prefix, k)));
                $($crate::models::CatchAll::collect_untyped(
                    &self.$field,
                    &$crate::models::common::join_path(prefix, $name),
                    out,
                );)*
            }
        }
    };
}
pub(crate) use catch_all;
