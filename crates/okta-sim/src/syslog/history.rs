//! Seeded System Log history: `config.log_events` events over the 30 days before start, drawn from
//! the seeded users, groups and apps. The mix covers every event type of the recorded Panther
//! fixtures (sign-ins that succeed and fail, SSO, rate-limit warnings, privilege grants, password
//! resets, API tokens, impersonation, factor deactivation, show-password) plus lifecycle, group and
//! app administration, with varied clients, networks, severities and authentication contexts.
//! Deterministic for a seed; events are built directly (no per-event locking), so a million take
//! well under a few seconds.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::json::mix;
use super::{ClientInfo, Entity, LogEvent, RequestId, Severity, uuid_v1};
use crate::Sim;
use crate::rng::Rng;

const DAY_MS: i64 = 86_400_000;
const HISTORY_MS: i64 = 30 * DAY_MS;

/// `(city, state, country, postalCode, lat, lon, network)`; network indexes `json::NETWORKS`.
const PLACES: &[(&str, &str, &str, &str, f64, f64, u8)] = &[
    (
        "San Francisco",
        "California",
        "United States",
        "94105",
        37.7852,
        -122.3874,
        2,
    ),
    (
        "Atlanta",
        "Georgia",
        "United States",
        "30350",
        33.9794,
        -84.3459,
        1,
    ),
    (
        "New York",
        "New York",
        "United States",
        "10013",
        40.7209,
        -74.0047,
        2,
    ),
    (
        "Austin",
        "Texas",
        "United States",
        "78701",
        30.2711,
        -97.7437,
        1,
    ),
    (
        "Seattle",
        "Washington",
        "United States",
        "98101",
        47.6101,
        -122.3344,
        9,
    ),
    (
        "Chicago",
        "Illinois",
        "United States",
        "60601",
        41.8857,
        -87.6181,
        2,
    ),
    (
        "London",
        "England",
        "United Kingdom",
        "EC1A",
        51.5164,
        -0.093,
        7,
    ),
    (
        "Berlin",
        "Land Berlin",
        "Germany",
        "10115",
        52.5323,
        13.3846,
        4,
    ),
    ("Tokyo", "Tokyo", "Japan", "100-0001", 35.6893, 139.6899, 5),
    (
        "Sydney",
        "New South Wales",
        "Australia",
        "2000",
        -33.8715,
        151.2006,
        6,
    ),
    ("Winnipeg", "Manitoba", "Canada", "R2C", 49.922, -96.965, 0),
    (
        "Dois Irmaos",
        "Rio Grande do Sul",
        "Brazil",
        "93950",
        -29.6116,
        -51.0933,
        0,
    ),
    (
        "Ashburn",
        "Virginia",
        "United States",
        "20149",
        39.0469,
        -77.4903,
        3,
    ),
    (
        "Amsterdam",
        "North Holland",
        "Netherlands",
        "1012",
        52.3759,
        4.8975,
        8,
    ),
];

const USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/127.0.0.0 Safari/537.36 Edg/127.0.0.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
];

/// Clients of automation (API token calls).
const API_AGENTS: &[&str] = &[
    "okta-sdk-python/2.9.2 python/3.11.4 Linux/5.15",
    "Go-http-client/2.0",
    "okta-sdk-java/10.0.0 java/17.0.2 Linux/5.10",
];

const FIRST_OCTETS: &[u8] = &[
    24, 50, 67, 73, 81, 98, 99, 104, 136, 145, 176, 185, 203, 218,
];

const PRIVILEGED_ADMINS: usize = 3;

/// What the generator draws from: entities and clients built once and shared by every event.
struct Pools {
    users: Vec<Arc<Entity>>,
    admins: Vec<Arc<Entity>>,
    groups: Vec<Arc<Entity>>,
    apps: Vec<(Arc<Entity>, String)>,
    clients: Vec<(Arc<ClientInfo>, u8)>,
    api_clients: Vec<(Arc<ClientInfo>, u8)>,
    password: Arc<Entity>,
    okta_verify: Arc<Entity>,
    dashboard: Arc<Entity>,
    sign_on_policy: Arc<Entity>,
    policy_rule: Arc<Entity>,
    token: Arc<Entity>,
    url_patterns: Vec<Arc<Entity>>,
    bucket: Arc<Entity>,
    uris: HashMap<&'static str, Arc<str>>,
    app_users: HashMap<(usize, usize), Arc<Entity>>,
    texts: HashMap<&'static str, Arc<str>>,
}

