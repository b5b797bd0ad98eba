//! `UserSchema` (`/api/v1/meta/schemas/user/{default | schema id}`): the attributes a user profile
//! may have, base ones (Okta's) and custom ones (the org's).

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value};

use super::common::{Links, Nullable, Timestamp, catch_all};

/// A user schema (JSON Schema draft 4 with Okta's extensions).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserSchema {
    /// The schema's URL (`https://acme.okta.com/meta/schemas/user/default`).
    pub id: String,
    #[serde(
        rename = "$schema",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub schema: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub name: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub title: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub description: Nullable<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Nullable::is_absent")]
    pub schema_type: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub created: Nullable<Timestamp>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub last_updated: Nullable<Timestamp>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub definitions: Nullable<SchemaDefinitions>,
    #[serde(
        rename = "_links",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub links: Nullable<Links>,
    /// Every field not typed above (`properties`, ...), kept so a round trip loses nothing.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl UserSchema {
    /// Okta's base attributes, in schema order.
    pub fn base_attributes(&self) -> impl Iterator<Item = (&str, &SchemaAttribute)> {
        self.section(|d| &d.base)
    }
    /// The org's custom attributes, in schema order.
    pub fn custom_attributes(&self) -> impl Iterator<Item = (&str, &SchemaAttribute)> {
        self.section(|d| &d.custom)
    }
    /// One attribute by name, custom or base.
    pub fn attribute(&self, name: &str) -> Option<&SchemaAttribute> {
        self.custom_attributes()
            .chain(self.base_attributes())
            .find_map(|(n, a)| (n == name).then_some(a))
    }

    fn section(
        &self,
        pick: impl Fn(&SchemaDefinitions) -> &Nullable<SchemaSection>,
    ) -> impl Iterator<Item = (&str, &SchemaAttribute)> {
        self.definitions
            .get()
            .and_then(|d| pick(d).get())
            .and_then(|s| s.properties.get())
            .into_iter()
            .flatten()
            .map(|(n, a)| (n.as_str(), a))
    }
}

/// `definitions`: the `base` and `custom` sections.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SchemaDefinitions {
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub base: Nullable<SchemaSection>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub custom: Nullable<SchemaSection>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One section: its attributes (in order) and which are required.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SchemaSection {
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub id: Nullable<String>,
    #[serde(rename = "type", default, skip_serializing_if = "Nullable::is_absent")]
    pub section_type: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub properties: Nullable<IndexMap<String, SchemaAttribute>>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub required: Nullable<Vec<String>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One attribute's definition.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SchemaAttribute {
    /// `string`, `boolean`, `number`, `integer` or `array`.
    #[serde(rename = "type", default, skip_serializing_if = "Nullable::is_absent")]
    pub attr_type: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub title: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub description: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub format: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub required: Nullable<bool>,
    #[serde(rename = "enum", default, skip_serializing_if = "Nullable::is_absent")]
    pub enum_values: Nullable<Vec<Value>>,
    /// `[{"const": ..., "title": ...}]`: display names of the `enum` values.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub one_of: Nullable<Vec<Value>>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub min_length: Nullable<u64>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub max_length: Nullable<u64>,
    /// `Number`, not `f64`, so `5` stays an integer in a round trip.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub minimum: Nullable<Number>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub maximum: Nullable<Number>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub pattern: Nullable<String>,
    /// The element schema of an `array` attribute.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub items: Nullable<Value>,
    /// `READ_ONLY`, `READ_WRITE`, `WRITE_ONLY`.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub mutability: Nullable<String>,
    /// `NONE` or `SELF`.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub scope: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub unique: Nullable<Unique>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub permissions: Nullable<Vec<SchemaPermission>>,
    /// Which source masters the attribute (`{"type": "PROFILE_MASTER" | "OKTA" | "OVERRIDE", ...}`).
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub master: Nullable<Value>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `unique`: real Okta sends `"UNIQUE_VALIDATED"` / `"NOT_UNIQUE"`, the OpenAPI spec a boolean.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Unique {
    Flag(bool),
    Text(String),
}

impl Unique {
    /// Whether values must be unique across users.
    pub fn is_unique(&self) -> bool {
        match self {
            Unique::Flag(flag) => *flag,
            Unique::Text(text) => text == "UNIQUE_VALIDATED",
        }
    }
}

/// Who may see or change an attribute (`{"principal": "SELF", "action": "READ_ONLY"}`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SchemaPermission {
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub principal: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub action: Nullable<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

catch_all!(UserSchema, definitions = "definitions");
catch_all!(SchemaDefinitions, base = "base", custom = "custom");
catch_all!(SchemaSection, properties = "properties");
catch_all!(SchemaAttribute, permissions = "permissions");
catch_all!(SchemaPermission);
