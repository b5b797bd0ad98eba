//! `/api/v1/meta`: the user and group profile schemas and user types.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::routing::get;
use serde_json::{Value, json};

use crate::Sim;
use crate::clock::iso_ms;
use crate::http::{ApiResult, ok};

pub fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/api/v1/meta/schemas/user/default", get(get_user_schema))
        .route("/api/v1/meta/schemas/group/default", get(get_group_schema))
        .route("/api/v1/meta/types/user", get(list_user_types))
}

async fn get_user_schema(State(sim): State<Arc<Sim>>) -> ApiResult {
    ok(with_base(&sim, sim.org.read().user_schema.clone(), "user"))
}

async fn get_group_schema(State(sim): State<Arc<Sim>>) -> ApiResult {
    ok(with_base(
        &sim,
        sim.org.read().group_schema.clone(),
        "group",
    ))
}

async fn list_user_types(State(sim): State<Arc<Sim>>) -> ApiResult {
    let types: Vec<Value> = sim.org.read().user_types.values().cloned().collect();
    ok(Value::Array(types))
}

/// Schemas carry the org's URL in `id`; it is only known once the server is bound.
fn with_base(sim: &Sim, mut schema: Value, kind: &str) -> Value {
    schema["id"] = json!(format!("{}/meta/schemas/{kind}/default", sim.base_url()));
    schema
}

fn attr(title: &str, extra: Value) -> Value {
    let mut v = json!({
        "title": title, "type": "string", "mutability": "READ_WRITE", "scope": "NONE",
        "permissions": [{"principal": "SELF", "action": "READ_ONLY"}],
    });
    if let (Some(obj), Value::Object(extra)) = (v.as_object_mut(), extra) {
        obj.extend(extra);
    }
    v
}

/// Okta's base user profile plus custom attributes of every kind Okta supports: a string with a
/// pattern (required when `require_custom`), a bounded integer, a boolean, an enum and a string array.
pub fn default_user_schema(created: i64, require_custom: bool) -> Value {
    let base = [
        (
            "login",
            "Username",
            json!({"required": true, "minLength": 5, "maxLength": 100}),
        ),
        (
            "firstName",
            "First name",
            json!({"required": true, "minLength": 1, "maxLength": 50}),
        ),
        (
            "lastName",
            "Last name",
            json!({"required": true, "minLength": 1, "maxLength": 50}),
        ),
        ("middleName", "Middle name", json!({})),
        ("honorificPrefix", "Honorific prefix", json!({})),
        ("honorificSuffix", "Honorific suffix", json!({})),
        (
            "email",
            "Primary email",
            json!({"required": true, "format": "email"}),
        ),
        ("title", "Title", json!({})),
        ("displayName", "Display name", json!({})),
        ("nickName", "Nickname", json!({})),
        ("profileUrl", "Profile Url", json!({"format": "uri"})),
        ("secondEmail", "Secondary email", json!({"format": "email"})),
        ("mobilePhone", "Mobile phone", json!({"maxLength": 100})),
        ("primaryPhone", "Primary phone", json!({"maxLength": 100})),
        ("streetAddress", "Street address", json!({})),
        ("city", "City", json!({})),
        ("state", "State", json!({})),
        ("zipCode", "Zip code", json!({})),
        ("countryCode", "Country code", json!({})),
        ("postalAddress", "Postal Address", json!({})),
        ("preferredLanguage", "Preferred language", json!({})),
        ("locale", "Locale", json!({})),
        ("timezone", "Time zone", json!({})),
        ("userType", "User type", json!({})),
        ("employeeNumber", "Employee number", json!({})),
        ("costCenter", "Cost center", json!({})),
        ("organization", "Organization", json!({})),
        ("division", "Division", json!({})),
        ("department", "Department", json!({})),
        ("managerId", "ManagerId", json!({})),
        ("manager", "Manager", json!({})),
    ];
    let base_props: serde_json::Map<String, Value> = base
        .into_iter()
        .map(|(name, title, extra)| (name.to_string(), attr(title, extra)))
        .collect();
    let custom = json!({
        "employeeId": attr("Employee ID", json!({"description": "HR employee id, E followed by six digits",
            "pattern": "^E[0-9]{6}$", "required": require_custom, "unique": "UNIQUE_VALIDATED"})),
        "clearanceLevel": attr("Clearance level", json!({"type": "integer", "minimum": 0, "maximum": 5})),
        "isContractor": attr("Contractor", json!({"type": "boolean"})),
        "region": attr("Region", json!({"enum": ["AMER", "EMEA", "APAC"], "oneOf": [
            {"const": "AMER", "title": "Americas"}, {"const": "EMEA", "title": "Europe, Middle East, Africa"},
            {"const": "APAC", "title": "Asia Pacific"}]})),
        "skills": attr("Skills", json!({"type": "array", "items": {"type": "string"},
            "union": "DISABLE"})),
        "startDate": attr("Start date", json!({"minLength": 10, "maxLength": 10,
            "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"})),
    });
    let custom_required: Vec<&str> = if require_custom {
        vec!["employeeId"]
    } else {
        vec![]
    };
    json!({
        "id": "",
        "$schema": "http://json-schema.org/draft-04/schema#",
        "name": "user",
        "title": "User",
        "description": "Okta user profile template with default permission settings",
        "lastUpdated": iso_ms(created),
        "created": iso_ms(created),
        "definitions": {
            "custom": {"id": "#custom", "type": "object", "properties": custom, "required": custom_required},
            "base": {"id": "#base", "type": "object", "properties": base_props,
                     "required": ["login", "firstName", "lastName", "email"]},
        },
        "type": "object",
        "properties": {"profile": {"allOf": [{"$ref": "#/definitions/custom"}, {"$ref": "#/definitions/base"}]}},
    })
}

pub fn default_group_schema(created: i64) -> Value {
    json!({
        "id": "",
        "$schema": "http://json-schema.org/draft-04/schema#",
        "name": "group",
        "title": "Okta group",
        "description": "Okta group profile template",
        "lastUpdated": iso_ms(created),
        "created": iso_ms(created),
        "definitions": {
            "custom": {"id": "#custom", "type": "object", "properties": {}, "required": []},
            "base": {"id": "#base", "type": "object", "properties": {
                "name": attr("Name", json!({"required": true, "maxLength": 255, "minLength": 1})),
                "description": attr("Description", json!({"maxLength": 1024})),
            }, "required": ["name"]},
        },
        "type": "object",
        "properties": {"profile": {"allOf": [{"$ref": "#/definitions/custom"}, {"$ref": "#/definitions/base"}]}},
    })
}

pub fn default_user_type(id: &str, created: i64) -> Value {
    json!({
        "id": id,
        "displayName": "User",
        "name": "user",
        "description": "Okta user profile template with default permission settings",
        "createdBy": "",
        "lastUpdatedBy": "",
        "created": iso_ms(created),
        "lastUpdated": iso_ms(created),
        "default": true,
        "_links": {},
    })
}
