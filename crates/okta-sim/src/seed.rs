//! Deterministic seed data: the same `--seed` gives the same org. Names, departments and apps are
//! drawn from small realistic pools so filters and searches have something to find.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{Map, Value, json};

use crate::rng::Rng;
use crate::routes::meta;
use crate::state::{App, AppUser, Credentials, Group, GroupType, Org, Profile, User, UserStatus};
use crate::syslog::Entity;
use crate::{Sim, SimConfig};

const FIRST: &[&str] = &[
    "Alice", "Bob", "Carol", "Dave", "Erin", "Frank", "Grace", "Heidi", "Ivan", "Judy", "Mallory",
    "Niaj", "Olivia", "Peggy", "Rupert", "Sybil", "Trent", "Victor", "Walter", "Yusuf", "Zoe",
    "Amara", "Chen", "Diego", "Fatima", "Hiroshi", "Ingrid", "Kwame", "Lucía", "Mei",
];
const LAST: &[&str] = &[
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Martinez",
    "Lopez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee",
    "Okafor", "Nakamura", "Schmidt", "Rossi", "Kowalski", "Haddad", "Silva", "Kim",
];
const DEPARTMENTS: &[&str] = &[
    "Engineering",
    "Sales",
    "Marketing",
    "Finance",
    "Legal",
    "Support",
    "IT",
    "People",
];
const TITLES: &[&str] = &[
    "Engineer",
    "Senior Engineer",
    "Manager",
    "Director",
    "Analyst",
    "Specialist",
    "Associate",
];
const REGIONS: &[&str] = &["AMER", "EMEA", "APAC"];
const SKILLS: &[&str] = &[
    "rust", "go", "sql", "okta", "aws", "sales", "design", "legal",
];
const CITIES: &[(&str, &str, &str)] = &[
    ("San Francisco", "CA", "US"),
    ("New York", "NY", "US"),
    ("London", "", "GB"),
    ("Berlin", "", "DE"),
    ("Tokyo", "", "JP"),
    ("Sydney", "NSW", "AU"),
];
/// Apps as `(name, label, signOnMode)`, in the sign-on modes whose shape the recorded traffic shows.
const APPS: &[(&str, &str, &str)] = &[
    ("oidc_client", "Internal Portal", "OPENID_CONNECT"),
    ("bookmark", "Benefits Portal", "BOOKMARK"),
    ("template_swa", "Payroll", "BROWSER_PLUGIN"),
    ("template_sps", "Travel Booking", "SECURE_PASSWORD_STORE"),
    ("template_basic_auth", "Build Server", "BASIC_AUTH"),
    ("oidc_client", "Expense Tool", "OPENID_CONNECT"),
    ("bookmark", "Wiki", "BOOKMARK"),
];
const DAY_MS: i64 = 86_400_000;

