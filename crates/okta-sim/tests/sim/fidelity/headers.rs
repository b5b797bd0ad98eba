//! The headers and error bodies every Okta response carries (FACTS.md §10 items 1–3, recorded
//! README §3 "Use 3"): RFC 1123 `Date`, epoch-seconds `X-Rate-Limit-Reset`, a unique
//! `X-Okta-Request-Id`, two separate `Link` lines, 429 E0000047 bodies, and E-code error bodies.

use std::collections::BTreeSet;

use okta_sim::RateLimitTier;
use serde_json::{Value, json};
use time::PrimitiveDateTime;
use time::macros::format_description;

use super::cassettes::{Link, parse_link_header, parse_query};
use super::{send, tiny_config};
use crate::support::{Resp, TestOrg};

/// `Date` as RFC 1123 in GMT, e.g. `Thu, 27 Aug 2020 18:19:47 GMT`; returns epoch seconds.
fn rfc1123_epoch(date: &str) -> i64 {
    let format = format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    let parsed = PrimitiveDateTime::parse(date, format)
        .unwrap_or_else(|e| panic!("Date {date:?} is not RFC 1123 GMT: {e}"));
    parsed.assume_utc().unix_timestamp()
}

fn number(resp: &Resp, name: &str) -> i64 {
    let v = resp
        .header(name)
        .unwrap_or_else(|| panic!("{name} missing: {:?}", resp.headers));
    v.parse()
        .unwrap_or_else(|_| panic!("{name} is not an integer: {v:?}"))
}

/// The headers of FACTS.md §10.1 on one response; returns its request id.
fn assert_standard_headers(resp: &Resp) -> String {
    let date = resp.header("date").expect("Date header");
    let date_s = rfc1123_epoch(date);
    let reset = number(resp, "x-rate-limit-reset");
    assert!(
        reset >= date_s,
        "X-Rate-Limit-Reset {reset} must be epoch seconds at or after Date {date} ({date_s})"
    );
    assert!(
        reset - date_s <= 3600,
        "reset {reset} is not within the hour after {date_s}: not epoch seconds?"
    );
    let limit = number(resp, "x-rate-limit-limit");
    let remaining = number(resp, "x-rate-limit-remaining");
    assert!(
        (0..=limit).contains(&remaining),
        "remaining {remaining} of {limit}"
    );
    let id = resp.header("x-okta-request-id").expect("X-Okta-Request-Id");
    assert!(!id.is_empty());
    id.to_string()
}

/// An Okta E-code error: `errorLink == errorCode`, `errorId` starting `oae`, causes a list.
fn assert_okta_error(resp: &Resp, status: u16, code: &str) {
    assert_eq!(resp.status, status, "{}", resp.text);
    let b = &resp.body;
    assert_eq!(b["errorCode"], json!(code), "{}", resp.text);
    assert_eq!(b["errorLink"], b["errorCode"], "errorLink == errorCode");
    assert!(b["errorSummary"].as_str().is_some_and(|s| !s.is_empty()));
    let id = b["errorId"].as_str().expect("errorId");
    assert!(id.starts_with("oae") && id.len() > 3, "errorId {id:?}");
    assert!(b["errorCauses"].is_array(), "errorCauses must be a list");
    for cause in b["errorCauses"].as_array().into_iter().flatten() {
        assert!(cause["errorSummary"].is_string(), "{cause}");
    }
}

/// Each `Link` header line, parsed on its own (Okta sends one line per rel).
fn link_lines(resp: &Resp) -> Vec<Vec<Link>> {
    resp.headers
        .get_all("link")
        .iter()
        .map(|v| parse_link_header(v.to_str().expect("ASCII Link")))
        .collect()
}

fn query_of(url: &str) -> Vec<(String, String)> {
    parse_query(url.split_once('?').map_or("", |(_, q)| q))
}

