//! `/api/v1/meta`: the user and group profile schemas, user types, and the profile validation that
//! user creation and updates share (one function, [`check_user_profile`], so every route that writes
//! a profile applies the same rules).

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::get;
use serde_json::{Map, Value, json};

use crate::Sim;
use crate::clock::iso_ms;
use crate::http::{ApiError, ApiPath, ApiResult, json_body, no_content, ok};
use crate::state::{AttrValue, Org};

pub fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route(
            "/api/v1/meta/schemas/user/{schema_id}",
            get(get_user_schema).post(update_user_schema),
        )
        .route("/api/v1/meta/schemas/group/default", get(get_group_schema))
        .route(
            "/api/v1/meta/types/user",
            get(list_user_types).post(create_user_type),
        )
        .route(
            "/api/v1/meta/types/user/{type_id}",
            get(get_user_type)
                .post(update_user_type)
                .put(replace_user_type)
                .delete(delete_user_type),
        )
}

/// The user type a schema id names: `default` or the default type's `osc…` id name the default
/// type, another type's `osc…` id names that type.
fn type_of_schema(org: &Org, schema_id: &str) -> Option<String> {
    if schema_id == "default" {
        return Some(org.default_type_id.clone());
    }
    org.user_types
        .keys()
        .find(|t| schema_id_for_type(t) == schema_id)
        .cloned()
}

/// An unknown `osc…` id is a missing schema; other words (`linkedObjects`, ...) name endpoints
/// under `/meta/schemas/user/` that the simulator does not serve.
fn unknown_schema(schema_id: &str) -> ApiError {
    if schema_id.starts_with("osc") {
        ApiError::not_found(schema_id, "UserSchema")
    } else {
        ApiError::path_not_found()
    }
}

/// Every user type's schema. The simulator keeps one profile schema, which every user is
/// validated against; a new type's schema is Okta's copy of the default schema made at creation,
/// so it is served as the default's content under the type's own id and links.
async fn get_user_schema(
    State(sim): State<Arc<Sim>>,
    ApiPath(schema_id): ApiPath<String>,
) -> ApiResult {
    let org = sim.org.read();
    let type_id = type_of_schema(&org, &schema_id).ok_or_else(|| unknown_schema(&schema_id))?;
    ok(render_user_schema(&sim, &org, &type_id))
}

/// Partial update of the user schema, as Okta does it: custom attributes in the body are added or
/// merged over the existing definition, a `null` attribute is removed, attributes left out are kept.
/// Base attributes can't be added or removed, and only the changes the spec allows are applied to
/// them (see [`apply_base_changes`]); clients such as the SDKs send the whole schema back, so base
/// attributes repeated unchanged are accepted.
async fn update_user_schema(
    State(sim): State<Arc<Sim>>,
    ApiPath(schema_id): ApiPath<String>,
    body: Bytes,
) -> ApiResult {
    let now = sim.clock.now_ms();
    let mut org = sim.org.write();
    let type_id = type_of_schema(&org, &schema_id).ok_or_else(|| unknown_schema(&schema_id))?;
    // Separate schemas per type are not simulated (see `get_user_schema`): changing another
    // type's schema answers "no such path" rather than silently changing every type's.
    if type_id != org.default_type_id {
        return Err(ApiError::path_not_found());
    }
    let body = json_body(&body)?;
    let mut schema = org.user_schema.clone();
    if let Some(base) = body
        .pointer("/definitions/base/properties")
        .and_then(Value::as_object)
    {
        apply_base_changes(&mut schema, base)?;
    }
    if let Some(custom) = body
        .pointer("/definitions/custom/properties")
        .and_then(Value::as_object)
    {
        let props = schema
            .pointer_mut("/definitions/custom/properties")
            .and_then(Value::as_object_mut)
            .ok_or_else(ApiError::internal)?;
        for (name, attr) in custom {
            match attr {
                Value::Null => {
                    props.shift_remove(name);
                }
                Value::Object(changes) => {
                    let merged = match props.get(name) {
                        Some(Value::Object(old)) => {
                            let mut m = old.clone();
                            m.extend(changes.clone());
                            m
                        }
                        _ => new_custom_attribute(name, changes)?,
                    };
                    check_pattern_length(name, &merged)?;
                    props.insert(name.clone(), Value::Object(merged));
                }
                _ => {
                    return Err(ApiError::validation(
                        name,
                        format!("{name}: The attribute definition must be an object"),
                    ));
                }
            }
        }
        let required: Vec<Value> = props
            .iter()
            .filter(|(_, a)| a.get("required") == Some(&Value::Bool(true)))
            .map(|(n, _)| json!(n))
            .collect();
        if let Some(req) = schema.pointer_mut("/definitions/custom/required") {
            *req = Value::Array(required);
        }
    }
    schema["lastUpdated"] = json!(iso_ms(now));
    org.user_schema = schema;
    ok(render_user_schema(&sim, &org, &type_id))
}

