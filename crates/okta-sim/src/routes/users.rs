//! `/api/v1/users`: list/search, CRUD, the user's groups, and the lifecycle and credential
//! operations with Okta's status machine.
//!
//! Lists evaluate `filter`/`search` through a closure over the stored user ([`field`]), never by
//! rendering JSON, so an org of 100k users answers quickly. Every mutation writes the System Log
//! event Okta writes, with the user as target.

use std::cmp::Ordering;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use axum::{Extension, Router};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value, json};

use crate::Sim;
use crate::clock::iso_ms;
use crate::filter::{self, Dialect};
use crate::http::{ApiError, ApiPath, ApiResult, Page, Params, json_body, no_content, ok};
use crate::routes::{groups, meta};
use crate::state::{Credentials, Org, Profile, User, UserStatus};
use crate::syslog::{NewEvent, RequestCtx};

pub fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/api/v1/users", get(list_users).post(create_user))
        .route(
            "/api/v1/users/{id}",
            get(get_user)
                .post(update_user)
                .put(replace_user)
                .delete(delete_user),
        )
        .route("/api/v1/users/{id}/groups", get(list_user_groups))
        .route("/api/v1/users/{id}/lifecycle/{op}", post(lifecycle))
        .route(
            "/api/v1/users/{id}/credentials/forgot_password",
            post(forgot_password),
        )
        .route(
            "/api/v1/users/{id}/credentials/change_password",
            post(change_password),
        )
        .route(
            "/api/v1/users/{id}/credentials/change_recovery_question",
            post(change_recovery_question),
        )
        .route("/api/v1/users/{id}/sessions", delete(clear_sessions))
}

// ------------------------------------------------------------------------------------------
// Listing
// ------------------------------------------------------------------------------------------

/// Okta's users cursor is the last user's id behind one more character (`after=000u…` for
/// `00u…`, as recorded); sorted searches resume at a position instead (`after=1<offset>`).
enum Cursor<'a> {
    Start,
    AfterId(&'a str),
    Offset(usize),
}

fn parse_cursor(after: Option<&str>) -> ApiResult<Cursor<'_>> {
    let Some(after) = after.filter(|a| !a.is_empty()) else {
        return Ok(Cursor::Start);
    };
    let looks_like_id = |s: &str| s.len() == 20 && s.chars().all(|c| c.is_ascii_alphanumeric());
    if let Some(id) = after.strip_prefix('0').filter(|id| looks_like_id(id)) {
        return Ok(Cursor::AfterId(id));
    }
    if looks_like_id(after) {
        return Ok(Cursor::AfterId(after));
    }
    if let Some(n) = after.strip_prefix('1').and_then(|n| n.parse().ok()) {
        return Ok(Cursor::Offset(n));
    }
    Err(ApiError::invalid_cursor())
}

async fn list_users(State(sim): State<Arc<Sim>>, RawQuery(q): RawQuery) -> ApiResult {
    let params = Params::parse(q.as_deref());
    let base = sim.base_url().to_string();
    let search = params.get("search").filter(|s| !s.is_empty());
    let filter = params.get("filter").filter(|s| !s.is_empty());
    let query = params.get("q").filter(|s| !s.is_empty());
    let expr = match (search, filter) {
        (Some(s), _) => Some(parse_expr(s, Dialect::UserSearch)?),
        (None, Some(f)) => Some(parse_expr(f, Dialect::UserFilter)?),
        (None, None) => None,
    };
    let org = sim.org.read();

    if expr.is_none()
        && let Some(query) = query
    {
        // `q` is a prefix match for people pickers: no pagination, 10 results unless `limit` says.
        let limit = params.limit(10, 200)?;
        let needle = query.to_lowercase();
        let items: Vec<UserJson> = org
            .users
            .values()
            .filter(|u| u.status != UserStatus::Deprovisioned && matches_q(u, &needle))
            .take(limit)
            .map(|u| user_json(&base, &org.realm_id, u))
            .collect();
        return Ok(Page {
            items,
            next_after: None,
        }
        .respond(&base, "/api/v1/users", &params));
    }

    let limit = params.limit(200, 200)?;
    let cursor = parse_cursor(params.get("after"))?;
    // DEPROVISIONED users only show up when a filter or search asks for users explicitly.
    let selected = |u: &User| match &expr {
        Some(e) => e.matches(&|path: &str| field(u, path)),
        None => u.status != UserStatus::Deprovisioned,
    };
    let sort_by = params
        .get("sortBy")
        .filter(|s| search.is_some() && !s.is_empty());
    let page = match sort_by {
        None => {
            let after = match cursor {
                Cursor::AfterId(id) => Some(id),
                Cursor::Start => None,
                Cursor::Offset(_) => return Err(ApiError::invalid_cursor()),
            };
            let mut items = Vec::new();
            let mut last = None;
            let mut more = false;
            let range = match after {
                Some(a) => org
                    .users
                    .range::<str, _>((std::ops::Bound::Excluded(a), std::ops::Bound::Unbounded)),
                None => org.users.range::<str, _>(..),
            };
            for (id, u) in range.filter(|(_, u)| selected(u)) {
                if items.len() == limit {
                    more = true;
                    break;
                }
                items.push(user_json(&base, &org.realm_id, u));
                last = Some(id);
            }
            Page {
                items,
                next_after: last.filter(|_| more).map(|id| format!("0{id}")),
            }
        }
        Some(sort_by) => {
            let descending = params
                .get("sortOrder")
                .is_some_and(|o| o.eq_ignore_ascii_case("desc"));
            let mut matched: Vec<&User> = org.users.values().filter(|u| selected(u)).collect();
            // Ties (and users without the attribute, which go last) stay in id order.
            matched.sort_by(|a, b| {
                let ord = compare_sort_keys(&field(a, sort_by), &field(b, sort_by));
                if descending { ord.reverse() } else { ord }
            });
            let start = match cursor {
                Cursor::Offset(n) => n,
                Cursor::Start => 0,
                Cursor::AfterId(id) => matched
                    .iter()
                    .position(|u| u.id == id)
                    .map_or(matched.len(), |p| p + 1),
            };
            let items: Vec<UserJson> = matched
                .iter()
                .skip(start)
                .take(limit)
                .map(|u| user_json(&base, &org.realm_id, u))
                .collect();
            let end = start + items.len();
            Page {
                items,
                next_after: (end < matched.len()).then(|| format!("1{end}")),
            }
        }
    };
    Ok(page.respond(&base, "/api/v1/users", &params))
}

