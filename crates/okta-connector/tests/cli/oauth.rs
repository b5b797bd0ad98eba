//! The two OAuth connection types end to end: `connections add`, `login`, `test` and a discovery action,
//! against the simulator in-process with registered OAuth apps; DPoP on, off and auto; each failure's
//! diagnosis; and no secret in any output or in the database file.

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use okta_client::PrivateKey;
use okta_connector::connections::credentials::Credentials;
use okta_connector::connections::store::{DB_FILE, Store};
use okta_sim::{SimConfig, SimServer};
use serde_json::{Value, json};

use crate::{cmd, describe};

const MASTER_KEY: &str = "0f0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const WEB_SECRET: &str = "web-client-secret-aaaaBBBBccccDDDD";
const RSA_PKCS1: &str = include_str!("../keys/rsa-pkcs1.pem");
const RSA_PKCS8: &str = include_str!("../keys/rsa-pkcs8.pem");
const SCOPES: &str = "okta.logs.read okta.schemas.read okta.users.read";

/// A simulated org with OAuth apps, a state directory, and the secrets no output may contain.
struct Org {
    server: SimServer,
    rt: tokio::runtime::Runtime,
    dir: tempfile::TempDir,
    secrets: std::cell::RefCell<Vec<String>>,
}

impl Org {
    fn start(apps: Vec<Value>) -> Org {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let rt = tokio::runtime::Runtime::new().unwrap();
        let config = SimConfig {
            users: 20,
            log_events: 10,
            oauth_apps: apps
                .into_iter()
                .map(|a| serde_json::from_value(a).unwrap())
                .collect(),
            ..SimConfig::small()
        };
        let server = rt
            .block_on(okta_sim::spawn(config, "127.0.0.1:0".parse().unwrap()))
            .unwrap();
        Org {
            server,
            rt,
            dir: tempfile::tempdir().unwrap(),
            secrets: std::cell::RefCell::new(vec![WEB_SECRET.to_string()]),
        }
    }

    fn url(&self) -> String {
        self.server.base_url().to_string()
    }

    fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut c = cmd();
        c.env("HOME", self.dir.path())
            .env("OKTA_CONNECTOR_MASTER_KEY", MASTER_KEY)
            .arg("--state")
            .arg(self.state())
            .args(args);
        c
    }

    fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut c = self.command(args);
        c.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        if let Some(text) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        let out = child.wait_with_output().unwrap();
        self.assert_no_secret(&out);
        out
    }

    /// stdout and stderr of a command that must succeed.
    fn ok(&self, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.run(args, stdin);
        assert!(out.status.success(), "{args:?}: {}", describe(&out));
        text(&out)
    }

    /// stdout and stderr of a command that must fail with `code`.
    fn fails(&self, code: i32, args: &[&str], stdin: Option<&str>) -> String {
        let out = self.run(args, stdin);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{args:?}: {}",
            describe(&out)
        );
        text(&out)
    }

    fn assert_no_secret(&self, out: &Output) {
        let printed = text(out);
        for secret in self.secrets.borrow().iter() {
            assert!(
                !printed.contains(secret.as_str()),
                "a secret was printed: {}",
                describe(out)
            );
        }
    }

    /// Adds a client-credentials connection whose key is `key_pem` (piped in).
    fn add_service(&self, name: &str, client_id: &str, key_pem: &str, extra: &[&str]) -> Output {
        let url = self.url();
        let mut args = vec![
            "connections",
            "add",
            name,
            "--org-url",
            &url,
            "--auth",
            "client-credentials",
            "--client-id",
            client_id,
            "--scopes",
            SCOPES,
            "--secret-stdin",
        ];
        args.extend_from_slice(extra);
        self.run(&args, Some(key_pem))
    }

    fn stored(&self, name: &str) -> Credentials {
        Store::open(&self.state(), Some(MASTER_KEY.into()))
            .unwrap()
            .credentials(name)
            .unwrap()
    }

    fn db_contains(&self, needle: &str) -> bool {
        let bytes = std::fs::read(self.state().join(DB_FILE)).unwrap();
        bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
    }

    /// A browser: GETs `url` without following redirects; the status and the Location.
    fn browse(&self, url: &str) -> (u16, Option<String>, String) {
        self.rt.block_on(async {
            let client = reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap();
            let response = client.get(url).send().await.unwrap();
            let location = response
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_string());
            (
                response.status().as_u16(),
                location,
                response.text().await.unwrap(),
            )
        })
    }
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The middle lines of a PEM: what would show if the key leaked.
fn pem_body(pem: &str) -> String {
    pem.lines().nth(2).unwrap().to_string()
}

