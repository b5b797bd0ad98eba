//! `UserType` (`/api/v1/meta/types/user`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::common::{Links, Nullable, Timestamp, catch_all};

/// A user type; each has its own user schema (see `_links.schema`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserType {
    pub id: String,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub name: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub display_name: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub description: Nullable<String>,
    /// Whether this is the org's default type (new users get it).
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub default: Nullable<bool>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub created: Nullable<Timestamp>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub created_by: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub last_updated: Nullable<Timestamp>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub last_updated_by: Nullable<String>,
    #[serde(
        rename = "_links",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub links: Nullable<Links>,
    /// Every field not typed above, kept so a round trip loses nothing.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl UserType {
    /// The id of this type's user schema (the last segment of `_links.schema.href`), for
    /// `client.schemas().user(...)`.
    pub fn schema_id(&self) -> Option<&str> {
        let href = self.links.get()?.href("schema")?;
        href.rsplit('/').next().filter(|s| !s.is_empty())
    }
}

catch_all!(UserType);