/// The longest `pattern` a schema update may set. Profile patterns are short (Okta's own are a few
/// dozen characters); the bound keeps the matcher's work, done under the org lock, small.
pub const MAX_PATTERN_CHARS: usize = 256;

fn check_pattern_length(name: &str, attr: &Map<String, Value>) -> ApiResult<()> {
    match attr.get("pattern").and_then(Value::as_str) {
        Some(p) if p.chars().count() > MAX_PATTERN_CHARS => Err(ApiError::validation(
            name,
            format!("{name}: The pattern is too long (maximum length is {MAX_PATTERN_CHARS})"),
        )),
        _ => Ok(()),
    }
}

/// "Limited changes are allowed to base user profile properties (permissions, nullability of the
/// `firstName` and `lastName` properties, or pattern for `login`)" (spec, updateUserProfile).
/// Those are applied; a base property repeated with its current value is accepted; any other
/// change is refused with E0000001 rather than silently dropped.
fn apply_base_changes(schema: &mut Value, base: &Map<String, Value>) -> ApiResult<()> {
    for (name, given) in base {
        let existing = schema
            .pointer(&format!("/definitions/base/properties/{name}"))
            .and_then(Value::as_object);
        let (Some(existing), Value::Object(given)) = (existing, given) else {
            return Err(ApiError::validation(
                name,
                format!("{name}: Base attributes cannot be added or removed"),
            ));
        };
        let mut updated = existing.clone();
        for (key, value) in given {
            let allowed = match key.as_str() {
                "permissions" => true,
                "required" => ["firstName", "lastName"].contains(&name.as_str()),
                "pattern" => name == "login",
                _ => false,
            };
            if allowed {
                updated.insert(key.clone(), value.clone());
            } else if existing.get(key) != Some(value) {
                return Err(ApiError::validation(
                    name,
                    format!("{name}: The property {key} of a base attribute cannot be changed"),
                ));
            }
        }
        check_pattern_length(name, &updated)?;
        let required = updated.get("required") == Some(&Value::Bool(true));
        if let Some(slot) = schema.pointer_mut(&format!("/definitions/base/properties/{name}")) {
            *slot = Value::Object(updated);
        }
        if let Some(list) = schema
            .pointer_mut("/definitions/base/required")
            .and_then(Value::as_array_mut)
        {
            let listed = list.iter().any(|v| v.as_str() == Some(name.as_str()));
            if required && !listed {
                list.push(json!(name));
            } else if !required && listed {
                list.retain(|v| v.as_str() != Some(name.as_str()));
            }
        }
    }
    Ok(())
}

/// A new custom attribute gets Okta's defaults for what the request leaves out.
fn new_custom_attribute(name: &str, given: &Map<String, Value>) -> ApiResult<Map<String, Value>> {
    let kind = given.get("type").and_then(Value::as_str).unwrap_or("");
    if !["string", "integer", "number", "boolean", "array"].contains(&kind) {
        return Err(ApiError::validation(
            name,
            format!(
                "{name}: The attribute type must be one of string, integer, number, boolean or array"
            ),
        ));
    }
    if given
        .get("title")
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        return Err(ApiError::validation(
            name,
            format!("{name}: The field cannot be left blank"),
        ));
    }
    let mut attr = Map::new();
    attr.insert("title".into(), given["title"].clone());
    if let Some(d) = given.get("description") {
        attr.insert("description".into(), d.clone());
    }
    attr.insert("type".into(), json!(kind));
    attr.insert("mutability".into(), json!("READ_WRITE"));
    attr.insert("scope".into(), json!("NONE"));
    for (k, v) in given {
        if !attr.contains_key(k) {
            attr.insert(k.clone(), v.clone());
        }
    }
    if !attr.contains_key("permissions") {
        attr.insert(
            "permissions".into(),
            json!([{"principal": "SELF", "action": "READ_ONLY"}]),
        );
    }
    Ok(attr)
}