fn entity(id: String, kind: &'static str, alternate_id: &str, display_name: &str) -> Arc<Entity> {
    Arc::new(Entity {
        id,
        kind,
        alternate_id: alternate_id.to_string(),
        display_name: display_name.to_string(),
    })
}

impl Pools {
    fn build(sim: &Sim, rng: &mut Rng) -> Pools {
        let org = sim.org.read();
        let users: Vec<Arc<Entity>> = org
            .users
            .values()
            .filter(|u| u.id != org.admin_id)
            .map(|u| entity(u.id.clone(), "User", u.login(), &u.display_name()))
            .collect();
        let mut admins = vec![sim.admin.clone()];
        admins.extend(users.iter().take(PRIVILEGED_ADMINS).cloned());
        let groups = org
            .groups
            .values()
            .map(|g| {
                let name = g.profile.get("name").and_then(Value::as_str).unwrap_or("");
                entity(g.id.clone(), "UserGroup", "unknown", name)
            })
            .collect();
        let apps = org
            .apps
            .values()
            .map(|a| {
                (
                    entity(a.id.clone(), "AppInstance", a.label(), a.label()),
                    a.name().to_string(),
                )
            })
            .collect();
        drop(org);

        let client = |ua: &str,
                      place: &(
            &'static str,
            &'static str,
            &'static str,
            &'static str,
            f64,
            f64,
            u8,
        ),
                      rng: &mut Rng| {
            let ip = format!(
                "{}.{}.{}.{}",
                rng.pick(FIRST_OCTETS),
                rng.below(256),
                rng.below(256),
                1 + rng.below(254)
            );
            let (city, state, country, postal_code, lat, lon, net) = *place;
            (
                Arc::new(ClientInfo {
                    user_agent: ua.to_string(),
                    ip,
                    city,
                    state,
                    country,
                    postal_code,
                    lat,
                    lon,
                }),
                net,
            )
        };
        let clients = (0..96)
            .map(|i| {
                let place = &PLACES[i % PLACES.len()];
                let ua = USER_AGENTS[(i / PLACES.len() + i) % USER_AGENTS.len()];
                client(ua, place, rng)
            })
            .collect();
        let api_clients = API_AGENTS
            .iter()
            .map(|ua| client(ua, &PLACES[12], rng))
            .collect();
        let mut id = |prefix: &str| format!("{prefix}{}", rng.alphanumeric(17));
        let uris = [
            ("session", "/idp/idx/identify"),
            ("session_classic", "/api/v1/authn"),
            ("challenge", "/idp/idx/challenge/answer"),
            ("logout", "/login/signout"),
            ("admin", "/api/v1/users"),
            ("groups", "/api/v1/groups"),
            ("apps", "/api/v1/apps"),
            ("console", "/admin/user/profile/view"),
            ("privilege", "/api/internal/administrators"),
            ("tokens", "/api/internal/tokens"),
            ("logs", "/api/v1/logs"),
            ("factors", "/api/v1/org/factors"),
            ("password", "/idp/myaccount/password"),
            ("impersonation", "/api/internal/support/impersonation"),
            ("sso", "/app/sso/saml"),
            ("show_password", "/api/internal/app/showPassword"),
        ]
        .into_iter()
        .map(|(k, v)| (k, Arc::from(v)))
        .collect();
        Pools {
            users,
            admins,
            groups,
            apps,
            clients,
            api_clients,
            password: entity(id("lae"), "AuthenticatorEnrollment", "unknown", "Password"),
            okta_verify: entity(
                id("pfd"),
                "AuthenticatorEnrollment",
                "unknown",
                "Okta Verify",
            ),
            dashboard: entity(id("0oa"), "AppInstance", "Okta Dashboard", "Okta Dashboard"),
            sign_on_policy: entity(id("00p"), "PolicyEntity", "unknown", "Default Policy"),
            policy_rule: entity(id("0pr"), "PolicyRule", "unknown", "Catch-all Rule"),
            token: entity(id("00T"), "Token", "unknown", "ci-sync"),
            url_patterns: ["/api/v1/logs", "/api/v1/users", "/api/v1/groups"]
                .iter()
                .map(|p| entity(p.to_string(), "URL Pattern", "unknown", p))
                .collect(),
            bucket: entity(
                "b192d91c-b242-36da-9332-d97a5579f865".into(),
                "Bucket Uuid",
                "unknown",
                "Rate Limit Bucket",
            ),
            uris,
            app_users: HashMap::new(),
            texts: HashMap::new(),
        }
    }

