//! `/api/v1/apps`: list/create/get/replace/delete, lifecycle, app users and app groups.
//!
//! Shapes follow the recorded traffic (test_applications_it, test_groups_it): an app's `_links`
//! have no `self`; lifecycle calls answer 200 `{}`; deleting an ACTIVE app is 403 E0000056; an
//! unknown cursor is 400 E0000029. A user is assigned to an app either directly (scope USER, kept
//! in `Org::app_users`) or through membership of an assigned group (scope GROUP, derived on read,
//! so membership changes show up at once as they do in Okta).

use std::collections::BTreeSet;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde_json::{Map, Value, json};

use crate::Sim;
use crate::clock::iso_ms;
use crate::filter::{self, Dialect};
use crate::http::{ApiError, ApiPath, ApiResult, Params, json_body, no_content, ok, paginate};
use crate::routes::groups::{self, with_default_limit};
use crate::routes::users;
use crate::state::{App, AppGroup, AppUser, Group, Org, User, UserStatus};
use crate::syslog::{Entity, NewEvent, RequestCtx};

/// Recorded self link of a bare `GET /apps`: `?limit=20`.
const APPS_LIMIT: usize = 20;
const APPS_MAX: usize = 200;
const APP_USERS_LIMIT: usize = 50;
const APP_USERS_MAX: usize = 500;
/// `GET /apps/{id}/groups`: default 20, minimum 20, maximum 200 (spec).
const APP_GROUPS_LIMIT: usize = 20;
const APP_GROUPS_MAX: usize = 200;
/// The org id inside app ORNs (`orn:okta:idp:{orgId}:apps:{name}:{appId}`).
const ORG_ID: &str = "00osimulatedorg00001";
/// Filterable app attributes (spec: id, status, credentials.signing.kid, settings.slo.enabled,
/// name) plus the `user.id`/`group.id` filters Okta's docs describe for assignments.
const FILTER_ATTRIBUTES: &[&str] = &[
    "id",
    "status",
    "name",
    "credentials.signing.kid",
    "settings.slo.enabled",
    "user.id",
    "group.id",
];

pub fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/api/v1/apps", get(list_apps).post(create_app))
        .route(
            "/api/v1/apps/{app_id}",
            get(get_app).put(replace_app).delete(delete_app),
        )
        .route("/api/v1/apps/{app_id}/lifecycle/activate", post(activate))
        .route(
            "/api/v1/apps/{app_id}/lifecycle/deactivate",
            post(deactivate),
        )
        .route(
            "/api/v1/apps/{app_id}/users",
            get(list_app_users).post(assign_user),
        )
        .route(
            "/api/v1/apps/{app_id}/users/{user_id}",
            get(get_app_user)
                .post(update_app_user)
                .delete(unassign_user),
        )
        .route("/api/v1/apps/{app_id}/groups", get(list_app_groups))
        .route(
            "/api/v1/apps/{app_id}/groups/{group_id}",
            get(get_app_group).put(assign_group).delete(unassign_group),
        )
}

// ------------------------------------------------------------------------------------------
// Apps
// ------------------------------------------------------------------------------------------

async fn list_apps(State(sim): State<Arc<Sim>>, RawQuery(q): RawQuery) -> ApiResult {
    let params = Params::parse(q.as_deref());
    let limit = params.limit(APPS_LIMIT, APPS_MAX)?;
    let expand_user = match params.get("expand") {
        None | Some("") => None,
        Some(e) => match e.strip_prefix("user/") {
            Some(uid) if !uid.is_empty() && !uid.contains([',', '/']) => Some(uid.to_string()),
            _ => {
                return Err(ApiError::validation(
                    "RequestParams",
                    "Expand query is malformed.",
                ));
            }
        },
    };
    let filter = match params.get("filter") {
        None | Some("") => None,
        Some(f) => Some(parse_app_filter(f)?),
    };
    let after = params.get("after").filter(|a| !a.is_empty());
    if after.is_some_and(|a| !a.starts_with("0oa")) {
        return Err(ApiError::invalid_cursor());
    }
    let query = params.get("q").map(str::to_lowercase);
    let base = sim.base_url().to_string();
    let org = sim.org.read();
    let page = paginate(
        org.apps
            .iter()
            .filter(|(_, a)| {
                query.as_deref().is_none_or(|q| {
                    a.name().to_lowercase().starts_with(q)
                        || a.label().to_lowercase().starts_with(q)
                })
            })
            .filter(|(_, a)| {
                filter
                    .as_ref()
                    .is_none_or(|f| f.matches(&|path: &str| app_attribute(&org, a, path)))
            })
            .map(|(k, a)| (k.as_str(), a)),
        after,
        limit,
        |a| {
            let mut v = render(&base, a);
            if let Some(uid) = &expand_user
                && let (Some(user), Some(asg)) = (org.users.get(uid), assignment(&org, &a.id, uid))
            {
                v["_embedded"] = json!({"user": render_app_user(&base, &a.id, user, &asg)});
            }
            v
        },
    );
    Ok(page.respond(
        &base,
        "/api/v1/apps",
        &with_default_limit(&params, APPS_LIMIT),
    ))
}

