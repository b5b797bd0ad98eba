//! `okta-connector sim`: starts, prints its URL and token, serves Okta's API, stops cleanly on Ctrl-C.

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::{cmd, describe};

#[test]
fn sim_serves_until_interrupted() {
    let mut child = cmd()
        .args([
            "sim",
            "--port",
            "0",
            "--users",
            "7",
            "--groups",
            "2",
            "--apps",
            "1",
            "--log-events",
            "3",
            "--api-token",
            "test-token-123",
            "--rate-limits",
            "enterprise",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().expect("a first line").unwrap();
    let url = first
        .rsplit(' ')
        .next()
        .filter(|u| u.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("first line names the URL: {first}"))
        .to_string();
    let second = lines.next().expect("a second line").unwrap();
    assert_eq!(
        second, "API token: the one given with --api-token / OKTA_SIM_API_TOKEN",
        "a token the user chose is not echoed"
    );

    let body = std::process::Command::new("curl")
        .args(["-s", "-i", "-H", "Authorization: SSWS test-token-123"])
        .arg(format!("{url}/api/v1/users?limit=3"))
        .output();
    // curl is on every machine this runs on; fall back to a raw socket if not.
    let text = match body {
        Ok(out) => String::from_utf8_lossy(&out.stdout).to_string(),
        Err(_) => raw_get(&url, "/api/v1/users?limit=3", "test-token-123"),
    };
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        text.to_lowercase().contains("x-rate-limit-limit: 600"),
        "{text}"
    );
    assert!(
        text.contains("rel=\"next\""),
        "7 users + admin do not fit in 3: {text}"
    );

    let pid = child.id().to_string();
    std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill runs");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            assert!(status.success(), "clean exit on Ctrl-C: {}", describe(&out));
            break;
        }
        assert!(Instant::now() < deadline, "sim did not stop on SIGINT");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn raw_get(url: &str, path: &str, token: &str) -> String {
    use std::io::{Read, Write};
    let addr = url.trim_start_matches("http://");
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: SSWS {token}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

#[test]
fn bad_flags_are_explained() {
    let out = cmd()
        .args(["sim", "--rate-limits", "platinum"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("unknown rate-limit tier 'platinum': use workforce, enterprise or off"),
        "{}",
        describe(&out)
    );
}

#[test]
fn a_generated_token_is_printed_and_accepted() {
    let mut child = cmd()
        .args(["sim", "--port", "0", "--users", "2", "--log-events", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("binary starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = lines
        .next()
        .unwrap()
        .unwrap()
        .rsplit(' ')
        .next()
        .unwrap()
        .to_string();
    let token_line = lines.next().unwrap().unwrap();
    let token = token_line
        .strip_prefix("API token: ")
        .unwrap_or_else(|| panic!("{token_line}"))
        .to_string();
    assert!(
        token.len() == 42 && token.starts_with("00"),
        "Okta's token shape: {token}"
    );
    let text = raw_get(&url, "/api/v1/users?limit=1", &token);
    let _ = child.kill();
    let _ = child.wait();
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
}