async fn control(org: &TestOrg, method: reqwest::Method, path: &str, body: Value) -> Value {
    let resp = org
        .client
        .request(method, org.url(path))
        .json(&body)
        .send()
        .await
        .expect("control API reachable");
    assert!(resp.status().is_success(), "{path}: {}", resp.status());
    resp.json().await.expect("control API answers JSON")
}

#[tokio::test]
async fn every_response_carries_date_rate_limits_and_a_unique_request_id() {
    let org = TestOrg::with(tiny_config()).await;
    let mut ids = Vec::new();
    // Successes, a 404 and a 401: the layer adds the headers to every answer.
    for path in [
        "/api/v1/users",
        "/api/v1/groups",
        "/api/v1/apps",
        "/api/v1/logs?limit=2",
        "/api/v1/users/00u_no_such_user",
    ] {
        let resp = send(&org, "GET", path, None, None).await;
        ids.push(assert_standard_headers(&resp));
    }
    let unauthorized = send(&org, "GET", "/api/v1/users", None, Some("not-the-token")).await;
    assert_eq!(unauthorized.status, 401);
    ids.push(assert_standard_headers(&unauthorized));
    let distinct: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(distinct.len(), ids.len(), "request ids repeat: {ids:?}");
}

#[tokio::test]
async fn list_pages_send_separate_self_and_next_links_with_the_original_query() {
    let org = TestOrg::with(tiny_config()).await;
    let first = "/api/v1/users?filter=status+eq+%22ACTIVE%22&limit=1";
    let resp = send(&org, "GET", first, None, None).await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    let lines = link_lines(&resp);
    assert_eq!(
        lines.len(),
        2,
        "two separate Link lines: {:?}",
        resp.headers
    );
    assert!(
        lines.iter().all(|l| l.len() == 1),
        "one link per line: {lines:?}"
    );
    let (this, next) = (&lines[0][0], &lines[1][0]);
    assert_eq!((this.rel.as_str(), next.rel.as_str()), ("self", "next"));
    assert_eq!(this.url, org.url(first), "self is the request itself");
    let sent = query_of(first);
    let mut next_query = query_of(&next.url);
    let after = next_query.pop().expect("next has a query");
    assert_eq!(after.0, "after", "next ends with the cursor: {}", next.url);
    assert!(!after.1.is_empty());
    assert_eq!(
        next_query, sent,
        "next repeats the original query: {}",
        next.url
    );
    assert!(next.url.starts_with(&org.url("/api/v1/users?")));

    // Walk to the last page: it has a self link and no next.
    let mut url = next.url.clone();
    for _ in 0..20 {
        let page = send(&org, "GET", &url, None, None).await;
        assert_eq!(page.status, 200, "{}", page.text);
        let lines = link_lines(&page);
        assert_eq!(lines[0][0].rel, "self");
        assert_eq!(lines[0][0].url, url, "self is the page's own URL");
        match lines.get(1) {
            Some(next) => {
                assert_eq!(next[0].rel, "next");
                url = next[0].url.clone();
            }
            None => return,
        }
    }
    panic!("no last page after 20 pages of one active user each");
}

#[tokio::test]
async fn rate_limited_requests_get_e0000047_with_remaining_zero() {
    let org = TestOrg::with(tiny_config()).await;
    // Enterprise allows 50 System Log requests a minute; the 51st is refused.
    let tier = control(
        &org,
        reqwest::Method::PUT,
        "/control/rate-limits",
        json!({"tier": "enterprise"}),
    )
    .await;
    assert_eq!(tier["tier"], "enterprise");
    let mut last = None;
    for _ in 0..50 {
        let resp = send(&org, "GET", "/api/v1/logs?limit=1", None, None).await;
        assert_eq!(resp.status, 200, "{}", resp.text);
        last = Some(resp);
    }
    let last = last.expect("50 answers");
    assert_eq!(number(&last, "x-rate-limit-remaining"), 0);
    let refused = send(&org, "GET", "/api/v1/logs?limit=1", None, None).await;
    assert_okta_error(&refused, 429, "E0000047");
    assert_standard_headers(&refused);
    assert_eq!(number(&refused, "x-rate-limit-remaining"), 0);
    assert_eq!(number(&refused, "x-rate-limit-limit"), 50);
    assert_eq!(
        number(&refused, "x-rate-limit-reset"),
        number(&last, "x-rate-limit-reset"),
        "the same window"
    );
    // Other buckets are unaffected.
    let users = org.get("/api/v1/users?limit=1").await;
    assert_eq!(users.status, 200);
    // Directly on the org: switching tier starts the windows afresh.
    org.sim().limits.set_tier(RateLimitTier::Workforce);
    let again = send(&org, "GET", "/api/v1/logs?limit=1", None, None).await;
    assert_eq!(again.status, 200);
    assert_eq!(number(&again, "x-rate-limit-limit"), 120);
}

