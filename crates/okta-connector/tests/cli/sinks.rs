//! The sinks as a library, against real files, processes and a loopback webhook receiver: what
//! each acknowledges, what it refuses, what the file sink recovers after a crash, and that secrets
//! stay out of descriptions and errors.

use std::collections::VecDeque;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use okta_connector::sinks::exec::ExecSpec;
use okta_connector::sinks::file::FileSpec;
use okta_connector::sinks::stdout::WriterSink;
use okta_connector::sinks::webhook::{Retry, WebhookSpec, batch_id};
use okta_connector::sinks::{Line, Sink, SinkSpec};
use parking_lot::Mutex;
use serde_json::{Value, json};

fn line(id: &str) -> Line {
    Line {
        id: id.to_string(),
        json: json!({"trigger": "new_user", "connection": "c", "id": id, "record": {"id": id}})
            .to_string(),
    }
}

fn batch(ids: &[&str]) -> Vec<Line> {
    ids.iter().map(|id| line(id)).collect()
}

fn ndjson(lines: &[Line]) -> String {
    lines.iter().map(|l| format!("{}\n", l.json)).collect()
}

fn no_env(_: &str) -> Option<String> {
    None
}

// ---------------------------------------------------------------- specs

#[test]
fn shorthands_parse_and_bad_ones_say_what_to_write() {
    assert_eq!("stdout".parse::<SinkSpec>().unwrap(), SinkSpec::Stdout);
    let SinkSpec::File(f) = "file:/var/tmp/out.jsonl".parse().unwrap() else {
        panic!()
    };
    assert_eq!(f.path, Path::new("/var/tmp/out.jsonl"));
    let SinkSpec::Webhook(w) = "webhook:https://hooks.example.com/okta".parse().unwrap() else {
        panic!()
    };
    assert_eq!(w.url.as_str(), "https://hooks.example.com/okta");
    assert_eq!(w.retry, Retry::default());
    let SinkSpec::Exec(e) = r#"exec:sh -c 'cat >> "my out"' a\ b "q\"x""#.parse().unwrap() else {
        panic!()
    };
    assert_eq!(e.command, ["sh", "-c", r#"cat >> "my out""#, "a b", "q\"x"]);
    assert_eq!(e.timeout, Duration::from_secs(300));

    let err = |text: &str| text.parse::<SinkSpec>().unwrap_err();
    let unknown = err("kafka:topic");
    assert!(
        unknown.contains("'kafka'") && unknown.contains("webhook:URL"),
        "{unknown}"
    );
    assert!(err("out.jsonl").contains("file:out.jsonl"));
    let ftp = err("webhook:ftp://user:hunter2@example.com/x?key=abc");
    assert!(ftp.contains("not http or https"), "{ftp}");
    assert!(!ftp.contains("hunter2") && !ftp.contains("abc"), "{ftp}");
    assert!(err("webhook:not a url").contains("not a valid URL"));
    assert!(err("exec:").contains("needs a command"));
    assert!(err("exec:sh -c 'oops").contains("unterminated"));
    assert!(err("file:").contains("needs a path"));
}

#[test]
fn yaml_forms_parse_and_unknown_fields_are_refused() {
    let specs: Vec<SinkSpec> = serde_yaml::from_str(
        r#"
- stdout
- {stdout: null}
- file:/tmp/a.jsonl
- {file: /tmp/b.jsonl}
- webhook:https://h.example.com/a
- {webhook: https://h.example.com/b}
- webhook:
    url: https://h.example.com/c
    headers: {X-Source: okta}
    secret_headers: {Authorization: HOOK_AUTH}
    timeout: 10s
    max_attempts: 3
    backoff: 2s
    max_backoff: 1m
    max_retry_after: 90s
- {exec: [jq, -c, .]}
- {exec: "jq -c ."}
- exec:
    command: [sh, -c, "cat >> out"]
    timeout: 1m
"#,
    )
    .unwrap();
    assert_eq!(specs.len(), 10);
    assert_eq!(specs[1], SinkSpec::Stdout);
    assert_eq!(specs[3], "file:/tmp/b.jsonl".parse().unwrap());
    let SinkSpec::Webhook(w) = &specs[6] else {
        panic!()
    };
    assert_eq!(w.headers, [("X-Source".to_string(), "okta".to_string())]);
    assert_eq!(
        w.secret_headers,
        [("Authorization".to_string(), "HOOK_AUTH".to_string())]
    );
    assert_eq!(w.timeout, Duration::from_secs(10));
    assert_eq!(
        w.retry,
        Retry {
            max_attempts: 3,
            backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(60),
            max_retry_after: Duration::from_secs(90),
        }
    );
    assert_eq!(specs[7], specs[8]);
    let SinkSpec::Exec(e) = &specs[9] else {
        panic!()
    };
    assert_eq!(e.command, ["sh", "-c", "cat >> out"]);
    assert_eq!(e.timeout, Duration::from_secs(60));

    // The map form is reachable from --sink too.
    let inline: SinkSpec =
        "{webhook: {url: 'https://h.example.com/c', secret_headers: {Authorization: HOOK_AUTH}}}"
            .parse()
            .unwrap();
    assert!(matches!(inline, SinkSpec::Webhook(ref w) if w.secret_headers.len() == 1));

    let err = |yaml: &str| {
        serde_yaml::from_str::<SinkSpec>(yaml)
            .unwrap_err()
            .to_string()
    };
    assert!(err("{webhook: {url: 'https://h/x', retries: 3}}").contains("unknown field `retries`"));
    assert!(err("{exec: {command: [x], shell: true}}").contains("unknown field `shell`"));
    assert!(err("{stdout: {pretty: true}}").contains("unknown field `pretty`"));
    assert!(err("{kafka: x}").contains("stdout, file, webhook and exec"));
    assert!(err("{file: /a, exec: [b]}").contains("one kind"));
    let literal = err("{webhook: {url: 'https://h/x', headers: {Authorization: 'Bearer abc'}}}");
    assert!(literal.contains("secret_headers"), "{literal}");
    assert!(!literal.contains("Bearer abc"), "{literal}");
    let value =
        err("{webhook: {url: 'https://h/x', secret_headers: {Authorization: 'Bearer abc'}}}");
    assert!(
        value.contains("not an environment variable name"),
        "{value}"
    );
    let plain =
        err("{webhook: {url: 'http://h.example.com/x', secret_headers: {Authorization: A}}}");
    assert!(plain.contains("only over https"), "{plain}");
    assert!(err("{exec: {command: [x], timeout: 5}}").contains("unit"));
}

#[test]
fn a_webhook_spec_never_shows_url_credentials_or_query() {
    let spec: SinkSpec = "webhook:https://h.example.com/hook?token=s3cret#frag"
        .parse()
        .unwrap();
    let sink = spec.open_with_env(&no_env).unwrap();
    let shown = format!("{spec:?} {}", sink.describe());
    assert!(shown.contains("h.example.com/hook"), "{shown}");
    assert!(
        !shown.contains("s3cret") && !shown.contains("frag"),
        "{shown}"
    );
    assert_eq!(sink.describe(), "webhook https://h.example.com/hook?…");

    // Credentials belong in the environment, not in the URL.
    let err = "webhook:https://bob:hunter2@h.example.com/hook"
        .parse::<SinkSpec>()
        .unwrap_err();
    assert!(
        err.contains("carries credentials") && err.contains("secret_headers"),
        "{err}"
    );
    assert!(!err.contains("bob") && !err.contains("hunter2"), "{err}");
}

// ---------------------------------------------------------------- file

#[tokio::test]
async fn file_appends_synced_lines_and_reports_its_length() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let spec = SinkSpec::File(FileSpec { path: path.clone() });
    let mut sink = spec.open().unwrap();
    assert_eq!(sink.describe(), format!("file {}", path.display()));
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(sink.recover(None).await.unwrap().is_empty());

    let first = batch(&["u1", "u2"]);
    let p1 = sink.deliver(&first).await.unwrap().unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), ndjson(&first));
    assert_eq!(p1, ndjson(&first).len().to_string());

    let second = batch(&["u3"]);
    let p2 = sink.deliver(&second).await.unwrap().unwrap();
    let all = ndjson(&first) + &ndjson(&second);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), all);
    assert_eq!(p2, all.len().to_string());

    // A second sink on the same file would move this one's positions: refused.
    let taken = spec.open().err().unwrap().to_string();
    assert!(taken.contains("another file sink"), "{taken}");
    drop(sink);

    // Reopened later: appends after what is there.
    let mut sink = spec.open().unwrap();
    assert!(sink.recover(Some(&p2)).await.unwrap().is_empty());
    let p3 = sink.deliver(&batch(&["u4"])).await.unwrap().unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        all.clone() + &ndjson(&batch(&["u4"]))
    );
    assert_eq!(
        p3.parse::<usize>().unwrap(),
        std::fs::metadata(&path).unwrap().len() as usize
    );
}

