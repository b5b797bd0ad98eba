//! Delivery: every System Log event an ACTIVE and VERIFIED hook subscribes to is queued for it
//! (under the log's write lock, so queues keep the log's order), and one task per such hook sends
//! the queue in batches.
//!
//! A batch is sent when it is full (`max_batch`) or has waited `linger_ms` (real time) for more;
//! a flush request cuts the wait short. Each batch is one POST of Okta's envelope (FACTS.md §6) with
//! a timeout and at most one retry (5xx, timeout, no connection; never 4xx); a batch that still
//! fails is lost and written to the System Log as `event_hook.delivery`, as Okta does. Batches go
//! one at a time per hook, so a receiver sees them in order; throughput is `max_batch` per round
//! trip. The control API can make deliveries arrive twice or not at all.
//!
//! Deactivating, changing (unverifying) or deleting a hook closes its queue: what was not yet sent
//! is discarded (counted), as Okta stops calling such a hook.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use parking_lot::{Mutex, RwLock};
use serde::Serialize;
use serde::ser::{SerializeStruct, Serializer};
use serde_json::{Value, json};
use tokio::sync::{Notify, watch};

use super::outbound::{self, Attempt, Outbound};
use crate::Sim;
use crate::config::HookDelivery;
use crate::syslog::json::{iso_text, uuid_text};
use crate::syslog::{Entity, EventJson, LogEvent, NewEvent, RequestCtx, Severity, StoreMeta};

/// What happened to one hook's deliveries (`GET /control/event-hooks/deliveries`).
#[derive(Debug, Default)]
pub struct Stats {
    /// Batches the receiver accepted (2xx), duplicates included.
    batches: AtomicU64,
    events: AtomicU64,
    retries: AtomicU64,
    /// Batches lost after the retry (or on a 4xx).
    failures: AtomicU64,
    /// Extra copies sent on request of the control API.
    duplicates: AtomicU64,
    /// Batches (and their events) dropped unsent on request of the control API.
    dropped_batches: AtomicU64,
    dropped_events: AtomicU64,
    /// Events never sent because the hook stopped being deliverable.
    discarded: AtomicU64,
    /// Queued or being sent.
    pending: AtomicUsize,
    last: Mutex<(Option<u16>, Option<String>)>,
}

impl Stats {
    fn snapshot(&self) -> Value {
        let n = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let (status, error) = self.last.lock().clone();
        json!({
            "batchesSent": n(&self.batches),
            "eventsSent": n(&self.events),
            "retries": n(&self.retries),
            "failures": n(&self.failures),
            "duplicatesSent": n(&self.duplicates),
            "batchesDropped": n(&self.dropped_batches),
            "eventsDropped": n(&self.dropped_events),
            "eventsDiscarded": n(&self.discarded),
            "pending": self.pending.load(Ordering::Relaxed),
            "lastStatus": status,
            "lastError": error,
        })
    }
}

/// One deliverable hook: its queue and where it sends.
struct Channel {
    id: String,
    target: RwLock<Arc<Outbound>>,
    queue: Mutex<VecDeque<LogEvent>>,
    wake: Notify,
    closed: watch::Sender<bool>,
    stats: Arc<Stats>,
}