/// filter.rs has no app dialect: parse with the permissive System Log grammar, then allow only
/// the attributes Okta filters apps on.
fn parse_app_filter(input: &str) -> ApiResult<filter::Expr> {
    let expr = filter::parse(input, Dialect::LogFilter)
        .map_err(|e| ApiError::invalid_search(e.message))?;
    if let Some(bad) = expr
        .attributes()
        .into_iter()
        .find(|a| !FILTER_ATTRIBUTES.contains(a))
    {
        return Err(ApiError::invalid_search(format!(
            "Filtering on '{bad}' is not supported for apps."
        )));
    }
    Ok(expr)
}

fn app_attribute(org: &Org, a: &App, path: &str) -> Option<Value> {
    match path {
        "id" => Some(json!(a.id)),
        "status" => Some(json!(a.status)),
        "name" => Some(json!(a.name())),
        "user.id" => Some(json!(assigned_user_ids(org, &a.id))),
        "group.id" => Some(json!(
            org.app_groups
                .get(&a.id)
                .map(|g| g.keys().collect::<Vec<_>>())
                .unwrap_or_default()
        )),
        _ => {
            let mut v = Value::Object(a.body.clone());
            for part in path.split('.') {
                v = v.get(part)?.clone();
            }
            Some(v)
        }
    }
}

async fn get_app(State(sim): State<Arc<Sim>>, ApiPath(id): ApiPath<String>) -> ApiResult {
    let org = sim.org.read();
    ok(render(sim.base_url(), app(&org, &id)?))
}

async fn create_app(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<RequestCtx>,
    RawQuery(q): RawQuery,
    body: Bytes,
) -> ApiResult {
    let activate = Params::parse(q.as_deref()).flag("activate", true);
    let body = json_body(&body)?;
    let mut fields = writable_fields(&body)?;
    let given_secret = take_client_secret(&mut fields);
    let (name, mode) = name_and_mode(&fields)?;
    fields.insert("name".into(), json!(name));
    fields.insert("signOnMode".into(), json!(mode));
    let now = sim.clock.now_ms();
    let mut org = sim.org.write();
    let id = org.ids.next("0oa");
    // OIDC clients get a client id (the app id, as Okta does) and a secret (the client's own, or
    // a generated one) shown only in this response.
    let secret = (mode == "OPENID_CONNECT")
        .then(|| given_secret.unwrap_or_else(|| json!(org.ids.rng().alphanumeric(40))));
    if secret.is_some() {
        let creds = fields.entry("credentials").or_insert_with(|| json!({}));
        if let Some(c) = creds.as_object_mut() {
            let client = c.entry("oauthClient").or_insert_with(|| json!({}));
            if let Some(client) = client.as_object_mut() {
                client.entry("client_id").or_insert_with(|| json!(id));
                client.entry("autoKeyRotation").or_insert(json!(true));
                client
                    .entry("token_endpoint_auth_method")
                    .or_insert(json!("client_secret_basic"));
            }
        }
    }
    let a = App {
        id: id.clone(),
        status: if activate { "ACTIVE" } else { "INACTIVE" }.into(),
        created: now,
        last_updated: now,
        body: fields,
    };
    let mut out = render(sim.base_url(), &a);
    if let Some(secret) = secret
        && let Some(client) = out
            .pointer_mut("/credentials/oauthClient")
            .and_then(Value::as_object_mut)
    {
        client.insert("client_secret".into(), secret);
    }
    let target = a.entity();
    org.apps.insert(id, a);
    drop(org);
    sim.log(
        &ctx,
        NewEvent::success(
            "application.lifecycle.create",
            "Add application",
            vec![target],
        ),
    );
    ok(out)
}

async fn replace_app(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<RequestCtx>,
    ApiPath(id): ApiPath<String>,
    body: Bytes,
) -> ApiResult {
    let body = json_body(&body)?;
    let mut fields = writable_fields(&body)?;
    // A secret sent with a replacement is not stored either: Okta shows secrets only on creation.
    take_client_secret(&mut fields);
    let now = sim.clock.now_ms();
    let mut org = sim.org.write();
    let a = org
        .apps
        .get_mut(&id)
        .ok_or_else(|| ApiError::not_found(&id, "AppInstance"))?;
    // `name` and `signOnMode` identify the app's kind and cannot change through PUT.
    for key in ["name", "signOnMode"] {
        if let Some(v) = a.body.get(key) {
            fields.insert(key.into(), v.clone());
        }
    }
    a.body = fields;
    a.last_updated = now;
    let out = render(sim.base_url(), a);
    let target = a.entity();
    drop(org);
    sim.log(
        &ctx,
        NewEvent::success(
            "application.lifecycle.update",
            "Update application",
            vec![target],
        ),
    );
    ok(out)
}