#[tokio::test]
async fn file_recovers_what_a_crashed_process_wrote_after_its_commit_and_cuts_the_torn_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let spec = SinkSpec::File(FileSpec { path: path.clone() });
    let mut sink = spec.open().unwrap();
    let committed = sink.deliver(&batch(&["a1", "a2"])).await.unwrap().unwrap();
    // Acknowledged but never committed: the process died after this batch, in the middle of
    // writing the next one.
    sink.deliver(&batch(&["b1", "b2", "b3"])).await.unwrap();
    drop(sink);
    let torn = &line("c1").json[..20];
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, torn.as_bytes()))
        .unwrap();

    let mut sink = spec.open().unwrap();
    assert_eq!(
        sink.recover(Some(&committed)).await.unwrap(),
        ["b1", "b2", "b3"]
    );
    let repaired = std::fs::read_to_string(&path).unwrap();
    assert_eq!(repaired, ndjson(&batch(&["a1", "a2", "b1", "b2", "b3"])));

    // The next batch starts on a line of its own.
    let c = batch(&["c1"]);
    sink.deliver(&c).await.unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        repaired + &ndjson(&c)
    );

    // Nothing beyond the position: nothing to recover, nothing cut.
    let len = std::fs::metadata(&path).unwrap().len().to_string();
    drop(sink);
    let mut sink = spec.open().unwrap();
    assert!(sink.recover(Some(&len)).await.unwrap().is_empty());
    assert_eq!(std::fs::metadata(&path).unwrap().len().to_string(), len);
}

