//! `/api/v1/groups`: list/search, CRUD, members and the group's apps.
//!
//! Behaviour follows the recorded traffic where it exists (test_groups_it cassettes): groups list
//! in name order, a group's `_links` are `logo`/`users`/`apps` (no `self`), `profile.description`
//! is always present (null when unset), and list `Link: rel="self"` URLs carry the default `limit`
//! when the client sent none. `q` answers are not paged and carry no `Link` header.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::routing::{any, get, put};
use axum::{Extension, Router};
use serde_json::{Map, Value, json};

use crate::Sim;
use crate::clock::iso_ms;
use crate::filter::{self, Dialect, Lookup};
use crate::http::{
    ApiError, ApiPath, ApiResult, Page, Params, json_body, no_content, ok, paginate,
};
use crate::routes::{apps, users};
use crate::state::{Group, GroupType, Org};
use crate::syslog::{NewEvent, RequestCtx};

/// `GET /groups` without `q`: Okta's default page is every group (the recorded self link is
/// `?limit=10000`, the spec's maximum).
const LIST_LIMIT: usize = 10_000;
/// `GET /groups?q=`: "The default limit for a query is 300 results" (spec).
const QUERY_LIMIT: usize = 300;
const MEMBERS_LIMIT: usize = 1000;
const GROUP_APPS_LIMIT: usize = 20;

pub fn routes() -> Router<Arc<Sim>> {
    Router::new()
        .route("/api/v1/groups", get(list_groups).post(create_group))
        .route(
            "/api/v1/groups/{group_id}",
            get(get_group).put(replace_group).delete(delete_group),
        )
        .route("/api/v1/groups/{group_id}/users", get(list_members))
        .route(
            "/api/v1/groups/{group_id}/users/{user_id}",
            put(add_member).delete(remove_member),
        )
        .route("/api/v1/groups/{group_id}/apps", get(list_group_apps))
        // Group rules are not simulated. Without these routes `/groups/rules` would be taken for a
        // group id and answer 404 E0000007, as if rules were served and a group "rules" were
        // missing; the generic "no such path" tells clients (and the replay) the truth.
        .route("/api/v1/groups/rules", any(rules_not_simulated))
        .route("/api/v1/groups/rules/{*rest}", any(rules_not_simulated))
}

async fn rules_not_simulated() -> ApiError {
    ApiError::path_not_found()
}

// ------------------------------------------------------------------------------------------
// List and search
// ------------------------------------------------------------------------------------------

