//! `/api/v1/users`: list/search, CRUD and the user's groups here; the lifecycle and credential
//! operations with Okta's status machine in `lifecycle`; the User JSON in `json`.
//!
//! Lists evaluate `filter`/`search` through a closure over the stored user ([`field`]), never by
//! rendering JSON, so an org of 100k users answers quickly. Every mutation writes the System Log
//! event Okta writes, with the user as target.

use std::cmp::Ordering;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::routing::{delete, get, post};
use axum::{Extension, Router};
use serde_json::{Map, Value, json};

use crate::Sim;
use crate::clock::iso_ms;
use crate::filter::{self, Dialect};
use crate::http::{ApiError, ApiPath, ApiResult, Page, Params, json_body, no_content, ok};
use crate::routes::{groups, meta};
use crate::state::{Credentials, Org, Profile, User, UserStatus};
use crate::syslog::{NewEvent, RequestCtx};

mod json;
mod lifecycle;

pub use json::{UserJson, render, user_json, user_json_with_links};
use lifecycle::{
    change_password, change_recovery_question, clear_sessions, forgot_password, run_lifecycle,
    set_status,
};

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
        .route("/api/v1/users/{id}/lifecycle/{op}", post(run_lifecycle))
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
pub(super) fn resolve(org: &Org, id: &str) -> ApiResult<String> {
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
pub(super) fn apply_credentials(c: &mut Credentials, v: &Value) -> ApiResult<()> {
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
pub(super) fn check_password(c: &Credentials, login: Option<&str>) -> ApiResult<()> {
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
}