#[tokio::test]
async fn file_recovery_at_the_first_start_finds_a_batch_written_before_any_commit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    std::fs::write(
        &path,
        ndjson(&batch(&["x1", "x2"])) + "{\"id\":\"x3\",\"rec",
    )
    .unwrap();
    let mut sink = SinkSpec::File(FileSpec { path: path.clone() })
        .open()
        .unwrap();
    assert_eq!(sink.recover(None).await.unwrap(), ["x1", "x2"]);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        ndjson(&batch(&["x1", "x2"]))
    );
}

#[tokio::test]
async fn file_recovery_reads_only_the_end_of_a_big_file() {
    // 8 GiB of (sparse) history before the last commit: reading it would take many seconds and
    // its zeros would be refused as lines; recovery must seek past them.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let file = std::fs::File::create(&path).unwrap();
    let committed = 8u64 << 30;
    file.set_len(committed - 1).unwrap();
    drop(file);
    let tail = ndjson(&batch(&["z1", "z2"]));
    std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .and_then(|mut f| std::io::Write::write_all(&mut f, format!("\n{tail}").as_bytes()))
        .unwrap();
    let spec = SinkSpec::File(FileSpec { path: path.clone() });
    let mut sink = spec.open().unwrap();
    assert_eq!(
        sink.recover(Some(&committed.to_string())).await.unwrap(),
        ["z1", "z2"]
    );
    drop(sink);
    // At a first start only the end is searched too.
    let mut sink = spec.open().unwrap();
    assert_eq!(sink.recover(None).await.unwrap(), ["z1", "z2"]);
    assert_eq!(
        std::fs::metadata(&path).unwrap().len(),
        committed + tail.len() as u64
    );
}