async fn list_groups(State(sim): State<Arc<Sim>>, RawQuery(q): RawQuery) -> ApiResult {
    let params = Params::parse(q.as_deref());
    let base = sim.base_url().to_string();
    let filter = parse_expr(&params, "filter", Dialect::GroupFilter)?;
    let search = parse_expr(&params, "search", Dialect::GroupSearch)?;
    let query = params
        .get("q")
        .filter(|s| !s.is_empty())
        .map(str::to_lowercase);
    let stats = params.get("expand").is_some_and(|e| e.contains("stats"));
    let expand_app = params.get("expand").is_some_and(|e| e.contains("app"));
    let limit = params.limit(
        if query.is_some() {
            QUERY_LIMIT
        } else {
            LIST_LIMIT
        },
        LIST_LIMIT,
    )?;
    // sortBy applies to search queries only (spec); otherwise groups come in name order.
    let sort_by = params.get("sortBy").filter(|_| search.is_some());
    let descending = sort_by.is_some()
        && params
            .get("sortOrder")
            .is_some_and(|o| o.eq_ignore_ascii_case("desc"));

    let org = sim.org.read();
    let mut rows: Vec<(String, &Group)> = org
        .groups
        .values()
        .filter(|g| {
            query
                .as_deref()
                .is_none_or(|q| g.name().to_lowercase().starts_with(q))
        })
        .filter(|g| {
            if filter.is_none() && search.is_none() {
                return true;
            }
            let doc = lookup_doc(g);
            filter.as_ref().is_none_or(|e| e.matches(&doc))
                && search.as_ref().is_none_or(|e| e.matches(&doc))
        })
        .map(|g| (sort_key(g, sort_by), g))
        .collect();
    rows.sort_by(|a, b| (&a.0, &a.1.id).cmp(&(&b.0, &b.1.id)));
    if descending {
        rows.reverse();
    }
    let render_one = |g: &Group| {
        let mut v = render(&base, g);
        if stats || expand_app {
            v["_embedded"] = embedded(&org, &base, g, stats, expand_app);
        }
        v
    };

    if query.is_some() {
        // "You can't page a query": the first `limit` matches, no Link header (as recorded).
        let items: Vec<Value> = rows
            .iter()
            .take(limit)
            .map(|(_, g)| render_one(g))
            .collect();
        return ok(Value::Array(items));
    }
    let start = match params.get("after") {
        None | Some("") => 0,
        Some(cursor) => {
            let (after_id, after_key) = parse_cursor(&org, cursor, sort_by)?;
            rows.iter()
                .position(|(k, g)| {
                    let ord = (k.as_str(), g.id.as_str()).cmp(&(after_key.as_str(), after_id));
                    if descending { ord.is_lt() } else { ord.is_gt() }
                })
                .unwrap_or(rows.len())
        }
    };
    let page_rows = &rows[start..];
    let taken = page_rows.len().min(limit);
    // `limit=0` answers an empty page with no `next` link (a cursor after nothing would repeat the
    // same empty page forever), as `Params::limit` reads 0 for every list; users and apps do the same.
    let next_after = (taken > 0 && page_rows.len() > taken).then(|| {
        let (key, g) = &page_rows[taken - 1];
        format!("{}:{}", g.id, key)
    });
    let items = page_rows[..taken]
        .iter()
        .map(|(_, g)| render_one(g))
        .collect();
    let page = Page { items, next_after };
    Ok(page.respond(
        &base,
        "/api/v1/groups",
        &with_default_limit(&params, LIST_LIMIT),
    ))
}

fn parse_expr(params: &Params, name: &str, dialect: Dialect) -> ApiResult<Option<filter::Expr>> {
    match params.get(name) {
        None | Some("") => Ok(None),
        Some(s) => filter::parse(s, dialect)
            .map(Some)
            .map_err(|e| ApiError::invalid_search(e.message)),
    }
}

/// The attributes `filter` and `search` read: the rendered top level plus `source.id`.
fn lookup_doc(g: &Group) -> Value {
    json!({
        "id": g.id,
        "type": g.kind.as_str(),
        "created": iso_ms(g.created),
        "lastUpdated": iso_ms(g.last_updated),
        "lastMembershipUpdated": iso_ms(g.last_membership_updated),
        "profile": g.profile,
        "source": {"id": g.source_app},
    })
}