async fn get_group_schema(State(sim): State<Arc<Sim>>) -> ApiResult {
    let mut schema = sim.org.read().group_schema.clone();
    let href = format!("{}/api/v1/meta/schemas/group/default", sim.base_url());
    schema["id"] = json!(format!("{}/meta/schemas/group/default", sim.base_url()));
    schema["_links"] = json!({"self": {"rel": "self", "href": href, "method": "GET"}});
    ok(schema)
}

async fn list_user_types(State(sim): State<Arc<Sim>>) -> ApiResult {
    let base = sim.base_url();
    let types: Vec<Value> = sim
        .org
        .read()
        .user_types
        .values()
        .map(|t| render_user_type(base, t))
        .collect();
    ok(Value::Array(types))
}

/// A user type by id; `default` names the default type (spec).
fn user_type_id(org: &Org, type_id: &str) -> ApiResult<String> {
    if type_id == "default" {
        return Ok(org.default_type_id.clone());
    }
    if org.user_types.contains_key(type_id) {
        Ok(type_id.to_string())
    } else {
        // The kind Okta names in this error (recorded, test_user_types_it delete_user_type).
        Err(ApiError::not_found(type_id, "CVDType"))
    }
}

async fn get_user_type(
    State(sim): State<Arc<Sim>>,
    ApiPath(type_id): ApiPath<String>,
) -> ApiResult {
    let org = sim.org.read();
    let id = user_type_id(&org, &type_id)?;
    let t = org
        .user_types
        .get(&id)
        .ok_or_else(|| ApiError::not_found(&type_id, "CVDType"))?;
    ok(render_user_type(sim.base_url(), t))
}

/// "You may add up to nine additional user types" (spec, createUserType).
const MAX_USER_TYPES: usize = 10;

/// A string field of a user type request, refused when blank and required.
fn type_field(body: &Value, key: &str, required: bool) -> ApiResult<Option<String>> {
    match body.get(key) {
        None | Some(Value::Null) if !required => Ok(None),
        Some(Value::String(v)) if !v.trim().is_empty() => Ok(Some(v.clone())),
        Some(Value::String(_)) if !required => Ok(Some(String::new())),
        _ => Err(ApiError::validation(
            key,
            format!("{key}: The field cannot be left blank"),
        )),
    }
}

/// `POST /meta/types/user`: `name` and `displayName` are required (spec `UserType`); the name
/// starts with a letter and holds only letters, digits and `_` (spec), and is unique.
async fn create_user_type(State(sim): State<Arc<Sim>>, body: Bytes) -> ApiResult {
    let body = json_body(&body)?;
    let name = type_field(&body, "name", true)?.unwrap_or_default();
    let display_name = type_field(&body, "displayName", true)?.unwrap_or_default();
    let description = type_field(&body, "description", false)?;
    let well_formed = name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !well_formed {
        return Err(ApiError::validation(
            "name",
            "name: The name must start with A-Z or a-z and contain only A-Z, a-z, 0-9, or underscore (_) characters",
        ));
    }
    let now = sim.clock.now_ms();
    let mut org = sim.org.write();
    if org
        .user_types
        .values()
        .any(|t| t["name"].as_str() == Some(name.as_str()))
    {
        return Err(ApiError::validation(
            "name",
            "name: A user type with this name already exists",
        ));
    }
    if org.user_types.len() >= MAX_USER_TYPES {
        return Err(ApiError::validation(
            "name",
            "name: The org already has the maximum number of user types",
        ));
    }
    let id = org.ids.next("oty");
    let admin = org.admin_id.clone();
    let t = json!({
        "id": id,
        "displayName": display_name,
        "name": name,
        "description": description.unwrap_or_default(),
        "createdBy": admin,
        "lastUpdatedBy": admin,
        "created": iso_ms(now),
        "lastUpdated": iso_ms(now),
        "default": false,
        "_links": {},
    });
    let out = render_user_type(sim.base_url(), &t);
    org.user_types.insert(id, t);
    ok(out)
}

