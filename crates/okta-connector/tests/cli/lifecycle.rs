//! The lifecycle, membership and assignment actions from the CLI against a simulated org: each
//! change checked in the simulator's state, each illegal transition refused with its explanation
//! and no write sent, each repeat answered "already" without a write.

use okta_sim::state::UserStatus;
use serde_json::{Value, json};

use crate::actions::Org;
use crate::describe;

/// Requests that could change the org (anything but GET), from the simulator's counters.
fn writes(org: &Org) -> u64 {
    let snapshot = org.server.sim().counters.snapshot();
    snapshot["routes"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(route, _)| !route.starts_with("GET "))
        .flat_map(|(_, by_status)| by_status.as_object().unwrap().values())
        .map(|n| n.as_u64().unwrap())
        .sum()
}

/// Runs an action and expects success; its one JSON object.
fn act(org: &Org, name: &str, input: Value) -> Value {
    org.json(&["actions", "run", name, "--input", &input.to_string()])
}

/// Runs an action that must fail without writing anything; its exit code and stderr.
fn refused(org: &Org, name: &str, input: Value) -> (i32, String) {
    let before = writes(org);
    let out = org.run(&["actions", "run", name, "--input", &input.to_string()]);
    assert!(!out.status.success(), "{name} {input}\n{}", describe(&out));
    assert_eq!(
        writes(org),
        before,
        "{name} sent a write\n{}",
        describe(&out)
    );
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// Runs an action twice-safe: expects `changed: false` and no write.
fn unchanged(org: &Org, name: &str, input: Value) -> Value {
    let before = writes(org);
    let out = act(org, name, input);
    assert_eq!(out["changed"], false, "{name}: {out}");
    assert!(
        out["message"].as_str().unwrap().contains("already"),
        "{out}"
    );
    assert_eq!(writes(org), before, "{name} sent a write on a repeat");
    out
}

fn status(org: &Org, id: &str) -> UserStatus {
    org.org().users[id].status
}

fn set_status(org: &Org, id: &str, status: UserStatus) {
    org.server
        .sim()
        .org
        .write()
        .users
        .get_mut(id)
        .unwrap()
        .status = status;
}

fn profile(login: &str, n: u32) -> Value {
    json!({
        "login": login, "email": login, "firstName": "Test", "lastName": format!("User{n}"),
        "employeeId": format!("E9{n:05}"),
    })
}

/// Creates a user through the action; its id.
fn create(org: &Org, n: u32, extra: Value) -> (String, String) {
    let login = format!("life{n}@example.com");
    let mut input = json!({"profile": profile(&login, n)});
    input
        .as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let out = act(org, "create_user", input);
    assert_eq!(out["changed"], true, "{out}");
    (out["id"].as_str().unwrap().to_string(), login)
}

/// An OKTA_GROUP group of the seeded org.
fn okta_group(org: &Org) -> String {
    let o = org.org();
    o.groups
        .values()
        .find(|g| g.kind == okta_sim::state::GroupType::OktaGroup)
        .unwrap()
        .id
        .clone()
}

#[test]
fn create_with_every_kind_of_credentials() {
    let org = Org::start();
    let group = okta_group(&org);
    let everyone = org.org().everyone_group_id.clone();

    // Staged with a password and a recovery question, in a group, through the friendly command.
    let login = "life1@example.com";
    let out = org.json(&[
        "users",
        "create",
        "--profile",
        &profile(login, 1).to_string(),
        "--password",
        "Xyzzy-Plugh-42",
        "--recovery-question",
        "Favourite colour?",
        "--recovery-answer",
        "Octarine",
        "--group-ids",
        &group,
        "--stage",
    ]);
    let id = out["id"].as_str().unwrap().to_string();
    assert_eq!(out["status"], "STAGED");
    assert_eq!(out["user"]["profile"]["login"], login);
    {
        let o = org.org();
        let user = &o.users[&id];
        assert_eq!(user.status, UserStatus::Staged);
        assert_eq!(user.credentials.password.as_deref(), Some("Xyzzy-Plugh-42"));
        assert_eq!(
            user.credentials.recovery_question.as_deref(),
            Some("Favourite colour?")
        );
        assert!(o.members[&group].contains(&id));
        assert!(o.members[&everyone].contains(&id));
    }

    // Activated at once without credentials: PROVISIONED until the user finishes activation.
    let (id, _) = create(&org, 2, json!({}));
    assert_eq!(status(&org, &id), UserStatus::Provisioned);

    // An external provider: ACTIVE without a password.
    let (id, _) = create(&org, 3, json!({"provider": "FEDERATION"}));
    assert_eq!(status(&org, &id), UserStatus::Active);
    assert_eq!(org.org().users[&id].credentials.provider_type, "FEDERATION");

    // nextLogin: the password is expired at once.
    let (id, _) = create(
        &org,
        4,
        json!({"password": "Xyzzy-Plugh-42", "nextLogin": "changePassword"}),
    );
    assert_eq!(status(&org, &id), UserStatus::PasswordExpired);

    // The Everyone group is refused before the user is created.
    let users = org.org().users.len();
    let (code, stderr) = refused(
        &org,
        "create_user",
        json!({"profile": profile("life5@example.com", 5), "groupIds": [group, everyone]}),
    );
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("Everyone") && stderr.contains(&everyone),
        "{stderr}"
    );
    assert_eq!(org.org().users.len(), users);

    // Rules the schema cannot say, before any request.
    let before = org.requests();
    let (code, stderr) = refused(
        &org,
        "create_user",
        json!({"profile": profile("life6@example.com", 6), "nextLogin": "changePassword"}),
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("needs a password"), "{stderr}");
    assert_eq!(org.requests(), before);
}

