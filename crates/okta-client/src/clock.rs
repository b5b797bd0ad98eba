//! Time as the client sees it: `now` and `sleep`, behind a trait so tests replace the waiting (a
//! retry's 429 wait, the governor's pacing) with a clock that records it and returns at once.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;

pub type SleepFuture<'a> = Pin<Box<dyn Future<Output = ()> + Send + 'a>>;

/// The client's source of time. Implementations must be consistent: after `sleep(d)` returns,
/// `now()` has moved on by at least `d`.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> Instant;
    fn sleep(&self, duration: Duration) -> SleepFuture<'_>;
}

/// Real time through tokio (so a paused tokio clock in a test also pauses this one).
#[derive(Clone, Copy, Debug, Default)]
pub struct TokioClock;

impl Clock for TokioClock {
    fn now(&self) -> Instant {
        tokio::time::Instant::now().into_std()
    }
    fn sleep(&self, duration: Duration) -> SleepFuture<'_> {
        Box::pin(tokio::time::sleep(duration))
    }
}

/// A virtual clock for tests: `sleep` advances `now`, records the duration and returns after one
/// yield to the runtime.
/// Sockets keep real time, so socket timeouts are unaffected (unlike a paused tokio clock, which
/// jumps ahead whenever the runtime is idle waiting on I/O).
#[derive(Clone, Debug)]
pub struct ManualClock {
    state: Arc<Mutex<ManualState>>,
}

#[derive(Debug)]
struct ManualState {
    now: Instant,
    sleeps: Vec<Duration>,
}

impl Default for ManualClock {
    fn default() -> Self {
        ManualClock {
            state: Arc::new(Mutex::new(ManualState {
                now: Instant::now(),
                sleeps: Vec::new(),
            })),
        }
    }
}

impl ManualClock {
    pub fn new() -> Self {
        Self::default()
    }
    /// Every sleep so far, in order.
    pub fn sleeps(&self) -> Vec<Duration> {
        self.state.lock().sleeps.clone()
    }
    /// Moves time on without a sleep.
    pub fn advance(&self, by: Duration) {
        self.state.lock().now += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.state.lock().now
    }
    fn sleep(&self, duration: Duration) -> SleepFuture<'_> {
        let mut s = self.state.lock();
        s.now += duration;
        s.sleeps.push(duration);
        // Yield once, as a real sleep would: a task waiting in a loop (a governor blocked until
        // others finish) must let those others run on a single-threaded runtime.
        Box::pin(tokio::task::yield_now())
    }
}