/// The delivery side of the org's event hooks.
pub struct Delivery {
    timeout_ms: AtomicU64,
    max_batch: AtomicUsize,
    linger_ms: AtomicU64,
    channels: RwLock<Vec<Arc<Channel>>>,
    /// `channels.len()`, read without a lock on every System Log write.
    live: AtomicUsize,
    stats: Mutex<BTreeMap<String, Arc<Stats>>>,
    pending: AtomicUsize,
    idle: Notify,
    /// The number of flush requests waiting: while above 0, batches do not linger.
    flushing: watch::Sender<usize>,
    /// Control API budgets: the next N deliveries sent twice, the next N batches dropped.
    duplicate: AtomicU64,
    drop: AtomicU64,
    shut: AtomicBool,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("live", &self.live.load(Ordering::Relaxed))
            .field("pending", &self.pending.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

/// Takes one unit of a control budget, if any is left.
fn take(budget: &AtomicU64) -> bool {
    budget
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
        .is_ok()
}

impl Delivery {
    pub fn new(settings: HookDelivery) -> Self {
        let d = Delivery {
            timeout_ms: AtomicU64::new(0),
            max_batch: AtomicUsize::new(0),
            linger_ms: AtomicU64::new(0),
            channels: RwLock::new(Vec::new()),
            live: AtomicUsize::new(0),
            stats: Mutex::new(BTreeMap::new()),
            pending: AtomicUsize::new(0),
            idle: Notify::new(),
            flushing: watch::channel(0).0,
            duplicate: AtomicU64::new(0),
            drop: AtomicU64::new(0),
            shut: AtomicBool::new(false),
        };
        d.set_settings(settings);
        d
    }

    pub fn settings(&self) -> HookDelivery {
        HookDelivery {
            timeout_ms: self.timeout_ms.load(Ordering::Relaxed),
            max_batch: self.max_batch.load(Ordering::Relaxed),
            linger_ms: self.linger_ms.load(Ordering::Relaxed),
        }
    }

    pub fn set_settings(&self, s: HookDelivery) {
        self.timeout_ms
            .store(s.timeout_ms.max(1), Ordering::Relaxed);
        self.max_batch.store(s.max_batch.max(1), Ordering::Relaxed);
        self.linger_ms.store(s.linger_ms, Ordering::Relaxed);
    }

    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms.load(Ordering::Relaxed))
    }

    fn stats_of(&self, id: &str) -> Arc<Stats> {
        self.stats.lock().entry(id.to_string()).or_default().clone()
    }

    /// Called with every event the System Log persists, under its write lock (so the queues keep
    /// the log's order). Cheap when no hook is deliverable.
    pub fn offer(&self, ev: &LogEvent) {
        if self.live.load(Ordering::Acquire) == 0 {
            return;
        }
        for ch in self.channels.read().iter() {
            if !ch.target.read().types.contains(ev.event_type) {
                continue;
            }
            let was_empty = {
                let mut q = ch.queue.lock();
                q.push_back(ev.clone());
                q.len() == 1
            };
            ch.stats.pending.fetch_add(1, Ordering::AcqRel);
            self.pending.fetch_add(1, Ordering::AcqRel);
            // The task waits only on an empty queue; a stored permit covers a wake-up it is about
            // to wait for.
            if was_empty {
                ch.wake.notify_one();
            }
        }
    }

    /// Makes the delivery state of hook `id` match what `lookup` says (`Some` = deliverable, sent
    /// there): starts its task, updates where it sends, or closes it. `lookup` reads the registry
    /// under this lock, so concurrent changes of one hook apply in the order they were made.
    pub(super) fn sync(&self, sim: &Arc<Sim>, id: &str, lookup: impl FnOnce() -> Option<Outbound>) {
        let mut channels = self.channels.write();
        let at = channels.iter().position(|c| c.id == id);
        match (lookup(), at) {
            (Some(t), Some(i)) => *channels[i].target.write() = Arc::new(t),
            (Some(t), None) => {
                if self.shut.load(Ordering::Acquire) {
                    return;
                }
                let Ok(runtime) = tokio::runtime::Handle::try_current() else {
                    return;
                };
                let ch = Arc::new(Channel {
                    id: id.to_string(),
                    target: RwLock::new(Arc::new(t)),
                    queue: Mutex::new(VecDeque::new()),
                    wake: Notify::new(),
                    closed: watch::channel(false).0,
                    stats: self.stats_of(id),
                });
                channels.push(ch.clone());
                runtime.spawn(run(Arc::downgrade(sim), ch));
            }
            (None, Some(i)) => {
                let ch = channels.remove(i);
                ch.closed.send_replace(true);
                ch.wake.notify_one();
            }
            (None, None) => {}
        }
        self.live.store(channels.len(), Ordering::Release);
    }

    /// Stops every hook's task (the server is shutting down); nothing starts afterwards.
    pub fn shutdown(&self) {
        self.shut.store(true, Ordering::Release);
        let mut channels = self.channels.write();
        for ch in channels.drain(..) {
            ch.closed.send_replace(true);
            ch.wake.notify_one();
        }
        self.live.store(0, Ordering::Release);
    }

    /// `n` events are done with (sent, failed, dropped or discarded).
    fn done(&self, stats: &Stats, n: usize) {
        stats.pending.fetch_sub(n, Ordering::AcqRel);
        if self.pending.fetch_sub(n, Ordering::AcqRel) == n {
            self.idle.notify_waiters();
        }
    }