#[test]
fn activate_returns_the_link_and_refuses_an_active_user() {
    let org = Org::start();
    let (id, login) = create(
        &org,
        1,
        json!({"password": "Xyzzy-Plugh-42", "stage": true}),
    );

    // By login; no email, so the URL and token come back.
    let out = org.json(&["users", "activate", &login]);
    assert_eq!(out["changed"], true);
    assert_eq!(out["id"], id.as_str());
    assert_eq!(out["previousStatus"], "STAGED");
    assert_eq!(out["status"], "ACTIVE");
    let token = out["activationToken"].as_str().unwrap();
    assert!(out["activationUrl"].as_str().unwrap().contains(token));
    assert_eq!(status(&org, &id), UserStatus::Active);

    let (code, stderr) = refused(&org, "activate_user", json!({"user": id}));
    assert_eq!(code, 4, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "activate needs a STAGED or DEPROVISIONED user; {login} is ACTIVE"
        )),
        "{stderr}"
    );

    // With the email: no link in the output.
    let (id, _) = create(&org, 2, json!({"stage": true}));
    let out = act(
        &org,
        "activate_user",
        json!({"user": id, "sendEmail": true}),
    );
    assert!(out.get("activationUrl").is_none(), "{out}");
    assert_eq!(out["status"], "PROVISIONED");

    // A PROVISIONED user is reactivated instead, and told so when activated.
    let (_, stderr) = refused(&org, "activate_user", json!({"user": id}));
    assert!(stderr.contains("reactivate_user"), "{stderr}");
    let out = act(&org, "reactivate_user", json!({"user": id}));
    assert!(out["activationUrl"].as_str().is_some(), "{out}");
    assert_eq!(status(&org, &id), UserStatus::Provisioned);
    set_status(&org, &id, UserStatus::Active);
    let (code, stderr) = refused(&org, "reactivate_user", json!({"user": id}));
    assert_eq!(code, 4);
    assert!(
        stderr.contains("reactivate needs a PROVISIONED or RECOVERY user"),
        "{stderr}"
    );
}

