//! `User` (`/api/v1/users`), its profile and credentials.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::common::{Links, Nullable, Timestamp, catch_all, string_enum};

/// An Okta user.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub id: String,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub status: Nullable<UserStatus>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub created: Nullable<Timestamp>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub activated: Nullable<Timestamp>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub status_changed: Nullable<Timestamp>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub last_login: Nullable<Timestamp>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub last_updated: Nullable<Timestamp>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub password_changed: Nullable<Timestamp>,
    /// The user type (`{"id": "oty..."}`).
    #[serde(rename = "type", default, skip_serializing_if = "Nullable::is_absent")]
    pub user_type: Nullable<TypeRef>,
    /// Present in orgs with realms.
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub realm_id: Nullable<String>,
    pub profile: UserProfile,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub credentials: Nullable<UserCredentials>,
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

impl User {
    /// The user's login (`profile.login`).
    pub fn login(&self) -> Option<&str> {
        self.profile.login.as_deref()
    }
    /// The user's primary email (`profile.email`).
    pub fn email(&self) -> Option<&str> {
        self.profile.email.as_deref()
    }
}

string_enum! {
    /// A user's lifecycle status.
    pub enum UserStatus {
        Staged = "STAGED",
        Provisioned = "PROVISIONED",
        Active = "ACTIVE",
        Recovery = "RECOVERY",
        PasswordExpired = "PASSWORD_EXPIRED",
        LockedOut = "LOCKED_OUT",
        Suspended = "SUSPENDED",
        Deprovisioned = "DEPROVISIONED",
    }
}

/// A reference to another object by id (a user's `type`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TypeRef {
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub id: Nullable<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A user's profile: Okta's base attributes typed, custom attributes in `extra`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UserProfile {
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub login: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub email: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub second_email: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub first_name: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub last_name: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub middle_name: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub honorific_prefix: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub honorific_suffix: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub title: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub display_name: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub nick_name: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub profile_url: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub mobile_phone: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub primary_phone: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub street_address: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub city: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub state: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub zip_code: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub country_code: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub postal_address: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub preferred_language: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub locale: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub timezone: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub user_type: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub employee_number: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub cost_center: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub organization: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub division: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub department: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub manager_id: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub manager: Nullable<String>,
    /// Custom attributes (the org's schema decides their names and types).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl UserProfile {
    /// A custom attribute's value (`None` when absent; `Some(Value::Null)` when `null`).
    pub fn custom(&self, name: &str) -> Option<&Value> {
        self.extra.get(name)
    }
    /// A custom string attribute.
    pub fn custom_str(&self, name: &str) -> Option<&str> {
        self.custom(name)?.as_str()
    }
    /// A custom integer attribute.
    pub fn custom_i64(&self, name: &str) -> Option<i64> {
        self.custom(name)?.as_i64()
    }
    /// A custom boolean attribute.
    pub fn custom_bool(&self, name: &str) -> Option<bool> {
        self.custom(name)?.as_bool()
    }
}

/// A user's credentials. The password is never returned (`{}`); `emails` and others stay in `extra`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UserCredentials {
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub provider: Nullable<AuthProvider>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub recovery_question: Nullable<RecoveryQuestion>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Who authenticates the user (`OKTA`, `ACTIVE_DIRECTORY`, `LDAP`, `FEDERATION`, `SOCIAL`, `IMPORT`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AuthProvider {
    #[serde(rename = "type", default, skip_serializing_if = "Nullable::is_absent")]
    pub provider_type: Nullable<String>,
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub name: Nullable<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The recovery question (the answer is never returned).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct RecoveryQuestion {
    #[serde(default, skip_serializing_if = "Nullable::is_absent")]
    pub question: Nullable<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

catch_all!(
    User,
    profile = "profile",
    credentials = "credentials",
    user_type = "type"
);
catch_all!(TypeRef);
catch_all!(UserProfile);
catch_all!(
    UserCredentials,
    provider = "provider",
    recovery_question = "recovery_question"
);
catch_all!(AuthProvider);
catch_all!(RecoveryQuestion);