    pub fn pending(&self) -> usize {
        self.pending.load(Ordering::Acquire)
    }

    pub fn add_duplicates(&self, n: u64) -> u64 {
        self.duplicate.fetch_add(n, Ordering::AcqRel) + n
    }

    pub fn add_drops(&self, n: u64) -> u64 {
        self.drop.fetch_add(n, Ordering::AcqRel) + n
    }

    /// Sends everything pending now (no lingering) and waits until nothing is pending or
    /// `timeout` passes. Returns what is still pending.
    pub async fn flush(&self, timeout: Duration) -> usize {
        self.flushing.send_modify(|n| *n += 1);
        let deadline = tokio::time::Instant::now() + timeout;
        let left = loop {
            let idle = self.idle.notified();
            let pending = self.pending();
            if pending == 0 {
                break 0;
            }
            if tokio::time::timeout_at(deadline, idle).await.is_err() {
                break self.pending();
            }
        };
        self.flushing.send_modify(|n| *n -= 1);
        left
    }

    /// Counters per hook, for the control API.
    pub fn snapshot(&self) -> Value {
        let hooks: serde_json::Map<String, Value> = self
            .stats
            .lock()
            .iter()
            .map(|(id, s)| (id.clone(), s.snapshot()))
            .collect();
        json!({
            "pending": self.pending(),
            "duplicatesRequested": self.duplicate.load(Ordering::Acquire),
            "dropsRequested": self.drop.load(Ordering::Acquire),
            "hooks": hooks,
        })
    }
}

/// One hook's delivery loop: wait for events, linger, send a batch, repeat until closed.
async fn run(sim: Weak<Sim>, ch: Arc<Channel>) {
    let mut closed = ch.closed.subscribe();
    let mut flushing = match sim.upgrade() {
        Some(s) => s.hooks.delivery.flushing.subscribe(),
        None => return,
    };
    'run: loop {
        // Wait for something to send.
        loop {
            if *closed.borrow() {
                break 'run;
            }
            if !ch.queue.lock().is_empty() {
                break;
            }
            tokio::select! {
                _ = ch.wake.notified() => {}
                _ = closed.wait_for(|c| *c) => break 'run,
            }
        }
        let Some(sim) = sim.upgrade() else { break };
        let d = &sim.hooks.delivery;
        let settings = d.settings();
        if ch.queue.lock().len() < settings.max_batch && settings.linger_ms > 0 {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(settings.linger_ms)) => {}
                _ = flushing.wait_for(|n| *n > 0) => {}
                _ = closed.wait_for(|c| *c) => break 'run,
            }
        }
        let batch: Vec<LogEvent> = {
            let mut q = ch.queue.lock();
            let n = q.len().min(settings.max_batch);
            q.drain(..n).collect()
        };
        if batch.is_empty() {
            continue;
        }
        let n = batch.len();
        tokio::select! {
            _ = send_batch(&sim, &ch, batch) => {}
            _ = closed.wait_for(|c| *c) => {
                ch.stats.discarded.fetch_add(n as u64, Ordering::Relaxed);
            }
        }
        d.done(&ch.stats, n);
    }
    // Closed: what is still queued will never be sent.
    let left: usize = {
        let mut q = ch.queue.lock();
        let n = q.len();
        q.clear();
        n
    };
    ch.stats.discarded.fetch_add(left as u64, Ordering::Relaxed);
    if let Some(sim) = sim.upgrade() {
        sim.hooks.delivery.done(&ch.stats, left);
    } else {
        ch.stats.pending.fetch_sub(left, Ordering::AcqRel);
    }
}

/// Sends one batch (twice when a duplicate is due; not at all when a drop is due).
async fn send_batch(sim: &Arc<Sim>, ch: &Channel, batch: Vec<LogEvent>) {
    let d = &sim.hooks.delivery;
    let n = batch.len() as u64;
    if take(&d.drop) {
        ch.stats.dropped_batches.fetch_add(1, Ordering::Relaxed);
        ch.stats.dropped_events.fetch_add(n, Ordering::Relaxed);
        return;
    }
    let body = envelope(sim, &ch.id, &batch);
    let copies = if take(&d.duplicate) { 2 } else { 1 };
    for copy in 0..copies {
        let target = ch.target.read().clone();
        let (last, retried) = outbound::deliver(&target, body.clone(), d.timeout()).await;
        if retried {
            ch.stats.retries.fetch_add(1, Ordering::Relaxed);
        }
        let ok = last.status().is_some_and(|s| (200..300).contains(&s));
        *ch.stats.last.lock() = (last.status(), (!ok).then(|| last.describe()));
        if ok {
            ch.stats.batches.fetch_add(1, Ordering::Relaxed);
            ch.stats.events.fetch_add(n, Ordering::Relaxed);
            if copy > 0 {
                ch.stats.duplicates.fetch_add(1, Ordering::Relaxed);
            }
        } else {
            ch.stats.failures.fetch_add(1, Ordering::Relaxed);
            log_failure(sim, &ch.id, &last);
        }
    }
}