#[test]
fn update_partial_replace_and_empty_values() {
    let org = Org::start();
    let (id, login) = create(&org, 1, json!({"password": "Xyzzy-Plugh-42"}));

    let out = org.json(&[
        "users",
        "update",
        &login,
        "--profile",
        r#"{"title": "Engineer", "city": "Oslo", "nickName": ""}"#,
    ]);
    assert_eq!(out["changed"], true, "{out}");
    assert_eq!(out["user"]["profile"]["title"], "Engineer");
    {
        let o = org.org();
        let p = o.users[&id].profile.to_map();
        assert_eq!(p["title"], "Engineer");
        assert_eq!(p["city"], "Oslo");
        // The empty value was dropped, not sent.
        assert!(!p.contains_key("nickName"));
    }

    // The same values again: nothing to send.
    unchanged(
        &org,
        "update_user",
        json!({"user": id, "profile": {"title": "Engineer"}}),
    );

    // Empty values only: dropped, so nothing is left to change.
    let (code, stderr) = refused(
        &org,
        "update_user",
        json!({"user": id, "profile": {"title": ""}}),
    );
    assert_eq!(code, 2);
    assert!(stderr.contains("passEmptyValues"), "{stderr}");

    // With passEmptyValues a null clears the attribute.
    let out = act(
        &org,
        "update_user",
        json!({"user": id, "profile": {"city": null}, "passEmptyValues": true}),
    );
    assert_eq!(out["changed"], true);
    assert!(!org.org().users[&id].profile.to_map().contains_key("city"));

    // A replacement removes what is left out.
    let mut whole = profile(&login, 1);
    whole["costCenter"] = json!("CC-7");
    let out = act(
        &org,
        "update_user",
        json!({"user": login, "profile": whole, "replace": true}),
    );
    assert_eq!(out["changed"], true);
    let p = org.org().users[&id].profile.to_map();
    assert_eq!(p["costCenter"], "CC-7");
    assert!(!p.contains_key("title"), "{p:?}");

    // A DEPROVISIONED user is not updated.
    set_status(&org, &id, UserStatus::Deprovisioned);
    let (code, stderr) = refused(
        &org,
        "update_user",
        json!({"user": id, "profile": {"title": "x"}}),
    );
    assert_eq!(code, 4);
    assert!(stderr.contains("DEPROVISIONED"), "{stderr}");
}

#[test]
fn deactivate_and_the_two_step_delete() {
    let org = Org::start();
    let (id, login) = create(&org, 1, json!({"password": "Xyzzy-Plugh-42"}));
    let out = org.json(&["users", "deactivate", &login, "--async"]);
    assert_eq!(out["changed"], true);
    assert_eq!(status(&org, &id), UserStatus::Deprovisioned);
    unchanged(&org, "deactivate_user", json!({"user": id}));

    // Deleting an active user: deactivated, then deleted, both reported.
    let (id, login) = create(&org, 2, json!({"password": "Xyzzy-Plugh-42"}));
    let out = org.json(&["users", "delete", &login]);
    assert_eq!(out["steps"], json!(["deactivated", "deleted"]), "{out}");
    assert_eq!(out["previousStatus"], "ACTIVE");
    assert!(!org.org().users.contains_key(&id));
    assert_eq!(
        org.server.sim().counters.count("DELETE /api/v1/users/{id}"),
        2
    );

    // A deactivated one: one step.
    let (id, _) = create(&org, 3, json!({}));
    act(&org, "deactivate_user", json!({"user": id}));
    let out = act(&org, "delete_user", json!({"user": id}));
    assert_eq!(out["steps"], json!(["deleted"]));
    assert!(!org.org().users.contains_key(&id));

    // Gone: Okta's 404 (exit 4).
    let out = org.run(&["users", "delete", &id]);
    assert_eq!(out.status.code(), Some(4), "{}", describe(&out));
}

#[test]
fn suspend_unsuspend_unlock() {
    let org = Org::start();
    let (id, login) = create(&org, 1, json!({"password": "Xyzzy-Plugh-42"}));
    let out = org.json(&["users", "suspend", &login]);
    assert_eq!(
        (out["changed"].clone(), out["status"].clone()),
        (json!(true), json!("SUSPENDED"))
    );
    assert_eq!(status(&org, &id), UserStatus::Suspended);
    unchanged(&org, "suspend_user", json!({"user": login}));
    let (code, stderr) = refused(&org, "unlock_user", json!({"user": id}));
    assert_eq!(code, 4);
    assert!(
        stderr.contains(&format!(
            "unlock needs a LOCKED_OUT user; {login} is SUSPENDED"
        )),
        "{stderr}"
    );
    org.json(&["users", "unsuspend", &id]);
    assert_eq!(status(&org, &id), UserStatus::Active);
    unchanged(&org, "unsuspend_user", json!({"user": id}));

    set_status(&org, &id, UserStatus::LockedOut);
    let (_, stderr) = refused(&org, "suspend_user", json!({"user": id}));
    assert!(
        stderr.contains(&format!(
            "suspend needs an ACTIVE or PASSWORD_EXPIRED user; {login} is LOCKED_OUT"
        )),
        "{stderr}"
    );
    org.json(&["users", "unlock", &login]);
    assert_eq!(status(&org, &id), UserStatus::Active);
    unchanged(&org, "unlock_user", json!({"user": id}));

    let (staged, _) = create(&org, 2, json!({"stage": true}));
    for name in ["suspend_user", "unsuspend_user", "unlock_user"] {
        let (code, stderr) = refused(&org, name, json!({"user": staged}));
        assert_eq!(code, 4, "{name}: {stderr}");
        assert!(stderr.contains("is STAGED"), "{name}: {stderr}");
    }
    assert_eq!(status(&org, &staged), UserStatus::Staged);
}