fn parse_expr(input: &str, dialect: Dialect) -> ApiResult<filter::Expr> {
    filter::parse(input, dialect).map_err(|e| ApiError::invalid_search(e.message))
}

fn matches_q(u: &User, needle: &str) -> bool {
    ["firstName", "lastName", "email", "login"].iter().any(|k| {
        u.profile
            .get_str(k)
            .is_some_and(|v| v.to_lowercase().starts_with(needle))
    })
}

/// Missing values sort after present ones; strings compare case-insensitively.
fn compare_sort_keys(a: &Option<Value>, b: &Option<Value>) -> Ordering {
    match (
        a.as_ref().filter(|v| !v.is_null()),
        b.as_ref().filter(|v| !v.is_null()),
    ) {
        (None, None) => Ordering::Equal,
        (None, Some(_)) => Ordering::Greater,
        (Some(_), None) => Ordering::Less,
        (Some(x), Some(y)) => match (x, y) {
            (Value::Number(m), Value::Number(n)) => m
                .as_f64()
                .partial_cmp(&n.as_f64())
                .unwrap_or(Ordering::Equal),
            (Value::String(s), Value::String(t)) => s.to_lowercase().cmp(&t.to_lowercase()),
            (Value::Bool(s), Value::Bool(t)) => s.cmp(t),
            _ => x.to_string().cmp(&y.to_string()),
        },
    }
}

/// A user attribute by the dotted path filters and searches use, read from the stored user.
pub fn field(u: &User, path: &str) -> Option<Value> {
    let time = |t: Option<i64>| t.map(|t| Value::String(iso_ms(t)));
    match path {
        "id" => Some(json!(u.id)),
        "status" => Some(json!(u.status.as_str())),
        "created" => time(Some(u.created)),
        "activated" => time(u.activated),
        "statusChanged" => time(u.status_changed),
        "lastLogin" => time(u.last_login),
        "lastUpdated" => time(Some(u.last_updated)),
        "passwordChanged" => time(u.password_changed),
        "type.id" => Some(json!(u.type_id)),
        "credentials.provider.type" => Some(json!(u.credentials.provider_type)),
        "credentials.provider.name" => Some(json!(u.credentials.provider_name)),
        _ => {
            let rest = path.strip_prefix("profile.")?;
            let (name, sub) = match rest.split_once('.') {
                Some((n, s)) => (n, Some(s)),
                None => (rest, None),
            };
            let v = u.profile.get(name)?.to_value();
            match sub {
                None => Some(v),
                Some(sub) => filter::Lookup::lookup(&v, sub),
            }
        }
    }
}

// ------------------------------------------------------------------------------------------
// Reading one user, and the user's groups
// ------------------------------------------------------------------------------------------

/// `{id}` may be an id, a login, a login's short name, or `me` (the admin the token belongs to).
/// The id of an existing user, or Okta's 404 (the admin may have been deleted, too).
fn resolve(org: &Org, id: &str) -> ApiResult<String> {
    let found = if id == "me" {
        Some(org.admin_id.clone()).filter(|admin| org.users.contains_key(admin))
    } else {
        org.find_user_id(id)
    };
    found.ok_or_else(|| ApiError::not_found(id, "User"))
}

/// The user `{id}` names (see [`resolve`]).
fn find_user<'a>(org: &'a Org, id: &str) -> ApiResult<&'a User> {
    let uid = resolve(org, id)?;
    org.users
        .get(&uid)
        .ok_or_else(|| ApiError::not_found(id, "User"))
}

async fn get_user(State(sim): State<Arc<Sim>>, ApiPath(id): ApiPath<String>) -> ApiResult {
    let org = sim.org.read();
    ok(render(sim.base_url(), &org.realm_id, find_user(&org, &id)?))
}