async fn delete_app(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<RequestCtx>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    let mut org = sim.org.write();
    if app(&org, &id)?.status == "ACTIVE" {
        return Err(
            ApiError::new(403, "E0000056", "Delete application forbidden.")
                .cause("The application must be deactivated before deletion."),
        );
    }
    let Some(a) = org.apps.remove(&id) else {
        return Err(ApiError::not_found(&id, "AppInstance"));
    };
    org.app_users.remove(&id);
    org.app_groups.remove(&id);
    drop(org);
    sim.log(
        &ctx,
        NewEvent::success(
            "application.lifecycle.delete",
            "Delete application",
            vec![a.entity()],
        ),
    );
    no_content()
}

async fn activate(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<RequestCtx>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    set_status(&sim, &ctx, &id, "ACTIVE")
}

async fn deactivate(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<RequestCtx>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    set_status(&sim, &ctx, &id, "INACTIVE")
}

/// Lifecycle calls answer 200 `{}` (recorded), whether or not the status changes; only a change
/// is logged.
fn set_status(sim: &Sim, ctx: &RequestCtx, id: &str, status: &str) -> ApiResult {
    let now = sim.clock.now_ms();
    let mut org = sim.org.write();
    let a = org
        .apps
        .get_mut(id)
        .ok_or_else(|| ApiError::not_found(id, "AppInstance"))?;
    if a.status == status {
        return ok(json!({}));
    }
    a.status = status.to_string();
    a.last_updated = now;
    let target = a.entity();
    drop(org);
    let (event_type, message) = if status == "ACTIVE" {
        ("application.lifecycle.activate", "Activate application")
    } else {
        ("application.lifecycle.deactivate", "Deactivate application")
    };
    sim.log(ctx, NewEvent::success(event_type, message, vec![target]));
    ok(json!({}))
}

/// The fields a client may set: the body without the read-only ones. `label` is required.
fn writable_fields(body: &Value) -> ApiResult<Map<String, Value>> {
    let Some(obj) = body.as_object() else {
        return Err(ApiError::malformed_body());
    };
    let label_ok = obj
        .get("label")
        .and_then(Value::as_str)
        .is_some_and(|l| !l.trim().is_empty());
    if !label_ok {
        return Err(ApiError::validation(
            "label",
            "label: The field cannot be left blank",
        ));
    }
    // Okta reads these into typed objects: anything else is not a well-formed body.
    let nested = [
        "/credentials",
        "/credentials/oauthClient",
        "/credentials/password",
        "/settings",
        "/visibility",
        "/accessibility",
    ];
    if nested.iter().any(|p| {
        body.pointer(p)
            .is_some_and(|v| !v.is_object() && !v.is_null())
    }) {
        return Err(ApiError::malformed_body());
    }
    let mut fields = obj.clone();
    for key in [
        "id",
        "orn",
        "status",
        "created",
        "lastUpdated",
        "_links",
        "_embedded",
    ] {
        fields.remove(key);
    }
    // Okta keeps an app's shared password but never shows it: `"password": {}` (spec
    // `PasswordCredential`, recorded SWA apps).
    if let Some(password) = fields
        .get_mut("credentials")
        .and_then(|c| c.get_mut("password"))
        .filter(|p| p.is_object())
    {
        *password = json!({});
    }
    Ok(fields)
}

/// Takes a client-supplied `credentials.oauthClient.client_secret` out of the fields to store.
fn take_client_secret(fields: &mut Map<String, Value>) -> Option<Value> {
    fields
        .get_mut("credentials")?
        .get_mut("oauthClient")?
        .as_object_mut()?
        .remove("client_secret")
        .filter(|s| !s.is_null())
}