#[tokio::test]
async fn file_rotated_or_deleted_is_a_fresh_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.jsonl");
    let spec = SinkSpec::File(FileSpec { path: path.clone() });
    let mut sink = spec.open().unwrap();
    let committed = sink.deliver(&batch(&["a1", "a2"])).await.unwrap().unwrap();
    drop(sink);

    // Truncated by someone (copytruncate): shorter than the commit, nothing to recover.
    std::fs::write(&path, ndjson(&batch(&["n1"]))).unwrap();
    let mut sink = spec.open().unwrap();
    assert!(sink.recover(Some(&committed)).await.unwrap().is_empty());
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        ndjson(&batch(&["n1"]))
    );

    // Moved away while open (rotation): the next batch goes to a new file at the path.
    std::fs::rename(&path, dir.path().join("events.jsonl.1")).unwrap();
    let p = sink.deliver(&batch(&["r1"])).await.unwrap().unwrap();
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        ndjson(&batch(&["r1"]))
    );
    assert_eq!(p, ndjson(&batch(&["r1"])).len().to_string());

    // Deleted before a restart: recovery creates it again.
    drop(sink);
    let mut sink = spec.open().unwrap();
    std::fs::remove_file(&path).unwrap();
    assert!(sink.recover(Some(&p)).await.unwrap().is_empty());
    assert!(path.exists());
}

#[test]
fn file_in_a_missing_directory_says_how_to_fix_it() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope").join("events.jsonl");
    let err = SinkSpec::File(FileSpec { path: missing })
        .open()
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("does not exist") && err.contains("mkdir -p"),
        "{err}"
    );
    let err = SinkSpec::File(FileSpec {
        path: dir.path().to_path_buf(),
    })
    .open()
    .err()
    .unwrap()
    .to_string();
    assert!(err.contains("is a directory"), "{err}");
}

// ---------------------------------------------------------------- stdout (the writer behind it)

#[tokio::test]
async fn writer_sink_writes_ndjson_and_a_closed_reader_is_an_error() {
    let mut sink = WriterSink::new(Vec::new(), "test output");
    let lines = batch(&["u1", "u2"]);
    assert_eq!(sink.deliver(&lines).await.unwrap(), None);
    assert_eq!(
        String::from_utf8(sink.get_ref().clone()).unwrap(),
        ndjson(&lines)
    );

    let (writer, reader) = tokio::io::duplex(64);
    drop(reader);
    let mut closed = WriterSink::new(writer, "stdout");
    let err = closed.deliver(&lines).await.unwrap_err();
    assert!(!err.retryable);
    assert!(err.message.contains("closed"), "{}", err.message);

    let bad = [Line {
        id: "x".into(),
        json: "{\"a\":\n1}".into(),
    }];
    assert!(sink.deliver(&bad).await.is_err());
}

// ---------------------------------------------------------------- webhook

/// What the receiver saw of one request.
struct Seen {
    path: String,
    headers: HeaderMap,
    body: Bytes,
    at: Instant,
}