    fn uri(&self, key: &str) -> Arc<str> {
        self.uris[key].clone()
    }

    /// A shared copy of a text many events carry (outcome reasons).
    fn text(&mut self, s: &'static str) -> Arc<str> {
        self.texts.entry(s).or_insert_with(|| Arc::from(s)).clone()
    }

    fn app_user(&mut self, app: usize, user: usize) -> Arc<Entity> {
        let u = &self.users[user];
        self.app_users
            .entry((app, user))
            .or_insert_with(|| {
                let id = format!("0ua{:017x}", mix((app as u64) << 32 | user as u64) >> 4);
                entity(id, "AppUser", &u.alternate_id, &u.display_name)
            })
            .clone()
    }
}

/// What kind of event to write, with its weight in the mix (per mille).
#[derive(Clone, Copy)]
enum Kind {
    SignIn,
    SignInFailure,
    Sso,
    Mfa,
    PolicyEvaluation,
    SignOut,
    Admin(&'static str, &'static str, AdminTarget),
    SelfService(&'static str, &'static str),
    Lock,
    PrivilegeGrant,
    PrivilegeRevoke,
    Impersonation,
    ShowPassword,
    RateLimit(bool),
    FactorDeactivate,
    Token(bool),
}

#[derive(Clone, Copy)]
enum AdminTarget {
    User,
    GroupMember,
    AppMember,
    Group,
    App,
}

const MIX: &[(Kind, u32)] = &[
    (Kind::SignIn, 290),
    (Kind::SignInFailure, 70),
    (Kind::Sso, 160),
    (Kind::Mfa, 60),
    (Kind::PolicyEvaluation, 50),
    (Kind::SignOut, 50),
    (
        Kind::Admin(
            "group.user_membership.add",
            "Add user to group membership",
            AdminTarget::GroupMember,
        ),
        30,
    ),
    (
        Kind::Admin(
            "group.user_membership.remove",
            "Remove user from group membership",
            AdminTarget::GroupMember,
        ),
        10,
    ),
    (
        Kind::Admin(
            "application.user_membership.add",
            "Add user to application membership",
            AdminTarget::AppMember,
        ),
        25,
    ),
    (
        Kind::Admin(
            "application.user_membership.remove",
            "Remove user from application membership",
            AdminTarget::AppMember,
        ),
        8,
    ),
    (
        Kind::Admin(
            "user.lifecycle.create",
            "Create Okta user",
            AdminTarget::User,
        ),
        12,
    ),
    (
        Kind::Admin(
            "user.lifecycle.activate",
            "Activate Okta user",
            AdminTarget::User,
        ),
        10,
    ),
    (
        Kind::Admin(
            "user.lifecycle.deactivate",
            "Deactivate Okta user",
            AdminTarget::User,
        ),
        6,
    ),
    (
        Kind::Admin(
            "user.lifecycle.suspend",
            "Suspend Okta user",
            AdminTarget::User,
        ),
        4,
    ),
    (
        Kind::Admin(
            "user.lifecycle.unsuspend",
            "Unsuspend Okta user",
            AdminTarget::User,
        ),
        3,
    ),
    (
        Kind::Admin(
            "user.lifecycle.reactivate",
            "Reactivate Okta user",
            AdminTarget::User,
        ),
        2,
    ),
    (
        Kind::Admin(
            "user.lifecycle.delete.initiated",
            "Delete Okta user",
            AdminTarget::User,
        ),
        1,
    ),
    (
        Kind::Admin(
            "user.account.update_profile",
            "Update user profile for Okta",
            AdminTarget::User,
        ),
        30,
    ),
    (
        Kind::Admin(
            "user.account.reset_password",
            "Fired when the user's Okta password is reset",
            AdminTarget::User,
        ),
        10,
    ),
    (
        Kind::Admin(
            "user.account.expire_password",
            "Expire user password",
            AdminTarget::User,
        ),
        3,
    ),
    (
        Kind::Admin(
            "user.account.unlock_by_admin",
            "Unlock user account by admin",
            AdminTarget::User,
        ),
        3,
    ),
    (
        Kind::Admin(
            "user.mfa.factor.reset_all",
            "Reset all factors for user",
            AdminTarget::User,
        ),
        3,
    ),
    (
        Kind::Admin(
            "user.session.clear",
            "Clear user session",
            AdminTarget::User,
        ),
        3,
    ),
    (
        Kind::Admin(
            "group.lifecycle.create",
            "Create Okta group",
            AdminTarget::Group,
        ),
        2,
    ),
    (
        Kind::Admin(
            "group.profile.update",
            "Update group profile",
            AdminTarget::Group,
        ),
        2,
    ),
    (
        Kind::Admin(
            "application.lifecycle.update",
            "Update application",
            AdminTarget::App,
        ),
        3,
    ),
    (
        Kind::Admin(
            "application.lifecycle.create",
            "Create application",
            AdminTarget::App,
        ),
        1,
    ),
    (
        Kind::SelfService(
            "user.account.update_password",
            "User update password for Okta",
        ),
        20,
    ),
    (
        Kind::SelfService("user.account.unlock", "Unlock user account"),
        3,
    ),
    (Kind::Lock, 8),
    (Kind::PrivilegeGrant, 4),
    (Kind::PrivilegeRevoke, 3),
    (Kind::Impersonation, 2),
    (Kind::ShowPassword, 8),
    (Kind::RateLimit(true), 6),
    (Kind::RateLimit(false), 3),
    (Kind::FactorDeactivate, 4),
    (Kind::Token(true), 2),
    (Kind::Token(false), 2),
];