async fn list_user_groups(
    State(sim): State<Arc<Sim>>,
    ApiPath(id): ApiPath<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let params = Params::parse(q.as_deref());
    let base = sim.base_url().to_string();
    let org = sim.org.read();
    let uid = resolve(&org, &id)?;
    let items: Vec<Value> = org
        .user_groups
        .get(&uid)
        .into_iter()
        .flatten()
        .filter_map(|gid| org.groups.get(gid))
        .map(|g| groups::render(&base, g))
        .collect();
    let path = format!("/api/v1/users/{uid}/groups");
    Ok(Page {
        items,
        next_after: None,
    }
    .respond(&base, &path, &params))
}

// ------------------------------------------------------------------------------------------
// Create
// ------------------------------------------------------------------------------------------

async fn create_user(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<RequestCtx>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> ApiResult {
    let params = Params::parse(q.as_deref());
    let body = json_body(&body)?;
    let activate = params.flag("activate", true);
    let provider = params.flag("provider", false);
    let expire_password = params
        .get("nextLogin")
        .is_some_and(|n| n.eq_ignore_ascii_case("changePassword"));
    let profile = body
        .get("profile")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let credentials = parse_credentials(body.get("credentials"), provider)?;
    let group_ids: Vec<String> = match body.get("groupIds") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(ids)) => ids
            .iter()
            .map(|v| v.as_str().map(str::to_string))
            .collect::<Option<_>>()
            .ok_or_else(|| ApiError::validation("groupIds", "groupIds: Invalid group id"))?,
        Some(_) => {
            return Err(ApiError::validation(
                "groupIds",
                "groupIds: Invalid group id",
            ));
        }
    };
    if expire_password && !activate {
        let m = "Could not create user. To create a user and expire their password immediately, `activate` must be true.";
        return Err(ApiError::new(400, "E0000125", m).cause(m));
    }
    if expire_password && credentials.password.is_none() {
        let m = "Could not create user. To create a user and expire their password immediately, a password must be specified.";
        return Err(ApiError::new(400, "E0000124", m).cause(m));
    }
    if group_ids.len() > 20 {
        return Err(
            ApiError::new(400, "E0000093", "Target count limit exceeded")
                .cause("The number of group targets is too large"),
        );
    }

    let now = sim.clock.now_ms();
    let base = sim.base_url().to_string();
    let (rendered, events) = {
        let mut org = sim.org.write();
        let type_id = match body.pointer("/type/id").and_then(Value::as_str) {
            Some(t) if org.user_types.contains_key(t) => t.to_string(),
            Some(t) => {
                return Err(ApiError::validation(
                    "type",
                    format!("type: Invalid user type id {t}"),
                ));
            }
            None => org.default_type_id.clone(),
        };
        meta::check_user_profile(&org, &profile, None)?;
        check_password(&credentials, profile.get("login").and_then(Value::as_str))?;
        // The same refusals as `PUT /groups/{id}/users/{userId}`: only OKTA_GROUP memberships
        // are editable.
        for gid in &group_ids {
            groups::check_membership_editable(&org, gid)?;
        }
        let has_password = credentials.password.is_some();
        let federated = credentials.provider_type != "OKTA";
        let status = match (activate, expire_password) {
            (false, _) => UserStatus::Staged,
            (true, true) => UserStatus::PasswordExpired,
            (true, false) if has_password || federated => UserStatus::Active,
            (true, false) => UserStatus::Provisioned,
        };
        let activated = matches!(status, UserStatus::Active | UserStatus::PasswordExpired);
        let id = org.ids.next("00u");
        let user = User {
            id: id.clone(),
            status,
            transitioning_to: None,
            created: now,
            activated: activated.then_some(now),
            status_changed: Some(now),
            last_login: None,
            last_updated: now,
            password_changed: has_password.then_some(now),
            type_id,
            profile: Profile::from(profile),
            credentials,
        };
        let target = user.entity();
        let mut events = vec![NewEvent::success(
            "user.lifecycle.create",
            "Create Okta user",
            vec![target.clone()],
        )];
        if activate {
            events.push(NewEvent::success(
                "user.lifecycle.activate",
                "Activate Okta user",
                vec![target.clone()],
            ));
        }
        org.insert_user(user);
        let everyone = org.everyone_group_id.clone();
        org.add_member(&everyone, &id);
        for gid in &group_ids {
            if org.add_member(gid, &id)
                && let Some(g) = org.groups.get_mut(gid)
            {
                g.last_membership_updated = now;
                events.push(NewEvent::success(
                    "group.user_membership.add",
                    "Add user to group membership",
                    vec![target.clone(), g.entity()],
                ));
            }
        }
        let user = org.users.get(&id).ok_or_else(ApiError::internal)?;
        (render(&base, &org.realm_id, user), events)
    };
    for e in events {
        sim.log(&ctx, e);
    }
    ok(rendered)
}