/// One scripted answer: status, headers, body.
type Answer = (u16, Vec<(&'static str, &'static str)>, &'static str);

/// A loopback webhook receiver answering from a script (then 200), recording every request.
#[derive(Clone, Default)]
struct Receiver {
    script: Arc<Mutex<VecDeque<Answer>>>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

async fn receive(State(r): State<Receiver>, uri: Uri, headers: HeaderMap, body: Bytes) -> Response {
    r.seen.lock().push(Seen {
        path: uri.path().to_string(),
        headers,
        body,
        at: Instant::now(),
    });
    let (status, headers, body) = r.script.lock().pop_front().unwrap_or((200, vec![], ""));
    let mut response = (StatusCode::from_u16(status).unwrap(), body).into_response();
    for (name, value) in headers {
        response.headers_mut().insert(name, value.parse().unwrap());
    }
    response
}

async fn receiver(script: Vec<Answer>) -> (String, Receiver) {
    let r = Receiver::default();
    r.script.lock().extend(script);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback(receive).with_state(r.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, r)
}

/// A webhook spec for tests: tiny backoff, three attempts.
fn hook(url: &str) -> WebhookSpec {
    let mut spec = WebhookSpec::parse(url).unwrap();
    spec.retry = Retry {
        max_attempts: 3,
        backoff: Duration::from_millis(1),
        max_backoff: Duration::from_millis(5),
        max_retry_after: Duration::from_millis(150),
    };
    spec
}

fn open_hook(spec: WebhookSpec) -> Box<dyn Sink> {
    SinkSpec::Webhook(spec).open_with_env(&no_env).unwrap()
}

#[tokio::test]
async fn webhook_2xx_acknowledges_a_json_batch_with_its_idempotency_key() {
    let (base, r) = receiver(vec![(201, vec![], "")]).await;
    let mut spec = hook(&format!("{base}/hook"));
    spec.headers = vec![("X-Source".into(), "okta".into())];
    spec.secret_headers = vec![("Authorization".into(), "HOOK_AUTH".into())];
    let secret = "Bearer very-secret-value";
    let env = |name: &str| (name == "HOOK_AUTH").then(|| secret.to_string());
    let spec = SinkSpec::Webhook(spec);
    let mut sink = spec.open_with_env(&env).unwrap();

    let lines = batch(&["e1", "e2"]);
    assert_eq!(sink.deliver(&lines).await.unwrap(), None);
    sink.deliver(&lines).await.unwrap();
    sink.deliver(&batch(&["e3"])).await.unwrap();

    let seen = r.seen.lock();
    assert_eq!(seen.len(), 3);
    let first = &seen[0];
    assert_eq!(first.path, "/hook");
    assert_eq!(first.headers["content-type"], "application/json");
    assert_eq!(first.headers["authorization"], secret);
    assert_eq!(first.headers["x-source"], "okta");
    let body: Value = serde_json::from_slice(&first.body).unwrap();
    let key = first.headers["idempotency-key"].to_str().unwrap();
    assert_eq!(body["batchId"], key);
    assert_eq!(key, batch_id(&lines));
    assert_eq!(body["count"], 2);
    let expected: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(&l.json).unwrap())
        .collect();
    assert_eq!(body["records"], Value::Array(expected));
    // The same records, the same key; other records, another.
    assert_eq!(seen[1].headers["idempotency-key"], key);
    assert_ne!(seen[2].headers["idempotency-key"], key);

    let shown = format!("{} {:?} {:?}", sink.describe(), spec, sink.describe());
    assert!(!shown.contains("very-secret-value"), "{shown}");
    assert_eq!(sink.describe(), format!("webhook {base}/hook"));
}

#[tokio::test]
async fn webhook_retries_a_503_and_is_acknowledged_by_the_200() {
    let (base, r) = receiver(vec![(503, vec![], "busy"), (502, vec![], "")]).await;
    let mut sink = open_hook(hook(&base));
    sink.deliver(&batch(&["e1"])).await.unwrap();
    let seen = r.seen.lock();
    assert_eq!(seen.len(), 3);
    assert_eq!(
        seen[0].headers["idempotency-key"],
        seen[2].headers["idempotency-key"]
    );
}

#[tokio::test]
async fn webhook_gives_up_after_its_attempts_as_retryable() {
    let (base, r) = receiver(vec![(503, vec![], ""); 3]).await;
    let err = open_hook(hook(&base))
        .deliver(&batch(&["e1"]))
        .await
        .unwrap_err();
    assert!(err.retryable);
    assert!(
        err.message.contains("503") && err.message.contains("after 3 attempts"),
        "{}",
        err.message
    );
    assert_eq!(r.seen.lock().len(), 3);
    // The 4th answer (200) was never asked for.
}

#[tokio::test]
async fn webhook_4xx_is_not_acknowledged_nor_retried() {
    let (base, r) = receiver(vec![(400, vec![], "{\"error\": \"bad shape\"}")]).await;
    let err = open_hook(hook(&base))
        .deliver(&batch(&["e1"]))
        .await
        .unwrap_err();
    assert!(!err.retryable);
    assert!(
        err.message.contains("400") && err.message.contains("bad shape"),
        "{}",
        err.message
    );
    assert_eq!(r.seen.lock().len(), 1);
}

#[tokio::test]
async fn webhook_429_waits_as_long_as_retry_after_says() {
    // Retry-After: 1 (second), capped by the test's max_retry_after of 150 ms, while the backoff
    // alone would wait at most 5 ms.
    let (base, r) = receiver(vec![(429, vec![("retry-after", "1")], "")]).await;
    open_hook(hook(&base))
        .deliver(&batch(&["e1"]))
        .await
        .unwrap();
    let seen = r.seen.lock();
    assert_eq!(seen.len(), 2);
    let waited = seen[1].at - seen[0].at;
    assert!(waited >= Duration::from_millis(150), "{waited:?}");
}

#[tokio::test]
async fn webhook_redirects_are_not_followed() {
    let (base, r) = receiver(vec![(302, vec![("location", "/elsewhere?sig=s3cret")], "")]).await;
    let err = open_hook(hook(&format!("{base}/hook")))
        .deliver(&batch(&["e1"]))
        .await
        .unwrap_err();
    assert!(!err.retryable);
    assert!(
        err.message.contains("redirect") && err.message.contains("/elsewhere"),
        "{}",
        err.message
    );
    assert!(!err.message.contains("s3cret"), "{}", err.message);
    assert_eq!(r.seen.lock().len(), 1);
}

#[tokio::test]
async fn webhook_connection_refused_is_retried_then_retryable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    drop(listener);
    let err = open_hook(hook(&url))
        .deliver(&batch(&["e1"]))
        .await
        .unwrap_err();
    assert!(err.retryable);
    assert!(err.message.contains("after 3 attempts"), "{}", err.message);
}

