//! A user profile stored compactly.
//!
//! Why it exists: with `preserve_order`, a `serde_json::Map` is an IndexMap of `String` keys and
//! 72-byte `Value`s; a seeded user's 16 attributes took ~4.3 KB that way (their JSON is ~400 bytes),
//! which dominated the simulator's memory at 100k users. Here attribute names are interned once
//! (they come from the user schema, which validation holds profiles to, so the set is bounded) and
//! values use a small enum. Order is insertion order, as with the Map, so rendered JSON is the same
//! byte for byte. Request handling still works on `Map`s at the edges (`From`, `to_map`).

use std::collections::HashSet;
use std::sync::{LazyLock, Mutex};

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use serde_json::{Map, Number, Value};

/// One attribute's value. Arrays of strings (`skills`) are common enough to get their own variant;
/// anything rarer (objects, mixed arrays) keeps its `Value`, boxed.
#[derive(Debug, Clone, PartialEq)]
pub enum AttrValue {
    Null,
    Bool(bool),
    Number(Number),
    String(Box<str>),
    Strings(Box<[Box<str>]>),
    Other(Box<Value>),
}

impl AttrValue {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            AttrValue::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn to_value(&self) -> Value {
        match self {
            AttrValue::Null => Value::Null,
            AttrValue::Bool(b) => Value::Bool(*b),
            AttrValue::Number(n) => Value::Number(n.clone()),
            AttrValue::String(s) => Value::String(s.to_string()),
            AttrValue::Strings(a) => a.iter().map(|s| Value::String(s.to_string())).collect(),
            AttrValue::Other(v) => (**v).clone(),
        }
    }
}

impl From<Value> for AttrValue {
    fn from(v: Value) -> Self {
        match v {
            Value::Null => AttrValue::Null,
            Value::Bool(b) => AttrValue::Bool(b),
            Value::Number(n) => AttrValue::Number(n),
            Value::String(s) => AttrValue::String(s.into()),
            Value::Array(a) if a.iter().all(Value::is_string) => AttrValue::Strings(
                a.into_iter()
                    .filter_map(|s| match s {
                        Value::String(s) => Some(s.into_boxed_str()),
                        _ => None,
                    })
                    .collect(),
            ),
            other => AttrValue::Other(Box::new(other)),
        }
    }
}

impl Serialize for AttrValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            AttrValue::Null => s.serialize_unit(),
            AttrValue::Bool(b) => s.serialize_bool(*b),
            AttrValue::Number(n) => n.serialize(s),
            AttrValue::String(v) => s.serialize_str(v),
            AttrValue::Strings(a) => {
                let mut seq = s.serialize_seq(Some(a.len()))?;
                for v in a.iter() {
                    seq.serialize_element(&**v)?;
                }
                seq.end()
            }
            AttrValue::Other(v) => v.serialize(s),
        }
    }
}

/// Attribute names seen so far. Each distinct name is leaked once and shared by every profile.
static NAMES: LazyLock<Mutex<HashSet<&'static str>>> = LazyLock::new(Default::default);

fn intern(name: &str) -> &'static str {
    let mut names = NAMES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(n) = names.get(name) {
        return n;
    }
    let leaked: &'static str = Box::leak(name.into());
    names.insert(leaked);
    leaked
}

/// Attributes in insertion order, like the `Map` it replaces.
#[derive(Debug, Clone, Default)]
pub struct Profile(Vec<(&'static str, AttrValue)>);

impl Profile {
    pub fn get(&self, name: &str) -> Option<&AttrValue> {
        self.0.iter().find(|(k, _)| *k == name).map(|(_, v)| v)
    }

    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).and_then(AttrValue::as_str)
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Replaces the value in place when the name is present (keeping its position), else appends.
    pub fn insert(&mut self, name: &str, value: Value) {
        let value = AttrValue::from(value);
        match self.0.iter_mut().find(|(k, _)| *k == name) {
            Some((_, v)) => *v = value,
            None => self.0.push((intern(name), value)),
        }
    }

    /// Removes an attribute, keeping the others in order.
    pub fn remove(&mut self, name: &str) -> Option<AttrValue> {
        let i = self.0.iter().position(|(k, _)| *k == name)?;
        Some(self.0.remove(i).1)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &AttrValue)> {
        self.0.iter().map(|(k, v)| (*k, v))
    }

    pub fn to_map(&self) -> Map<String, Value> {
        self.iter()
            .map(|(k, v)| (k.to_string(), v.to_value()))
            .collect()
    }
}

impl From<Map<String, Value>> for Profile {
    fn from(map: Map<String, Value>) -> Self {
        let mut entries: Vec<_> = map
            .into_iter()
            .map(|(k, v)| (intern(&k), AttrValue::from(v)))
            .collect();
        entries.shrink_to_fit();
        Profile(entries)
    }
}

/// Like `Map`'s: the same attributes with the same values, in any order.
impl PartialEq for Profile {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().all(|(k, v)| other.get(k) == Some(v))
    }
}

impl Serialize for Profile {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.len()))?;
        for (k, v) in self.iter() {
            m.serialize_entry(k, v)?;
        }
        m.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn profile(v: Value) -> Profile {
        match v {
            Value::Object(m) => Profile::from(m),
            _ => unreachable!(),
        }
    }

    #[test]
    fn renders_the_same_json_as_the_map_it_came_from() {
        let v = json!({
            "login": "a@example.com", "n": 3, "f": 1.5, "neg": -2, "big": u64::MAX, "t": true,
            "none": null, "skills": ["go", "rust"], "empty": [], "mixed": [1, "a"],
            "obj": {"z": 1, "a": [null]}, "uni": "caf\u{e9} \"q\"",
        });
        let p = profile(v.clone());
        assert_eq!(serde_json::to_string(&p).unwrap(), v.to_string());
        assert_eq!(Value::Object(p.to_map()), v);
    }

    #[test]
    fn insert_keeps_position_and_remove_keeps_order() {
        let mut p = profile(json!({"a": 1, "b": 2, "c": 3}));
        p.insert("a", json!("x"));
        p.insert("d", json!(["y"]));
        assert!(p.remove("b").is_some());
        assert!(p.remove("b").is_none());
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            r#"{"a":"x","c":3,"d":["y"]}"#
        );
        assert_eq!(p.get_str("a"), Some("x"));
        assert!(p.contains_key("d") && !p.contains_key("b"));
    }

    #[test]
    fn equality_ignores_order_like_map() {
        let a = profile(json!({"a": 1, "b": [2]}));
        let b = profile(json!({"b": [2], "a": 1}));
        let c = profile(json!({"b": [2], "a": 1.0}));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(
            Value::Object(a.to_map()) == Value::Object(b.to_map()),
            a == b
        );
    }
}