/// An app's `name` (the catalog key) and `signOnMode`, each implied by the other when left out.
fn name_and_mode(fields: &Map<String, Value>) -> ApiResult<(String, String)> {
    let name = fields.get("name").and_then(Value::as_str);
    let mode = fields.get("signOnMode").and_then(Value::as_str);
    let mode = match (name, mode) {
        (_, Some(m)) => m.to_string(),
        (Some(n), None) => match n {
            "bookmark" => "BOOKMARK",
            "oidc_client" => "OPENID_CONNECT",
            "template_swa" | "template_swa3field" => "BROWSER_PLUGIN",
            "template_basic_auth" => "BASIC_AUTH",
            "template_sps" => "SECURE_PASSWORD_STORE",
            _ => "SAML_2_0",
        }
        .to_string(),
        (None, None) => {
            return Err(ApiError::validation(
                "signOnMode",
                "signOnMode: The field cannot be left blank",
            ));
        }
    };
    let name = match name {
        Some(n) => n.to_string(),
        None => match mode.as_str() {
            "BOOKMARK" => "bookmark".into(),
            "OPENID_CONNECT" => "oidc_client".into(),
            "BROWSER_PLUGIN" => "template_swa".into(),
            "BASIC_AUTH" => "template_basic_auth".into(),
            "SECURE_PASSWORD_STORE" => "template_sps".into(),
            // Custom SAML/WS-Fed apps get an org-scoped generated name.
            _ => {
                let label = fields.get("label").and_then(Value::as_str).unwrap_or("app");
                let slug: String = label
                    .to_lowercase()
                    .chars()
                    .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                    .collect();
                format!("simorg_{slug}_1")
            }
        },
    };
    Ok((name, mode))
}

// ------------------------------------------------------------------------------------------
// App users
// ------------------------------------------------------------------------------------------

/// How a user is assigned to an app.
enum Assignment<'a> {
    /// An explicit assignment (scope USER, or a GROUP-scope override made by updating the app
    /// user of a group-assigned user).
    Direct(&'a AppUser),
    /// Implied by membership of an assigned group.
    ViaGroup(&'a Group, &'a AppGroup),
}

/// The first assigned group (by priority) that has the user as a member.
fn via_group<'a>(org: &'a Org, app_id: &str, user_id: &str) -> Option<(&'a Group, &'a AppGroup)> {
    let user_groups = org.user_groups.get(user_id)?;
    org.app_groups
        .get(app_id)?
        .values()
        .filter(|ag| user_groups.contains(&ag.group_id))
        .min_by_key(|ag| (ag.priority, &ag.group_id))
        .and_then(|ag| org.groups.get(&ag.group_id).map(|g| (g, ag)))
}

fn assignment<'a>(org: &'a Org, app_id: &str, user_id: &str) -> Option<Assignment<'a>> {
    let group = via_group(org, app_id, user_id);
    if let Some(au) = org.app_users.get(app_id).and_then(|m| m.get(user_id))
        && (au.scope == "USER" || group.is_some())
    {
        return Some(Assignment::Direct(au));
    }
    group.map(|(g, ag)| Assignment::ViaGroup(g, ag))
}

/// Every user assigned to the app, directly or through a group, in id order.
fn assigned_user_ids<'a>(org: &'a Org, app_id: &str) -> BTreeSet<&'a str> {
    let mut ids: BTreeSet<&str> = org
        .app_users
        .get(app_id)
        .map(|m| m.keys().map(String::as_str).collect())
        .unwrap_or_default();
    for gid in org
        .app_groups
        .get(app_id)
        .into_iter()
        .flat_map(|m| m.keys())
    {
        if let Some(members) = org.members.get(gid) {
            ids.extend(members.iter().map(String::as_str));
        }
    }
    ids
}

async fn list_app_users(
    State(sim): State<Arc<Sim>>,
    ApiPath(app_id): ApiPath<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let params = Params::parse(q.as_deref());
    let limit = params.limit(APP_USERS_LIMIT, APP_USERS_MAX)?;
    let expand_user = params.get("expand") == Some("user");
    let query = params.get("q").map(str::to_lowercase);
    let base = sim.base_url().to_string();
    let org = sim.org.read();
    app(&org, &app_id)?;
    let rows: Vec<(&str, (&User, Assignment))> = assigned_user_ids(&org, &app_id)
        .into_iter()
        .filter_map(|uid| {
            let user = org.users.get(uid)?;
            let asg = assignment(&org, &app_id, uid)?;
            Some((uid, (user, asg)))
        })
        .filter(|(_, (user, asg))| {
            query
                .as_deref()
                .is_none_or(|q| app_user_matches(user, asg, q))
        })
        .collect();
    let page = paginate(
        rows.iter().map(|(k, v)| (*k, v)),
        params.get("after"),
        limit,
        |(user, asg)| {
            let mut v = render_app_user(&base, &app_id, user, asg);
            if expand_user {
                v["_embedded"] = json!({"user": users::render(&base, &org.realm_id, user)});
            }
            v
        },
    );
    Ok(page.respond(
        &base,
        &format!("/api/v1/apps/{app_id}/users"),
        &with_default_limit(&params, APP_USERS_LIMIT),
    ))
}