/// Reads a request's `credentials`. The password is kept (see `Credentials`); the recovery answer
/// is checked for presence and dropped. Neither is rendered back.
fn parse_credentials(v: Option<&Value>, provider_param: bool) -> ApiResult<Credentials> {
    let mut c = Credentials {
        provider_type: "OKTA".into(),
        provider_name: "OKTA".into(),
        ..Default::default()
    };
    let Some(v) = v.filter(|v| !v.is_null()) else {
        if provider_param {
            c.provider_type = "FEDERATION".into();
            c.provider_name = "FEDERATION".into();
        }
        return Ok(c);
    };
    apply_credentials(&mut c, v)?;
    if provider_param && c.provider_type == "OKTA" {
        c.provider_type = "FEDERATION".into();
        c.provider_name = "FEDERATION".into();
    }
    Ok(c)
}

/// Applies a `credentials` object over existing credentials (create, partial and full update).
fn apply_credentials(c: &mut Credentials, v: &Value) -> ApiResult<()> {
    if let Some(p) = v.get("password").filter(|p| !p.is_null()) {
        if let Some(value) = p.get("value").and_then(Value::as_str) {
            c.password = Some(value.to_string());
        } else if p.get("hook").is_some() || p.get("hash").is_some() {
            // An imported hash or a password import hook: a password exists, its text is unknown.
            c.password = Some(String::new());
        }
    }
    if let Some(rq) = v.get("recovery_question").filter(|r| !r.is_null()) {
        let question = rq.get("question").and_then(Value::as_str).unwrap_or("");
        let answer = rq.get("answer").and_then(Value::as_str).unwrap_or("");
        if question.trim().is_empty() || answer.trim().is_empty() {
            let field = if question.trim().is_empty() {
                "recovery_question.question"
            } else {
                "recovery_question.answer"
            };
            return Err(ApiError::validation(
                field,
                format!("{field}: The field cannot be left blank"),
            ));
        }
        c.recovery_question = Some(question.to_string());
    }
    if let Some(p) = v.get("provider").filter(|p| !p.is_null()) {
        let kind = p.get("type").and_then(Value::as_str).unwrap_or("OKTA");
        if ![
            "OKTA",
            "ACTIVE_DIRECTORY",
            "LDAP",
            "FEDERATION",
            "SOCIAL",
            "IMPORT",
        ]
        .contains(&kind)
        {
            return Err(ApiError::validation(
                "provider",
                format!("provider: Invalid provider type {kind}"),
            ));
        }
        c.provider_type = kind.to_string();
        c.provider_name = p
            .get("name")
            .and_then(Value::as_str)
            .unwrap_or(kind)
            .to_string();
    }
    Ok(())
}

const PASSWORD_RULES: &str = "password: Password requirements were not met. Password requirements: at least 8 characters, a lowercase letter, an uppercase letter, a number, no parts of your username.";

/// Okta's default password policy: 8+ characters, lower, upper and a digit, and no part of the
/// username (its pieces of four or more characters, split at `.`, `@`, `-`, `_`).
fn check_password(c: &Credentials, login: Option<&str>) -> ApiResult<()> {
    let Some(pw) = c.password.as_deref().filter(|p| !p.is_empty()) else {
        return Ok(());
    };
    let login = login.unwrap_or("").to_lowercase();
    let lower = pw.to_lowercase();
    let uses_username = login
        .split(['.', '@', '-', '_'])
        .filter(|part| part.len() >= 4)
        .any(|part| lower.contains(part));
    let complex = pw.chars().count() >= 8
        && pw.chars().any(|c| c.is_lowercase())
        && pw.chars().any(|c| c.is_uppercase())
        && pw.chars().any(|c| c.is_ascii_digit());
    if complex && !uses_username {
        Ok(())
    } else {
        Err(ApiError::validation("password", PASSWORD_RULES))
    }
}

// ------------------------------------------------------------------------------------------
// Update (partial and full)
// ------------------------------------------------------------------------------------------

#[derive(Clone, Copy, PartialEq, Eq)]
enum UpdateMode {
    Partial,
    Replace,
}