#[test]
fn passwords_factors_and_sessions() {
    let org = Org::start();
    let (id, login) = create(&org, 1, json!({"password": "Xyzzy-Plugh-42"}));

    let out = org.json(&["users", "expire-password", &login]);
    assert_eq!(out["status"], "PASSWORD_EXPIRED");
    assert_eq!(status(&org, &id), UserStatus::PasswordExpired);
    unchanged(&org, "expire_password", json!({"user": id}));

    // A temporary password is returned, and it is the user's password now.
    let out = act(
        &org,
        "expire_password",
        json!({"user": id, "tempPassword": true}),
    );
    let temp = out["tempPassword"].as_str().unwrap();
    assert_eq!(
        org.org().users[&id].credentials.password.as_deref(),
        Some(temp)
    );

    // Reset: RECOVERY, with the URL since no email is sent.
    let out = org.json(&["users", "reset-password", &login]);
    assert!(
        out["resetPasswordUrl"]
            .as_str()
            .unwrap()
            .starts_with("http"),
        "{out}"
    );
    assert_eq!(status(&org, &id), UserStatus::Recovery);
    let out = act(
        &org,
        "reset_password",
        json!({"user": id, "sendEmail": true}),
    );
    assert!(out.get("resetPasswordUrl").is_none());

    // The forgotten-password flow needs an ACTIVE user and leaves it ACTIVE.
    let (code, stderr) = refused(&org, "reset_forgotten_password", json!({"user": id}));
    assert_eq!(code, 4);
    assert!(
        stderr.contains(&format!(
            "reset_forgotten_password needs an ACTIVE user; {login} is RECOVERY"
        )),
        "{stderr}"
    );
    let (active, _) = create(&org, 2, json!({"password": "Xyzzy-Plugh-42"}));
    let out = act(&org, "reset_forgotten_password", json!({"user": active}));
    assert!(out["resetPasswordUrl"].as_str().is_some(), "{out}");
    assert_eq!(status(&org, &active), UserStatus::Active);

    // Not for a STAGED user.
    let (staged, _) = create(&org, 3, json!({"stage": true}));
    for name in ["expire_password", "reset_password"] {
        let (code, stderr) = refused(&org, name, json!({"user": staged}));
        assert_eq!(code, 4, "{stderr}");
        assert!(stderr.contains("is STAGED"), "{stderr}");
    }

    let sim = org.server.sim();
    let lifecycle = "POST /api/v1/users/{id}/lifecycle/{op}";
    let before = sim.counters.count(lifecycle);
    let out = act(&org, "reset_factors", json!({"user": login}));
    assert_eq!(out["changed"], true);
    assert_eq!(sim.counters.count(lifecycle), before + 1);
    let out = act(
        &org,
        "clear_user_sessions",
        json!({"user": login, "oauthTokens": true}),
    );
    assert!(out["message"].as_str().unwrap().contains("OAuth"), "{out}");
    assert_eq!(sim.counters.count("DELETE /api/v1/users/{id}/sessions"), 1);
    set_status(&org, &active, UserStatus::Deprovisioned);
    refused(&org, "reset_factors", json!({"user": active}));
}

