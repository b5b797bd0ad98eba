//! scheduled_event_search against the in-process simulator, at the library level: the source is
//! built from the registry and called as the runner calls it (cursor in, batch and cursor out), on a
//! manual clock. The schedules are placed relative to the real now (the simulator's clock is real
//! time) with half a period of margin, so no test depends on how fast it runs.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use jiff::tz::TimeZone;
use okta_client::{Client, ClientConfig, ManualClock, Query};
use okta_connector::triggers::{self, Batch, Next, Source, SourceContext, SourceError};
use okta_sim::{SimConfig, SimServer};
use reqwest::Method;
use serde_json::{Value, json};

const LOCK: &str = "user.account.lock";
const MIN: u64 = 60;

struct Org {
    server: SimServer,
    clock: Arc<ManualClock>,
    ctx: SourceContext,
    _dir: tempfile::TempDir,
}

impl Org {
    async fn new() -> Org {
        let config = SimConfig {
            users: 5,
            groups: 2,
            apps: 1,
            log_events: 0,
            ..SimConfig::small()
        };
        let server = okta_sim::spawn(config, "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let client = Client::new(ClientConfig::new(
            server.base_url().parse().unwrap(),
            okta_client::Auth::ApiToken(okta_client::SecretString::new(server.api_token())),
        ))
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let clock = Arc::new(ManualClock::new());
        let ctx = SourceContext::new(client, clock.clone(), dir.path().join("work"));
        Org {
            server,
            clock,
            ctx,
            _dir: dir,
        }
    }

    /// Inserts `count` events of `event_type` published `ago` before the simulator's now; their uuids.
    async fn late(&self, count: usize, ago: Duration, event_type: &str) -> Vec<String> {
        let body = json!({"count": count, "publishedAgoMs": ago.as_millis() as u64, "eventType": event_type});
        let answer: Value = self
            .ctx
            .client
            .json(
                Method::POST,
                "/control/logs/late",
                &Query::new(),
                Some(&body),
            )
            .await
            .unwrap();
        answer["inserted"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u.as_str().unwrap().to_string())
            .collect()
    }

    fn log_requests(&self) -> u64 {
        self.server.sim().counters.count("GET /api/v1/logs")
    }

    fn spools(&self) -> Vec<String> {
        match std::fs::read_dir(&self.ctx.work_dir) {
            Err(_) => Vec::new(),
            Ok(dir) => dir
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .collect(),
        }
    }

    async fn next(&self, source: &mut Box<dyn Source>, cursor: Option<&Value>) -> Batch {
        source.next(&self.ctx, cursor).await.unwrap()
    }
}

fn source(config: Value) -> Box<dyn Source> {
    triggers::find("scheduled_event_search")
        .expect("registered")
        .source(config)
        .unwrap()
}

/// The one batch record of a call, parsed.
fn record(batch: &Batch) -> (String, Value) {
    assert_eq!(batch.records.len(), 1, "one batch record per call");
    let r = &batch.records[0];
    (r.id.clone(), serde_json::from_str(r.object.get()).unwrap())
}

