//! OAuth connections: the recorded DPoP traffic replayed (the nonce dance in Okta's order), then
//! each grant end to end against the simulator's org authorization server.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use futures_util::TryStreamExt;
use okta_client::transport::{HttpTransport, Request, Transport};
use okta_client::{
    Auth, AuthorizationCode, Client, ClientConfig, ClientCredentials, DpopMode, Pkce, PrivateKey,
    Query, RefreshTokenStore, SecretString,
};
use okta_sim::{SimConfig, SimServer};
use parking_lot::Mutex;
use reqwest::Method;
use serde_json::{Value, json};

use crate::common::{client_for, control, sim};
use crate::replay::{Replay, Seen, cassette, interactions};

const DPOP_DIR: &str = "test_dpop_it";

fn decode(jwt: &str, part: usize) -> Value {
    let bytes = URL_SAFE_NO_PAD
        .decode(jwt.split('.').nth(part).unwrap())
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

fn form(seen: &Seen, name: &str) -> Option<String> {
    url::form_urlencoded::parse(seen.body.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

fn header<'a>(seen: &'a Seen, name: &str) -> Option<&'a str> {
    seen.headers.get(name).and_then(|v| v.to_str().ok())
}

fn rsa_key() -> PrivateKey {
    PrivateKey::parse(include_str!("../keys/rsa-pkcs8.pem")).unwrap()
}

fn service(client_id: &str, key: PrivateKey, dpop: DpopMode) -> Auth {
    Auth::ClientCredentials(ClientCredentials {
        client_id: client_id.into(),
        key,
        key_id: Some("k1".into()),
        scopes: vec!["okta.users.read".into(), "okta.groups.read".into()],
        dpop,
        dpop_key: None,
    })
}

fn oauth_client(base: &str, auth: Auth) -> Client {
    Client::new(ClientConfig::new(base.parse().unwrap(), auth)).unwrap()
}

// --- Recorded traffic ------------------------------------------------------------------------------

fn recorded(name: &str, indexes: &[usize]) -> Vec<crate::replay::Interaction> {
    interactions(&format!("{DPOP_DIR}/{name}"), indexes)
}

#[tokio::test]
async fn replays_the_recorded_nonce_dance_with_a_new_assertion_and_proof_per_attempt() {
    let replay = Replay::start(recorded(
        "TestDPoPIntegration.test_dpop_api_request.yaml",
        &[0, 1, 2],
    ))
    .await;
    let client = oauth_client(&replay.base, service("0oa_client", rsa_key(), DpopMode::On));
    let users: Value = client
        .get("/api/v1/users", &Query::new().push("limit", 1))
        .await
        .unwrap();
    assert!(users.is_array());

    let seen = replay.seen();
    let paths: Vec<_> = seen
        .iter()
        .map(|s| format!("{} {}", s.method, s.path_query))
        .collect();
    assert_eq!(
        paths,
        [
            "POST /oauth2/v1/token",
            "POST /oauth2/v1/token",
            "GET /api/v1/users?limit=1"
        ]
    );
    let token_url = format!("{}/oauth2/v1/token", replay.base);
    let (first, retry) = (&seen[0], &seen[1]);
    let proofs: Vec<Value> = [first, retry]
        .iter()
        .map(|s| decode(header(s, "dpop").unwrap(), 1))
        .collect();
    assert!(
        proofs[0].get("nonce").is_none(),
        "the first proof has no nonce yet"
    );
    assert_eq!(
        proofs[1]["nonce"], "sanitized_dpop_nonce",
        "the retry carries the recorded nonce"
    );
    assert_ne!(proofs[0]["jti"], proofs[1]["jti"]);
    for proof in &proofs {
        assert_eq!(
            (proof["htm"].as_str(), proof["htu"].as_str()),
            (Some("POST"), Some(token_url.as_str()))
        );
    }
    let assertions: Vec<Value> = [first, retry]
        .iter()
        .map(|s| decode(&form(s, "client_assertion").unwrap(), 1))
        .collect();
    assert_ne!(
        assertions[0]["jti"], assertions[1]["jti"],
        "Okta spends the jti even on the 400"
    );
    assert_eq!(assertions[1]["aud"], token_url.as_str());
    assert_eq!(
        form(first, "grant_type").as_deref(),
        Some("client_credentials")
    );
    assert_eq!(
        form(first, "scope").as_deref(),
        Some("okta.users.read okta.groups.read")
    );
    assert!(header(first, "authorization").is_none());

    let call = &seen[2];
    let authorization = header(call, "authorization").unwrap();
    assert!(authorization.starts_with("DPoP eyJ"), "{authorization:.12}");
    let proof = decode(header(call, "dpop").unwrap(), 1);
    assert_eq!(
        proof["htu"],
        format!("{}/api/v1/users", replay.base),
        "no query in htu"
    );
    assert_eq!(proof["htm"], "GET");
    let token = authorization.strip_prefix("DPoP ").unwrap();
    let ath = URL_SAFE_NO_PAD.encode(ring::digest::digest(
        &ring::digest::SHA256,
        token.as_bytes(),
    ));
    assert_eq!(proof["ath"], ath);
    assert_eq!(
        header(call, "x-okta-user-agent-extended"),
        Some("isDPoP:true")
    );

    let status = client.auth_status().await;
    assert_eq!(status.token_type.as_deref(), Some("DPoP"));
    assert!(status.dpop_in_use && !status.dpop_required_by_okta);
    assert_eq!(
        status.scopes,
        ["okta.users.read", "okta.apps.read", "okta.groups.read"]
    );
}

#[tokio::test]
async fn auto_mode_switches_on_when_okta_says_the_proof_is_missing_and_off_mode_explains() {
    let missing = recorded(
        "TestDPoPBackwardCompatibility.test_private_key_auth_without_dpop.yaml",
        &[0],
    );
    let mut auto = missing.clone();
    auto.extend(recorded(
        "TestDPoPIntegration.test_dpop_api_request.yaml",
        &[0, 1, 2],
    ));
    let replay = Replay::start(auto).await;
    let client = oauth_client(
        &replay.base,
        service("0oa_client", rsa_key(), DpopMode::Auto),
    );
    client
        .get::<Value>("/api/v1/users", &Query::new().push("limit", 1))
        .await
        .unwrap();
    let seen = replay.seen();
    assert_eq!(seen.len(), 4);
    assert!(
        header(&seen[0], "dpop").is_none(),
        "auto mode starts without DPoP"
    );
    assert!(header(&seen[1], "dpop").is_some() && header(&seen[2], "dpop").is_some());
    let jtis: std::collections::HashSet<_> = seen[..3]
        .iter()
        .map(|s| decode(&form(s, "client_assertion").unwrap(), 1)["jti"].clone())
        .collect();
    assert_eq!(jtis.len(), 3, "a fresh assertion for every token attempt");
    let status = client.auth_status().await;
    assert_eq!(status.dpop_summary(), "on (Okta required it)");

    let replay = Replay::start(missing).await;
    let client = oauth_client(
        &replay.base,
        service("0oa_client", rsa_key(), DpopMode::Off),
    );
    let error = client
        .get::<Value>("/api/v1/users", &Query::new())
        .await
        .unwrap_err();
    assert_eq!(replay.seen().len(), 1, "off mode does not retry with DPoP");
    assert_eq!(error.status(), Some(400));
    assert_eq!(error.oauth_error().map(|e| e.0), Some("invalid_dpop_proof"));
    assert!(
        error.message.contains("Okta requires DPoP for this app"),
        "{}",
        error.message
    );
    assert!(
        error.message.contains("set it to auto or on"),
        "{}",
        error.message
    );
}

#[test]
fn every_recorded_dpop_token_exchange_is_a_nonce_challenge_then_a_dpop_token() {
    // The shape the client relies on, checked across all recordings (FACTS.md §8).
    let mut challenges = 0;
    for entry in std::fs::read_dir(crate::replay::cassette_dir().join(DPOP_DIR)).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let all = cassette(&format!("{DPOP_DIR}/{name}"));
        for (i, x) in all.iter().enumerate() {
            if x.path_query == "/oauth2/v1/token" && x.body.contains("use_dpop_nonce") {
                challenges += 1;
                assert_eq!(x.status, 400);
                assert!(x.header("dpop-nonce").is_some());
                let next = &all[i + 1];
                assert_eq!(
                    (next.path_query.as_str(), next.status),
                    ("/oauth2/v1/token", 200)
                );
                assert!(next.body.contains(r#""token_type":"DPoP""#));
            }
        }
    }
    assert_eq!(challenges, 19);
}

// --- The simulator ----------------------------------------------------------------------------------

async fn admin(server: &SimServer) -> Client {
    client_for(server).0
}

async fn register(server: &SimServer, app: Value) {
    control(
        &admin(server).await,
        Method::POST,
        "/control/oauth/apps",
        app,
    )
    .await;
}

async fn service_app(server: &SimServer, key: &PrivateKey, dpop_required: bool) {
    let mut jwk = key.public_jwk();
    jwk["kid"] = json!("k1");
    register(
        server,
        json!({
            "clientId": "0oasvc", "type": "service", "jwks": {"keys": [jwk]},
            "grantedScopes": ["okta.users.read", "okta.groups.read"], "dpopRequired": dpop_required,
        }),
    )
    .await;
}

/// Token requests the simulator answered, by status.
async fn token_requests(server: &SimServer) -> Value {
    let counters = control(
        &admin(server).await,
        Method::GET,
        "/control/counters",
        Value::Null,
    )
    .await;
    counters["routes"]["POST /oauth2/v1/token"].clone()
}

async fn list_users(client: &Client) -> usize {
    let users: Vec<Value> = client
        .paginate("/api/v1/users", Query::new().push("limit", 200))
        .try_collect()
        .await
        .unwrap();
    users.len()
}

#[tokio::test]
async fn client_credentials_bearer_token_is_fetched_once_for_many_calls() {
    let server = sim(SimConfig {
        users: 50,
        ..SimConfig::small()
    })
    .await;
    let key = PrivateKey::parse(include_str!("../keys/ec-sec1.pem")).unwrap();
    service_app(&server, &key, false).await;
    let client = oauth_client(server.base_url(), service("0oasvc", key, DpopMode::Auto));
    let status = client.authenticate().await.unwrap();
    assert_eq!(
        (status.token_type.as_deref(), status.dpop_in_use),
        (Some("Bearer"), false)
    );
    assert_eq!(status.dpop_summary(), "off (Okta did not ask for it)");
    assert_eq!(status.scopes, ["okta.users.read", "okta.groups.read"]);
    // Concurrent callers share one token request.
    let calls = (0..20).map(|_| {
        let c = client.clone();
        async move {
            c.get::<Value>("/api/v1/users", &Query::new().push("limit", 1))
                .await
        }
    });
    for result in futures_util::future::join_all(calls).await {
        result.unwrap();
    }
    assert_eq!(token_requests(&server).await, json!({"200": 1}));
    server.shutdown().await;
}

#[tokio::test]
async fn client_credentials_with_dpop_in_each_mode() {
    let server = sim(SimConfig {
        users: 30,
        ..SimConfig::small()
    })
    .await;
    let key = rsa_key();
    service_app(&server, &key, true).await;

    let auto = oauth_client(
        server.base_url(),
        service("0oasvc", key.clone(), DpopMode::Auto),
    );
    assert_eq!(list_users(&auto).await, 30);
    let status = auto.auth_status().await;
    assert_eq!(status.token_type.as_deref(), Some("DPoP"));
    assert_eq!(status.dpop_summary(), "on (Okta required it)");

    let on = oauth_client(
        server.base_url(),
        service("0oasvc", key.clone(), DpopMode::On),
    );
    assert_eq!(list_users(&on).await, 30);
    assert_eq!(on.auth_status().await.dpop_summary(), "on");

    let off = oauth_client(server.base_url(), service("0oasvc", key, DpopMode::Off));
    let error = off.authenticate().await.unwrap_err();
    assert!(
        error.message.contains("Okta requires DPoP for this app"),
        "{}",
        error.message
    );
    // auto: 400 missing proof, 400 nonce, 200; on: 400 nonce, 200; off: 400 missing proof.
    let counts = token_requests(&server).await;
    assert_eq!(
        (counts["200"].as_u64(), counts["400"].as_u64()),
        (Some(2), Some(4)),
        "{counts}"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn an_access_token_expiring_mid_list_is_renewed_transparently() {
    let server = sim(SimConfig {
        users: 500,
        ..SimConfig::small()
    })
    .await;
    let key = rsa_key();
    service_app(&server, &key, true).await;
    let client = oauth_client(server.base_url(), service("0oasvc", key, DpopMode::Auto));
    let admin = admin(&server).await;
    let mut pages = client.pages::<Value>("/api/v1/users", Query::new().push("limit", 100));
    let mut users = pages.try_next().await.unwrap().unwrap().items.len();
    control(
        &admin,
        Method::POST,
        "/control/clock",
        json!({"advanceMs": 3_600_000}),
    )
    .await;
    while let Some(page) = pages.try_next().await.unwrap() {
        users += page.items.len();
    }
    assert_eq!(
        users,
        list_users(&admin).await,
        "every user, as an API token lists them"
    );
    let counts = token_requests(&server).await;
    assert_eq!(counts["200"], 2, "one token, then one renewal: {counts}");
    server.shutdown().await;
}

#[tokio::test]
async fn a_rotated_dpop_nonce_is_picked_up_at_the_next_token_request() {
    let server = sim(SimConfig {
        users: 30,
        ..SimConfig::small()
    })
    .await;
    let key = rsa_key();
    service_app(&server, &key, true).await;
    let client = oauth_client(server.base_url(), service("0oasvc", key, DpopMode::On));
    let admin = admin(&server).await;
    let users = list_users(&admin).await;
    assert_eq!(list_users(&client).await, users);
    let first = token_requests(&server).await;
    assert_eq!(first["400"], 1, "one nonce challenge: {first}");
    assert_eq!(first["200"], 1, "{first}");

    // Okta renews its nonce; the old one stops working. The token expires, so the next call needs
    // a new one: the stale nonce is refused once, the new one from that answer is used.
    let rotated = control(
        &admin,
        Method::POST,
        "/control/oauth/dpop-nonce/rotate",
        json!({"expirePrevious": true}),
    )
    .await;
    assert!(rotated["nonce"].is_string(), "{rotated}");
    control(
        &admin,
        Method::POST,
        "/control/clock",
        json!({"advanceMs": 3_600_000}),
    )
    .await;
    assert_eq!(list_users(&client).await, users);
    let after = token_requests(&server).await;
    assert_eq!(
        after["400"], 2,
        "one more challenge, for the stale nonce: {after}"
    );
    assert_eq!(after["200"], 2, "then a token: {after}");
    let status = client.auth_status().await;
    assert!(
        status.dpop_in_use && status.token_type.as_deref() == Some("DPoP"),
        "{status:?}"
    );
    server.shutdown().await;
}

// --- Authorization code -----------------------------------------------------------------------------

/// The connector's store stand-in: `replace` can be made to fail once (a crash between receiving
/// a rotated refresh token and storing it).
#[derive(Default)]
struct Store {
    token: Mutex<Option<SecretString>>,
    fail_next: AtomicBool,
    replaced: Mutex<usize>,
}

impl RefreshTokenStore for Store {
    fn current(&self) -> Option<SecretString> {
        self.token.lock().clone()
    }
    fn replace(&self, new: &SecretString) -> Result<(), String> {
        if self.fail_next.swap(false, Ordering::SeqCst) {
            return Err("disk full".into());
        }
        *self.token.lock() = Some(new.clone());
        *self.replaced.lock() += 1;
        Ok(())
    }
}

const REDIRECT: &str = "http://127.0.0.1:8765/callback";

/// Follows /authorize like a browser would, up to the redirect carrying the code.
async fn authorize(server: &SimServer, auth: &AuthorizationCode, pkce: &Pkce) -> String {
    let state = okta_client::auth::random_state();
    let url = okta_client::auth::authorize_url(
        &server.base_url().parse().unwrap(),
        &auth.client_id,
        &auth.redirect_uri,
        &auth.scopes,
        &state,
        pkce,
    );
    let response = HttpTransport::new()
        .unwrap()
        .send(Request {
            method: Method::GET,
            url,
            headers: Default::default(),
            body: None,
            timeout: None,
        })
        .await
        .unwrap();
    assert_eq!(
        response.status,
        302,
        "{}",
        String::from_utf8_lossy(&response.body)
    );
    let location: url::Url = response.headers["location"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(location.as_str().starts_with(REDIRECT));
    let get = |k: &str| {
        location
            .query_pairs()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.into_owned())
    };
    assert_eq!(get("state"), Some(state));
    get("code").unwrap()
}

#[tokio::test]
async fn authorization_code_with_pkce_then_rotated_refresh_tokens_survive_a_failed_store() {
    let server = sim(SimConfig {
        users: 20,
        ..SimConfig::small()
    })
    .await;
    register(
        &server,
        json!({
            "clientId": "0oaweb", "type": "web", "clientSecret": "s3cret!", "redirectUris": [REDIRECT],
            "grantedScopes": ["okta.users.read", "offline_access"], "dpopRequired": true,
            "refreshToken": {"rotation": "ROTATE", "leeway": 30},
        }),
    )
    .await;
    let store = Arc::new(Store::default());
    let auth = AuthorizationCode {
        client_id: "0oaweb".into(),
        client_secret: SecretString::new("s3cret!"),
        scopes: vec!["okta.users.read".into(), "offline_access".into()],
        redirect_uri: REDIRECT.into(),
        dpop: DpopMode::Auto,
        dpop_key: None,
        refresh_tokens: store.clone(),
    };
    let pkce = Pkce::new();
    let code = authorize(&server, &auth, &pkce).await;
    let client = oauth_client(server.base_url(), Auth::AuthorizationCode(auth));
    client.exchange_code(&code, &pkce).await.unwrap();
    let first = store.current().expect("the refresh token is stored");
    assert_eq!(list_users(&client).await, 20);
    assert_eq!(
        client.auth_status().await.dpop_summary(),
        "on (Okta required it)"
    );

    // An hour later the access token has expired: the refresh rotates the refresh token, which is
    // stored before the new access token is used.
    let admin = admin(&server).await;
    control(
        &admin,
        Method::POST,
        "/control/clock",
        json!({"advanceMs": 3_600_000}),
    )
    .await;
    assert_eq!(list_users(&client).await, 20);
    let second = store.current().unwrap();
    assert_ne!(second, first, "ROTATE hands out a new refresh token");

    // Crash injection: the store fails to keep the rotated token; the old one stays, and the next
    // call (within Okta's grace period) refreshes again with it.
    control(
        &admin,
        Method::POST,
        "/control/clock",
        json!({"advanceMs": 3_600_000}),
    )
    .await;
    store.fail_next.store(true, Ordering::SeqCst);
    let error = client
        .get::<Value>("/api/v1/users", &Query::new())
        .await
        .unwrap_err();
    assert!(
        error
            .message
            .contains("could not store the new refresh token"),
        "{}",
        error.message
    );
    assert_eq!(
        store.current().unwrap(),
        second,
        "the old refresh token remains"
    );
    assert_eq!(list_users(&client).await, 20);
    assert_ne!(store.current().unwrap(), second);
    assert_eq!(*store.replaced.lock(), 3);

    // A refresh token Okta no longer accepts: the message says to log in again.
    *store.token.lock() = Some(SecretString::new("not-a-refresh-token"));
    control(
        &admin,
        Method::POST,
        "/control/clock",
        json!({"advanceMs": 3_600_000}),
    )
    .await;
    let error = client
        .get::<Value>("/api/v1/users", &Query::new())
        .await
        .unwrap_err();
    assert_eq!(error.oauth_error().map(|e| e.0), Some("invalid_grant"));
    assert!(
        error.message.contains("okta-connector connections login"),
        "{}",
        error.message
    );
    server.shutdown().await;
}