async fn update_user(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<RequestCtx>,
    ApiPath(id): ApiPath<String>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> ApiResult {
    write_user(&sim, &ctx, &id, q.as_deref(), &body, UpdateMode::Partial)
}

async fn replace_user(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<RequestCtx>,
    ApiPath(id): ApiPath<String>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> ApiResult {
    write_user(&sim, &ctx, &id, q.as_deref(), &body, UpdateMode::Replace)
}

/// POST merges the given profile properties (a `null` clears one); PUT replaces the profile whole,
/// so properties left out are removed and required ones must be there. Credentials given in the
/// body are applied over the existing ones in both modes.
fn write_user(
    sim: &Sim,
    ctx: &RequestCtx,
    id: &str,
    query: Option<&str>,
    body: &[u8],
    mode: UpdateMode,
) -> ApiResult {
    let params = Params::parse(query);
    let strict = params.flag("strict", false);
    let body = json_body(body)?;
    let now = sim.clock.now_ms();
    let base = sim.base_url().to_string();
    let (rendered, events) = {
        let mut org = sim.org.write();
        let user = find_user(&org, id)?;
        let uid = user.id.clone();
        if user.status == UserStatus::Deprovisioned {
            return Err(ApiError::bad_status());
        }
        let new_type = match body.pointer("/type/id").and_then(Value::as_str) {
            None => user.type_id.clone(),
            Some(t) if t == user.type_id => t.to_string(),
            Some(t) if mode == UpdateMode::Replace && org.user_types.contains_key(t) => {
                t.to_string()
            }
            Some(t) => {
                return Err(ApiError::validation(
                    "type",
                    format!(
                        "type: The user type {t} can only be changed by a full replacement to an existing type"
                    ),
                ));
            }
        };
        let given = body.get("profile").and_then(Value::as_object);
        let profile = match (mode, given) {
            (UpdateMode::Partial, Some(changes)) => {
                let mut merged = user.profile.to_map();
                for (k, v) in changes {
                    if v.is_null() {
                        merged.shift_remove(k);
                    } else {
                        merged.insert(k.clone(), v.clone());
                    }
                }
                merged
            }
            (UpdateMode::Partial, None) => user.profile.to_map(),
            (UpdateMode::Replace, Some(p)) => p
                .iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            (UpdateMode::Replace, None) => Map::new(),
        };
        let mut credentials = user.credentials.clone();
        if let Some(c) = body.get("credentials").filter(|c| !c.is_null()) {
            apply_credentials(&mut credentials, c)?;
        }
        // Still a Map: it becomes a `Profile` (whose attribute names are interned for good) only
        // once validation has refused names the schema doesn't know.
        let profile_changed = profile != user.profile.to_map();
        let password_changed = credentials.password != user.credentials.password;
        if profile_changed {
            meta::check_user_profile(&org, &profile, Some(&uid))?;
        }
        // `strict` applies the password policy's history rule; the simulator remembers only the
        // current password, so reusing that one is what it can refuse.
        let given_password = body
            .pointer("/credentials/password/value")
            .and_then(Value::as_str);
        if strict
            && given_password.is_some()
            && given_password == user.credentials.password.as_deref()
        {
            return Err(ApiError::validation(
                "password",
                "password: Password has been used too recently",
            ));
        }
        if password_changed {
            check_password(&credentials, profile.get("login").and_then(Value::as_str))?;
        }
        let old_login = user.login().to_lowercase();
        let old_type = user.type_id.clone();
        let realm = org.realm_id.clone();
        let user = org.users.get_mut(&uid).ok_or_else(ApiError::internal)?;
        user.profile = Profile::from(profile);
        user.credentials = credentials;
        user.type_id = new_type;
        user.last_updated = now;
        if password_changed {
            user.password_changed = Some(now);
        }
        let target = user.entity();
        let new_login = user.login().to_lowercase();
        let type_changed = user.type_id != old_type;
        let rendered = render(&base, &realm, user);
        org.set_login(&uid, &old_login, &new_login);
        let mut events = Vec::new();
        if type_changed {
            events.push(NewEvent::success(
                "user.account.update_user_type",
                "Update user type",
                vec![target.clone()],
            ));
        }
        if profile_changed {
            events.push(NewEvent::success(
                "user.account.update_profile",
                "Update user profile for Okta",
                vec![target.clone()],
            ));
        }
        if password_changed {
            events.push(NewEvent::success(
                "user.account.update_password",
                "User update password for Okta",
                vec![target],
            ));
        }
        (rendered, events)
    };
    for e in events {
        sim.log(ctx, e);
    }
    ok(rendered)
}

// ------------------------------------------------------------------------------------------
// Delete: deactivate first, delete on the second call
// ------------------------------------------------------------------------------------------

async fn delete_user(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<RequestCtx>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    let now = sim.clock.now_ms();
    let events = {
        let mut org = sim.org.write();
        let uid = resolve(&org, &id)?;
        let user = org.users.get_mut(&uid).ok_or_else(ApiError::internal)?;
        let target = user.entity();
        if user.status != UserStatus::Deprovisioned {
            set_status(user, UserStatus::Deprovisioned, now);
            vec![NewEvent::success(
                "user.lifecycle.deactivate",
                "Deactivate Okta user",
                vec![target],
            )]
        } else {
            org.remove_user(&uid);
            vec![
                NewEvent::success(
                    "user.lifecycle.delete.initiated",
                    "Delete Okta user initiated",
                    vec![target.clone()],
                ),
                NewEvent::success(
                    "user.lifecycle.delete.completed",
                    "Delete Okta user completed",
                    vec![target],
                ),
            ]
        }
    };
    for e in events {
        sim.log(&ctx, e);
    }
    no_content()
}

// ------------------------------------------------------------------------------------------
// Lifecycle
// ------------------------------------------------------------------------------------------

/// The lifecycle operations under `/api/v1/users/{id}/lifecycle/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LifecycleOp {
    Activate,
    Deactivate,
    Reactivate,
    Suspend,
    Unsuspend,
    Unlock,
    ResetPassword,
    ExpirePassword,
    ExpirePasswordWithTempPassword,
    ResetFactors,
}

impl LifecycleOp {
    pub const ALL: [LifecycleOp; 10] = [
        LifecycleOp::Activate,
        LifecycleOp::Deactivate,
        LifecycleOp::Reactivate,
        LifecycleOp::Suspend,
        LifecycleOp::Unsuspend,
        LifecycleOp::Unlock,
        LifecycleOp::ResetPassword,
        LifecycleOp::ExpirePassword,
        LifecycleOp::ExpirePasswordWithTempPassword,
        LifecycleOp::ResetFactors,
    ];

    pub fn path(self) -> &'static str {
        match self {
            LifecycleOp::Activate => "activate",
            LifecycleOp::Deactivate => "deactivate",
            LifecycleOp::Reactivate => "reactivate",
            LifecycleOp::Suspend => "suspend",
            LifecycleOp::Unsuspend => "unsuspend",
            LifecycleOp::Unlock => "unlock",
            LifecycleOp::ResetPassword => "reset_password",
            LifecycleOp::ExpirePassword => "expire_password",
            LifecycleOp::ExpirePasswordWithTempPassword => "expire_password_with_temp_password",
            LifecycleOp::ResetFactors => "reset_factors",
        }
    }

    fn from_path(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|op| op.path() == s)
    }

    /// Okta's status machine: the status an operation leaves a user in, or Okta's refusal.
    /// `has_password` decides where activation lands (ACTIVE with a password or an external
    /// provider, PROVISIONED otherwise, until the user completes the activation flow).
    pub fn next_status(self, from: UserStatus, has_password: bool) -> Result<UserStatus, ApiError> {
        use UserStatus::*;
        // Okta treats these as forms of an active account: they can sign in or recover.
        let active_like = matches!(from, Active | PasswordExpired | LockedOut | Recovery);
        let next = match self {
            LifecycleOp::Activate => match from {
                Staged | Deprovisioned if has_password => Some(Active),
                Staged | Deprovisioned => Some(Provisioned),
                Active => return Err(already_active()),
                _ => None,
            },
            LifecycleOp::Deactivate => (from != Deprovisioned).then_some(Deprovisioned),
            LifecycleOp::Reactivate => {
                matches!(from, Provisioned | Recovery).then_some(Provisioned)
            }
            // The recordings show a `suspend` link on PASSWORD_EXPIRED users as on ACTIVE ones.
            LifecycleOp::Suspend => matches!(from, Active | PasswordExpired).then_some(Suspended),
            LifecycleOp::Unsuspend => (from == Suspended).then_some(Active),
            LifecycleOp::Unlock => match from {
                LockedOut => Some(Active),
                _ => {
                    return Err(ApiError::new(
                        403,
                        "E0000032",
                        "Unlock is not allowed for this user.",
                    )
                    .cause("The user is not locked out."));
                }
            },
            LifecycleOp::ResetPassword => (active_like || from == Provisioned).then_some(Recovery),
            LifecycleOp::ExpirePassword | LifecycleOp::ExpirePasswordWithTempPassword => {
                active_like.then_some(PasswordExpired)
            }
            LifecycleOp::ResetFactors => (from != Deprovisioned).then_some(from),
        };
        next.ok_or_else(ApiError::bad_status)
    }

    fn event(self) -> (&'static str, &'static str) {
        match self {
            LifecycleOp::Activate => ("user.lifecycle.activate", "Activate Okta user"),
            LifecycleOp::Deactivate => ("user.lifecycle.deactivate", "Deactivate Okta user"),
            LifecycleOp::Reactivate => ("user.lifecycle.reactivate", "Reactivate Okta user"),
            LifecycleOp::Suspend => ("user.lifecycle.suspend", "Suspend Okta user"),
            LifecycleOp::Unsuspend => ("user.lifecycle.unsuspend", "Unsuspend Okta user"),
            LifecycleOp::Unlock => (
                "user.account.unlock_by_admin",
                "User account unlock by admin",
            ),
            LifecycleOp::ResetPassword => (
                "user.account.reset_password",
                "Fired when the user's Okta password is reset",
            ),
            LifecycleOp::ExpirePassword | LifecycleOp::ExpirePasswordWithTempPassword => (
                "user.account.expire_password",
                "Fired when the user's Okta password is expired",
            ),
            LifecycleOp::ResetFactors => {
                ("user.mfa.factor.reset_all", "Reset all factors for user")
            }
        }
    }
}