/// Seeds the System Log with `config.log_events` events of history.
pub fn seed_history(sim: &Sim) {
    let mut rng = Rng::new(sim.config.seed ^ 0x0515_7106);
    let _ = sim
        .logs
        .meta
        .api_token_id
        .set(format!("00T{}", rng.alphanumeric(17)));
    let n = sim.config.log_events;
    if n == 0 {
        return;
    }
    let now = sim.clock.now_ms();
    let mut pools = Pools::build(sim, &mut rng);
    let total: u32 = MIX.iter().map(|(_, w)| w).sum();
    let start = now - HISTORY_MS;
    let step = (HISTORY_MS / n as i64).max(1);
    let mut events = Vec::with_capacity(n);
    for i in 0..n {
        // Persistence times rise steadily; `published` trails them by up to two seconds, and 2% of
        // events arrive minutes late, so polling order differs from `published` order.
        let stored = start
            + (i as i128 * HISTORY_MS as i128 / n as i128) as i64
            + rng.below(step as u64) as i64;
        let lag = if rng.chance(0.02) {
            30_000 + rng.below(600_000) as i64
        } else {
            rng.below(2000) as i64
        };
        let mut roll = rng.below(total as u64) as u32;
        let kind = MIX
            .iter()
            .find(|(_, w)| {
                if roll < *w {
                    true
                } else {
                    roll -= w;
                    false
                }
            })
            .map_or(Kind::SignIn, |(k, _)| *k);
        let mut ev = generate(kind, &mut pools, &mut rng, stored - lag);
        ev.stored_ms = stored;
        events.push(ev);
    }
    sim.logs.extend(events);
}