/// Partial (POST) and full (PUT) updates change only `displayName` and `description`; the `name`
/// can't change (spec), and PUT must repeat it with the other two.
fn write_user_type(sim: &Sim, type_id: &str, body: &[u8], replace: bool) -> ApiResult {
    let body = json_body(body)?;
    let now = sim.clock.now_ms();
    let mut org = sim.org.write();
    let id = user_type_id(&org, type_id)?;
    let name = type_field(&body, "name", replace)?;
    let display_name = type_field(&body, "displayName", replace)?;
    let description = type_field(&body, "description", replace)?;
    let admin = org.admin_id.clone();
    let t = org.user_types.get_mut(&id).ok_or_else(ApiError::internal)?;
    if name.is_some_and(|n| t["name"].as_str() != Some(n.as_str())) {
        return Err(ApiError::validation(
            "name",
            "name: The name of a user type cannot be changed",
        ));
    }
    if let Some(d) = display_name {
        t["displayName"] = json!(d);
    }
    if let Some(d) = description {
        t["description"] = json!(d);
    }
    t["lastUpdated"] = json!(iso_ms(now));
    t["lastUpdatedBy"] = json!(admin);
    ok(render_user_type(sim.base_url(), t))
}

async fn update_user_type(
    State(sim): State<Arc<Sim>>,
    ApiPath(type_id): ApiPath<String>,
    body: Bytes,
) -> ApiResult {
    write_user_type(&sim, &type_id, &body, false)
}

async fn replace_user_type(
    State(sim): State<Arc<Sim>>,
    ApiPath(type_id): ApiPath<String>,
    body: Bytes,
) -> ApiResult {
    write_user_type(&sim, &type_id, &body, true)
}

/// The default type, and a type users still have, can't be deleted (spec): 403 E0000142.
async fn delete_user_type(
    State(sim): State<Arc<Sim>>,
    ApiPath(type_id): ApiPath<String>,
) -> ApiResult {
    let mut org = sim.org.write();
    let id = user_type_id(&org, &type_id)?;
    if id == org.default_type_id || org.users.values().any(|u| u.type_id == id) {
        return Err(ApiError::new(
            403,
            "E0000142",
            "This User Type cannot be deleted.",
        ));
    }
    org.user_types.remove(&id);
    no_content()
}

/// The schema id that belongs to a user type: Okta gives both the same suffix (`oty…` / `osc…`).
pub fn schema_id_for_type(type_id: &str) -> String {
    format!("osc{}", type_id.get(3..).unwrap_or(""))
}

fn render_user_type(base: &str, t: &Value) -> Value {
    let id = t["id"].as_str().unwrap_or("");
    let mut t = t.clone();
    t["_links"] = json!({
        "schema": {"rel": "schema", "href": format!("{base}/api/v1/meta/schemas/user/{}", schema_id_for_type(id)), "method": "GET"},
        "self": {"rel": "self", "href": format!("{base}/api/v1/meta/types/user/{id}"), "method": "GET"},
    });
    t
}

/// The user schema as served for a type: the org's URL in `id` (known only once the server is
/// bound; `default` for the default type, else the type's schema id) and the `_links` to the
/// type's schema and the type.
fn render_user_schema(sim: &Sim, org: &Org, type_id: &str) -> Value {
    let base = sim.base_url();
    let mut schema = org.user_schema.clone();
    let name = if type_id == org.default_type_id {
        "default".to_string()
    } else {
        schema_id_for_type(type_id)
    };
    schema["id"] = json!(format!("{base}/meta/schemas/user/{name}"));
    schema["_links"] = json!({
        "self": {"rel": "self", "href": format!("{base}/api/v1/meta/schemas/user/{}", schema_id_for_type(type_id)), "method": "GET"},
        "type": {"rel": "type", "href": format!("{base}/api/v1/meta/types/user/{type_id}"), "method": "GET"},
    });
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

// ------------------------------------------------------------------------------------------
// Profile validation
// ------------------------------------------------------------------------------------------

/// One problem with a profile: the attribute and Okta's cause text (`"{attr}: {message}"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileProblem {
    pub field: String,
    pub cause: String,
}