fn service_app(client_id: &str, key: &PrivateKey, dpop_required: bool, admin_role: bool) -> Value {
    json!({
        "clientId": client_id,
        "type": "service",
        "jwks": {"keys": [key.public_jwk()]},
        "grantedScopes": SCOPES.split(' ').collect::<Vec<_>>(),
        "adminRole": admin_role,
        "dpopRequired": dpop_required,
    })
}

#[test]
fn client_credentials_with_dpop_auto_on_and_off() {
    let ec = PrivateKey::generate_es256();
    let ec_pem = ec.to_text().expose().to_string();
    let rsa = PrivateKey::parse(RSA_PKCS1).unwrap();
    let org = Org::start(vec![
        service_app("0oaDPOP", &ec, true, true),
        service_app("0oaPLAIN", &rsa, false, true),
    ]);
    org.secrets
        .borrow_mut()
        .extend([pem_body(&ec_pem), pem_body(RSA_PKCS1), pem_body(RSA_PKCS8)]);

    // The ES256 key from a file; the app requires DPoP and auto mode finds out.
    let key_file = org.dir.path().join("ec.pem");
    std::fs::write(&key_file, &ec_pem).unwrap();
    let out = org.ok(
        &[
            "connections",
            "add",
            "svc",
            "--org-url",
            &org.url(),
            "--auth",
            "client-credentials",
            "--client-id",
            "0oaDPOP",
            "--scopes",
            SCOPES,
            "--private-key-file",
            key_file.to_str().unwrap(),
        ],
        None,
    );
    assert!(
        out.contains("OAuth client credentials") && out.contains("connections test svc"),
        "{out}"
    );
    let out = org.ok(&["connections", "test", "svc"], None);
    assert!(
        out.contains("DPoP: on, because the app requires it"),
        "{out}"
    );
    assert!(out.contains("The connection works."), "{out}");
    let out = org.ok(
        &[
            "-c", "svc", "users", "search", "--limit", "3", "--output", "json",
        ],
        None,
    );
    assert!(out.contains("\"login\""), "a discovery action works: {out}");

    // RSA PKCS#1 and PKCS#8 through stdin, an app without DPoP: auto stays off, on is on.
    assert!(
        org.add_service("rsa1", "0oaPLAIN", RSA_PKCS1, &[])
            .status
            .success()
    );
    let out = org.ok(&["connections", "test", "rsa1"], None);
    assert!(out.contains("DPoP: off"), "{out}");
    assert!(
        org.add_service("rsa8", "0oaPLAIN", RSA_PKCS8, &[])
            .status
            .success()
    );
    org.ok(
        &[
            "-c", "rsa8", "users", "search", "--limit", "2", "--output", "json",
        ],
        None,
    );
    assert!(
        org.add_service("on", "0oaDPOP", &ec_pem, &["--dpop", "on"])
            .status
            .success()
    );
    let out = org.ok(&["connections", "test", "on"], None);
    assert!(out.contains("DPoP: on (--dpop on)"), "{out}");

    // DPoP off against an app that requires it: the diagnosis says so and how to fix it.
    let key_path = key_file.to_str().unwrap();
    org.ok(
        &[
            "connections",
            "add",
            "off",
            "--org-url",
            &org.url(),
            "--auth",
            "client-credentials",
            "--client-id",
            "0oaDPOP",
            "--scopes",
            SCOPES,
            "--private-key-file",
            key_path,
            "--dpop",
            "off",
        ],
        None,
    );
    let out = org.fails(4, &["connections", "test", "off"], None);
    assert!(
        out.contains("the app requires DPoP") && out.contains("--dpop auto"),
        "{out}"
    );

    // The show command prints the public key to upload, never the private one.
    let out = org.ok(&["connections", "show", "svc", "--public-key"], None);
    let jwks: Value = serde_json::from_str(&String::from_utf8_lossy(
        &org.run(&["connections", "show", "svc", "--public-key"], None)
            .stdout,
    ))
    .unwrap();
    assert_eq!(jwks["keys"][0], ec.public_jwk(), "{out}");
    assert!(jwks["keys"][0].get("d").is_none(), "no private part");
    let out = org.ok(&["connections", "show", "svc"], None);
    assert!(
        out.contains("0oaDPOP") && out.contains("okta.users.read"),
        "{out}"
    );

    // No key in the database file.
    for secret in org.secrets.borrow().iter() {
        assert!(!org.db_contains(secret), "a secret is in the database file");
    }
    assert!(org.db_contains("0oaDPOP"), "settings are plain");
}