fn generate(kind: Kind, p: &mut Pools, rng: &mut Rng, published: i64) -> LogEvent {
    let user_idx = if p.users.is_empty() {
        usize::MAX
    } else {
        rng.below(p.users.len() as u64) as usize
    };
    let user = p
        .users
        .get(user_idx)
        .cloned()
        .unwrap_or_else(|| p.admins[0].clone());
    // Users sign in from home most of the time and travel now and then.
    let home = if rng.chance(0.05) {
        rng.below(p.clients.len() as u64) as usize
    } else {
        (mix(user_idx as u64) % p.clients.len() as u64) as usize
    };
    let (client, network) = p.clients[home].clone();
    let day_session = mix((user_idx as u64) << 20 ^ (published / DAY_MS) as u64) | 1;
    let mut ev = LogEvent {
        stored_ms: 0,
        published_ms: published,
        uuid: uuid_v1(published, rng.next_u64(), rng.next_u64()),
        request_id: RequestId::Hex(
            (rng.next_u64() as u128 | (rng.next_u64() as u128) << 64).to_le_bytes(),
        ),
        request_uri: p.uri("session"),
        event_type: "user.session.start",
        display_message: "User login to Okta",
        result: "SUCCESS",
        reason: None,
        actor: user.clone(),
        targets: Box::new([]),
        client,
        session: day_session,
        severity: Severity::Info,
        auth: 1,
        network,
    };
    let admin_call = |ev: &mut LogEvent, p: &Pools, rng: &mut Rng, uri: &str| {
        ev.actor = p.admins[rng.below(p.admins.len() as u64) as usize].clone();
        if rng.chance(0.5) {
            // Through the API with a token, from automation.
            let (c, net) = p.api_clients[rng.below(p.api_clients.len() as u64) as usize].clone();
            ev.client = c;
            ev.network = net;
            ev.auth = 0;
            ev.session = 0;
            ev.request_uri = p.uri(uri);
        } else {
            ev.auth = 5;
            ev.request_uri = p.uri("console");
        }
    };
    match kind {
        Kind::SignIn | Kind::SignInFailure => {
            ev.auth = match rng.below(20) {
                0..=11 => 1,
                12..=16 => 2,
                17..=18 => 3,
                _ => 4,
            };
            if ev.auth >= 3 {
                ev.request_uri = p.uri("session_classic");
            }
            let factor = if ev.auth == 2 {
                p.okta_verify.clone()
            } else {
                p.password.clone()
            };
            ev.targets = Box::new([factor, p.dashboard.clone()]);
            if matches!(kind, Kind::SignInFailure) {
                ev.result = "FAILURE";
                ev.severity = Severity::Warn;
                ev.session = 0;
                let reason = match rng.below(20) {
                    0..=11 => "INVALID_CREDENTIALS",
                    12..=16 => "VERIFICATION_ERROR",
                    17..=18 => "LOCKED_OUT",
                    _ => "UNKNOWN_USER",
                };
                if reason == "UNKNOWN_USER" {
                    ev.actor = entity(
                        "unknown".into(),
                        "User",
                        &format!("{}@example.net", rng.alphanumeric(8).to_lowercase()),
                        "unknown",
                    );
                    ev.targets = Box::new([]);
                }
                ev.reason = Some(p.text(reason));
                // Failed sign-ins come from anywhere, often through anonymising networks.
                if rng.chance(0.3) {
                    let (c, net) = p.clients[rng.below(p.clients.len() as u64) as usize].clone();
                    ev.client = c;
                    ev.network = if rng.chance(0.5) { 8 } else { net };
                }
            }
        }
        Kind::Sso => {
            ev.event_type = "user.authentication.sso";
            ev.display_message = "User single sign on to app";
            ev.auth = 5;
            ev.request_uri = p.uri("sso");
            if !p.apps.is_empty() && user_idx != usize::MAX {
                let app = rng.below(p.apps.len() as u64) as usize;
                let app_user = p.app_user(app, user_idx);
                ev.targets = Box::new([p.apps[app].0.clone(), app_user]);
            } else {
                ev.targets = Box::new([p.dashboard.clone()]);
            }
        }
        Kind::Mfa => {
            ev.event_type = "user.authentication.auth_via_mfa";
            ev.display_message = "Authentication of user via MFA";
            ev.auth = 2;
            ev.request_uri = p.uri("challenge");
            ev.targets = Box::new([p.okta_verify.clone()]);
            if rng.chance(0.08) {
                ev.result = "FAILURE";
                ev.reason = Some(p.text("INVALID_CREDENTIALS"));
                ev.severity = Severity::Error;
            }
        }
        Kind::PolicyEvaluation => {
            ev.event_type = "policy.evaluate_sign_on";
            ev.display_message = "Evaluation of sign-on policy";
            ev.severity = Severity::Debug;
            ev.auth = 5;
            ev.result = match rng.below(100) {
                0..=79 => "ALLOW",
                80..=96 => "CHALLENGE",
                _ => "DENY",
            };
            ev.reason = Some(p.text(match ev.result {
                "ALLOW" => "Sign-on policy evaluation resulted in ALLOW",
                "CHALLENGE" => "Sign-on policy evaluation resulted in CHALLENGE",
                _ => "Sign-on policy evaluation resulted in DENY",
            }));
            ev.targets = Box::new([p.sign_on_policy.clone(), p.policy_rule.clone()]);
        }
        Kind::SignOut => {
            ev.event_type = "user.session.end";
            ev.display_message = "User logout from Okta";
            ev.auth = 5;
            ev.request_uri = p.uri("logout");
        }
        Kind::Admin(event_type, message, target) => {
            ev.event_type = event_type;
            ev.display_message = message;
            let uri = match target {
                AdminTarget::User => "admin",
                AdminTarget::GroupMember | AdminTarget::Group => "groups",
                AdminTarget::AppMember | AdminTarget::App => "apps",
            };
            admin_call(&mut ev, p, rng, uri);
            ev.targets = match target {
                AdminTarget::User => Box::new([user]),
                AdminTarget::GroupMember | AdminTarget::Group if !p.groups.is_empty() => {
                    let g = p.groups[rng.below(p.groups.len() as u64) as usize].clone();
                    if matches!(target, AdminTarget::Group) {
                        Box::new([g])
                    } else {
                        Box::new([user, g])
                    }
                }
                AdminTarget::AppMember | AdminTarget::App if !p.apps.is_empty() => {
                    let a = rng.below(p.apps.len() as u64) as usize;
                    let app = p.apps[a].0.clone();
                    if matches!(target, AdminTarget::App) || user_idx == usize::MAX {
                        Box::new([app])
                    } else {
                        Box::new([p.app_user(a, user_idx), app, user])
                    }
                }
                _ => Box::new([user]),
            };
        }
        Kind::SelfService(event_type, message) => {
            ev.event_type = event_type;
            ev.display_message = message;
            ev.auth = 5;
            ev.request_uri = p.uri("password");
            ev.targets = Box::new([user]);
        }
        Kind::Lock => {
            ev.event_type = "user.account.lock";
            ev.display_message = "Max sign in attempts exceeded";
            ev.severity = Severity::Warn;
            ev.result = "FAILURE";
            ev.reason = Some(p.text("LOCKED_OUT"));
            ev.session = 0;
            ev.targets = Box::new([user]);
        }
        Kind::PrivilegeGrant | Kind::PrivilegeRevoke => {
            let grant = matches!(kind, Kind::PrivilegeGrant);
            ev.event_type = if grant {
                "user.account.privilege.grant"
            } else {
                "user.account.privilege.revoke"
            };
            ev.display_message = if grant {
                "Grant user privilege"
            } else {
                "Revoke user privilege"
            };
            admin_call(&mut ev, p, rng, "privilege");
            ev.targets = Box::new([user]);
        }
        Kind::Impersonation => {
            ev.event_type = "user.session.impersonation.grant";
            ev.display_message = "Enable impersonation grant";
            admin_call(&mut ev, p, rng, "impersonation");
        }
        Kind::ShowPassword => {
            ev.event_type = "application.user_membership.show_password";
            ev.display_message = "Show user password";
            ev.auth = 5;
            ev.request_uri = p.uri("show_password");
            if !p.apps.is_empty() && user_idx != usize::MAX {
                let a = rng.below(p.apps.len() as u64) as usize;
                ev.targets = Box::new([p.app_user(a, user_idx), p.apps[a].0.clone(), user]);
            }
        }
        Kind::RateLimit(warning) => {
            ev.event_type = if warning {
                "system.org.rate_limit.warning"
            } else {
                "system.org.rate_limit.violation"
            };
            ev.display_message = if warning {
                "Rate limit warning"
            } else {
                "Rate limit violation"
            };
            ev.severity = Severity::Warn;
            admin_call(&mut ev, p, rng, "logs");
            ev.auth = 0;
            ev.session = 0;
            ev.request_uri = p.uri("logs");
            let pattern = p.url_patterns[rng.below(p.url_patterns.len() as u64) as usize].clone();
            ev.targets = Box::new([pattern, p.bucket.clone()]);
        }
        Kind::FactorDeactivate => {
            ev.event_type = "system.mfa.factor.deactivate";
            ev.display_message = "Deactivate MFA factor type";
            ev.severity = Severity::Warn;
            admin_call(&mut ev, p, rng, "factors");
        }
        Kind::Token(create) => {
            ev.event_type = if create {
                "system.api_token.create"
            } else {
                "system.api_token.revoke"
            };
            ev.display_message = if create {
                "Create API token"
            } else {
                "Revoke API token"
            };
            admin_call(&mut ev, p, rng, "tokens");
            ev.targets = Box::new([p.token.clone()]);
        }
    }
    ev
}