fn already_active() -> ApiError {
    ApiError::new(
        403,
        "E0000016",
        "Activation failed because the user is already active",
    )
}

fn set_status(user: &mut User, status: UserStatus, now: i64) {
    if user.status != status {
        user.status = status;
        user.status_changed = Some(now);
    }
    user.transitioning_to = None;
    user.last_updated = now;
}

async fn lifecycle(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<RequestCtx>,
    ApiPath((id, op)): ApiPath<(String, String)>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let op = LifecycleOp::from_path(&op).ok_or_else(ApiError::path_not_found)?;
    let params = Params::parse(q.as_deref());
    let now = sim.clock.now_ms();
    let base = sim.base_url().to_string();
    let (body, event) = {
        let mut guard = sim.org.write();
        // Split borrows: the user changes while tokens are drawn from the id generator.
        let org = &mut *guard;
        let uid = resolve(org, &id)?;
        let user = org.users.get_mut(&uid).ok_or_else(ApiError::internal)?;
        let has_password =
            user.credentials.password.is_some() || user.credentials.provider_type != "OKTA";
        let next = op.next_status(user.status, has_password)?;
        set_status(user, next, now);
        // Tokens are drawn only by calls that hand one out, so failed or email-sending calls
        // leave the ids of later objects as they were.
        let rng = org.ids.rng();
        let body = match op {
            LifecycleOp::Activate => {
                user.activated = (next == UserStatus::Active)
                    .then_some(now)
                    .or(user.activated);
                activation_token(&base, rng, params.flag("sendEmail", true))
            }
            LifecycleOp::Reactivate => {
                activation_token(&base, rng, params.flag("sendEmail", false))
            }
            LifecycleOp::ResetPassword => {
                if params.flag("sendEmail", true) {
                    json!({})
                } else {
                    let token = rng.alphanumeric(20);
                    json!({"resetPasswordUrl": format!("{base}/reset_password/drpw{token}")})
                }
            }
            LifecycleOp::ExpirePassword => render(&base, &org.realm_id, user),
            LifecycleOp::ExpirePasswordWithTempPassword => {
                let temp_password = temporary_password(rng);
                user.credentials.password = Some(temp_password.clone());
                user.password_changed = Some(now);
                json!({"tempPassword": temp_password})
            }
            LifecycleOp::Deactivate
            | LifecycleOp::Suspend
            | LifecycleOp::Unsuspend
            | LifecycleOp::Unlock
            | LifecycleOp::ResetFactors => json!({}),
        };
        let (kind, message) = op.event();
        (body, NewEvent::success(kind, message, vec![user.entity()]))
    };
    sim.log(&ctx, event);
    ok(body)
}

