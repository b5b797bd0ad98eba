//! The governor against the simulator's Workforce limits, on the simulator's clock.

use std::time::Duration;

use okta_client::Query;
use okta_sim::{RateLimitTier, SimConfig};
use reqwest::Method;

use crate::common::{client_on_sim_clock, sim};

/// `/api/v1/logs` allows 120 requests a minute; at the default 50 % share a loop of 150 requests
/// gets no 429, never leaves fewer than 60 of a window to others, and spreads over three windows.
#[tokio::test]
async fn a_request_loop_stays_within_its_share_without_a_429() {
    let server = sim(SimConfig {
        rate_limits: RateLimitTier::Workforce,
        log_events: 10,
        ..SimConfig::small()
    })
    .await;
    let (client, clock) = client_on_sim_clock(&server);
    let mut lowest_remaining = u64::MAX;
    for _ in 0..150 {
        let response = client
            .send(
                Method::GET,
                "/api/v1/logs",
                &Query::new().push("limit", 1),
                None,
            )
            .await
            .unwrap();
        let header = |name| {
            response.headers[name]
                .to_str()
                .unwrap()
                .parse::<u64>()
                .unwrap()
        };
        assert_eq!(header("x-rate-limit-limit"), 120);
        lowest_remaining = lowest_remaining.min(header("x-rate-limit-remaining"));
    }
    assert_eq!(server.sim().counters.throttled(), 0);
    assert!(
        lowest_remaining >= 60,
        "used more than half a window: {lowest_remaining} left"
    );
    let waited: Duration = clock.manual.sleeps().iter().sum();
    // 60 per window at most: 150 requests need at least two full windows.
    assert!(waited >= Duration::from_secs(120), "{waited:?}");
    // ... and the pacing wastes little: under four windows.
    assert!(waited < Duration::from_secs(240), "{waited:?}");
    // Spread, not burst: no wait is a whole window unless the share ran out.
    let longest = clock.manual.sleeps().into_iter().max().unwrap();
    assert!(longest <= Duration::from_secs(62), "{longest:?}");
    server.shutdown().await;
}

/// Concurrent callers share the governor: in-flight requests count, so 40 at once still stay
/// within the share and none is refused.
#[tokio::test]
async fn concurrent_callers_stay_within_the_share() {
    let server = sim(SimConfig {
        rate_limits: RateLimitTier::Workforce,
        log_events: 10,
        ..SimConfig::small()
    })
    .await;
    let (client, _) = client_on_sim_clock(&server);
    // Learn the bucket first (an unknown bucket is not paced).
    client
        .send(Method::GET, "/api/v1/logs", &Query::new(), None)
        .await
        .unwrap();
    let tasks: Vec<_> = (0..90)
        .map(|_| {
            let client = client.clone();
            tokio::spawn(async move {
                let r = client
                    .send(Method::GET, "/api/v1/logs", &Query::new(), None)
                    .await
                    .unwrap();
                r.headers["x-rate-limit-remaining"]
                    .to_str()
                    .unwrap()
                    .parse::<u64>()
                    .unwrap()
            })
        })
        .collect();
    let mut lowest = u64::MAX;
    for t in tasks {
        lowest = lowest.min(t.await.unwrap());
    }
    assert_eq!(server.sim().counters.throttled(), 0);
    assert!(lowest >= 60, "{lowest}");
    server.shutdown().await;
}