fn uuids(object: &Value) -> Vec<String> {
    object["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["uuid"].as_str().unwrap().to_string())
        .collect()
}

fn ts(v: &Value) -> Timestamp {
    v.as_str().unwrap().parse().unwrap()
}

fn now() -> Timestamp {
    Timestamp::now()
}

/// An hourly schedule whose runs fall half an hour from now: windows end at about now−30m, −90m,
/// −150m; 250 events at −100m (and 3 of another type the filter drops), 7 at −40m.
#[tokio::test]
async fn hourly_windows_batches_and_exactly_once_across_a_restart() {
    let org = Org::new().await;
    let minute = (now().to_zoned(TimeZone::UTC).minute() + 30) % 60;
    let config = json!({
        "schedule": "hourly", "minute": minute, "start": "3h",
        "filter": format!("eventType eq \"{LOCK}\""),
    });
    let big = org.late(250, Duration::from_secs(100 * MIN), LOCK).await;
    org.late(3, Duration::from_secs(100 * MIN), "user.session.start")
        .await;
    let small = org.late(7, Duration::from_secs(40 * MIN), LOCK).await;

    // The first window ([−210m, −150m)) holds nothing: one empty batch says it ran.
    let mut src = source(config.clone());
    let b1 = org.next(&mut src, None).await;
    let (id, w1) = record(&b1);
    assert_eq!(b1.next, Next::Now);
    assert_eq!(id, format!("{}#0", w1["scheduledTime"].as_str().unwrap()));
    assert_eq!(w1["totalCount"], 0);
    assert_eq!(w1["events"], json!([]));
    assert_eq!(
        (&w1["firstBatch"], &w1["lastBatch"]),
        (&json!(true), &json!(true))
    );
    assert_eq!(
        (&w1["startOffset"], &w1["endOffset"]),
        (&json!(0), &json!(0))
    );
    assert!(w1["firstRecordId"].is_null() && w1["lastRecordId"].is_null());
    assert_eq!(w1["range"]["until"], w1["scheduledTime"]);
    let (since, until) = (ts(&w1["range"]["since"]), ts(&w1["range"]["until"]));
    assert_eq!(
        until.duration_since(since),
        jiff::SignedDuration::from_hours(1)
    );
    assert_eq!(until.to_zoned(TimeZone::UTC).minute(), minute);
    assert!(until < now() - jiff::SignedDuration::from_mins(149));

    // The second window: 250 events in batches of 100.
    let b2 = org.next(&mut src, Some(&b1.cursor)).await;
    let (id, w2) = record(&b2);
    assert_eq!(b2.next, Next::Now);
    assert_eq!(
        w2["range"]["since"], w1["range"]["until"],
        "no gap, no overlap"
    );
    assert_eq!(id, format!("{}#0", w2["scheduledTime"].as_str().unwrap()));
    assert_eq!(w2["batchIndex"], 0);
    assert_eq!(w2["totalCount"], 250);
    assert_eq!(
        (&w2["firstBatch"], &w2["lastBatch"]),
        (&json!(true), &json!(false))
    );
    assert_eq!(
        (&w2["startOffset"], &w2["endOffset"]),
        (&json!(0), &json!(100))
    );
    assert_eq!(uuids(&w2), big[..100]);
    assert_eq!(w2["firstRecordId"], big[0].as_str());
    assert_eq!(w2["lastRecordId"], big[99].as_str());
    assert_eq!(
        w2["events"][0]["eventType"], LOCK,
        "events as Okta sent them"
    );
    assert!(w2["events"][0]["actor"]["id"].is_string());
    assert_eq!(
        org.spools().len(),
        1,
        "the window is spooled: {:?}",
        org.spools()
    );

    // A restart mid-window: a new source with the committed cursor reads on from the spool.
    drop(src);
    let requests = org.log_requests();
    let mut src = source(config.clone());
    let b3 = org.next(&mut src, Some(&b2.cursor)).await;
    let (id, w3) = record(&b3);
    assert_eq!(id, format!("{}#1", w2["scheduledTime"].as_str().unwrap()));
    assert_eq!(
        (&w3["startOffset"], &w3["endOffset"]),
        (&json!(100), &json!(200))
    );
    assert_eq!(w3["firstBatch"], false);
    assert_eq!(uuids(&w3), big[100..200]);
    assert_eq!(
        org.log_requests(),
        requests,
        "resumed from the spool, Okta not asked"
    );
    // A sink that failed makes the runner ask again with the same cursor: the same batch, byte
    // for byte.
    let again = org
        .next(&mut source(config.clone()), Some(&b2.cursor))
        .await;
    assert_eq!(again.records[0].object.get(), b3.records[0].object.get());
    assert_eq!(again.cursor, b3.cursor);

    // The same for the window's first batch (its cursor is before the window): the spool a
    // previous attempt left is the window, Okta is not asked again.
    let first_again = org
        .next(&mut source(config.clone()), Some(&b1.cursor))
        .await;
    assert_eq!(
        first_again.records[0].object.get(),
        b2.records[0].object.get()
    );
    assert_eq!(org.log_requests(), requests);

    let b4 = org.next(&mut src, Some(&b3.cursor)).await;
    let (_, w4) = record(&b4);
    assert_eq!(
        (&w4["startOffset"], &w4["endOffset"]),
        (&json!(200), &json!(250))
    );
    assert_eq!(w4["lastBatch"], true);
    assert_eq!(w4["totalCount"], 250);
    assert_eq!(uuids(&w4), big[200..]);
    assert_eq!(
        org.spools().len(),
        1,
        "kept until the last batch is committed"
    );

    // Once the last batch is committed (a call with the cursor past it) the spool goes.
    let b5 = org.next(&mut src, Some(&b4.cursor)).await;
    let (_, w5) = record(&b5);
    assert_eq!(w5["range"]["since"], w2["range"]["until"]);
    assert_eq!(w5["totalCount"], 7);
    assert_eq!(uuids(&w5), small);
    assert!(org.spools().iter().all(|s| !s.contains(&ms(&w2))));
    // Caught up: the next window is read a settle (1m) after its scheduled time, ~30m from now.
    let Next::At(at) = b5.next else {
        panic!("caught up: {:?}", b5.next)
    };
    let next_run = ts(&w5["range"]["until"]) + jiff::SignedDuration::from_hours(1);
    assert_eq!(
        at.unix_timestamp(),
        next_run.as_second() + 60,
        "a settle after the next scheduled time"
    );

    // Called early: nothing, the same cursor, the same time.
    let b6 = org.next(&mut src, Some(&b5.cursor)).await;
    assert!(b6.records.is_empty());
    assert_eq!(b6.cursor, b5.cursor);
    assert_eq!(b6.next, b5.next);
    assert!(org.spools().is_empty(), "{:?}", org.spools());

    // Time passes: the next window holds what happened since.
    let recent = org.late(5, Duration::from_secs(MIN), LOCK).await;
    org.clock.advance(Duration::from_secs(32 * MIN));
    let b7 = org.next(&mut src, Some(&b6.cursor)).await;
    let (_, w7) = record(&b7);
    assert_eq!(ts(&w7["scheduledTime"]), next_run);
    assert_eq!(uuids(&w7), recent);
    assert!(matches!(b7.next, Next::At(_)));
}

fn ms(w: &Value) -> String {
    ts(&w["scheduledTime"]).as_millisecond().to_string()
}

/// The spool lost mid-window: the window is read again and the remaining batches come.
#[tokio::test]
async fn a_lost_spool_is_read_again() {
    let org = Org::new().await;
    let minute = (now().to_zoned(TimeZone::UTC).minute() + 30) % 60;
    let config = json!({
        "schedule": "hourly", "minute": minute, "start": "1h", "batch_size": 100,
        "settle": "0s", "filter": format!("eventType eq \"{LOCK}\""),
    });
    let events = org.late(250, Duration::from_secs(60 * MIN), LOCK).await;
    let mut src = source(config.clone());
    let b1 = org.next(&mut src, None).await;
    let (_, w1) = record(&b1);
    assert_eq!(uuids(&w1), events[..100]);
    let requests = org.log_requests();

    std::fs::remove_dir_all(&org.ctx.work_dir).unwrap();
    let mut src = source(config);
    let b2 = org.next(&mut src, Some(&b1.cursor)).await;
    let (id, w2) = record(&b2);
    assert!(org.log_requests() > requests, "Okta asked again");
    assert!(id.ends_with("#1"));
    assert_eq!(
        (&w2["startOffset"], &w2["endOffset"]),
        (&json!(100), &json!(200))
    );
    assert_eq!(uuids(&w2), events[100..200]);
    let b3 = org.next(&mut src, Some(&b2.cursor)).await;
    let (_, w3) = record(&b3);
    assert_eq!(uuids(&w3), events[200..]);
    assert_eq!(w3["lastBatch"], true);
}

/// A window larger than Okta's page (1000): every page is read before the first batch.
#[tokio::test]
async fn a_window_of_several_pages_in_batches_of_1000() {
    let org = Org::new().await;
    let minute = (now().to_zoned(TimeZone::UTC).minute() + 30) % 60;
    let mut events = org.late(1500, Duration::from_secs(70 * MIN), LOCK).await;
    events.extend(org.late(1000, Duration::from_secs(60 * MIN), LOCK).await);
    let mut src = source(json!({
        "schedule": "hourly", "minute": minute, "start": "1h", "batch_size": 1000, "settle": "0s",
    }));
    let mut cursor = None;
    let mut seen = Vec::new();
    let mut offsets = Vec::new();
    loop {
        let b = org.next(&mut src, cursor.as_ref()).await;
        let (_, w) = record(&b);
        assert_eq!(w["totalCount"], 2500);
        offsets.push((
            w["startOffset"].as_u64().unwrap(),
            w["endOffset"].as_u64().unwrap(),
        ));
        seen.extend(uuids(&w));
        cursor = Some(b.cursor);
        if w["lastBatch"] == true {
            break;
        }
        assert_eq!(b.next, Next::Now);
    }
    assert_eq!(offsets, [(0, 1000), (1000, 2000), (2000, 2500)]);
    assert_eq!(seen, events);
    assert_eq!(org.log_requests(), 3, "three pages of 1000, read once");
}

/// Daily at a local hour in New York on one weekday: windows a week apart, each run at that local
/// time whatever the offset (a DST change between them moves the UTC time, not the local one).
#[tokio::test]
async fn daily_on_a_weekday_in_a_time_zone() {
    let org = Org::new().await;
    let tz = TimeZone::get("America/New_York").unwrap();
    let local = now().to_zoned(tz.clone());
    // Runs half a day from now; not at 01:xx or 02:xx, which DST days skip or repeat.
    let mut run = local
        .checked_add(jiff::SignedDuration::from_hours(12))
        .unwrap();
    if matches!(run.hour(), 1 | 2) {
        run = run
            .checked_add(jiff::SignedDuration::from_hours(3))
            .unwrap();
    }
    let (hour, minute) = (run.hour(), run.minute());
    // The weekday of the last run before now.
    let last = run.checked_sub(jiff::Span::new().days(1)).unwrap();
    let weekday = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        [last.weekday().to_monday_zero_offset() as usize];
    let config = json!({
        "schedule": "daily", "days": [weekday], "hour": hour, "minute": minute,
        "time_zone": "America/New_York", "start": "10d", "settle": "0s",
    });
    let mut src = source(config);
    let mut cursor = None;
    let mut windows = Vec::new();
    loop {
        let b = org.next(&mut src, cursor.as_ref()).await;
        if b.records.is_empty() {
            break;
        }
        windows.push(record(&b).1);
        cursor = Some(b.cursor);
        assert!(windows.len() < 10);
    }
    assert_eq!(windows.len(), 2, "{windows:#?}");
    for w in &windows {
        let at = ts(&w["scheduledTime"]).to_zoned(tz.clone());
        assert_eq!((at.hour(), at.minute()), (hour, minute));
        assert_eq!(at.weekday(), last.weekday(), "{}", w["scheduledTime"]);
        let since = ts(&w["range"]["since"]).to_zoned(tz.clone());
        assert_eq!(
            since.date(),
            at.date().checked_sub(jiff::Span::new().days(7)).unwrap()
        );
        assert_eq!((since.hour(), since.minute()), (hour, minute));
    }
    assert_eq!(windows[1]["range"]["since"], windows[0]["scheduledTime"]);
}

/// Monthly on day 31 (each month's last day) at noon in Auckland, from 70 days back: one window
/// per month end, contiguous, and events land in the window that holds their time.
#[tokio::test]
async fn monthly_on_the_last_day_in_a_time_zone() {
    let org = Org::new().await;
    let tz = TimeZone::get("Pacific/Auckland").unwrap();
    let config = json!({
        "schedule": "monthly", "days": [31], "hour": 12, "time_zone": "Pacific/Auckland",
        "start": "70d", "settle": "0s", "filter": format!("eventType eq \"{LOCK}\""),
    });
    let events = org.late(3, Duration::from_secs(40 * 86_400), LOCK).await;
    let then = now() - jiff::SignedDuration::from_hours(40 * 24);

    // Month ends at noon in Auckland within (now − 70d, now], computed here independently.
    let from = now() - jiff::SignedDuration::from_hours(70 * 24);
    let mut expected = Vec::new();
    let mut month = from.to_zoned(tz.clone()).date().first_of_month();
    for _ in 0..5 {
        let end = month.last_of_month().at(12, 0, 0, 0);
        let t = tz.to_ambiguous_timestamp(end).compatible().unwrap();
        if t > from && t <= now() {
            expected.push(t);
        }
        month = month.checked_add(jiff::Span::new().months(1)).unwrap();
    }

    assert!(expected.len() >= 2, "{expected:?}");
    let mut src = source(config);
    let mut cursor = None;
    let mut windows = Vec::new();
    loop {
        let b = org.next(&mut src, cursor.as_ref()).await;
        if b.records.is_empty() {
            break;
        }
        windows.push(record(&b).1);
        cursor = Some(b.cursor);
        assert!(windows.len() < 10);
    }
    let got: Vec<Timestamp> = windows.iter().map(|w| ts(&w["scheduledTime"])).collect();
    assert_eq!(got, expected);
    for pair in windows.windows(2) {
        assert_eq!(pair[1]["range"]["since"], pair[0]["range"]["until"]);
    }
    for w in &windows {
        let (since, until) = (ts(&w["range"]["since"]), ts(&w["range"]["until"]));
        let holds = since <= then && then < until;
        assert_eq!(uuids(w), if holds { events.clone() } else { vec![] });
    }
    assert!(windows.iter().any(|w| w["totalCount"] == 3));
}

/// The first start without `start`: nothing is read before the first scheduled time after it.
#[tokio::test]
async fn the_first_run_is_the_first_scheduled_time_after_the_first_start() {
    let org = Org::new().await;
    org.late(4, Duration::from_secs(10 * MIN), LOCK).await;
    let minute = (now().to_zoned(TimeZone::UTC).minute() + 30) % 60;
    let mut src = source(json!({"schedule": "hourly", "minute": minute}));
    let b = org.next(&mut src, None).await;
    assert!(b.records.is_empty());
    let Next::At(at) = b.next else {
        panic!("{:?}", b.next)
    };
    let wait = at.unix_timestamp() - now().as_second();
    assert!((25 * 60..=32 * 60).contains(&wait), "{wait}s");
    assert_eq!(org.log_requests(), 0);
    // The cursor pins the first window's start, so a restart later cannot move it.
    org.clock.advance(Duration::from_secs(40 * MIN));
    let b2 = org
        .next(
            &mut source(json!({"schedule": "hourly", "minute": minute})),
            Some(&b.cursor),
        )
        .await;
    let (_, w) = record(&b2);
    assert_eq!(w["range"]["since"], b.cursor["done"]);
    assert_eq!(w["totalCount"], 4, "the events of the first window: {w}");
}

#[tokio::test]
async fn a_filter_okta_refuses_stops_the_trigger() {
    let org = Org::new().await;
    let minute = (now().to_zoned(TimeZone::UTC).minute() + 30) % 60;
    let mut src = source(json!({
        "schedule": "hourly", "minute": minute, "start": "2h", "filter": "eventType eqq \"x\"",
    }));
    let err = src.next(&org.ctx, None).await.unwrap_err();
    let SourceError::Okta(e) = &err else {
        panic!("{err}")
    };
    assert_eq!(e.status, Some(400));
    assert!(!err.retryable(), "{err}");
    assert!(err.to_string().contains("filter"), "{err}");
    assert!(
        org.spools().iter().all(|s| !s.ends_with(".ndjson")),
        "{:?}",
        org.spools()
    );
}

#[test]
fn invalid_configurations_are_refused_with_a_fix() {
    let def = triggers::find("scheduled_event_search").unwrap();
    let cases = [
        (json!({"schedule": "hourly", "hour": 3}), "remove hour"),
        (json!({"schedule": "monthly"}), "days\": [1]"),
        (
            json!({"schedule": "monthly", "days": ["mon"]}),
            "\"schedule\": \"daily\"",
        ),
        (
            json!({"schedule": "daily", "days": [1]}),
            "\"schedule\": \"monthly\"",
        ),
        (
            json!({"schedule": "daily", "days": ["funday"]}),
            "use mon, tue",
        ),
        (json!({"schedule": "daily", "days": []}), "days is empty"),
        (json!({"schedule": "monthly", "days": [32]}), "1–31"),
        (json!({"schedule": "monthly", "days": [0]}), "1–31"),
        (json!({"schedule": "daily", "hour": 24}), "0–23"),
        (json!({"schedule": "daily", "minute": 60}), "0–59"),
        (
            json!({"schedule": "daily", "time_zone": "Mars/Olympus"}),
            "unknown time zone 'Mars/Olympus'",
        ),
        (json!({"schedule": "daily", "batch_size": 0}), "1–1000"),
        (json!({"schedule": "daily", "batch_size": 1001}), "1–1000"),
        (
            json!({"schedule": "daily", "q": "x".repeat(41)}),
            "40 characters",
        ),
        (
            json!({"schedule": "daily", "start": "yesterday"}),
            "yesterday",
        ),
        (
            json!({"schedule": "daily", "settle": "2d"}),
            "longer than 1d",
        ),
        (json!({"schedule": "weekly"}), "unknown variant"),
        (
            json!({"schedule": "daily", "colour": "red"}),
            "unknown field",
        ),
        (json!({"days": [1]}), "missing field `schedule`"),
    ];
    for (config, expected) in cases {
        let err = def
            .source(config.clone())
            .err()
            .unwrap_or_else(|| panic!("accepted {config}"));
        assert!(err.contains(expected), "{config}: {err}");
    }
    for ok in [
        json!({"schedule": "daily", "days": ["mon", "Friday"], "time_zone": "Europe/Paris"}),
        json!({"schedule": "monthly", "days": [1, 15, 31], "hour": 23, "minute": 59}),
        json!({"schedule": "hourly", "days": ["sat", "sun"], "minute": 5, "batch_size": 1000}),
    ] {
        assert!(def.source(ok.clone()).is_ok(), "{ok}");
    }
    // Every field is documented in the schema.
    let schema = def.config_schema();
    let props = schema["properties"].as_object().unwrap();
    for field in [
        "schedule",
        "days",
        "hour",
        "minute",
        "time_zone",
        "filter",
        "q",
        "batch_size",
        "start",
        "settle",
    ] {
        assert!(
            props[field]["description"].is_string(),
            "{field}: {}",
            props[field]
        );
    }
    assert!(def.record.shape.unwrap().contains("totalCount"));
}