/// `event_hook.delivery` ("triggered when an event hook delivery fails", Okta's event catalogue).
/// Okta's system writes it, not an admin: the actor is Okta's system principal.
fn log_failure(sim: &Sim, hook_id: &str, last: &Attempt) {
    let target = sim
        .hooks
        .get(hook_id)
        .map(|h| h.entity())
        .unwrap_or_else(|| {
            Arc::new(Entity {
                id: hook_id.to_string(),
                kind: "EventHook",
                alternate_id: "unknown".into(),
                display_name: "unknown".into(),
            })
        });
    let ctx = RequestCtx {
        request_id: crate::rng::Rng::from_os().alphanumeric(27),
        request_uri: format!("/api/v1/eventHooks/{hook_id}"),
        actor: system_principal(),
        client: crate::syslog::default_client(),
    };
    let mut event = NewEvent::success(
        "event_hook.delivery",
        "Event hook delivery failed",
        vec![target],
    );
    event.result = "FAILURE";
    event.severity = Severity::Warn;
    event.reason = Some(last.describe());
    sim.log(&ctx, event);
}

fn system_principal() -> Arc<Entity> {
    Arc::new(Entity {
        id: "system".into(),
        kind: "SystemPrincipal",
        alternate_id: "system@okta.com".into(),
        display_name: "Okta System".into(),
    })
}

/// A random (version 4) UUID for the envelope's `eventId`.
fn event_id() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("the operating system has no random source");
    b[6] = (b[6] & 0x0F) | 0x40;
    b[8] = (b[8] & 0x3F) | 0x80;
    uuid_text(&b).to_string()
}

/// Okta's delivery body (FACTS.md §6), the events rendered exactly as `/api/v1/logs` renders them.
fn envelope(sim: &Sim, hook_id: &str, events: &[LogEvent]) -> axum::body::Bytes {
    let source = format!("{}/api/v1/eventHooks/{hook_id}", sim.base_url());
    let id = event_id();
    let time = iso_text(sim.clock.now_ms());
    let env = Envelope {
        source: &source,
        event_id: &id,
        event_time: time.as_str(),
        data: Data {
            events,
            meta: &sim.logs.meta,
        },
    };
    let mut out = Vec::with_capacity(512 + events.len() * 2048);
    let _ = serde_json::to_writer(&mut out, &env);
    out.into()
}

/// The CloudEvents-style envelope, keys in the order of Okta's example.
struct Envelope<'a> {
    source: &'a str,
    event_id: &'a str,
    event_time: &'a str,
    data: Data<'a>,
}

impl Serialize for Envelope<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_struct("Envelope", 8)?;
        m.serialize_field("eventType", "com.okta.event_hook")?;
        m.serialize_field("eventTypeVersion", "1.0")?;
        m.serialize_field("cloudEventsVersion", "0.1")?;
        m.serialize_field("source", self.source)?;
        m.serialize_field("eventId", self.event_id)?;
        m.serialize_field("eventTime", self.event_time)?;
        m.serialize_field("contentType", "application/json")?;
        m.serialize_field("data", &self.data)?;
        m.end()
    }
}

struct Data<'a> {
    events: &'a [LogEvent],
    meta: &'a StoreMeta,
}

impl Serialize for Data<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Events<'a>(&'a [LogEvent], &'a StoreMeta);
        impl Serialize for Events<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.collect_seq(self.0.iter().map(|ev| EventJson { ev, meta: self.1 }))
            }
        }
        let mut m = s.serialize_struct("Data", 1)?;
        m.serialize_field("events", &Events(self.events, self.meta))?;
        m.end()
    }
}
