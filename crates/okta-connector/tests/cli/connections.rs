//! `okta-connector connections ...`: the store, the secret's safety, resolution order and the
//! connection test's diagnoses, each through the real binary with a temporary state directory and HOME.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Output, Stdio};

use crate::{cmd, describe};

const TOKEN: &str = "00TestToken-aaaaBBBBccccDDDDeeeeFFFFgggg";
const KEY_A: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const KEY_B: &str = "ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

/// A temporary state directory and HOME; every run goes through `run`.
struct Sandbox {
    dir: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("home")).unwrap();
        Sandbox { dir }
    }
    fn state(&self) -> PathBuf {
        self.dir.path().join("state")
    }
    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }
    fn db(&self) -> PathBuf {
        self.state().join("okta-connector.db")
    }

    /// Runs `okta-connector --state DIR ARGS` with `stdin` piped in (or none) and extra variables.
    fn run(&self, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Output {
        let mut c = cmd();
        c.arg("--state")
            .arg(self.state())
            .args(args)
            .env("HOME", self.home());
        c.envs(env.iter().copied());
        c.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        });
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c.spawn().expect("binary starts");
        if let Some(text) = stdin {
            child
                .stdin
                .take()
                .unwrap()
                .write_all(text.as_bytes())
                .unwrap();
        }
        let out = child.wait_with_output().unwrap();
        assert_no_secret(&out);
        out
    }

    fn ok(&self, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> String {
        let out = self.run(args, stdin, env);
        assert!(out.status.success(), "{args:?}: {}", describe(&out));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Runs a command that must fail with `code`; returns its stderr.
    fn fails(&self, code: i32, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> String {
        let out = self.run(args, stdin, env);
        assert_eq!(
            out.status.code(),
            Some(code),
            "{args:?}: {}",
            describe(&out)
        );
        String::from_utf8_lossy(&out.stderr).into_owned()
    }

    fn add(&self, name: &str, org_url: &str, token: &str, extra: &[&str]) -> Output {
        let mut args = vec![
            "connections",
            "add",
            name,
            "--org-url",
            org_url,
            "--secret-stdin",
        ];
        args.extend_from_slice(extra);
        self.run(&args, Some(&format!("{token}\n")), &[])
    }
}

/// No test token, in any form, in anything the binary prints.
fn assert_no_secret(out: &Output) {
    for stream in [&out.stdout, &out.stderr] {
        let text = String::from_utf8_lossy(stream);
        for secret in [TOKEN, "00WrongToken", KEY_A, KEY_B] {
            assert!(
                !text.contains(secret),
                "a secret was printed: {}",
                describe(out)
            );
        }
    }
}

fn file_contains(path: &Path, needle: &str) -> bool {
    let bytes = std::fs::read(path).unwrap();
    bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[test]
fn add_list_show_default_remove() {
    let s = Sandbox::new();
    let out = s.add("prod", "acme.okta.com", TOKEN, &[]);
    assert!(out.status.success(), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains(
            "Added connection 'prod' (https://acme.okta.com/, API token); it is the default"
        ),
        "{text}"
    );
    assert!(
        s.add(
            "dev",
            "https://acme.oktapreview.com/",
            TOKEN,
            &["--default"]
        )
        .status
        .success()
    );

    let list = s.ok(&["connections", "list"], None, &[]);
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 3, "{list}");
    assert!(lines[0].starts_with("DEFAULT  NAME"), "{list}");
    assert!(
        lines[1].starts_with("*")
            && lines[1].contains("dev")
            && lines[1].contains("https://acme.oktapreview.com/"),
        "{list}"
    );
    assert!(
        lines[2].contains("prod") && lines[2].contains("API token") && !lines[2].starts_with('*'),
        "{list}"
    );

    let json: serde_json::Value =
        serde_json::from_str(&s.ok(&["connections", "list", "--output", "json"], None, &[]))
            .unwrap();
    assert_eq!(json[0]["name"], "dev");
    assert_eq!(json[0]["is_default"], true);
    assert_eq!(json[1]["auth"], "api_token");

    let show = s.ok(&["connections", "show", "prod"], None, &[]);
    assert!(
        show.contains("org_url:") && show.contains("https://acme.okta.com/"),
        "{show}"
    );
    assert!(
        show.contains("API token") && show.contains("okta-connector.db"),
        "{show}"
    );
    let show = s.ok(&["connections", "show"], None, &[]);
    assert!(
        show.contains("name:") && show.contains("dev"),
        "the default: {show}"
    );
    assert!(show.contains("its default connection"), "{show}");

    let out = s.ok(&["connections", "default", "prod"], None, &[]);
    assert!(out.contains("'prod' is now the default"), "{out}");
    let show = s.ok(&["connections", "show", "--output", "json"], None, &[]);
    let json: serde_json::Value = serde_json::from_str(&show).unwrap();
    assert_eq!(json["name"], "prod");

    let out = s.ok(&["connections", "remove", "prod"], None, &[]);
    assert!(
        out.contains("Removed connection 'prod'") && out.contains("It was the default"),
        "{out}"
    );
    let err = s.fails(3, &["connections", "remove", "prod"], None, &[]);
    assert!(
        err.contains("no connection named 'prod' (stored: dev)"),
        "{err}"
    );
    let err = s.fails(3, &["connections", "default", "nope"], None, &[]);
    assert!(err.contains("no connection named 'nope'"), "{err}");
    let list = s.ok(&["connections", "list"], None, &[]);
    assert_eq!(list.lines().count(), 2, "{list}");
}

#[test]
fn the_secret_is_encrypted_and_the_key_file_private() {
    let s = Sandbox::new();
    assert!(s.add("prod", "acme.okta.com", TOKEN, &[]).status.success());
    assert!(s.db().exists());
    assert!(
        !file_contains(&s.db(), TOKEN),
        "the token is not in the database file"
    );
    assert!(
        file_contains(&s.db(), "acme.okta.com"),
        "but the database is that file"
    );
    let key_file = s.state().join("master.key");
    assert!(!file_contains(&key_file, TOKEN));
    #[cfg(unix)]
    {
        assert_eq!(mode(&key_file), 0o600);
        assert_eq!(mode(&s.state()), 0o700);
        assert_eq!(mode(&s.db()), 0o600);
    }
    // Loading it back needs the key file: it decrypts (`show` resolves the default connection).
    s.ok(&["connections", "show"], None, &[]);
}

#[test]
fn secrets_come_from_stdin_a_variable_or_nowhere() {
    let s = Sandbox::new();
    s.ok(
        &[
            "connections",
            "add",
            "a",
            "--org-url",
            "acme.okta.com",
            "--secret-env",
            "MY_TOKEN",
        ],
        None,
        &[("MY_TOKEN", TOKEN)],
    );
    let err = s.fails(
        3,
        &[
            "connections",
            "add",
            "b",
            "--org-url",
            "acme.okta.com",
            "--secret-env",
            "UNSET_VAR",
        ],
        None,
        &[],
    );
    assert!(err.contains("UNSET_VAR is not set"), "{err}");
    let err = s.fails(
        3,
        &["connections", "add", "b", "--org-url", "acme.okta.com"],
        None,
        &[],
    );
    assert!(
        err.contains("no API token given") && err.contains("--secret-stdin"),
        "{err}"
    );
    let err = s.fails(
        3,
        &[
            "connections",
            "add",
            "b",
            "--org-url",
            "acme.okta.com",
            "--secret-stdin",
        ],
        Some("\n"),
        &[],
    );
    assert!(err.contains("the API token is empty"), "{err}");
    // No flag takes the secret itself.
    let err = s.fails(
        2,
        &[
            "connections",
            "add",
            "b",
            "--org-url",
            "acme.okta.com",
            "--token",
            TOKEN,
        ],
        None,
        &[],
    );
    assert!(err.contains("--token"), "{err}");

    let err = s.fails(
        3,
        &[
            "connections",
            "add",
            "a",
            "--org-url",
            "acme.okta.com",
            "--secret-stdin",
        ],
        Some(TOKEN),
        &[],
    );
    assert!(err.contains("already exists: add --replace"), "{err}");
    let out = s.ok(
        &[
            "connections",
            "add",
            "a",
            "--org-url",
            "other.okta.com",
            "--secret-stdin",
            "--replace",
        ],
        Some(TOKEN),
        &[],
    );
    assert!(
        out.contains("Replaced connection 'a' (https://other.okta.com/"),
        "{out}"
    );
    assert_eq!(s.ok(&["connections", "list"], None, &[]).lines().count(), 2);
}

#[test]
fn a_wrong_master_key_is_refused_and_the_store_unchanged() {
    let s = Sandbox::new();
    s.ok(
        &[
            "connections",
            "add",
            "prod",
            "--org-url",
            "acme.okta.com",
            "--secret-stdin",
        ],
        Some(TOKEN),
        &[("OKTA_CONNECTOR_MASTER_KEY", KEY_A)],
    );
    assert!(
        !s.state().join("master.key").exists(),
        "the variable's key needs no file"
    );
    let before = std::fs::read(s.db()).unwrap();

    let err = s.fails(
        3,
        &["connections", "show"],
        None,
        &[("OKTA_CONNECTOR_MASTER_KEY", KEY_B)],
    );
    assert!(
        err.contains(
            "cannot decrypt: the master key differs from the one that encrypted this store"
        ),
        "{err}"
    );
    let err = s.fails(
        3,
        &[
            "connections",
            "add",
            "dev",
            "--org-url",
            "acme.okta.com",
            "--secret-stdin",
        ],
        Some(TOKEN),
        &[("OKTA_CONNECTOR_MASTER_KEY", KEY_B)],
    );
    assert!(err.contains("master key differs"), "{err}");
    // Without the variable there is no key file to fall back on: missing, not "different".
    let err = s.fails(3, &["connections", "show"], None, &[]);
    assert!(err.contains("master key is missing"), "{err}");
    let err = s.fails(
        3,
        &["connections", "show"],
        None,
        &[("OKTA_CONNECTOR_MASTER_KEY", "not-a-key")],
    );
    assert!(
        err.contains("openssl rand -hex 32"),
        "says how to make one: {err}"
    );
    assert_eq!(
        std::fs::read(s.db()).unwrap(),
        before,
        "the store is as it was"
    );

    // The right key still works, and list needs no key at all.
    s.ok(
        &["connections", "show"],
        None,
        &[("OKTA_CONNECTOR_MASTER_KEY", KEY_A)],
    );
    assert!(s.ok(&["connections", "list"], None, &[]).contains("prod"));
}

#[test]
fn bad_org_urls_are_refused_and_nothing_is_stored() {
    let s = Sandbox::new();
    for (url, says) in [
        ("http://acme.okta.com", "use https://acme.okta.com"),
        ("https://acme.okta.com/oauth2/default", "base URL only"),
        ("login.example.com", "--allow-custom-domain"),
        ("https://user:pw@acme.okta.com", "user name or password"),
        ("okta.com", "not an Okta org"),
    ] {
        let out = s.add("x", url, TOKEN, &[]);
        assert_eq!(out.status.code(), Some(3), "{url}: {}", describe(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{url}: {err}");
    }
    let list = s.run(&["connections", "list"], None, &[]);
    assert!(
        list.stdout.is_empty(),
        "nothing stored: {}",
        describe(&list)
    );
    assert!(String::from_utf8_lossy(&list.stderr).contains("No connections yet"));

    let out = s.add(
        "sso",
        "https://login.example.com",
        TOKEN,
        &["--allow-custom-domain"],
    );
    assert!(out.status.success(), "{}", describe(&out));
    let json: serde_json::Value = serde_json::from_str(&s.ok(
        &["connections", "show", "sso", "--output", "json"],
        None,
        &[],
    ))
    .unwrap();
    assert_eq!(json["org_url"], "https://login.example.com/");
    assert_eq!(
        json["allow_custom_domain"], true,
        "the permission is stored with the connection"
    );
}

#[test]
fn an_admin_domain_is_corrected_with_a_warning() {
    let s = Sandbox::new();
    let out = s.add("prod", "https://acme-admin.okta.com/", TOKEN, &[]);
    assert!(out.status.success(), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning: acme-admin.okta.com is the Admin Console's domain"),
        "{err}"
    );
    let show = s.ok(&["connections", "show", "prod"], None, &[]);
    assert!(
        show.contains("https://acme.okta.com/") && !show.contains("-admin"),
        "{show}"
    );
}

#[test]
fn resolution_order_flag_then_env_then_okta_yaml_then_default() {
    let s = Sandbox::new();
    let show = |env: &[(&str, &str)], extra: &[&str]| {
        let mut args = vec!["connections", "show", "--output", "json"];
        args.extend_from_slice(extra);
        serde_json::from_str::<serde_json::Value>(&s.ok(&args, None, env)).unwrap()
    };
    let err = s.fails(3, &["connections", "show"], None, &[]);
    assert!(
        err.contains("no connection: add one with `okta-connector connections add NAME --org-url"),
        "{err}"
    );
    assert!(
        err.contains("or set OKTA_CLIENT_ORGURL and OKTA_CLIENT_TOKEN"),
        "{err}"
    );
    assert!(
        err.contains("okta.yaml") && err.contains("no store yet"),
        "says what was tried: {err}"
    );

    assert!(
        s.add("stored", "stored.okta.com", TOKEN, &[])
            .status
            .success()
    );
    assert_eq!(show(&[], &[])["org_url"], "https://stored.okta.com/");

    let yaml = s.home().join(".okta/okta.yaml");
    std::fs::create_dir_all(yaml.parent().unwrap()).unwrap();
    std::fs::write(
        &yaml,
        format!("okta:\n  client:\n    orgUrl: https://yaml.okta.com\n    token: {TOKEN}\n"),
    )
    .unwrap();
    let got = show(&[], &[]);
    assert_eq!(got["org_url"], "https://yaml.okta.com/");
    assert!(
        got["source"].as_str().unwrap().ends_with(".okta/okta.yaml"),
        "{got}"
    );

    let env = [
        ("OKTA_CLIENT_ORGURL", "https://env.okta.com"),
        ("OKTA_CLIENT_TOKEN", TOKEN),
    ];
    let got = show(&env, &[]);
    assert_eq!(got["org_url"], "https://env.okta.com/");
    assert!(
        got["source"].as_str().unwrap().contains("environment"),
        "{got}"
    );

    let got = show(&env, &["--connection", "stored"]);
    assert_eq!(
        got["org_url"], "https://stored.okta.com/",
        "--connection wins"
    );

    let err = s.fails(
        3,
        &["connections", "show"],
        None,
        &[("OKTA_CLIENT_ORGURL", "https://env.okta.com")],
    );
    assert!(
        err.contains("sets OKTA_CLIENT_ORGURL but not OKTA_CLIENT_TOKEN"),
        "{err}"
    );
    let err = s.fails(
        3,
        &["connections", "show"],
        None,
        &[
            ("OKTA_CLIENT_ORGURL", "https://env.okta.com"),
            ("OKTA_CLIENT_AUTHORIZATIONMODE", "PrivateKey"),
            ("OKTA_CLIENT_CLIENTID", "0oa1"),
        ],
    );
    assert!(
        err.contains("mode PrivateKey but does not set OKTA_CLIENT_SCOPES"),
        "{err}"
    );
    assert!(
        err.contains("OKTA_CLIENT_CLIENTID"),
        "names the variables seen: {err}"
    );
}

/// `okta-connector sim` as a child process, stopped when dropped.
struct Sim {
    child: Child,
    /// Kept open: the simulator prints more, and a closed pipe would stop it.
    _stdout: std::io::Lines<BufReader<std::process::ChildStdout>>,
    url: String,
    token: String,
}

impl Sim {
    fn start() -> Sim {
        let mut child = cmd()
            .args([
                "sim",
                "--port",
                "0",
                "--users",
                "3",
                "--log-events",
                "5",
                "--rate-limits",
                "off",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("sim starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let url = lines
            .next()
            .unwrap()
            .unwrap()
            .rsplit(' ')
            .next()
            .unwrap()
            .to_string();
        let token = lines
            .next()
            .unwrap()
            .unwrap()
            .strip_prefix("API token: ")
            .unwrap()
            .to_string();
        Sim {
            child,
            _stdout: lines,
            url,
            token,
        }
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback server that answers every request with `response`, on a thread.
fn serve(response: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            read_request_head(&mut stream);
            let _ = stream.write_all(response.as_bytes());
        }
    });
    format!("http://{addr}")
}

fn read_request_head(stream: &mut TcpStream) {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).unwrap_or(0) == 1 {
        head.push(byte[0]);
    }
}

/// `connections test NAME` output (stdout) and exit code.
fn test_connection(s: &Sandbox, name: &str, extra: &[&str]) -> (Option<i32>, String) {
    let mut args = vec!["connections", "test", name];
    args.extend_from_slice(extra);
    let out = s.run(&args, None, &[]);
    (
        out.status.code(),
        format!(
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

#[test]
fn connection_test_against_the_simulator() {
    let sim = Sim::start();
    let s = Sandbox::new();
    assert!(s.add("sim", &sim.url, &sim.token, &[]).status.success());
    // With the logs at their most verbose, the token stays out of the output.
    let out = s.run(
        &["connections", "test", "sim"],
        None,
        &[("OKTA_CONNECTOR_LOG", "trace")],
    );
    let (code, out) = (out.status.code(), describe(&out));
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("TRACE") || out.contains("DEBUG"),
        "the logs were on: {out}"
    );
    assert!(
        out.contains("ok    System Log") && out.contains("GET /api/v1/logs?limit=1: readable"),
        "{out}"
    );
    assert!(
        out.contains("ok    user profile schema") && out.contains("custom attributes"),
        "{out}"
    );
    assert!(out.contains("The connection works."), "{out}");
    assert!(!out.contains(&sim.token), "{out}");

    assert!(
        s.add(
            "wrong",
            &sim.url,
            "00WrongToken-xxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            &[]
        )
        .status
        .success()
    );
    let (code, out) = test_connection(&s, "wrong", &[]);
    assert_eq!(code, Some(4), "{out}");
    assert!(
        out.contains("FAIL  System Log") && out.contains("bad or expired API token"),
        "{out}"
    );
    assert!(out.contains("E0000011") && out.contains("30 days"), "{out}");
    assert!(
        out.contains("skip  user profile schema"),
        "a bad token fails every call: {out}"
    );

    // A token whose user holds no admin role: it authenticates, then every call is refused (403).
    let no_role = "00NoAdminRole-xxxxxxxxxxxxxxxxxxxxxxxxxx";
    let _ = rustls::crypto::ring::default_provider().install_default();
    let registered = tokio::runtime::Runtime::new().unwrap().block_on(async {
        reqwest::Client::new()
            .post(format!("{}/control/api-tokens", sim.url))
            .header("Content-Type", "application/json")
            .body(format!(r#"{{"token":"{no_role}","adminRole":false}}"#))
            .send()
            .await
            .unwrap()
            .status()
    });
    assert_eq!(registered, 200);
    assert!(s.add("norole", &sim.url, no_role, &[]).status.success());
    let (code, out) = test_connection(&s, "norole", &[]);
    assert_eq!(code, Some(4), "{out}");
    assert!(
        out.contains("FAIL  System Log") && out.contains("missing permission"),
        "{out}"
    );
    assert!(
        out.contains("E0000006") && out.contains("okta.logs.read"),
        "{out}"
    );
    assert!(
        out.contains("FAIL  user profile schema"),
        "a missing permission is per call, so the next check still runs: {out}"
    );
    assert!(!out.contains(no_role), "{out}");

    // The simulator speaks plain http: an https URL to it fails the TLS handshake.
    let https = sim.url.replace("http://", "https://");
    assert!(s.add("tls", &https, TOKEN, &[]).status.success());
    let (code, out) = test_connection(&s, "tls", &[]);
    assert_eq!(code, Some(5), "{out}");
    assert!(
        out.contains("TLS failure") && out.contains("does not speak https"),
        "{out}"
    );
}

#[test]
fn connection_test_explains_redirects_timeouts_and_refusals() {
    let s = Sandbox::new();
    // Okta's answer on an -admin domain. The store corrects -admin domains, so the redirect is
    // reached through a loopback URL.
    let redirect = serve(
        "HTTP/1.1 302 Found\r\nLocation: https://acme-admin.okta.com/admin/dashboard\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    assert!(s.add("redirect", &redirect, TOKEN, &[]).status.success());
    let (code, out) = test_connection(&s, "redirect", &[]);
    assert_eq!(code, Some(5), "{out}");
    assert!(
        out.contains("the org URL redirects") && out.contains("without '-admin'"),
        "{out}"
    );

    // A listener that never answers: the kernel accepts the connection, nobody reads.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    assert!(s.add("silent", &url, TOKEN, &[]).status.success());
    let (code, out) = test_connection(&s, "silent", &["--timeout", "1"]);
    assert_eq!(code, Some(5), "{out}");
    assert!(
        out.contains("FAIL") && out.contains("timeout") && out.contains("--timeout"),
        "{out}"
    );
    drop(silent);

    // A port nobody listens on.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    assert!(s.add("closed", &url, TOKEN, &[]).status.success());
    let (code, out) = test_connection(&s, "closed", &[]);
    assert_eq!(code, Some(5), "{out}");
    assert!(
        out.contains("connection refused") && out.contains("Nothing listens"),
        "{out}"
    );

    // No connection at all: exit 1, not 3 (the test could not run).
    let empty = Sandbox::new();
    let err = empty.fails(3, &["connections", "test"], None, &[]);
    assert!(err.contains("no connection"), "{err}");
}