/// `q`: starts-with on userName, firstName, lastName or email (spec), case-insensitively.
fn app_user_matches(user: &User, asg: &Assignment, q: &str) -> bool {
    let user_name = match asg {
        Assignment::Direct(au) => au.user_name.as_str(),
        Assignment::ViaGroup(..) => user.login(),
    };
    std::iter::once(user_name)
        .chain(
            ["firstName", "lastName", "email"]
                .iter()
                .filter_map(|k| user.profile.get_str(k)),
        )
        .any(|v| v.to_lowercase().starts_with(q))
}

async fn get_app_user(
    State(sim): State<Arc<Sim>>,
    ApiPath((app_id, user_id)): ApiPath<(String, String)>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let params = Params::parse(q.as_deref());
    let base = sim.base_url();
    let org = sim.org.read();
    app(&org, &app_id)?;
    let (user, asg) = app_user(&org, &app_id, &user_id)?;
    let mut v = render_app_user(base, &app_id, user, &asg);
    if params.get("expand") == Some("user") {
        v["_embedded"] = json!({"user": users::render(base, &org.realm_id, user)});
    }
    ok(v)
}

async fn assign_user(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<RequestCtx>,
    ApiPath(app_id): ApiPath<String>,
    body: Bytes,
) -> ApiResult {
    let body = json_body(&body)?;
    let Some(user_id) = body.get("id").and_then(Value::as_str).map(str::to_string) else {
        return Err(ApiError::validation(
            "id",
            "id: The field cannot be left blank",
        ));
    };
    let now = sim.clock.now_ms();
    let mut org = sim.org.write();
    let a = app(&org, &app_id)?;
    let app_target = a.entity();
    let user = org
        .users
        .get(&user_id)
        .ok_or_else(|| ApiError::not_found(&user_id, "User"))?;
    if user.status == UserStatus::Deprovisioned {
        return Err(ApiError::new(
            403,
            "E0000117",
            "Cannot assign apps or update app profiles for an inactive user.",
        ));
    }
    let user_target = user.entity();
    let user_name = body
        .pointer("/credentials/userName")
        .and_then(Value::as_str)
        .unwrap_or(user.login())
        .to_string();
    let profile = body
        .get("profile")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    let existing = org
        .app_users
        .get(&app_id)
        .and_then(|m| m.get(&user_id))
        .cloned();
    let is_new = existing.as_ref().is_none_or(|au| au.scope != "USER");
    // Assigning again updates the assignment (and turns a group-implied one into a direct one).
    let au = AppUser {
        user_id: user_id.clone(),
        scope: "USER",
        status: existing.as_ref().map_or("ACTIVE", |e| e.status),
        created: existing.as_ref().map_or(now, |e| e.created),
        last_updated: now,
        status_changed: existing.as_ref().map_or(now, |e| e.status_changed),
        user_name,
        profile,
    };
    let entity = app_user_entity(user, &au);
    let out = render_app_user(sim.base_url(), &app_id, user, &Assignment::Direct(&au));
    org.app_users
        .entry(app_id.clone())
        .or_default()
        .insert(user_id.clone(), au);
    drop(org);
    let (event_type, message) = if is_new {
        (
            "application.user_membership.add",
            "Add user to application membership",
        )
    } else {
        (
            "application.user_membership.update",
            "Update user's application property",
        )
    };
    sim.log(
        &ctx,
        NewEvent::success(event_type, message, vec![entity, app_target, user_target]),
    );
    ok(out)
}

async fn update_app_user(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<RequestCtx>,
    ApiPath((app_id, user_id)): ApiPath<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let body = json_body(&body)?;
    let now = sim.clock.now_ms();
    let mut org = sim.org.write();
    let app_target = app(&org, &app_id)?.entity();
    let (user, asg) = app_user(&org, &app_id, &user_id)?;
    let user_target = user.entity();
    let mut au = match asg {
        Assignment::Direct(au) => au.clone(),
        // Updating a group-assigned user stores an override that keeps scope GROUP.
        Assignment::ViaGroup(_, ag) => AppUser {
            user_id: user_id.clone(),
            scope: "GROUP",
            status: "ACTIVE",
            created: ag.last_updated,
            last_updated: ag.last_updated,
            status_changed: ag.last_updated,
            user_name: user.login().to_string(),
            profile: ag.profile.clone(),
        },
    };
    if let Some(name) = body
        .pointer("/credentials/userName")
        .and_then(Value::as_str)
    {
        au.user_name = name.to_string();
    }
    if let Some(profile) = body.get("profile").and_then(Value::as_object) {
        au.profile.extend(profile.clone());
    }
    au.last_updated = now;
    let entity = app_user_entity(user, &au);
    let out = render_app_user(sim.base_url(), &app_id, user, &Assignment::Direct(&au));
    org.app_users
        .entry(app_id.clone())
        .or_default()
        .insert(user_id.clone(), au);
    drop(org);
    sim.log(
        &ctx,
        NewEvent::success(
            "application.user_membership.update",
            "Update user's application property",
            vec![entity, app_target, user_target],
        ),
    );
    ok(out)
}