/// `{activationUrl, activationToken}` when the caller sends the email itself, `{}` otherwise.
fn activation_token(base: &str, rng: &mut crate::rng::Rng, send_email: bool) -> Value {
    if send_email {
        return json!({});
    }
    let token = rng.alphanumeric(20);
    json!({
        "activationUrl": format!("{base}/tokens/{token}/verify"),
        "activationToken": token,
    })
}

/// Twelve characters with a lower-case letter, an upper-case letter and a digit, like the recorded
/// `C8Fg5dUq4zE8`, so the temporary password satisfies the default policy.
fn temporary_password(rng: &mut crate::rng::Rng) -> String {
    loop {
        let p = rng.alphanumeric(12);
        if p.chars().any(|c| c.is_ascii_lowercase())
            && p.chars().any(|c| c.is_ascii_uppercase())
            && p.chars().any(|c| c.is_ascii_digit())
        {
            return p;
        }
    }
}

async fn forgot_password(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<RequestCtx>,
    ApiPath(id): ApiPath<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let params = Params::parse(q.as_deref());
    let base = sim.base_url().to_string();
    let (body, event) = {
        let mut org = sim.org.write();
        let user = find_user(&org, &id)?;
        // Only ACTIVE users; the operation leaves the status as it is.
        if user.status != UserStatus::Active {
            return Err(ApiError::bad_status());
        }
        let target = user.entity();
        let body = if params.flag("sendEmail", true) {
            json!({})
        } else {
            let token = org.ids.rng().alphanumeric(20);
            json!({"resetPasswordUrl": format!("{base}/signin/reset-password/dfp{token}")})
        };
        let event = NewEvent::success(
            "user.account.reset_password",
            "Fired when the user's Okta password is reset",
            vec![target],
        );
        (body, event)
    };
    sim.log(&ctx, event);
    ok(body)
}

// ------------------------------------------------------------------------------------------
// Credential changes that prove the current password
// ------------------------------------------------------------------------------------------

/// `oldPassword` (or `password`) does not match the user's: 403 E0000014 with the cause Okta's
/// docs show for a wrong old password.
fn wrong_password(field: &str) -> ApiError {
    ApiError::new(403, "E0000014", "Update of credentials failed")
        .cause(format!("{field}: The credentials provided were incorrect."))
}

/// The `value` of a `{value}` password object in the body, if given.
fn password_value<'a>(body: &'a Value, key: &str) -> Option<&'a str> {
    body.get(key)?.get("value")?.as_str()
}

/// Checks `given` against the stored password. A user without an Okta password (none set yet,
/// or mastered elsewhere) has nothing a request could prove.
fn verify_password(user: &User, given: Option<&str>, field: &str) -> ApiResult<()> {
    match (user.credentials.password.as_deref(), given) {
        (Some(stored), Some(given))
            if user.credentials.provider_type == "OKTA"
                && !stored.is_empty()
                && stored == given =>
        {
            Ok(())
        }
        _ => Err(wrong_password(field)),
    }
}