impl ProfileProblem {
    fn new(field: &str, message: impl std::fmt::Display) -> Self {
        ProfileProblem {
            field: field.to_string(),
            cause: format!("{field}: {message}"),
        }
    }
}

/// Okta's answer to an invalid profile: 400 E0000001 `Api validation failed: {first field}` with one
/// cause per problem.
pub fn validation_error(problems: &[ProfileProblem]) -> ApiError {
    let first = problems
        .first()
        .map(|p| p.field.as_str())
        .unwrap_or("profile");
    let mut err = ApiError::new(400, "E0000001", format!("Api validation failed: {first}"));
    for p in problems {
        err = err.cause(p.cause.clone());
    }
    err
}

/// Validates a whole user profile (after a partial update has been merged, or as replaced) against
/// the org's user schema, then checks that the login and every `UNIQUE_VALIDATED` attribute are not
/// taken by another user (`exclude` is the user being updated).
pub fn check_user_profile(
    org: &Org,
    profile: &Map<String, Value>,
    exclude: Option<&str>,
) -> Result<(), ApiError> {
    let mut problems = validate_profile(&org.user_schema, profile);
    if problems.is_empty() {
        problems = uniqueness_problems(org, profile, exclude);
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(validation_error(&problems))
    }
}

const TAKEN: &str = "An object with this field already exists in the current organization";

fn uniqueness_problems(
    org: &Org,
    profile: &Map<String, Value>,
    exclude: Option<&str>,
) -> Vec<ProfileProblem> {
    let mut problems = Vec::new();
    if let Some(login) = profile.get("login").and_then(Value::as_str)
        && let Some(owner) = org.logins.get(&login.to_lowercase())
        && Some(owner.as_str()) != exclude
    {
        problems.push(ProfileProblem::new("login", TAKEN));
    }
    for (name, attr) in schema_attributes(&org.user_schema) {
        if name == "login" || attr.get("unique").and_then(Value::as_str) != Some("UNIQUE_VALIDATED")
        {
            continue;
        }
        let Some(value) = profile.get(name).filter(|v| !v.is_null()) else {
            continue;
        };
        let value = AttrValue::from(value.clone());
        let taken = org.users.values().any(|u| {
            Some(u.id.as_str()) != exclude
                && u.profile.get(name).is_some_and(|v| same_value(v, &value))
        });
        if taken {
            problems.push(ProfileProblem::new(name, TAKEN));
        }
    }
    problems
}

fn same_value(a: &AttrValue, b: &AttrValue) -> bool {
    match (a.as_str(), b.as_str()) {
        (Some(x), Some(y)) => x.eq_ignore_ascii_case(y),
        _ => a == b,
    }
}

/// Every attribute of a profile schema, base first, then custom, in schema order.
fn schema_attributes(schema: &Value) -> Vec<(&str, &Value)> {
    [
        "/definitions/base/properties",
        "/definitions/custom/properties",
    ]
    .iter()
    .filter_map(|p| schema.pointer(p).and_then(Value::as_object))
    .flat_map(|props| props.iter().map(|(k, v)| (k.as_str(), v)))
    .collect()
}

fn is_required(schema: &Value, name: &str, attr: &Value) -> bool {
    attr.get("required") == Some(&Value::Bool(true))
        || ["/definitions/base/required", "/definitions/custom/required"]
            .iter()
            .filter_map(|p| schema.pointer(p).and_then(Value::as_array))
            .any(|r| r.iter().any(|v| v.as_str() == Some(name)))
}

