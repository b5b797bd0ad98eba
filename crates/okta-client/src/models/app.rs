//! `Application` (`/api/v1/apps`) and `AppUser` (`/api/v1/apps/{id}/users`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::common::{Links, Nullable, Timestamp, catch_all, string_enum};

/// An app integration. `settings` and `credentials` differ per sign-on mode, so they stay JSON.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Application {
    pub id: String,
    /// The app's key in the catalog (`bookmark`, `oidc_client`, `okta_org2org`, ...).
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub name: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub label: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub status: Nullable<AppStatus>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub sign_on_mode: Nullable<SignOnMode>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub created: Nullable<Timestamp>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub last_updated: Nullable<Timestamp>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub features: Nullable<Vec<String>>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub settings: Nullable<Value>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub credentials: Nullable<Value>,
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

string_enum! {
    /// An app's status.
    pub enum AppStatus {
        Active = "ACTIVE",
        Inactive = "INACTIVE",
        Deleted = "DELETED",
    }
}

string_enum! {
    /// How users sign in to an app.
    pub enum SignOnMode {
        AutoLogin = "AUTO_LOGIN",
        BasicAuth = "BASIC_AUTH",
        Bookmark = "BOOKMARK",
        BrowserPlugin = "BROWSER_PLUGIN",
        OpenIdConnect = "OPENID_CONNECT",
        Saml11 = "SAML_1_1",
        Saml20 = "SAML_2_0",
        SecurePasswordStore = "SECURE_PASSWORD_STORE",
        WsFederation = "WS_FEDERATION",
    }
}

/// A user assigned to an app, with the app-specific profile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppUser {
    /// The Okta user's id.
    pub id: String,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub external_id: Nullable<String>,
    /// `USER` (assigned directly) or `GROUP` (through a group).
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub scope: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub status: Nullable<AppUserStatus>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub sync_state: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub created: Nullable<Timestamp>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub last_updated: Nullable<Timestamp>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub status_changed: Nullable<Timestamp>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub password_changed: Nullable<Timestamp>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub credentials: Nullable<AppUserCredentials>,
    /// The app-specific profile (its schema belongs to the app).
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub profile: Nullable<Map<String, Value>>,
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

string_enum! {
    /// An app assignment's status.
    pub enum AppUserStatus {
        Staged = "STAGED",
        Provisioned = "PROVISIONED",
        Active = "ACTIVE",
        Inactive = "INACTIVE",
        Pending = "PENDING",
        Deprovisioned = "DEPROVISIONED",
        Matched = "MATCHED",
        Unassigned = "UNASSIGNED",
        Implicit = "IMPLICIT",
    }
}

/// An assignment's credentials (the password is never returned).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AppUserCredentials {
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub user_name: Nullable<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

catch_all!(Application);
catch_all!(AppUser, credentials = "credentials");
catch_all!(AppUserCredentials);