#[test]
fn webhook_secret_header_from_a_missing_variable_is_refused_at_open() {
    let mut spec = hook("https://h.example.com/hook");
    spec.secret_headers = vec![("Authorization".into(), "NOT_SET_HOOK_AUTH".into())];
    let err = SinkSpec::Webhook(spec)
        .open_with_env(&no_env)
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("NOT_SET_HOOK_AUTH") && err.contains("not set"),
        "{err}"
    );
}

// ---------------------------------------------------------------- exec

fn sh(script: String) -> SinkSpec {
    SinkSpec::Exec(ExecSpec::new(vec!["sh".into(), "-c".into(), script]).unwrap())
}

#[tokio::test]
async fn exec_pipes_each_batch_to_the_command() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let spec = sh(format!("cat >> '{}'", out.display()));
    let mut sink = spec.open().unwrap();
    assert!(
        sink.describe().starts_with("exec sh -c 'cat >> "),
        "{}",
        sink.describe()
    );
    let (a, b) = (batch(&["u1", "u2"]), batch(&["u3"]));
    assert_eq!(sink.deliver(&a).await.unwrap(), None);
    sink.deliver(&b).await.unwrap();
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        ndjson(&a) + &ndjson(&b)
    );
}

#[tokio::test]
async fn exec_nonzero_exit_is_not_acknowledged_and_says_why() {
    let spec =
        sh("cat > /dev/null; echo first >&2; echo 'the endpoint is down' >&2; exit 3".into());
    let err = spec
        .open()
        .unwrap()
        .deliver(&batch(&["u1"]))
        .await
        .unwrap_err();
    assert!(err.retryable);
    assert!(err.message.contains("status 3"), "{}", err.message);
    assert!(
        err.message.contains("the endpoint is down"),
        "{}",
        err.message
    );
}

#[tokio::test]
async fn exec_over_its_timeout_is_killed() {
    let mut spec = ExecSpec::new(vec!["sh".into(), "-c".into(), "sleep 30".into()]).unwrap();
    spec.timeout = Duration::from_millis(100);
    let started = Instant::now();
    let err = SinkSpec::Exec(spec)
        .open()
        .unwrap()
        .deliver(&batch(&["u1"]))
        .await
        .unwrap_err();
    assert!(err.retryable);
    assert!(err.message.contains("did not finish"), "{}", err.message);
    // Killed, not waited for (30 s).
    assert!(started.elapsed() < Duration::from_secs(20));
}

#[tokio::test]
async fn exec_missing_command_is_a_clear_error() {
    let err = "exec:no-such-command-okta-test --flag"
        .parse::<SinkSpec>()
        .unwrap()
        .open()
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("'no-such-command-okta-test' was not found"),
        "{err}"
    );
    let err = "exec:/nonexistent/bin/tool"
        .parse::<SinkSpec>()
        .unwrap()
        .open()
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("does not exist"), "{err}");

    // Gone between start-up and the batch.
    let dir = tempfile::tempdir().unwrap();
    let tool = dir.path().join("tool");
    std::fs::write(&tool, "#!/bin/sh\ncat >/dev/null\n").unwrap();
    std::fs::set_permissions(&tool, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut sink = SinkSpec::Exec(ExecSpec::new(vec![tool.display().to_string()]).unwrap())
        .open()
        .unwrap();
    std::fs::remove_file(&tool).unwrap();
    let err = sink.deliver(&batch(&["u1"])).await.unwrap_err();
    assert!(!err.retryable);
    assert!(err.message.contains("was not found"), "{}", err.message);
}
