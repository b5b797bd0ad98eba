//! `Group` (`/api/v1/groups`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::common::{Links, Nullable, Timestamp, catch_all, string_enum};

/// An Okta group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub id: String,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub created: Nullable<Timestamp>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub last_updated: Nullable<Timestamp>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub last_membership_updated: Nullable<Timestamp>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub object_class: Nullable<Vec<String>>,
    #[serde(rename = "type", default, skip_serializing_if = "Nullable::is_absent")]
    pub group_type: Nullable<GroupType>,
    pub profile: GroupProfile,
    #[serde(
        rename = "_links",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub links: Nullable<Links>,
    #[serde(
        rename = "_embedded",
        default,
        skip_serializing_if = "Nullable::is_absent"
    )]
    pub embedded: Nullable<Map<String, Value>>,
    /// Every field not typed above, kept so a round trip loses nothing.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Group {
    /// The group's name (`profile.name`).
    pub fn name(&self) -> Option<&str> {
        self.profile.name.as_deref()
    }
}

string_enum! {
    /// Where a group comes from.
    pub enum GroupType {
        /// Created in Okta.
        OktaGroup = "OKTA_GROUP",
        /// Imported from an app (AD, LDAP, ...).
        AppGroup = "APP_GROUP",
        /// `Everyone` and other system groups.
        BuiltIn = "BUILT_IN",
    }
}

/// A group's profile: `name` and `description`, custom attributes in `extra`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct GroupProfile {
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub name: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub description: Nullable<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

catch_all!(Group, profile = "profile");
catch_all!(GroupProfile);