/// Checks a profile against a profile schema, in Okta's order: first every required attribute that
/// is missing or blank, then each present value against its attribute's definition (type, enum,
/// pattern, length, range, format), then the login's email form. Attributes the schema doesn't
/// define are reported only when nothing else is wrong: a real org answering a profile of only an
/// unknown attribute listed the blank required fields and the login form, not the unknown one.
pub fn validate_profile(schema: &Value, profile: &Map<String, Value>) -> Vec<ProfileProblem> {
    let attrs = schema_attributes(schema);
    let mut problems = Vec::new();
    for (name, attr) in &attrs {
        let blank = match profile.get(*name) {
            None | Some(Value::Null) => true,
            Some(Value::String(s)) => s.trim().is_empty(),
            Some(Value::Array(a)) => a.is_empty(),
            _ => false,
        };
        if blank && is_required(schema, name, attr) {
            problems.push(ProfileProblem::new(name, "The field cannot be left blank"));
        }
    }
    for (name, attr) in &attrs {
        match profile.get(*name) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s.trim().is_empty() => {}
            Some(v) => {
                if let Some(message) = value_problem(attr, v) {
                    problems.push(ProfileProblem::new(name, message));
                }
            }
        }
    }
    if let Some(login) = profile.get("login").and_then(Value::as_str)
        && !login.trim().is_empty()
        && !looks_like_email(login)
    {
        problems.push(ProfileProblem::new(
            "login",
            "Username must be in the form of an email address",
        ));
    }
    if problems.is_empty() {
        for name in profile.keys() {
            if !attrs.iter().any(|(n, _)| n == name) {
                problems.push(ProfileProblem::new(
                    name,
                    format!("Property name '{name}' is not defined in profile"),
                ));
            }
        }
    }
    problems
}

/// What is wrong with one non-blank value, if anything.
fn value_problem(attr: &Value, v: &Value) -> Option<String> {
    let kind = attr.get("type").and_then(Value::as_str).unwrap_or("string");
    if !has_type(kind, v) {
        return Some(format!("Does not match required type: {kind}"));
    }
    if kind == "array" {
        let item_kind = attr
            .pointer("/items/type")
            .and_then(Value::as_str)
            .unwrap_or("string");
        for item in v.as_array().into_iter().flatten() {
            if !has_type(item_kind, item) {
                return Some(format!(
                    "Does not match required type: array of {item_kind}"
                ));
            }
        }
    }
    if let Some(allowed) = attr.get("enum").and_then(Value::as_array) {
        let values: Vec<&Value> = match v {
            Value::Array(items) => items.iter().collect(),
            one => vec![one],
        };
        if values.iter().any(|x| !allowed.contains(x)) {
            return Some("Does not match one of the enumerated values".to_string());
        }
    }
    if let Some(s) = v.as_str() {
        let len = s.chars().count() as u64;
        if let Some(min) = attr.get("minLength").and_then(Value::as_u64)
            && len < min
        {
            return Some(format!("The field is too short (minimum length is {min})"));
        }
        if let Some(max) = attr.get("maxLength").and_then(Value::as_u64)
            && len > max
        {
            return Some(format!("The field is too long (maximum length is {max})"));
        }
        if let Some(p) = attr.get("pattern").and_then(Value::as_str)
            && pattern_matches(p, s) == Some(false)
        {
            return Some("Does not match required pattern".to_string());
        }
        if attr.get("format").and_then(Value::as_str) == Some("email") && !looks_like_email(s) {
            return Some("Does not match required pattern".to_string());
        }
    }
    if let Some(n) = v.as_f64() {
        if let Some(min) = attr.get("minimum").and_then(Value::as_f64)
            && n < min
        {
            return Some(format!(
                "The value is less than the minimum of {}",
                attr["minimum"]
            ));
        }
        if let Some(max) = attr.get("maximum").and_then(Value::as_f64)
            && n > max
        {
            return Some(format!(
                "The value is greater than the maximum of {}",
                attr["maximum"]
            ));
        }
    }
    None
}

fn has_type(kind: &str, v: &Value) -> bool {
    match kind {
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "array" => v.is_array(),
        _ => true,
    }
}

/// Okta's email check, loosely: something, `@`, a domain with a dot, no spaces.
fn looks_like_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s.chars().any(char::is_whitespace)
        }
        None => false,
    }
}

/// JSON-schema `pattern` (a search, anchored only by `^`/`$`) for the subset of regular expressions
/// profile schemas use: literals, `.`, classes (`[a-z0-9_]`, `[^…]`), `\d \w \s` and escapes,
/// quantifiers `* + ? {n} {n,} {n,m}`, anchors. `None` when the pattern uses more (groups,
/// alternation): the simulator then accepts the value rather than guess.
pub fn pattern_matches(pattern: &str, value: &str) -> Option<bool> {
    let (anchored_start, body) = match pattern.strip_prefix('^') {
        Some(rest) => (true, rest),
        None => (false, pattern),
    };
    let (anchored_end, body) = match body.strip_suffix('$') {
        Some(rest) if !rest.ends_with('\\') => (true, rest),
        _ => (false, body),
    };
    let atoms = parse_pattern(body)?;
    let chars: Vec<char> = value.chars().collect();
    let ends = match_ends(&atoms, &chars, anchored_end);
    Some(if anchored_start {
        ends[0]
    } else {
        ends.contains(&true)
    })
}

