//! The User JSON Okta sends, serialized straight from the stored user.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value, json};

use crate::clock::iso_ms;
use crate::routes::meta;
use crate::state::{User, UserStatus};

/// Okta's User JSON as a single user: `_links` carry every operation the status allows.
pub fn render(base: &str, realm_id: &str, u: &User) -> Value {
    serde_json::to_value(user_json_with_links(base, realm_id, u)).unwrap_or(Value::Null)
}

pub fn user_json<'a>(base: &'a str, realm_id: &'a str, u: &'a User) -> UserJson<'a> {
    UserJson {
        base,
        realm_id,
        u,
        all_links: false,
    }
}

/// The user with every link relation its status allows, as a single read (and group member lists)
/// show it.
pub fn user_json_with_links<'a>(base: &'a str, realm_id: &'a str, u: &'a User) -> UserJson<'a> {
    UserJson {
        all_links: true,
        ..user_json(base, realm_id, u)
    }
}

/// Okta's User JSON, serialized straight from the stored user: list pages write these without
/// building a `Value` per user (the hot path of paging through an org); single reads add every link.
pub struct UserJson<'a> {
    base: &'a str,
    realm_id: &'a str,
    u: &'a User,
    /// Every link relation (single reads) or only `self` (the users list).
    all_links: bool,
}

impl Serialize for UserJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let u = self.u;
        let opt = |t: Option<i64>| t.map(iso_ms);
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("id", &u.id)?;
        m.serialize_entry("status", u.status.as_str())?;
        if let Some(t) = u.transitioning_to {
            m.serialize_entry("transitioningToStatus", t.as_str())?;
        }
        m.serialize_entry("created", &iso_ms(u.created))?;
        m.serialize_entry("activated", &opt(u.activated))?;
        m.serialize_entry("statusChanged", &opt(u.status_changed))?;
        m.serialize_entry("lastLogin", &opt(u.last_login))?;
        m.serialize_entry("lastUpdated", &iso_ms(u.last_updated))?;
        m.serialize_entry("passwordChanged", &opt(u.password_changed))?;
        // Recorded after `passwordChanged` (test_users_it forgot_password, 2025); the spec's User has it.
        m.serialize_entry("realmId", self.realm_id)?;
        m.serialize_entry("type", &TypeRef(&u.type_id))?;
        m.serialize_entry("profile", &ProfileJson(u))?;
        m.serialize_entry("credentials", &CredentialsJson(u))?;
        if self.all_links {
            m.serialize_entry("_links", &links(self.base, u))?;
        } else {
            m.serialize_entry("_links", &SelfLink(self.base, &u.id))?;
        }
        m.end()
    }
}

struct TypeRef<'a>(&'a str);

impl Serialize for TypeRef<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry("id", self.0)?;
        m.end()
    }
}

struct SelfLink<'a>(&'a str, &'a str);

impl Serialize for SelfLink<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(1))?;
        m.serialize_entry(
            "self",
            &json!({"href": format!("{}/api/v1/users/{}", self.0, self.1)}),
        )?;
        m.end()
    }
}

/// Okta always shows `mobilePhone` and `secondEmail`, as `null` when unset (as recorded).
struct ProfileJson<'a>(&'a User);

impl Serialize for ProfileJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let profile = &self.0.profile;
        let mut m = s.serialize_map(None)?;
        for (k, v) in profile.iter() {
            m.serialize_entry(k, v)?;
        }
        for always in ["mobilePhone", "secondEmail"] {
            if !profile.contains_key(always) {
                m.serialize_entry(always, &Value::Null)?;
            }
        }
        m.end()
    }
}

/// `password: {}` when one is set, the primary email for Okta-mastered users, the recovery question
/// (never the answer), the provider.
pub(super) struct CredentialsJson<'a>(pub(super) &'a User);

impl Serialize for CredentialsJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let u = self.0;
        let c = &u.credentials;
        let mut m = s.serialize_map(None)?;
        if c.password.is_some() {
            m.serialize_entry("password", &json!({}))?;
        }
        if c.provider_type == "OKTA"
            && let Some(email) = u.profile.get_str("email")
        {
            m.serialize_entry(
                "emails",
                &json!([{"value": email, "status": "VERIFIED", "type": "PRIMARY"}]),
            )?;
        }
        if let Some(q) = &c.recovery_question {
            m.serialize_entry("recovery_question", &json!({"question": q}))?;
        }
        m.serialize_entry(
            "provider",
            &json!({"type": c.provider_type, "name": c.provider_name}),
        )?;
        m.end()
    }
}

/// The link relations of a single user, in the recorded order. ACTIVE, PASSWORD_EXPIRED, STAGED and
/// SUSPENDED follow recordings; the others follow the same pattern with the operations the status
/// machine allows (LOCKED_OUT adds `unlock`, PROVISIONED and RECOVERY add `reactivate`).
fn links(base: &str, u: &User) -> Map<String, Value> {
    use UserStatus::*;
    let user = format!("{base}/api/v1/users/{}", u.id);
    let lifecycle = |op: &str| json!({"href": format!("{user}/lifecycle/{op}"), "method": "POST"});
    let credential =
        |op: &str| json!({"href": format!("{user}/credentials/{op}"), "method": "POST"});
    let schema = json!({"href": format!("{base}/api/v1/meta/schemas/user/{}", meta::schema_id_for_type(&u.type_id))});
    let kind = json!({"href": format!("{base}/api/v1/meta/types/user/{}", u.type_id)});
    let this = json!({"href": user});
    let rels: Vec<(&str, Value)> = match u.status {
        Active | PasswordExpired | LockedOut | Recovery => {
            let mut r = Vec::new();
            if matches!(u.status, Active | PasswordExpired) {
                r.push(("suspend", lifecycle("suspend")));
            }
            if u.status == LockedOut {
                r.push(("unlock", lifecycle("unlock")));
            }
            r.push(("schema", schema));
            r.push(("resetPassword", lifecycle("reset_password")));
            if u.status != Recovery {
                r.push(("forgotPassword", credential("forgot_password")));
            }
            r.push(("expirePassword", lifecycle("expire_password")));
            r.push((
                "changeRecoveryQuestion",
                credential("change_recovery_question"),
            ));
            r.push(("self", this));
            r.push(("resetFactors", lifecycle("reset_factors")));
            r.push(("type", kind));
            r.push(("changePassword", credential("change_password")));
            if u.status == Recovery {
                r.push(("reactivate", lifecycle("reactivate")));
            }
            r.push(("deactivate", lifecycle("deactivate")));
            r
        }
        Provisioned => vec![
            ("schema", schema),
            ("resetPassword", lifecycle("reset_password")),
            ("self", this),
            ("resetFactors", lifecycle("reset_factors")),
            ("type", kind),
            ("reactivate", lifecycle("reactivate")),
            ("deactivate", lifecycle("deactivate")),
        ],
        Staged => vec![
            ("schema", schema),
            ("activate", lifecycle("activate")),
            ("self", this),
            ("resetFactors", lifecycle("reset_factors")),
            ("type", kind),
        ],
        Suspended => vec![
            ("schema", schema),
            ("unsuspend", lifecycle("unsuspend")),
            ("self", this),
            ("resetFactors", lifecycle("reset_factors")),
            ("type", kind),
            ("deactivate", lifecycle("deactivate")),
        ],
        Deprovisioned => vec![
            ("schema", schema),
            ("activate", lifecycle("activate")),
            ("self", this),
            ("type", kind),
        ],
    };
    rels.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}