async fn unassign_user(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<RequestCtx>,
    ApiPath((app_id, user_id)): ApiPath<(String, String)>,
) -> ApiResult {
    let mut org = sim.org.write();
    let app_target = app(&org, &app_id)?.entity();
    let (user, asg) = app_user(&org, &app_id, &user_id)?;
    let direct = match asg {
        Assignment::Direct(au) if au.scope == "USER" => au,
        // The terraform provider's issue #120 quotes this refusal verbatim.
        _ => {
            return Err(ApiError::new(
                403,
                "E0000046",
                "Deactivate application for user forbidden.",
            )
            .cause(
                "The application cannot be unassigned from the user while their group \
                         memberships grant them access",
            ));
        }
    };
    let targets = vec![app_user_entity(user, direct), app_target, user.entity()];
    if let Some(m) = org.app_users.get_mut(&app_id) {
        m.remove(&user_id);
    }
    drop(org);
    sim.log(
        &ctx,
        NewEvent::success(
            "application.user_membership.remove",
            "Remove user's application membership",
            targets,
        ),
    );
    no_content()
}

/// A user and their assignment to the app, or 404: `(User)` when the user does not exist,
/// `(AppUser)` when they exist but are not assigned.
fn app_user<'a>(
    org: &'a Org,
    app_id: &str,
    user_id: &str,
) -> ApiResult<(&'a User, Assignment<'a>)> {
    let user = org
        .users
        .get(user_id)
        .ok_or_else(|| ApiError::not_found(user_id, "User"))?;
    let asg =
        assignment(org, app_id, user_id).ok_or_else(|| ApiError::not_found(user_id, "AppUser"))?;
    Ok((user, asg))
}

/// Okta's AppUser JSON (recorded key set).
fn render_app_user(base: &str, app_id: &str, user: &User, asg: &Assignment) -> Value {
    let mut links = json!({
        "app": {"href": format!("{base}/api/v1/apps/{app_id}")},
        "user": {"href": format!("{base}/api/v1/users/{}", user.id)},
    });
    let (scope, status, created, updated, changed, user_name, profile) = match asg {
        Assignment::Direct(au) => (
            au.scope,
            au.status,
            au.created,
            au.last_updated,
            au.status_changed,
            au.user_name.clone(),
            au.profile.clone(),
        ),
        Assignment::ViaGroup(g, ag) => {
            links["group"] =
                json!({"name": g.name(), "href": format!("{base}/api/v1/groups/{}", g.id)});
            let t = ag.last_updated.max(user.created);
            (
                "GROUP",
                "ACTIVE",
                t,
                t,
                t,
                user.login().to_string(),
                ag.profile.clone(),
            )
        }
    };
    json!({
        "id": user.id,
        "externalId": null,
        "created": iso_ms(created),
        "lastUpdated": iso_ms(updated),
        "scope": scope,
        "status": status,
        "statusChanged": iso_ms(changed),
        "passwordChanged": null,
        "syncState": "DISABLED",
        "credentials": {"userName": user_name},
        "profile": profile,
        "_links": links,
    })
}

// ------------------------------------------------------------------------------------------
// App groups
// ------------------------------------------------------------------------------------------

async fn list_app_groups(
    State(sim): State<Arc<Sim>>,
    ApiPath(app_id): ApiPath<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let params = Params::parse(q.as_deref());
    let limit = params
        .limit(APP_GROUPS_LIMIT, APP_GROUPS_MAX)?
        .max(APP_GROUPS_LIMIT);
    let expand_group = params.get("expand") == Some("group");
    let query = params.get("q").map(str::to_lowercase);
    let base = sim.base_url().to_string();
    let org = sim.org.read();
    app(&org, &app_id)?;
    let empty = Default::default();
    let assignments = org.app_groups.get(&app_id).unwrap_or(&empty);
    let page = paginate(
        assignments
            .iter()
            .filter(|(gid, _)| {
                query.as_deref().is_none_or(|q| {
                    org.groups
                        .get(*gid)
                        .is_some_and(|g| g.name().to_lowercase().starts_with(q))
                })
            })
            .map(|(k, ag)| (k.as_str(), ag)),
        params.get("after"),
        limit,
        |ag| {
            let mut v = render_app_group(&base, &app_id, ag);
            if expand_group && let Some(g) = org.groups.get(&ag.group_id) {
                v["_embedded"] = json!({"group": groups::render(&base, g)});
            }
            v
        },
    );
    Ok(page.respond(
        &base,
        &format!("/api/v1/apps/{app_id}/groups"),
        &with_default_limit(&params, APP_GROUPS_LIMIT),
    ))
}