#[derive(Debug)]
enum CharSet {
    Any,
    Ranges(Vec<(char, char)>, bool),
}

impl CharSet {
    fn contains(&self, c: char) -> bool {
        match self {
            CharSet::Any => c != '\n',
            CharSet::Ranges(r, negated) => {
                r.iter().any(|(a, b)| (*a..=*b).contains(&c)) != *negated
            }
        }
    }
}

#[derive(Debug)]
struct Atom {
    set: CharSet,
    min: usize,
    max: usize,
}

fn class_escape(c: char) -> Vec<(char, char)> {
    match c {
        'd' => vec![('0', '9')],
        'w' => vec![('a', 'z'), ('A', 'Z'), ('0', '9'), ('_', '_')],
        's' => vec![(' ', ' '), ('\t', '\t'), ('\n', '\n'), ('\r', '\r')],
        other => vec![(other, other)],
    }
}

fn parse_pattern(p: &str) -> Option<Vec<Atom>> {
    let cs: Vec<char> = p.chars().collect();
    let mut i = 0;
    let mut atoms: Vec<Atom> = Vec::new();
    while i < cs.len() {
        let set = match cs[i] {
            '(' | ')' | '|' | '^' | '$' => return None,
            '.' => CharSet::Any,
            '\\' => {
                i += 1;
                let c = *cs.get(i)?;
                if ['D', 'W', 'S', 'b', 'B'].contains(&c) {
                    return None;
                }
                CharSet::Ranges(class_escape(c), false)
            }
            '[' => {
                i += 1;
                let negated = cs.get(i) == Some(&'^');
                if negated {
                    i += 1;
                }
                let mut ranges = Vec::new();
                let mut first = true;
                loop {
                    let c = *cs.get(i)?;
                    if c == ']' && !first {
                        break;
                    }
                    first = false;
                    if c == '\\' {
                        i += 1;
                        ranges.extend(class_escape(*cs.get(i)?));
                    } else if cs.get(i + 1) == Some(&'-')
                        && cs.get(i + 2).is_some_and(|e| *e != ']')
                    {
                        ranges.push((c, cs[i + 2]));
                        i += 2;
                    } else {
                        ranges.push((c, c));
                    }
                    i += 1;
                }
                CharSet::Ranges(ranges, negated)
            }
            '*' | '+' | '?' | '{' => return None,
            c => CharSet::Ranges(vec![(c, c)], false),
        };
        i += 1;
        let (min, max) = match cs.get(i) {
            Some('*') => (0, usize::MAX),
            Some('+') => (1, usize::MAX),
            Some('?') => (0, 1),
            Some('{') => {
                let close = cs[i..].iter().position(|c| *c == '}')? + i;
                let inner: String = cs[i + 1..close].iter().collect();
                let (lo, hi) = match inner.split_once(',') {
                    None => {
                        let n = inner.trim().parse().ok()?;
                        (n, n)
                    }
                    Some((lo, "")) => (lo.trim().parse().ok()?, usize::MAX),
                    Some((lo, hi)) => (lo.trim().parse().ok()?, hi.trim().parse().ok()?),
                };
                i = close;
                (lo, hi)
            }
            _ => {
                atoms.push(Atom {
                    set,
                    min: 1,
                    max: 1,
                });
                continue;
            }
        };
        i += 1;
        atoms.push(Atom { set, min, max });
    }
    Some(atoms)
}