/// Builds the org: admin, users, groups (Everyone first), apps, schema and user type.
pub fn org(config: &SimConfig, now: i64) -> (Org, Arc<Entity>) {
    let mut org = Org::empty(config.seed);
    let mut rng = Rng::new(config.seed);
    let domain = format!("{}.example.com", config.org_name);
    let org_created = now - 400 * DAY_MS;

    org.user_schema = meta::default_user_schema(org_created, config.require_custom_attributes);
    org.group_schema = meta::default_group_schema(org_created);
    let type_id = org.ids.next("oty");
    org.user_types.insert(
        type_id.clone(),
        meta::default_user_type(&type_id, org_created),
    );
    org.default_type_id = type_id.clone();

    // The admin whose API token the simulator prints.
    let admin_id = org.ids.next("00u");
    let mut admin_profile = Map::new();
    admin_profile.insert("login".into(), json!(format!("admin@{domain}")));
    admin_profile.insert("email".into(), json!(format!("admin@{domain}")));
    admin_profile.insert("firstName".into(), json!("Org"));
    admin_profile.insert("lastName".into(), json!("Admin"));
    admin_profile.insert("employeeId".into(), json!("E000001"));
    let admin = active_user(admin_id.clone(), admin_profile, &type_id, org_created);
    let admin_entity = admin.entity();
    org.insert_user(admin);
    org.admin_id = admin_id;

    let everyone = org.ids.next("00g");
    org.everyone_group_id = everyone.clone();
    org.groups.insert(
        everyone.clone(),
        group(
            everyone.clone(),
            GroupType::BuiltIn,
            "Everyone",
            "All users in your organization",
            org_created,
        ),
    );

    let users = (0..config.users)
        .map(|i| {
            let id = org.ids.next("00u");
            seeded_user(&mut rng, id, i, &domain, &type_id, now)
        })
        .collect();
    org.insert_users(users);

    let names: Vec<String> = (0..config.groups)
        .map(|i| match DEPARTMENTS.get(i) {
            Some(d) => d.to_string(),
            None => format!("Team {}", i - DEPARTMENTS.len() + 1),
        })
        .collect();
    let mut group_ids = Vec::new();
    for name in &names {
        let id = org.ids.next("00g");
        let created = now - (30 + rng.below(300) as i64) * DAY_MS;
        org.groups.insert(
            id.clone(),
            group(
                id.clone(),
                GroupType::OktaGroup,
                name,
                &format!("Members of {name}"),
                created,
            ),
        );
        group_ids.push(id);
    }

    let user_ids: Vec<String> = org.users.keys().cloned().collect();
    for uid in &user_ids {
        org.add_member(&everyone, uid);
        let dept = org.users[uid]
            .profile
            .get_str("department")
            .map(str::to_string);
        if let Some(pos) = dept.and_then(|d| names.iter().position(|n| *n == d)) {
            org.add_member(&group_ids[pos], uid);
        }
        if !group_ids.is_empty() && rng.chance(0.2) {
            let g = rng.pick(&group_ids).clone();
            org.add_member(&g, uid);
        }
    }

    for i in 0..config.apps {
        let (name, label, mode) = APPS[i % APPS.len()];
        let label = if i < APPS.len() {
            label.to_string()
        } else {
            format!("{label} {}", i / APPS.len() + 1)
        };
        let id = org.ids.next("0oa");
        let created = now - (60 + rng.below(300) as i64) * DAY_MS;
        org.apps
            .insert(id.clone(), app(id.clone(), name, &label, mode, created));
        // Assign a slice of users and a department group to each app.
        // Collected, not inserted one by one, so the map's nodes come out packed.
        let mut assigned: BTreeMap<String, AppUser> = user_ids
            .iter()
            .filter(|_| rng.chance(0.3))
            .map(|uid| AppUser {
                user_id: uid.clone(),
                scope: "USER",
                status: "PROVISIONED",
                created: created + DAY_MS,
                last_updated: created + DAY_MS,
                status_changed: created + DAY_MS,
                user_name: org.users[uid].login().to_string(),
                profile: Map::new(),
            })
            .map(|au| (au.user_id.clone(), au))
            .collect();
        org.app_users
            .entry(id.clone())
            .or_default()
            .append(&mut assigned);
        if let Some(g) = group_ids.get(i % group_ids.len().max(1)) {
            org.app_groups.entry(id.clone()).or_default().insert(
                g.clone(),
                crate::state::AppGroup {
                    group_id: g.clone(),
                    priority: 0,
                    last_updated: created + DAY_MS,
                    profile: Map::new(),
                },
            );
        }
    }
    org.pack();
    (org, admin_entity)
}

/// Seeds the System Log with history spread over the days before start.
pub fn history(sim: &Sim) {
    crate::syslog::seed_history(sim);
}

fn active_user(id: String, profile: Map<String, Value>, type_id: &str, created: i64) -> User {
    User {
        id,
        status: UserStatus::Active,
        transitioning_to: None,
        created,
        activated: Some(created),
        status_changed: Some(created),
        last_login: Some(created + DAY_MS),
        last_updated: created,
        password_changed: Some(created),
        type_id: type_id.to_string(),
        profile: Profile::from(profile),
        credentials: Credentials {
            password: Some("seeded".into()),
            provider_type: "OKTA".into(),
            provider_name: "OKTA".into(),
            ..Default::default()
        },
    }
}

fn seeded_user(rng: &mut Rng, id: String, i: usize, domain: &str, type_id: &str, now: i64) -> User {
    let first = *rng.pick(FIRST);
    let last = *rng.pick(LAST);
    let login = format!(
        "{}.{}{}@{domain}",
        first.to_lowercase(),
        last.to_lowercase(),
        i + 1
    );
    let (city, state, country) = *rng.pick(CITIES);
    let mut p = Map::new();
    p.insert("login".into(), json!(login));
    p.insert("email".into(), json!(login));
    p.insert("firstName".into(), json!(first));
    p.insert("lastName".into(), json!(last));
    p.insert("displayName".into(), json!(format!("{first} {last}")));
    p.insert("title".into(), json!(rng.pick(TITLES)));
    p.insert("department".into(), json!(rng.pick(DEPARTMENTS)));
    p.insert("city".into(), json!(city));
    if !state.is_empty() {
        p.insert("state".into(), json!(state));
    }
    p.insert("countryCode".into(), json!(country));
    p.insert(
        "mobilePhone".into(),
        json!(format!("+1-555-{:04}", rng.below(10_000))),
    );
    p.insert("employeeNumber".into(), json!(format!("{:06}", i + 2)));
    // Custom attributes (see meta::default_user_schema).
    p.insert("employeeId".into(), json!(format!("E{:06}", i + 2)));
    p.insert("clearanceLevel".into(), json!(rng.below(6)));
    p.insert("isContractor".into(), json!(rng.chance(0.15)));
    p.insert("region".into(), json!(rng.pick(REGIONS)));
    let skills: Vec<&str> = SKILLS
        .iter()
        .copied()
        .filter(|_| rng.chance(0.25))
        .collect();
    p.insert("skills".into(), json!(skills));

    let created = now - (1 + rng.below(365) as i64) * DAY_MS - rng.below(DAY_MS as u64) as i64;
    let mut user = active_user(id, p, type_id, created);
    // A realistic mix of statuses; most users are ACTIVE.
    let roll = rng.below(100);
    let status = match roll {
        0..=79 => UserStatus::Active,
        80..=84 => UserStatus::Staged,
        85..=87 => UserStatus::Provisioned,
        88..=90 => UserStatus::Suspended,
        91..=92 => UserStatus::LockedOut,
        93..=94 => UserStatus::PasswordExpired,
        95 => UserStatus::Recovery,
        _ => UserStatus::Deprovisioned,
    };
    user.status = status;
    let changed = created + rng.below((now - created).max(1) as u64) as i64;
    user.status_changed = Some(changed);
    user.last_updated = changed;
    if matches!(status, UserStatus::Staged | UserStatus::Provisioned) {
        user.activated = None;
        user.last_login = None;
        user.password_changed = None;
        user.credentials.password = None;
    }
    user
}