/// `POST /users/{id}/credentials/change_password`: `{oldPassword, newPassword, revokeSessions}`.
/// Allowed in STAGED, ACTIVE, PASSWORD_EXPIRED and RECOVERY (spec); a RECOVERY user becomes
/// ACTIVE (spec), and so does a PASSWORD_EXPIRED one, whose expired password is now replaced.
async fn change_password(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<RequestCtx>,
    ApiPath(id): ApiPath<String>,
    body: Bytes,
) -> ApiResult {
    use UserStatus::*;
    let body = json_body(&body)?;
    let now = sim.clock.now_ms();
    let (out, events) = {
        let mut org = sim.org.write();
        let uid = resolve(&org, &id)?;
        let user = org.users.get_mut(&uid).ok_or_else(ApiError::internal)?;
        if !matches!(user.status, Staged | Active | PasswordExpired | Recovery) {
            return Err(ApiError::bad_status());
        }
        let Some(new) = password_value(&body, "newPassword") else {
            return Err(ApiError::validation(
                "newPassword",
                "newPassword: The field cannot be left blank",
            ));
        };
        verify_password(user, password_value(&body, "oldPassword"), "oldPassword")?;
        // The default policy remembers past passwords; the simulator knows only the current one.
        if user.credentials.password.as_deref() == Some(new) {
            return Err(ApiError::validation(
                "password",
                "password: Password has been used too recently",
            ));
        }
        let mut credentials = user.credentials.clone();
        credentials.password = Some(new.to_string());
        check_password(&credentials, user.profile.get_str("login"))?;
        user.credentials = credentials;
        user.password_changed = Some(now);
        user.last_updated = now;
        if matches!(user.status, Recovery | PasswordExpired) {
            set_status(user, Active, now);
        }
        let target = user.entity();
        let mut events = vec![NewEvent::success(
            "user.account.update_password",
            "User update password for Okta",
            vec![target.clone()],
        )];
        if body.get("revokeSessions").and_then(Value::as_bool) == Some(true) {
            events.push(NewEvent::success(
                "user.session.clear",
                "Clear user session",
                vec![target],
            ));
        }
        (credentials_response(user), events)
    };
    for e in events {
        sim.log(&ctx, e);
    }
    ok(out)
}

/// `POST /users/{id}/credentials/change_recovery_question`: `{password, recovery_question}`.
/// Allowed in STAGED, ACTIVE and RECOVERY (spec). Okta's event catalogue has no event type for a
/// recovery question change, so none is logged.
async fn change_recovery_question(
    State(sim): State<Arc<Sim>>,
    ApiPath(id): ApiPath<String>,
    body: Bytes,
) -> ApiResult {
    use UserStatus::*;
    let body = json_body(&body)?;
    let now = sim.clock.now_ms();
    let mut org = sim.org.write();
    let uid = resolve(&org, &id)?;
    let user = org.users.get_mut(&uid).ok_or_else(ApiError::internal)?;
    if !matches!(user.status, Staged | Active | Recovery) {
        return Err(ApiError::bad_status());
    }
    let Some(question) = body.get("recovery_question").filter(|q| !q.is_null()) else {
        return Err(ApiError::validation(
            "recovery_question",
            "recovery_question: The field cannot be left blank",
        ));
    };
    verify_password(user, password_value(&body, "password"), "password")?;
    let mut credentials = user.credentials.clone();
    apply_credentials(
        &mut credentials,
        &json!({"recovery_question": question.clone()}),
    )?;
    user.credentials = credentials;
    user.last_updated = now;
    ok(credentials_response(user))
}

/// The credentials object the credential operations answer with: as in the user, without
/// `emails` (recorded: `{"password":{},"provider":{...}}` after change_password).
fn credentials_response(u: &User) -> Value {
    let mut c = serde_json::to_value(CredentialsJson(u)).unwrap_or(Value::Null);
    if let Some(m) = c.as_object_mut() {
        m.shift_remove("emails");
    }
    c
}

async fn clear_sessions(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<RequestCtx>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    let target = find_user(&sim.org.read(), &id)?.entity();
    sim.log(
        &ctx,
        NewEvent::success("user.session.clear", "Clear user session", vec![target]),
    );
    Ok(StatusCode::NO_CONTENT.into_response())
}

// ------------------------------------------------------------------------------------------
// Rendering
// ------------------------------------------------------------------------------------------

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
struct CredentialsJson<'a>(&'a User);

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_parse_and_made_up_ones_are_refused() {
        assert!(matches!(
            parse_cursor(Some("000usfdsyqnIjEmHNm4x6")),
            Ok(Cursor::AfterId("00usfdsyqnIjEmHNm4x6"))
        ));
        assert!(matches!(parse_cursor(Some("140")), Ok(Cursor::Offset(40))));
        assert!(matches!(parse_cursor(None), Ok(Cursor::Start)));
        let err = parse_cursor(Some("not-a-cursor")).err().map(|e| e.code);
        assert_eq!(err, Some("E0000029"));
    }

    #[test]
    fn activation_lands_on_active_only_with_a_password() {
        let op = LifecycleOp::Activate;
        assert_eq!(
            op.next_status(UserStatus::Staged, true).ok(),
            Some(UserStatus::Active)
        );
        assert_eq!(
            op.next_status(UserStatus::Staged, false).ok(),
            Some(UserStatus::Provisioned)
        );
        let err = op
            .next_status(UserStatus::Active, true)
            .err()
            .map(|e| e.code);
        assert_eq!(err, Some("E0000016"));
    }
}