/// For every start position of `s`, whether `atoms` match from there (to the end of `s` when
/// `to_end`). Dynamic programming from the last atom back, one row of positions per atom, so the
/// work is O(atoms × chars) whatever the pattern (`a*a*a*…b` included) and nothing recurses.
fn match_ends(atoms: &[Atom], s: &[char], to_end: bool) -> Vec<bool> {
    let len = s.len();
    // `after[p]`: the atoms after the current one match from position `p`.
    let mut after: Vec<bool> = (0..=len).map(|p| !to_end || p == len).collect();
    for atom in atoms.iter().rev() {
        // `run[p]`: how many characters from `p` on the atom's set accepts (capped at its max).
        let mut run = vec![0usize; len + 1];
        for p in (0..len).rev() {
            if atom.set.contains(s[p]) {
                run[p] = (run[p + 1] + 1).min(atom.max);
            }
        }
        // `reachable[p]`: how many of `after[p..]` are true, to test a range in O(1).
        let mut reachable = vec![0usize; len + 2];
        for p in (0..=len).rev() {
            reachable[p] = reachable[p + 1] + usize::from(after[p]);
        }
        after = (0..=len)
            .map(|p| {
                let (lo, hi) = (p.saturating_add(atom.min), p + run[p]);
                lo <= hi && reachable[lo] > reachable[hi + 1]
            })
            .collect();
    }
    after
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_like_json_schema() {
        assert_eq!(pattern_matches("^E[0-9]{6}$", "E000123"), Some(true));
        assert_eq!(pattern_matches("^E[0-9]{6}$", "E00012"), Some(false));
        assert_eq!(pattern_matches("^E[0-9]{6}$", "E0001234"), Some(false));
        assert_eq!(pattern_matches("[a-z]+", "ABCd"), Some(true));
        assert_eq!(pattern_matches("^\\d{4}-\\d{2}$", "2024-01"), Some(true));
        assert_eq!(pattern_matches("^a.*z$", "abcz"), Some(true));
        assert_eq!(pattern_matches("^[^@]+@x\\.com$", "me@x.com"), Some(true));
        assert_eq!(pattern_matches("^[^@]+@x\\.com$", "me@y.com"), Some(false));
        assert_eq!(pattern_matches("^(a|b)$", "a"), None);
        assert_eq!(pattern_matches("b{2,3}$", "abbbb"), Some(true));
        assert_eq!(pattern_matches("^ab?c$", "ac"), Some(true));
        assert_eq!(pattern_matches("", "anything"), Some(true));
    }

    #[test]
    fn pathological_patterns_answer_at_once() {
        // Exponential for a backtracking matcher: 40 `a*` then a `b` that never comes.
        let pattern = format!("^{}b$", "a*".repeat(40));
        assert_eq!(pattern_matches(&pattern, &"a".repeat(5000)), Some(false));
        assert_eq!(
            pattern_matches(&pattern, &format!("{}b", "a".repeat(50))),
            Some(true)
        );
    }

    #[test]
    fn blank_required_fields_come_first_then_login_form() {
        let schema = default_user_schema(0, false);
        let mut profile = Map::new();
        profile.insert("crap".into(), json!("bad"));
        let causes: Vec<String> = validate_profile(&schema, &profile)
            .into_iter()
            .map(|p| p.cause)
            .collect();
        assert_eq!(
            causes,
            [
                "login: The field cannot be left blank",
                "firstName: The field cannot be left blank",
                "lastName: The field cannot be left blank",
                "email: The field cannot be left blank",
            ]
        );
        profile.insert("login".into(), json!("not-an-email"));
        let causes: Vec<String> = validate_profile(&schema, &profile)
            .into_iter()
            .map(|p| p.cause)
            .collect();
        assert_eq!(
            causes.last().map(String::as_str),
            Some("login: Username must be in the form of an email address")
        );
    }

    #[test]
    fn custom_attribute_rules_apply() {
        let schema = default_user_schema(0, false);
        let mut p = Map::new();
        for (k, v) in [
            ("login", json!("a.b@example.com")),
            ("email", json!("a.b@example.com")),
            ("firstName", json!("A")),
            ("lastName", json!("B")),
        ] {
            p.insert(k.into(), v);
        }
        assert!(validate_profile(&schema, &p).is_empty());
        p.insert("clearanceLevel".into(), json!(9));
        p.insert("region".into(), json!("MARS"));
        p.insert("employeeId".into(), json!("X1"));
        p.insert("isContractor".into(), json!("yes"));
        let fields: Vec<String> = validate_profile(&schema, &p)
            .into_iter()
            .map(|p| p.field)
            .collect();
        assert_eq!(
            fields,
            ["employeeId", "clearanceLevel", "isContractor", "region"]
        );
    }
}