#[test]
fn client_credentials_failures_are_explained() {
    let key = PrivateKey::generate_es256();
    let other = PrivateKey::generate_es256();
    let mut app_limited = service_app("0oaLIMITED", &key, false, true);
    app_limited["grantedScopes"] = json!(["okta.logs.read", "okta.users.read"]);
    let org = Org::start(vec![
        service_app("0oaSVC", &key, false, true),
        service_app("0oaNOROLE", &key, false, false),
        app_limited,
    ]);
    let pem = key.to_text().expose().to_string();
    let other_pem = other.to_text().expose().to_string();
    org.secrets
        .borrow_mut()
        .extend([pem_body(&pem), pem_body(&other_pem)]);

    // A bad key is refused at add, naming the format found; nothing is stored.
    let out = org.add_service(
        "bad",
        "0oaSVC",
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        &[],
    );
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let err = text(&out);
    assert!(
        err.contains("the private key cannot be used") && err.contains("certificate"),
        "{err}"
    );
    assert!(
        err.contains("PKCS#8") || err.contains("JWK"),
        "names the formats accepted: {err}"
    );
    assert!(!org.ok(&["connections", "list"], None).contains("bad"));

    // A key the app does not have.
    assert!(
        org.add_service("unregistered", "0oaSVC", &other_pem, &[])
            .status
            .success()
    );
    let out = org.fails(4, &["connections", "test", "unregistered"], None);
    assert!(
        out.contains("key not registered with the app") && out.contains("--public-key"),
        "{out}"
    );

    // An unknown client id.
    assert!(
        org.add_service("unknown", "0oaNOSUCH", &pem, &[])
            .status
            .success()
    );
    let out = org.fails(4, &["connections", "test", "unknown"], None);
    assert!(
        out.contains("unknown client ID") || out.contains("invalid client"),
        "{out}"
    );

    // A token, but no admin role.
    assert!(
        org.add_service("norole", "0oaNOROLE", &pem, &[])
            .status
            .success()
    );
    let out = org.fails(4, &["connections", "test", "norole"], None);
    assert!(
        out.contains("no admin role") && out.contains("Read-only Administrator"),
        "{out}"
    );

    // A scope requested but not granted (invalid_scope at /token).
    assert!(
        org.add_service("ungranted", "0oaLIMITED", &pem, &[])
            .status
            .success()
    );
    let out = org.fails(4, &["connections", "test", "ungranted"], None);
    assert!(
        out.contains("scope not granted") && out.contains("Okta API Scopes tab"),
        "{out}"
    );

    // A scope granted but not requested: the schema call is refused (insufficient_scope).
    let url = org.url();
    let out = org.run(
        &[
            "connections",
            "add",
            "narrow",
            "--org-url",
            &url,
            "--auth",
            "client-credentials",
            "--client-id",
            "0oaLIMITED",
            "--scopes",
            "okta.logs.read",
            "--secret-stdin",
        ],
        Some(&pem),
    );
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        text(&out).contains("do not include okta.schemas.read"),
        "warned at add: {}",
        describe(&out)
    );
    let out = org.fails(4, &["connections", "test", "narrow"], None);
    assert!(out.contains("ok    System Log"), "{out}");
    assert!(
        out.contains("missing scope") && out.contains("okta.schemas.read"),
        "{out}"
    );
}

