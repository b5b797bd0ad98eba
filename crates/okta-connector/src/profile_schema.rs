//! The org's user profile schema as input rules: which profile attributes exist (Okta's base ones and
//! the org's custom ones), their types, required flags, enums, lengths, ranges and patterns.
//!
//! * [`ProfileSchema::from_user_schema`] reads `/api/v1/meta/schemas/user/default`;
//! * [`ProfileSchema::validate`] checks a profile before any request and names every bad field;
//! * [`ProfileSchema::to_json_schema`] describes the profile to a user (`actions describe`);
//! * [`cache`] keeps one schema per org for a TTL, so bulk runs fetch it once.

mod cache;
mod validate;

#[cfg(test)]
mod tests;

use std::collections::HashMap;

use okta_client::models::{SchemaAttribute, SchemaSection, UserSchema};
use regex_automata::meta::Regex;
use serde_json::{Map, Number, Value, json};

pub use cache::{
    DEFAULT_TTL, REFRESH_COOLDOWN, SchemaCache, ValidationFailure, cache, validate_profile,
};
pub use validate::{FieldError, Mode, Problem, ProfileErrors};

/// An org's user profile: its attributes, base ones first, each section in schema order.
#[derive(Clone, Debug)]
pub struct ProfileSchema {
    attributes: Vec<Attribute>,
    /// Attribute name -> index in `attributes`: bulk runs validate thousands of profiles.
    index: HashMap<String, usize>,
}

/// One profile attribute, as the schema defines it.
#[derive(Clone, Debug)]
pub struct Attribute {
    pub name: String,
    /// Defined by the org (`definitions.custom`) rather than by Okta.
    pub custom: bool,
    pub kind: Kind,
    pub title: Option<String>,
    pub description: Option<String>,
    /// `required: true` on the attribute, or listed in its section's `required`.
    pub required: bool,
    /// The allowed values (`enum`, or the array items' `enum`), with `oneOf` display titles.
    pub choices: Vec<Choice>,
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub minimum: Option<Number>,
    pub maximum: Option<Number>,
    pub pattern: Option<Pattern>,
    /// `email`, `uri`, ... Only `email` is checked (loosely, as Okta does).
    pub format: Option<String>,
    /// Values must be unique across the org's users: only Okta can check that.
    pub unique: bool,
    /// `mutability: READ_ONLY`: set by Okta or a profile master, refused on input.
    pub read_only: bool,
}

/// An attribute's type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    String,
    Boolean,
    Integer,
    Number,
    /// Okta's arrays hold strings, integers or numbers.
    Array(Box<Kind>),
    Object,
    /// A type this code doesn't know (Okta added one): any value is let through for Okta to judge.
    Other(String),
}

/// One allowed value and its display title.
#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    pub value: Value,
    pub title: Option<String>,
}

/// A `pattern`, compiled when the matcher understands it.
///
/// Okta's patterns are Java regexes. The common subset (classes, quantifiers, groups, alternation,
/// anchors) compiles to a finite automaton, matched in linear time whatever the input. Java-only
/// syntax (lookaround, backreferences, possessive quantifiers, `\p{Alpha}`) does not compile: such a
/// pattern is left to Okta ([`Pattern::is_checked`] is false). `\d` and `\w` are Unicode-aware here,
/// ASCII in Java: a non-ASCII digit passes this check and is then refused by Okta.
#[derive(Clone, Debug)]
pub struct Pattern {
    pub source: String,
    matcher: Option<Regex>,
}

impl Pattern {
    pub fn new(source: &str) -> Pattern {
        // Bounded: a pattern comes from the org, and a huge repetition must not eat memory.
        let matcher = Regex::builder()
            .configure(Regex::config().nfa_size_limit(Some(1 << 20)))
            .build(source)
            .ok();
        Pattern {
            source: source.to_string(),
            matcher,
        }
    }

    /// Whether the pattern is checked here (false: Java-only syntax, left to Okta).
    pub fn is_checked(&self) -> bool {
        self.matcher.is_some()
    }

    /// JSON Schema semantics: a search, anchored only by the pattern's own `^`/`$`. `None` when the
    /// pattern is not checked here.
    pub fn matches(&self, value: &str) -> Option<bool> {
        self.matcher.as_ref().map(|re| re.is_match(value))
    }
}

impl ProfileSchema {
    /// Every attribute of the schema's base and custom sections.
    pub fn from_user_schema(schema: &UserSchema) -> ProfileSchema {
        let definitions = schema.definitions.get();
        let sections = [
            (definitions.and_then(|d| d.base.get()), false),
            (definitions.and_then(|d| d.custom.get()), true),
        ];
        let attributes: Vec<Attribute> = sections
            .into_iter()
            .filter_map(|(section, custom)| section.map(|s| (s, custom)))
            .flat_map(|(section, custom)| section_attributes(section, custom))
            .collect();
        let index = attributes
            .iter()
            .enumerate()
            .map(|(i, a)| (a.name.clone(), i))
            .collect();
        ProfileSchema { attributes, index }
    }

    /// The attributes, base ones first.
    pub fn attributes(&self) -> &[Attribute] {
        &self.attributes
    }

    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.index.get(name).map(|&i| &self.attributes[i])
    }

    /// A JSON Schema (draft 2020-12) of the profile object a new user needs: the org's real
    /// attributes with their types, enums, bounds and titles, and which are required. Read-only
    /// attributes are marked `readOnly`; `x-okta-custom` marks the org's own attributes.
    pub fn to_json_schema(&self) -> Value {
        let properties: Map<String, Value> = self
            .attributes
            .iter()
            .map(|a| (a.name.clone(), a.json_schema()))
            .collect();
        let required: Vec<&str> = self
            .attributes
            .iter()
            .filter(|a| a.required && !a.read_only)
            .map(|a| a.name.as_str())
            .collect();
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": "User profile",
            "description": "The attributes of this org's user profile (Okta's base ones and the org's custom ones).",
            "type": "object",
            "properties": properties,
            "required": required,
            "additionalProperties": false,
        })
    }
}