/// The key a group sorts by: its lower-cased name, or the `sortBy` attribute's value. Dates are
/// ISO strings, which sort chronologically as text.
fn sort_key(g: &Group, sort_by: Option<&str>) -> String {
    let Some(attr) = sort_by else {
        return g.name().to_lowercase();
    };
    match lookup_doc(g).lookup(attr) {
        Some(Value::String(s)) => s.to_lowercase(),
        Some(Value::Number(n)) => format!("{:020.6}", n.as_f64().unwrap_or(0.0)),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// Cursors are `{id}:{sortKey}` (opaque to clients; carrying the key keeps paging stable when the
/// cursor's group is deleted between pages). A bare group id is accepted too.
fn parse_cursor<'a>(
    org: &Org,
    cursor: &'a str,
    sort_by: Option<&str>,
) -> ApiResult<(&'a str, String)> {
    if let Some((id, key)) = cursor.split_once(':') {
        return Ok((id, key.to_string()));
    }
    match org.groups.get(cursor) {
        Some(g) => Ok((cursor, sort_key(g, sort_by))),
        None => Err(ApiError::invalid_cursor()),
    }
}

/// The `Link` query Okta echoes: the client's parameters, with `limit` made explicit when the
/// client left it out (recorded: `/groups/{id}/users?limit=1000` for a bare request).
pub(crate) fn with_default_limit(params: &Params, default: usize) -> Params {
    if params.get("limit").is_some() {
        return params.clone();
    }
    let mut out = vec![("limit".to_string(), default.to_string())];
    out.extend(params.0.iter().cloned());
    Params(out)
}

/// `_embedded` for `expand=stats` and/or `expand=app`.
fn embedded(org: &Org, base: &str, g: &Group, stats: bool, app: bool) -> Value {
    let mut out = Map::new();
    if stats {
        let users = org.members.get(&g.id).map_or(0, |m| m.len());
        let apps = org
            .app_groups
            .values()
            .filter(|a| a.contains_key(&g.id))
            .count();
        out.insert(
            "stats".into(),
            json!({
                "usersCount": users,
                "appsCount": apps,
                "groupPushMappingsCount": 0,
                "hasAdminPrivilege": false,
                "_links": {"self": {"href": format!("{base}/api/v1/groups/{}/stats", g.id)}},
            }),
        );
    }
    if app && let Some(a) = g.source_app.as_ref().and_then(|id| org.apps.get(id)) {
        out.insert(
            "app".into(),
            json!({"id": a.id, "name": a.name(), "label": a.label(),
                   "signOnMode": a.body.get("signOnMode")}),
        );
    }
    Value::Object(out)
}

// ------------------------------------------------------------------------------------------
// One group
// ------------------------------------------------------------------------------------------

async fn get_group(State(sim): State<Arc<Sim>>, ApiPath(id): ApiPath<String>) -> ApiResult {
    let org = sim.org.read();
    let g = group(&org, &id)?;
    ok(render(sim.base_url(), g))
}

async fn create_group(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<RequestCtx>,
    body: Bytes,
) -> ApiResult {
    let body = json_body(&body)?;
    let profile = group_profile(&body)?;
    let now = sim.clock.now_ms();
    let mut org = sim.org.write();
    check_unique_name(&org, &profile, None)?;
    let id = org.ids.next("00g");
    let g = Group {
        id: id.clone(),
        kind: GroupType::OktaGroup,
        created: now,
        last_updated: now,
        last_membership_updated: now,
        profile,
        source_app: None,
    };
    let out = render(sim.base_url(), &g);
    let target = g.entity();
    org.groups.insert(id, g);
    drop(org);
    sim.log(
        &ctx,
        NewEvent::success("group.lifecycle.create", "Create Okta group", vec![target]),
    );
    ok(out)
}

async fn replace_group(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<RequestCtx>,
    ApiPath(id): ApiPath<String>,
    body: Bytes,
) -> ApiResult {
    let body = json_body(&body)?;
    let mut org = sim.org.write();
    let kind = group(&org, &id)?.kind;
    if kind != GroupType::OktaGroup {
        // BUILT_IN and imported APP_GROUP profiles are not editable through the API.
        return Err(ApiError::no_permission());
    }
    let profile = group_profile(&body)?;
    check_unique_name(&org, &profile, Some(&id))?;
    let now = sim.clock.now_ms();
    let Some(g) = org.groups.get_mut(&id) else {
        return Err(ApiError::not_found(&id, "UserGroup"));
    };
    // PUT replaces the profile: attributes left out are removed (recorded: description → null).
    g.profile = profile;
    g.last_updated = now;
    let out = render(sim.base_url(), g);
    let target = g.entity();
    drop(org);
    sim.log(
        &ctx,
        NewEvent::success(
            "group.profile.update",
            "Okta group profile updated",
            vec![target],
        ),
    );
    ok(out)
}

async fn delete_group(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<RequestCtx>,
    ApiPath(id): ApiPath<String>,
) -> ApiResult {
    let mut org = sim.org.write();
    if group(&org, &id)?.kind == GroupType::BuiltIn {
        return Err(ApiError::no_permission());
    }
    let Some(g) = org.groups.remove(&id) else {
        return Err(ApiError::not_found(&id, "UserGroup"));
    };
    for uid in org.members.remove(&id).unwrap_or_default() {
        if let Some(gs) = org.user_groups.get_mut(&uid) {
            gs.retain(|g| *g != id);
        }
    }
    for assignments in org.app_groups.values_mut() {
        assignments.remove(&id);
    }
    drop(org);
    sim.log(
        &ctx,
        NewEvent::success(
            "group.lifecycle.delete",
            "Delete Okta group",
            vec![g.entity()],
        ),
    );
    no_content()
}

/// The `profile` of a POST/PUT body: an object with a non-blank `name`; `description` defaults to
/// null as Okta renders it.
fn group_profile(body: &Value) -> ApiResult<Map<String, Value>> {
    let mut profile = match body.get("profile") {
        Some(Value::Object(p)) => p.clone(),
        _ => {
            return Err(ApiError::validation(
                "profile",
                "profile: The field cannot be left blank",
            ));
        }
    };
    let name_ok = profile
        .get("name")
        .and_then(Value::as_str)
        .is_some_and(|n| !n.trim().is_empty());
    if !name_ok {
        return Err(ApiError::validation(
            "name",
            "name: The field cannot be left blank",
        ));
    }
    profile.entry("description").or_insert(Value::Null);
    Ok(profile)
}

/// Okta refuses a second group with the same name (case-insensitively).
fn check_unique_name(
    org: &Org,
    profile: &Map<String, Value>,
    except: Option<&str>,
) -> ApiResult<()> {
    let name = profile
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_lowercase();
    let taken = org
        .groups
        .values()
        .any(|g| Some(g.id.as_str()) != except && g.name().to_lowercase() == name);
    if taken {
        return Err(ApiError::validation(
            "name",
            "name: An object with this field already exists in the current organization",
        ));
    }
    Ok(())
}

// ------------------------------------------------------------------------------------------
// Members
// ------------------------------------------------------------------------------------------

async fn list_members(
    State(sim): State<Arc<Sim>>,
    ApiPath(id): ApiPath<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let params = Params::parse(q.as_deref());
    let limit = params.limit(MEMBERS_LIMIT, 10_000)?;
    let base = sim.base_url().to_string();
    let org = sim.org.read();
    group(&org, &id)?;
    let empty = Default::default();
    let members = org.members.get(&id).unwrap_or(&empty);
    let page = paginate(
        members
            .iter()
            .filter_map(|uid| org.users.get(uid).map(|u| (uid.as_str(), u))),
        params.get("after"),
        limit,
        |u| users::user_json_with_links(&base, &org.realm_id, u),
    );
    Ok(page.respond(
        &base,
        &format!("/api/v1/groups/{id}/users"),
        &with_default_limit(&params, MEMBERS_LIMIT),
    ))
}

async fn add_member(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<RequestCtx>,
    ApiPath((group_id, user_id)): ApiPath<(String, String)>,
) -> ApiResult {
    change_membership(&sim, &ctx, &group_id, &user_id, true)
}

async fn remove_member(
    State(sim): State<Arc<Sim>>,
    Extension(ctx): Extension<RequestCtx>,
    ApiPath((group_id, user_id)): ApiPath<(String, String)>,
) -> ApiResult {
    change_membership(&sim, &ctx, &group_id, &user_id, false)
}

/// Adds or removes a member: 204 either way, and an event only when something changed (adding a
/// member twice, or removing a non-member, is a silent 204).
fn change_membership(
    sim: &Sim,
    ctx: &RequestCtx,
    group_id: &str,
    user_id: &str,
    add: bool,
) -> ApiResult {
    let now = sim.clock.now_ms();
    let mut org = sim.org.write();
    check_membership_editable(&org, group_id)?;
    let user = org
        .users
        .get(user_id)
        .ok_or_else(|| ApiError::not_found(user_id, "User"))?;
    let targets = vec![user.entity(), group(&org, group_id)?.entity()];
    let changed = if add {
        org.add_member(group_id, user_id)
    } else {
        org.remove_member(group_id, user_id)
    };
    if !changed {
        return no_content();
    }
    touch_membership(&mut org, group_id, now);
    drop(org);
    let event = if add {
        NewEvent::success(
            "group.user_membership.add",
            "Add user to group membership",
            targets,
        )
    } else {
        NewEvent::success(
            "group.user_membership.remove",
            "Remove user from group membership",
            targets,
        )
    };
    sim.log(ctx, event);
    no_content()
}

/// Memberships change only on OKTA_GROUP groups. Everyone answers 501 E0000060 "Unsupported
/// operation." (okta/terraform-provider-okta#903); imported APP_GROUP groups answer 403 E0000006
/// (okta/terraform-provider-okta#118).
pub(crate) fn check_membership_editable(org: &Org, group_id: &str) -> ApiResult<()> {
    match group(org, group_id)?.kind {
        GroupType::OktaGroup => Ok(()),
        GroupType::BuiltIn => Err(ApiError::new(501, "E0000060", "Unsupported operation.")),
        GroupType::AppGroup => Err(ApiError::no_permission()),
    }
}

fn touch_membership(org: &mut Org, group_id: &str, now: i64) {
    if let Some(g) = org.groups.get_mut(group_id) {
        g.last_membership_updated = now;
    }
}

// ------------------------------------------------------------------------------------------
// The group's apps
// ------------------------------------------------------------------------------------------

async fn list_group_apps(
    State(sim): State<Arc<Sim>>,
    ApiPath(id): ApiPath<String>,
    RawQuery(q): RawQuery,
) -> ApiResult {
    let params = Params::parse(q.as_deref());
    let limit = params.limit(GROUP_APPS_LIMIT, 200)?;
    let base = sim.base_url().to_string();
    let org = sim.org.read();
    group(&org, &id)?;
    let page = paginate(
        org.apps
            .iter()
            .filter(|(app_id, _)| {
                org.app_groups
                    .get(*app_id)
                    .is_some_and(|a| a.contains_key(&id))
            })
            .map(|(k, a)| (k.as_str(), a)),
        params.get("after"),
        limit,
        |a| apps::render(&base, a),
    );
    Ok(page.respond(
        &base,
        &format!("/api/v1/groups/{id}/apps"),
        &with_default_limit(&params, GROUP_APPS_LIMIT),
    ))
}

// ------------------------------------------------------------------------------------------
// Shared pieces
// ------------------------------------------------------------------------------------------

/// A group by id, or Okta's 404 (the recorded kind word is `UserGroup`).
pub(crate) fn group<'a>(org: &'a Org, id: &str) -> ApiResult<&'a Group> {
    org.groups
        .get(id)
        .ok_or_else(|| ApiError::not_found(id, "UserGroup"))
}

/// Okta's Group JSON, with the recorded key set: no `self` link, `logo`/`users`/`apps` links, and
/// `source` for groups imported from an app.
pub fn render(base: &str, g: &Group) -> Value {
    let href = format!("{base}/api/v1/groups/{}", g.id);
    let mut profile = g.profile.clone();
    profile.entry("description").or_insert(Value::Null);
    let mut links = json!({
        "logo": [
            {"name": "medium", "href": format!("{base}/img/logos/groups/okta-medium.png"), "type": "image/png"},
            {"name": "large", "href": format!("{base}/img/logos/groups/okta-large.png"), "type": "image/png"},
        ],
        "users": {"href": format!("{href}/users")},
        "apps": {"href": format!("{href}/apps")},
    });
    if let Some(app) = &g.source_app {
        links["source"] = json!({"href": format!("{base}/api/v1/apps/{app}")});
    }
    json!({
        "id": g.id,
        "created": iso_ms(g.created),
        "lastUpdated": iso_ms(g.last_updated),
        "lastMembershipUpdated": iso_ms(g.last_membership_updated),
        "objectClass": ["okta:user_group"],
        "type": g.kind.as_str(),
        "profile": profile,
        "_links": links,
    })
}