async fn get_app_group(
    State(sim): State<Arc<Sim>>,
    ApiPath((app_id, group_id)): ApiPath<(String, String)>,
) -> ApiResult {
    let org = sim.org.read();
    app(&org, &app_id)?;
    let ag = org
        .app_groups
        .get(&app_id)
        .and_then(|m| m.get(&group_id))
        .ok_or_else(|| ApiError::not_found(&group_id, "ApplicationGroupAssignment"))?;
    ok(render_app_group(sim.base_url(), &app_id, ag))
}

/// PUT assigns (or updates) a group. A new assignment without a `priority` goes first and pushes
/// the others down, as recorded (the second group assigned got priority 0, the first became 1).
async fn assign_group(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<RequestCtx>,
    ApiPath((app_id, group_id)): ApiPath<(String, String)>,
    body: Bytes,
) -> ApiResult {
    let body = json_body(&body)?;
    let priority = body.get("priority").and_then(Value::as_i64);
    let profile = body.get("profile").and_then(Value::as_object).cloned();
    let now = sim.clock.now_ms();
    let mut org = sim.org.write();
    let app_target = app(&org, &app_id)?.entity();
    let group_target = groups::group(&org, &group_id)?.entity();
    let assignments = org.app_groups.entry(app_id.clone()).or_default();
    let is_new = !assignments.contains_key(&group_id);
    // Priorities are positions (0 first): a requested one past the end means "last".
    let last = assignments.len() as i64 - i64::from(!is_new);
    let clamp = |p: i64| p.clamp(0, last);
    let out = if is_new {
        let p = clamp(priority.unwrap_or(0));
        for other in assignments.values_mut().filter(|o| o.priority >= p) {
            other.priority += 1;
        }
        let ag = AppGroup {
            group_id: group_id.clone(),
            priority: p,
            last_updated: now,
            profile: profile.unwrap_or_default(),
        };
        let out = render_app_group(sim.base_url(), &app_id, &ag);
        assignments.insert(group_id.clone(), ag);
        out
    } else {
        let ag = assignments
            .get_mut(&group_id)
            .ok_or_else(ApiError::internal)?;
        if let Some(p) = priority {
            ag.priority = clamp(p);
        }
        if let Some(p) = profile {
            ag.profile = p;
        }
        ag.last_updated = now;
        render_app_group(sim.base_url(), &app_id, ag)
    };
    drop(org);
    let (event_type, message) = if is_new {
        (
            "group.application_assignment.add",
            "Add assigned application to group",
        )
    } else {
        (
            "group.application_assignment.update",
            "Update assigned application in group",
        )
    };
    sim.log(
        &ctx,
        NewEvent::success(event_type, message, vec![app_target, group_target]),
    );
    ok(out)
}

async fn unassign_group(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<RequestCtx>,
    ApiPath((app_id, group_id)): ApiPath<(String, String)>,
) -> ApiResult {
    let mut org = sim.org.write();
    let app_target = app(&org, &app_id)?.entity();
    let group_target = org.groups.get(&group_id).map(Group::entity);
    let removed = org
        .app_groups
        .get_mut(&app_id)
        .and_then(|m| m.remove(&group_id))
        .ok_or_else(|| ApiError::not_found(&group_id, "ApplicationGroupAssignment"))?;
    if let Some(m) = org.app_groups.get_mut(&app_id) {
        for other in m.values_mut().filter(|o| o.priority > removed.priority) {
            other.priority -= 1;
        }
    }
    drop(org);
    let targets = std::iter::once(app_target).chain(group_target).collect();
    sim.log(
        &ctx,
        NewEvent::success(
            "group.application_assignment.remove",
            "Remove assigned application from group",
            targets,
        ),
    );
    no_content()
}

/// Okta's ApplicationGroupAssignment JSON (recorded key set).
fn render_app_group(base: &str, app_id: &str, ag: &AppGroup) -> Value {
    json!({
        "id": ag.group_id,
        "lastUpdated": iso_ms(ag.last_updated),
        "priority": ag.priority,
        "profile": ag.profile,
        "_links": {
            "app": {"href": format!("{base}/api/v1/apps/{app_id}")},
            "self": {"href": format!("{base}/api/v1/apps/{app_id}/groups/{}", ag.group_id)},
            "group": {"href": format!("{base}/api/v1/groups/{}", ag.group_id)},
        },
    })
}

// ------------------------------------------------------------------------------------------
// Shared pieces
// ------------------------------------------------------------------------------------------