/// The login's lines up to the authorize URL it prints.
fn authorize_url(lines: &mut impl Iterator<Item = std::io::Result<String>>) -> String {
    for line in lines {
        let line = line.unwrap();
        if let Some(url) = line.trim().strip_prefix("http") {
            return format!("http{url}");
        }
    }
    panic!("no authorize URL printed");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `connections login NAME` with the test playing the browser: `browser` gets the authorize URL the CLI
/// printed (the simulator signs in and redirects to the CLI's listener).
fn login(org: &Org, name: &str, browser: &dyn Fn(&str)) -> Output {
    let mut child = org
        .command(&[
            "connections",
            "login",
            name,
            "--no-browser",
            "--timeout",
            "60",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let authorize = authorize_url(&mut lines);
    browser(&authorize);
    let rest: Vec<String> = lines.map(Result::unwrap).collect();
    let mut out = child.wait_with_output().unwrap();
    out.stdout = format!("{authorize}\n{}", rest.join("\n")).into_bytes();
    out
}

/// The browser's part of a login that succeeds: follow the simulator's redirect to the listener.
fn sign_in(org: &Org) -> impl Fn(&str) + '_ {
    move |authorize| {
        let (status, location, _) = org.browse(authorize);
        assert_eq!(status, 302);
        let (status, _, page) = org.browse(&location.unwrap());
        assert_eq!(status, 200, "{page}");
    }
}

#[test]
fn every_discovery_action_and_some_changes_over_both_oauth_connection_types() {
    let port = free_port();
    let redirect = format!("http://127.0.0.1:{port}/callback");
    let key = PrivateKey::generate_es256();
    let key_pem = key.to_text().expose().to_string();
    let reads = [
        "okta.users.read",
        "okta.groups.read",
        "okta.apps.read",
        "okta.logs.read",
        "okta.schemas.read",
        "okta.userTypes.read",
        "okta.users.manage",
        "okta.groups.manage",
    ];
    let web_scopes = [&reads[..], &["offline_access"]].concat();
    let org = Org::start(vec![
        json!({
            "clientId": "0oaSVC",
            "type": "service",
            "jwks": {"keys": [key.public_jwk()]},
            "grantedScopes": reads,
            "dpopRequired": true,
        }),
        json!({
            "clientId": "0oaWEB",
            "type": "web",
            "clientSecret": WEB_SECRET,
            "redirectUris": [redirect],
            "grantedScopes": web_scopes,
            "dpopRequired": false,
        }),
    ]);
    org.secrets.borrow_mut().push(pem_body(&key_pem));
    let url = org.url();
    let scopes = reads.join(" ");
    org.ok(
        &[
            "connections",
            "add",
            "svc",
            "--org-url",
            &url,
            "--auth",
            "client-credentials",
            "--client-id",
            "0oaSVC",
            "--scopes",
            &scopes,
            "--secret-stdin",
        ],
        Some(&key_pem),
    );
    org.ok(
        &[
            "connections",
            "add",
            "web",
            "--org-url",
            &url,
            "--auth",
            "authorization-code",
            "--client-id",
            "0oaWEB",
            "--scopes",
            &format!("{scopes} offline_access"),
            "--redirect-uri",
            &redirect,
            "--secret-stdin",
        ],
        Some(WEB_SECRET),
    );
    let out = login(&org, "web", &sign_in(&org));
    assert!(out.status.success(), "{}", describe(&out));

    let (login_name, group, app) = {
        let o = org.server.sim().org.read();
        let user = o.users.values().find(|u| u.id != o.admin_id).unwrap();
        let group = o
            .members
            .iter()
            .find(|(g, m)| **g != o.everyone_group_id && !m.is_empty())
            .unwrap()
            .0;
        let app = o.apps.keys().next().unwrap();
        (user.login().to_string(), group.clone(), app.clone())
    };
    const CHANGES: &[&str] = &[
        "create_user",
        "activate_user",
        "update_user",
        "add_user_to_group",
        "remove_user_from_group",
        "deactivate_user",
        "delete_user",
        "suspend_user",
        "unsuspend_user",
        "expire_password",
        "reset_forgotten_password",
        "reset_password",
        "unlock_user",
        "reactivate_user",
        "reset_factors",
        "clear_user_sessions",
        "assign_user_to_app",
        "unassign_user_from_app",
    ];
    let input = |action: &str| -> Value {
        match action {
            "get_user" | "list_user_groups" => json!({"user": login_name}),
            "search_users" => json!({"max": 5}),
            "get_group" | "list_group_members" => json!({"group": group}),
            "get_app" | "list_app_users" => json!({"app": app}),
            "search_system_log" => json!({"since": "40d", "max": 5}),
            "custom_api_call" => {
                json!({"method": "GET", "path": "/api/v1/groups", "query": {"limit": "2"}})
            }
            "list_groups" | "list_apps" | "get_user_schema" | "list_user_types" => json!({}),
            // Changes: tested in `lifecycle` (they would change this org under the other actions).
            _ if CHANGES.contains(&action) => Value::Null,
            other => panic!("add an input for the new action {other}"),
        }
    };
    for connection in ["svc", "web"] {
        for action in okta_connector::actions::registry() {
            let input = input(action.name);
            if input.is_null() {
                continue;
            }
            let input = input.to_string();
            let out = org.ok(
                &[
                    "-c",
                    connection,
                    "actions",
                    "run",
                    action.name,
                    "--input",
                    &input,
                    "-o",
                    "ndjson",
                ],
                None,
            );
            assert!(
                !out.trim().is_empty(),
                "{connection} {}: no output",
                action.name
            );
        }
    }

    // Changes work over both kinds too (the lifecycle module tests each change in depth).
    let actives: Vec<String> = {
        let o = org.server.sim().org.read();
        o.users
            .values()
            .filter(|u| u.id != o.admin_id && u.status == okta_sim::state::UserStatus::Active)
            .take(2)
            .map(|u| u.id.clone())
            .collect()
    };
    let status = |id: &str| org.server.sim().org.read().users[id].status;
    for (connection, user) in ["svc", "web"].iter().zip(&actives) {
        let run = |action: &str, input: Value| {
            org.ok(
                &[
                    "-c",
                    connection,
                    "actions",
                    "run",
                    action,
                    "--input",
                    &input.to_string(),
                ],
                None,
            )
        };
        run("suspend_user", json!({"user": user}));
        assert_eq!(
            status(user),
            okta_sim::state::UserStatus::Suspended,
            "{connection}"
        );
        run("unsuspend_user", json!({"user": user}));
        run("add_user_to_group", json!({"user": user, "group": group}));
        assert!(
            org.server.sim().org.read().members[&group].contains(user),
            "{connection}"
        );
        run("deactivate_user", json!({"user": user}));
        assert_eq!(
            status(user),
            okta_sim::state::UserStatus::Deprovisioned,
            "{connection}"
        );
    }
}

#[test]
fn authorization_code_login_then_silent_refresh() {
    let port = free_port();
    let redirect = format!("http://127.0.0.1:{port}/callback");
    let org = Org::start(vec![json!({
        "clientId": "0oaWEB",
        "type": "web",
        "clientSecret": WEB_SECRET,
        "redirectUris": [redirect],
        "grantedScopes": ["okta.logs.read", "okta.schemas.read", "okta.users.read", "offline_access"],
        "dpopRequired": true,
        "refreshToken": {"rotation": "ROTATE"},
    })]);
    let url = org.url();
    let add = |name: &str, secret: &str, redirect: &str| {
        org.run(
            &[
                "connections",
                "add",
                name,
                "--org-url",
                &url,
                "--auth",
                "authorization-code",
                "--client-id",
                "0oaWEB",
                "--scopes",
                &format!("{SCOPES} offline_access"),
                "--redirect-uri",
                redirect,
                "--secret-stdin",
            ],
            Some(secret),
        )
    };
    let out = add("web", WEB_SECRET, &redirect);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        text(&out).contains("connections login web"),
        "{}",
        describe(&out)
    );

    let out = login(&org, "web", &|authorize| {
        let (status, location, _) = org.browse(authorize);
        assert_eq!(status, 302);
        let (status, _, page) = org.browse(&location.unwrap());
        assert_eq!(status, 200, "{page}");
        assert!(page.contains("close this tab"), "{page}");
    });
    assert!(out.status.success(), "{}", describe(&out));
    assert!(text(&out).contains("Signed in"), "{}", describe(&out));
    let Credentials::AuthorizationCode {
        refresh_token: Some(refresh),
        ..
    } = org.stored("web")
    else {
        panic!("no refresh token stored")
    };
    org.secrets.borrow_mut().push(refresh.expose().to_string());
    org.assert_no_secret(&out);
    assert!(!org.db_contains(refresh.expose()) && !org.db_contains(WEB_SECRET));

    let out = org.ok(&["connections", "test", "web"], None);
    assert!(
        out.contains("DPoP: on, because the app requires it"),
        "{out}"
    );
    let out = org.ok(
        &[
            "-c", "web", "users", "search", "--limit", "2", "--output", "json",
        ],
        None,
    );
    assert!(out.contains("\"login\""), "{out}");
    // Each run refreshes (a new process has no access token): under ROTATE the stored token changed.
    let Credentials::AuthorizationCode {
        refresh_token: Some(rotated),
        ..
    } = org.stored("web")
    else {
        panic!()
    };
    assert_ne!(
        rotated.expose(),
        refresh.expose(),
        "the rotated token was stored"
    );
    org.secrets.borrow_mut().push(rotated.expose().to_string());
    org.ok(
        &[
            "-c", "web", "users", "search", "--limit", "2", "--output", "json",
        ],
        None,
    );

    // A callback with another state is refused and changes nothing.
    let before = org.stored("web");
    let out = login(&org, "web", &|_| {
        let (status, _, page) = org.browse(&format!("{redirect}?code=forged&state=not-this-one"));
        assert_eq!(status, 400, "{page}");
    });
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    assert!(
        text(&out).contains("state does not match"),
        "{}",
        describe(&out)
    );
    let (
        Credentials::AuthorizationCode {
            refresh_token: a, ..
        },
        Credentials::AuthorizationCode {
            refresh_token: b, ..
        },
    ) = (before, org.stored("web"))
    else {
        panic!()
    };
    assert_eq!(a.unwrap().expose(), b.unwrap().expose());

    // A wrong client secret: the exchange is refused, in words.
    assert!(
        add("wrongsecret", "not-the-secret", &redirect)
            .status
            .success()
    );
    let out = login(&org, "wrongsecret", &|authorize| {
        let (_, location, _) = org.browse(authorize);
        org.browse(&location.unwrap());
    });
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    assert!(
        text(&out).contains("wrong client secret"),
        "{}",
        describe(&out)
    );

    // A redirect URI the app does not have: Okta shows its error page and does not redirect.
    let other = format!("http://127.0.0.1:{}/callback", free_port());
    assert!(add("otheruri", WEB_SECRET, &other).status.success());
    let mut child = org
        .command(&[
            "connections",
            "login",
            "otheruri",
            "--no-browser",
            "--timeout",
            "1",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (status, location, page) = org.browse(&authorize_url(&mut lines));
    assert_eq!((status, location), (400, None), "{page}");
    assert!(page.contains("redirect_uri"), "{page}");
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no sign-in came back") && err.contains(&other),
        "{err}"
    );

    // login is only for authorization-code connections; only loopback redirect URIs are accepted.
    let out = add("remote", WEB_SECRET, "https://app.example.com/callback");
    assert!(
        text(&out).contains("not a loopback address"),
        "{}",
        describe(&out)
    );
}

#[test]
fn the_sdk_private_key_mode_connects() {
    let key = PrivateKey::parse(RSA_PKCS8).unwrap();
    let org = Org::start(vec![service_app("0oaSDK", &key, true, true)]);
    org.secrets.borrow_mut().push(pem_body(RSA_PKCS8));
    let key_file = org.dir.path().join("key.pem");
    std::fs::write(&key_file, RSA_PKCS8).unwrap();
    let mut c = org.command(&["connections", "test"]);
    c.env("OKTA_CLIENT_ORGURL", org.url())
        .env("OKTA_CLIENT_AUTHORIZATIONMODE", "PrivateKey")
        .env("OKTA_CLIENT_CLIENTID", "0oaSDK")
        .env("OKTA_CLIENT_SCOPES", SCOPES.replace(' ', ","))
        .env("OKTA_CLIENT_PRIVATEKEY", &key_file);
    let out = c.output().unwrap();
    org.assert_no_secret(&out);
    assert!(out.status.success(), "{}", describe(&out));
    let printed = text(&out);
    assert!(
        printed.contains("the environment") && printed.contains("DPoP: on"),
        "{printed}"
    );
}