#[tokio::test]
async fn a_429_storm_answers_e0000047_then_ends() {
    let org = TestOrg::with(tiny_config()).await;
    control(
        &org,
        reqwest::Method::POST,
        "/control/faults/storm",
        json!({"seconds": 600}),
    )
    .await;
    for path in ["/api/v1/users", "/api/v1/groups/00g_any", "/api/v1/logs"] {
        let resp = send(&org, "GET", path, None, None).await;
        assert_okta_error(&resp, 429, "E0000047");
        assert_standard_headers(&resp);
        assert_eq!(number(&resp, "x-rate-limit-remaining"), 0, "{path}");
        assert!(
            number(&resp, "x-rate-limit-limit") > 0,
            "a rate 429 names its limit"
        );
    }
    control(&org, reqwest::Method::DELETE, "/control/faults", json!({})).await;
    let resp = org.get("/api/v1/users").await;
    assert_eq!(resp.status, 200, "{}", resp.text);
}

#[tokio::test]
async fn a_concurrency_429_reports_limit_and_remaining_zero() {
    let org = TestOrg::with(tiny_config()).await;
    // No request may be in flight: every request is over the concurrency limit.
    control(
        &org,
        reqwest::Method::PUT,
        "/control/rate-limits",
        json!({"tier": "workforce", "concurrencyLimit": 0}),
    )
    .await;
    let resp = send(&org, "GET", "/api/v1/users", None, None).await;
    assert_okta_error(&resp, 429, "E0000047");
    assert_eq!(number(&resp, "x-rate-limit-limit"), 0);
    assert_eq!(number(&resp, "x-rate-limit-remaining"), 0);
    assert!(number(&resp, "x-rate-limit-reset") >= rfc1123_epoch(resp.header("date").unwrap()));
}

#[tokio::test]
async fn error_bodies_have_okta_shape() {
    let org = TestOrg::with(tiny_config()).await;
    let not_found = send(&org, "GET", "/api/v1/users/00u_no_such_user", None, None).await;
    assert_okta_error(&not_found, 404, "E0000007");
    let bad_token = send(&org, "GET", "/api/v1/users", None, Some("wrong")).await;
    assert_okta_error(&bad_token, 401, "E0000011");
    // No Authorization header at all: Okta treats it as a missing session (FACTS.md §9).
    let no_token = send(&org, "GET", "/api/v1/users", None, Some("")).await;
    assert_okta_error(&no_token, 403, "E0000005");
    let no_route = send(&org, "GET", "/api/v1/nothing-here", None, None).await;
    assert_okta_error(&no_route, 404, "E0000008");
    let bad_method = send(&org, "PATCH", "/api/v1/users", None, None).await;
    assert_okta_error(&bad_method, 405, "E0000022");
    let bad_limit = send(&org, "GET", "/api/v1/users?limit=many", None, None).await;
    assert_okta_error(&bad_limit, 400, "E0000001");
    // The errorId is fresh per response, like the request id.
    let again = send(&org, "GET", "/api/v1/users/00u_no_such_user", None, None).await;
    assert_ne!(again.body["errorId"], not_found.body["errorId"]);
}