fn group(id: String, kind: GroupType, name: &str, description: &str, created: i64) -> Group {
    let mut profile = Map::new();
    profile.insert("name".into(), json!(name));
    profile.insert("description".into(), json!(description));
    Group {
        id,
        kind,
        created,
        last_updated: created,
        last_membership_updated: created,
        profile,
        source_app: None,
    }
}

/// An app body in the shape Okta returns for its sign-on mode (as recorded from real orgs).
fn app(id: String, name: &str, label: &str, mode: &str, created: i64) -> App {
    let slug = label.to_lowercase().replace(' ', "-");
    let url = format!("https://{slug}.example.com/login");
    let vpn =
        json!({"vpn": {"network": {"connection": "DISABLED"}, "message": null, "helpUrl": null}});
    let password_credentials = json!({"scheme": "EDIT_USERNAME_AND_PASSWORD",
        "userNameTemplate": {"template": "${source.login}", "type": "BUILT_IN"},
        "revealPassword": false, "signing": {}});
    let (credentials, settings, app_links) = match mode {
        "OPENID_CONNECT" => (
            json!({"userNameTemplate": {"template": "${source.login}", "type": "BUILT_IN"},
                   "signing": {}, "oauthClient": {"autoKeyRotation": true, "client_id": id,
                   "token_endpoint_auth_method": "client_secret_basic"}}),
            json!({"app": {}, "notifications": vpn,
                   "oauthClient": {"client_uri": format!("https://{slug}.example.com"), "logo_uri": null,
                   "redirect_uris": [format!("https://{slug}.example.com/callback")],
                   "response_types": ["code"], "grant_types": ["authorization_code", "refresh_token"],
                   "application_type": "web", "issuer_mode": "ORG_URL"}}),
            json!({"oidc_client_link": true}),
        ),
        "BOOKMARK" => (
            json!({"userNameTemplate": {"template": "${source.login}", "type": "BUILT_IN"}, "signing": {}}),
            json!({"app": {"requestIntegration": false, "url": url}, "notifications": vpn,
                   "manualProvisioning": false, "implicitAssignment": false,
                   "notes": {"admin": null, "enduser": null}}),
            json!({"login": true}),
        ),
        "BROWSER_PLUGIN" => (
            password_credentials,
            json!({"app": {"buttonField": "btn-login", "passwordField": "txtbox-password",
                   "usernameField": "txtbox-username", "url": url, "loginUrlRegex": null},
                   "notifications": vpn}),
            json!({"login": true}),
        ),
        "SECURE_PASSWORD_STORE" => (
            password_credentials,
            json!({"app": {"url": url, "usernameField": "username", "passwordField": "password"},
                   "notifications": vpn}),
            json!({"login": true}),
        ),
        _ => (
            password_credentials,
            json!({"app": {"url": url, "authURL": url, "loginUrlRegex": null}, "notifications": vpn}),
            json!({"login": true}),
        ),
    };
    let mut body = Map::new();
    body.insert("name".into(), json!(name));
    body.insert("label".into(), json!(label));
    body.insert(
        "accessibility".into(),
        json!({"selfService": false, "errorRedirectUrl": null, "loginRedirectUrl": null}),
    );
    body.insert(
        "visibility".into(),
        json!({"autoLaunch": false, "autoSubmitToolbar": false,
               "hide": {"iOS": false, "web": false}, "appLinks": app_links}),
    );
    body.insert("features".into(), json!([]));
    body.insert("signOnMode".into(), json!(mode));
    body.insert("credentials".into(), credentials);
    body.insert("settings".into(), settings);
    App {
        id,
        status: "ACTIVE".into(),
        created,
        last_updated: created,
        body,
    }
}