#[test]
fn group_membership() {
    let org = Org::start();
    let group = okta_group(&org);
    let (id, login) = create(&org, 1, json!({"password": "Xyzzy-Plugh-42"}));

    let out = org.json(&["groups", "add-member", &login, "--group", &group]);
    assert_eq!(out["changed"], true, "{out}");
    assert!(org.org().members[&group].contains(&id));
    unchanged(
        &org,
        "add_user_to_group",
        json!({"user": id, "group": group}),
    );

    let out = org.json(&["groups", "remove-member", &id, "--group", &group]);
    assert_eq!(out["changed"], true);
    assert!(!org.org().members[&group].contains(&id));
    unchanged(
        &org,
        "remove_user_from_group",
        json!({"user": login, "group": group}),
    );

    let everyone = org.org().everyone_group_id.clone();
    let (code, stderr) = refused(
        &org,
        "remove_user_from_group",
        json!({"user": id, "group": everyone}),
    );
    assert_eq!(code, 4);
    assert!(stderr.contains("built-in group"), "{stderr}");
    assert!(org.org().members[&everyone].contains(&id));
}

#[test]
fn app_assignments() {
    let org = Org::start();
    let app = org.org().apps.keys().next().unwrap().clone();
    let (id, login) = create(&org, 1, json!({"password": "Xyzzy-Plugh-42"}));

    let out = act(
        &org,
        "assign_user_to_app",
        json!({"user": login, "app": app, "userName": "life1"}),
    );
    assert_eq!(out["changed"], true, "{out}");
    assert_eq!(out["appUser"]["credentials"]["userName"], "life1");
    assert_eq!(org.org().app_users[&app][&id].scope, "USER");
    unchanged(&org, "assign_user_to_app", json!({"user": id, "app": app}));

    let out = act(
        &org,
        "unassign_user_from_app",
        json!({"user": id, "app": app}),
    );
    assert_eq!(out["changed"], true);
    assert!(!org.org().app_users[&app].contains_key(&id));
    unchanged(
        &org,
        "unassign_user_from_app",
        json!({"user": login, "app": app}),
    );

    act(&org, "deactivate_user", json!({"user": id}));
    let (code, stderr) = refused(&org, "assign_user_to_app", json!({"user": id, "app": app}));
    assert_eq!(code, 4);
    assert!(stderr.contains("DEPROVISIONED"), "{stderr}");
}

#[test]
fn profiles_are_checked_against_the_orgs_schema_before_anything_is_sent() {
    let org = Org::start();
    let (code, err) = refused(
        &org,
        "create_user",
        json!({"profile": {
            "login": "bad.profile@acme.example.com",
            "email": "bad.profile@acme.example.com",
            "firstName": "Bad",
            "lastName": "Profile",
            "clearanceLevel": 9,
            "region": "Atlantis",
            "nickname": "bp",
        }}),
    );
    assert_eq!(code, 2, "{err}");
    for field in [
        "profile.employeeId: required",
        "profile.clearanceLevel: 9 is above the maximum",
        "profile.region",
        "profile.nickname: not an attribute",
    ] {
        assert!(err.contains(field), "{field} missing from: {err}");
    }
    // A partial update checks only what it sets: clearing a required attribute is refused.
    let (_, id) = create(&org, 901, json!({}));
    let (code, err) = refused(
        &org,
        "update_user",
        json!({"user": id, "profile": {"employeeId": null}, "passEmptyValues": true}),
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("profile.employeeId"), "{err}");
}

#[test]
fn describe_with_a_connection_shows_the_orgs_profile_fields() {
    let org = Org::start();
    let mut add = org.cli();
    add.args([
        "connections",
        "add",
        "sim",
        "--org-url",
        org.server.base_url(),
        "--secret-stdin",
    ])
    .stdin(std::process::Stdio::piped())
    .stdout(std::process::Stdio::piped())
    .stderr(std::process::Stdio::piped());
    let mut child = add.spawn().unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(org.server.api_token().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", describe(&out));

    let doc = org.json(&[
        "actions",
        "describe",
        "create_user",
        "-c",
        "sim",
        "-o",
        "json",
    ]);
    let profile = &doc["inputSchema"]["properties"]["profile"];
    for custom in [
        "employeeId",
        "clearanceLevel",
        "isContractor",
        "region",
        "skills",
        "startDate",
    ] {
        assert!(
            profile["properties"][custom].is_object(),
            "{custom} missing: {profile}"
        );
    }
    let required: Vec<&str> = profile["required"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        required.contains(&"employeeId") && required.contains(&"login"),
        "{required:?}"
    );
    // Without a connection the schema says the profile is the org's, without guessing its fields.
    let out = org.run(&["actions", "describe", "create_user"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("add --connection NAME"));
}