fn app<'a>(org: &'a Org, id: &str) -> ApiResult<&'a App> {
    org.apps
        .get(id)
        .ok_or_else(|| ApiError::not_found(id, "AppInstance"))
}

fn app_user_entity(user: &User, au: &AppUser) -> Arc<Entity> {
    Arc::new(Entity {
        id: user.id.clone(),
        kind: "AppUser",
        alternate_id: au.user_name.clone(),
        display_name: user.display_name(),
    })
}

/// Okta's Application JSON: the stored body over the defaults Okta fills in, so apps created
/// with a minimal body (and seeded ones) have the recorded key set. No `self` link (recorded).
pub fn render(base: &str, a: &App) -> Value {
    let name = a.name();
    let mut v = json!({
        "id": a.id,
        "orn": format!("orn:okta:idp:{ORG_ID}:apps:{name}:{}", a.id),
        "status": a.status,
        "created": iso_ms(a.created),
        "lastUpdated": iso_ms(a.last_updated),
        "accessibility": {"selfService": false, "errorRedirectUrl": null, "loginRedirectUrl": null},
        "visibility": {"autoLaunch": false, "autoSubmitToolbar": false,
                       "hide": {"iOS": false, "web": false}, "appLinks": {}},
        "features": [],
        "credentials": {"userNameTemplate": {"template": "${source.login}", "type": "BUILT_IN"}, "signing": {}},
        "universalLogout": null,
        "settings": {
            "app": {},
            "notifications": {"vpn": {"network": {"connection": "DISABLED"}, "message": null, "helpUrl": null}},
            "manualProvisioning": false,
            "implicitAssignment": false,
            "notes": {"admin": null, "enduser": null},
        },
    });
    merge(&mut v, &Value::Object(a.body.clone()));
    if v["visibility"]["appLinks"]
        .as_object()
        .is_some_and(Map::is_empty)
    {
        let link = if name == "oidc_client" {
            "oidc_client_link"
        } else {
            "login"
        };
        v["visibility"]["appLinks"] = json!({ link: true });
    }
    let href = format!("{base}/api/v1/apps/{}", a.id);
    let app_links: Vec<Value> = v["visibility"]["appLinks"]
        .as_object()
        .into_iter()
        .flat_map(|m| m.keys())
        .map(|k| json!({"name": k, "href": format!("{base}/home/{name}/{}/2557", a.id), "type": "text/html"}))
        .collect();
    let mode = a.body.get("signOnMode").and_then(Value::as_str);
    let mut links = Map::new();
    // SAML apps link their setup help and IdP metadata first (every recorded SAML app:
    // okta_org2org, zoomus). Okta serves the help page on the admin domain; the simulator has one.
    if mode == Some("SAML_2_0") {
        links.insert("help".into(), json!({"href": format!("{base}/app/{name}/{}/setup/help/SAML_2_0/external-doc", a.id), "type": "text/html"}));
        links.insert(
            "metadata".into(),
            json!({"href": format!("{href}/sso/saml/metadata"), "type": "application/xml"}),
        );
    }
    let mut links = Value::Object(links);
    merge(
        &mut links,
        &json!({
            "uploadLogo": {"href": format!("{href}/logo"), "hints": {"allow": ["POST"]}},
            "appLinks": app_links,
            "profileEnrollment": {"href": format!("{base}/api/v1/policies/rstsimprofileenrol01")},
            "policies": {"href": format!("{href}/policies"), "hints": {"allow": ["PUT"]}},
            "groups": {"href": format!("{href}/groups")},
            "logo": [{"name": "medium", "href": format!("{base}/assets/img/logos/{name}.png"), "type": "image/png"}],
        }),
    );
    // OIDC clients link their client secrets, between `logo` and `accessPolicy` (every recording
    // of an OIDC app from 2025 on; the 2020 ones predate the Client Secrets API).
    if mode == Some("OPENID_CONNECT") {
        links["clientCredentials"] =
            json!([{"name": "secrets", "href": format!("{href}/credentials/secrets")}]);
    }
    links["accessPolicy"] = json!({"href": format!("{base}/api/v1/policies/rstsimaccesspolicy01")});
    links["users"] = json!({"href": format!("{href}/users")});
    if a.status == "ACTIVE" {
        links["deactivate"] = json!({"href": format!("{href}/lifecycle/deactivate")});
    } else {
        links["activate"] = json!({"href": format!("{href}/lifecycle/activate")});
    }
    v["_links"] = links;
    v
}

/// Deep merge: objects merge key by key, anything else in `overlay` replaces.
fn merge(base: &mut Value, overlay: &Value) {
    match (base, overlay) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                merge(b.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (b, o) => *b = o.clone(),
    }
}