fn section_attributes(section: &SchemaSection, custom: bool) -> Vec<Attribute> {
    let listed: &[String] = section.required.get().map_or(&[], Vec::as_slice);
    section
        .properties
        .get()
        .into_iter()
        .flatten()
        .map(|(name, attr)| Attribute::new(name, attr, custom, listed.contains(name)))
        .collect()
}

impl Attribute {
    fn new(name: &str, a: &SchemaAttribute, custom: bool, listed_required: bool) -> Attribute {
        let kind = kind_of(a.attr_type.get().map(String::as_str), a.items.get());
        // An array's allowed values live on its items.
        let items = |key: &str| a.items.get()?.get(key)?.as_array().map(Vec::as_slice);
        let choices = match (a.enum_values.get(), a.one_of.get()) {
            (None, None) => choices(items("enum"), items("oneOf")),
            (values, one_of) => choices(values.map(Vec::as_slice), one_of.map(Vec::as_slice)),
        };
        Attribute {
            name: name.to_string(),
            custom,
            kind,
            title: a.title.get().cloned(),
            description: a.description.get().filter(|d| !d.is_empty()).cloned(),
            required: a.required.get() == Some(&true) || listed_required,
            choices,
            min_length: a.min_length.get().copied(),
            max_length: a.max_length.get().copied(),
            minimum: a.minimum.get().cloned(),
            maximum: a.maximum.get().cloned(),
            pattern: a.pattern.get().map(|p| Pattern::new(p)),
            format: a.format.get().cloned(),
            unique: a.unique.get().is_some_and(|u| u.is_unique()),
            read_only: a.mutability.get().map(String::as_str) == Some("READ_ONLY"),
        }
    }

    fn json_schema(&self) -> Value {
        let mut s = Map::new();
        let mut put = |k: &str, v: Value| {
            s.insert(k.to_string(), v);
        };
        if let Some(t) = &self.title {
            put("title", json!(t));
        }
        if let Some(d) = &self.description {
            put("description", json!(d));
        }
        put("type", json!(self.kind.json_type()));
        let choices = || -> Value {
            if self.choices.iter().any(|c| c.title.is_some()) {
                let one_of: Vec<Value> = self
                    .choices
                    .iter()
                    .map(|c| match &c.title {
                        Some(t) => json!({"const": c.value, "title": t}),
                        None => json!({"const": c.value}),
                    })
                    .collect();
                json!({"oneOf": one_of})
            } else {
                json!({"enum": self.choices.iter().map(|c| &c.value).collect::<Vec<_>>()})
            }
        };
        if let Kind::Array(item) = &self.kind {
            let mut items = json!({"type": item.json_type()});
            if !self.choices.is_empty()
                && let (Some(i), Value::Object(c)) = (items.as_object_mut(), choices())
            {
                i.extend(c);
            }
            put("items", items);
        } else if !self.choices.is_empty()
            && let Value::Object(c) = choices()
        {
            for (k, v) in c {
                put(&k, v);
            }
        }
        if let Some(n) = self.min_length {
            put("minLength", json!(n));
        }
        if let Some(n) = self.max_length {
            put("maxLength", json!(n));
        }
        if let Some(n) = &self.minimum {
            put("minimum", json!(n));
        }
        if let Some(n) = &self.maximum {
            put("maximum", json!(n));
        }
        if let Some(p) = &self.pattern {
            put("pattern", json!(p.source));
        }
        if let Some(f) = &self.format {
            put("format", json!(f));
        }
        if self.read_only {
            put("readOnly", json!(true));
        }
        if self.custom {
            put("x-okta-custom", json!(true));
        }
        if self.unique {
            put("x-okta-unique", json!(true));
        }
        Value::Object(s)
    }
}

impl Kind {
    /// The JSON Schema `type`.
    fn json_type(&self) -> &str {
        match self {
            Kind::String => "string",
            Kind::Boolean => "boolean",
            Kind::Integer => "integer",
            Kind::Number => "number",
            Kind::Array(_) => "array",
            Kind::Object => "object",
            Kind::Other(t) => t,
        }
    }
}

/// Okta leaves `type` out of some string attributes, and `items` out of some string arrays.
fn kind_of(name: Option<&str>, items: Option<&Value>) -> Kind {
    match name.unwrap_or("string") {
        "string" => Kind::String,
        "boolean" => Kind::Boolean,
        "integer" => Kind::Integer,
        "number" => Kind::Number,
        "object" => Kind::Object,
        "array" => {
            let item = items.and_then(|i| i.get("type")).and_then(Value::as_str);
            Kind::Array(Box::new(kind_of(item, None)))
        }
        other => Kind::Other(other.to_string()),
    }
}

/// The `enum` values with the titles `oneOf` gives them (`[{"const": v, "title": t}]`); the
/// `oneOf` constants when there is no `enum`.
fn choices(values: Option<&[Value]>, one_of: Option<&[Value]>) -> Vec<Choice> {
    let one_of = one_of.unwrap_or_default();
    let title = |v: &Value| {
        one_of
            .iter()
            .find(|o| o.get("const") == Some(v))
            .and_then(|o| o.get("title"))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let consts: Vec<Value>;
    let values = match values {
        Some(values) => values,
        None => {
            consts = one_of
                .iter()
                .filter_map(|o| o.get("const").cloned())
                .collect();
            &consts
        }
    };
    values
        .iter()
        .map(|v| Choice {
            value: v.clone(),
            title: title(v),
        })
        .collect()
}
