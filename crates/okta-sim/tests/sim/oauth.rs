//! The org authorization server and OAuth at /api/v1 (FACTS.md §4, §7, §8): every grant end to end
//! with real signatures, DPoP at the token endpoint and at resources, and each refusal with its
//! status, error and description.

use reqwest::Method;
use serde_json::{Value, json};

use crate::jose::{Key, b64, random, sha256};
use crate::support::{Resp, TestOrg, read};

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

fn now_s(org: &TestOrg) -> i64 {
    org.sim().clock.now_ms() / 1000
}

/// Registers an app through the control API.
async fn register(org: &TestOrg, app: Value) {
    let r = org.post("/control/oauth/apps", app).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

fn service_app(id: &str, key: &Key, dpop: bool, scopes: &[&str]) -> Value {
    json!({"clientId": id, "type": "service", "jwks": {"keys": [key.public_jwk()]},
           "grantedScopes": scopes, "dpopRequired": dpop})
}

/// A POST with a form body and no Okta credentials, as a token request is.
async fn form(
    org: &TestOrg,
    path: &str,
    fields: &[(&str, &str)],
    headers: &[(&str, &str)],
) -> Resp {
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .finish();
    let mut req = org
        .client
        .post(org.url(path))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .header("Accept", "application/json")
        .body(body);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    read(req.send().await.unwrap()).await
}

/// A client assertion with the usual claims; `edit` changes them before signing.
fn assertion(
    org: &TestOrg,
    key: &Key,
    client_id: &str,
    edit: impl FnOnce(&mut Value, &mut Value),
) -> String {
    let now = now_s(org);
    let mut header = json!({"alg": key.alg(), "typ": "JWT"});
    let mut claims = json!({"iss": client_id, "sub": client_id, "aud": org.url("/oauth2/v1/token"),
                            "iat": now, "exp": now + 300, "jti": random()});
    edit(&mut header, &mut claims);
    key.sign(header, claims)
}

fn proof(
    org: &TestOrg,
    key: &Key,
    htm: &str,
    htu: &str,
    nonce: Option<&str>,
    token: Option<&str>,
) -> String {
    let mut claims = json!({"htm": htm, "htu": htu, "iat": now_s(org), "jti": random()});
    if let Some(n) = nonce {
        claims["nonce"] = json!(n);
    }
    if let Some(t) = token {
        claims["ath"] = json!(sha256(t));
    }
    key.sign(
        json!({"typ": "dpop+jwt", "alg": key.alg(), "jwk": key.public_jwk()}),
        claims,
    )
}

async fn cc_request(org: &TestOrg, assertion: &str, scope: &str, dpop: Option<&str>) -> Resp {
    let fields = [
        ("grant_type", "client_credentials"),
        ("scope", scope),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", assertion),
    ];
    let headers: Vec<(&str, &str)> = dpop.map(|p| ("DPoP", p)).into_iter().collect();
    form(org, "/oauth2/v1/token", &fields, &headers).await
}

/// Client credentials with the nonce dance when `dpop` is given; returns the 200 response.
async fn cc_token(
    org: &TestOrg,
    key: &Key,
    client_id: &str,
    scope: &str,
    dpop: Option<&Key>,
) -> Resp {
    let token_url = org.url("/oauth2/v1/token");
    let mut nonce: Option<String> = None;
    for _ in 0..2 {
        let a = assertion(org, key, client_id, |_, _| {});
        let p = dpop.map(|k| proof(org, k, "POST", &token_url, nonce.as_deref(), None));
        let r = cc_request(org, &a, scope, p.as_deref()).await;
        if r.status == 400 && r.body["error"] == "use_dpop_nonce" {
            nonce = r.header("dpop-nonce").map(str::to_string);
            continue;
        }
        return r;
    }
    panic!("the nonce dance did not end");
}

fn error_of(r: &Resp) -> (u16, &str, &str) {
    (
        r.status,
        r.body["error"].as_str().unwrap_or(""),
        r.body["error_description"].as_str().unwrap_or(""),
    )
}

/// A resource call with an OAuth token; `dpop` signs a proof for it (`htu` overrides the URL).
async fn api(org: &TestOrg, path: &str, scheme: &str, token: &str, proof: Option<String>) -> Resp {
    let mut req = org
        .client
        .request(Method::GET, org.url(path))
        .header("Authorization", format!("{scheme} {token}"))
        .header("Accept", "application/json");
    if let Some(p) = proof {
        req = req.header("DPoP", p);
    }
    read(req.send().await.unwrap()).await
}

fn resource_url(org: &TestOrg, path: &str) -> String {
    org.url(path.split('?').next().unwrap())
}

async fn dpop_get(org: &TestOrg, key: &Key, token: &str, path: &str) -> Resp {
    let p = proof(org, key, "GET", &resource_url(org, path), None, Some(token));
    api(org, path, "DPoP", token, Some(p)).await
}

fn www_authenticate(r: &Resp) -> &str {
    r.header("www-authenticate").unwrap_or("")
}

#[tokio::test]
async fn client_credentials_with_an_rsa_key_gives_a_bearer_token_for_its_scopes() {
    let org = TestOrg::start().await;
    let key = Key::rsa();
    register(
        &org,
        service_app(
            "svc-rsa",
            &key,
            false,
            &["okta.users.read", "okta.logs.read"],
        ),
    )
    .await;

    let r = cc_token(&org, &key, "svc-rsa", "okta.users.read", None).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["expires_in"], 3600);
    assert_eq!(r.body["scope"], "okta.users.read");
    assert!(r.body.get("refresh_token").is_none());
    assert_eq!(r.header("cache-control"), Some("no-store"));
    let token = r.body["access_token"].as_str().unwrap().to_string();

    let users = api(&org, "/api/v1/users?limit=2", "Bearer", &token, None).await;
    assert_eq!(users.status, 200, "{}", users.text);
    assert_eq!(users.body.as_array().unwrap().len(), 2);

    // A scope the token lacks: 403, the reason in WWW-Authenticate, an empty body (FACTS.md §4).
    let groups = api(&org, "/api/v1/groups", "Bearer", &token, None).await;
    assert_eq!(groups.status, 403);
    assert!(groups.text.is_empty(), "{}", groups.text);
    let challenge = www_authenticate(&groups);
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    for part in [
        "error=\"insufficient_scope\"",
        "scope=\"okta.groups.read\"",
        "resource=\"/api/v1/groups\"",
        "error_description=\"The access token provided does not contain the required scopes.\"",
    ] {
        assert!(challenge.contains(part), "{challenge} lacks {part}");
    }
    // The grant is in the System Log, with the app as actor.
    let logged = org.sim().logs.len() - org.history;
    assert!(logged >= 1);
    let events = org
        .get("/api/v1/logs?filter=eventType%20eq%20%22app.oauth2.token.grant.access_token%22")
        .await;
    assert_eq!(events.status, 200, "{}", events.text);
    assert_eq!(events.body[0]["actor"]["id"], "svc-rsa");
    assert_eq!(events.body[0]["actor"]["type"], "PublicClientApp");
}

#[tokio::test]
async fn client_assertions_are_checked_as_okta_checks_them() {
    let org = TestOrg::start().await;
    let (key, other) = (Key::ec(), Key::ec());
    register(&org, service_app("svc", &key, false, &["okta.users.read"])).await;
    let mut two_keys = service_app("svc2", &key, false, &["okta.users.read"]);
    let (mut k1, mut k2) = (key.public_jwk(), other.public_jwk());
    k1["kid"] = json!("one");
    k2["kid"] = json!("two");
    two_keys["jwks"] = json!({"keys": [k1, k2]});
    register(&org, two_keys).await;
    let now = now_s(&org);

    let cases: Vec<(String, &str, u16, &str, &str)> = vec![
        (
            assertion(&org, &key, "svc", |_, c| {
                c["aud"] = json!("https://elsewhere/oauth2/v1/token")
            }),
            "okta.users.read",
            401,
            "invalid_client",
            "The audience claim for client_assertion must be the endpoint invoked for the request.",
        ),
        (
            assertion(&org, &key, "svc", |_, c| c["exp"] = json!(now + 7200)),
            "okta.users.read",
            401,
            "invalid_client",
            "The client_assertion token has an expiration too far into the future.",
        ),
        (
            assertion(&org, &key, "svc", |_, c| c["exp"] = json!(now - 10)),
            "okta.users.read",
            401,
            "invalid_client",
            "The client_assertion token is expired.",
        ),
        (
            assertion(&org, &key, "svc", |_, c| c["iat"] = json!(now + 600)),
            "okta.users.read",
            401,
            "invalid_client",
            "The client_assertion token must be issued before the current time.",
        ),
        (
            assertion(&org, &other, "svc", |_, _| {}),
            "okta.users.read",
            401,
            "invalid_client",
            "The client_assertion signature is invalid.",
        ),
        (
            assertion(&org, &key, "nobody", |_, _| {}),
            "okta.users.read",
            401,
            "invalid_client",
            "The issuer claim for client_assertion is not a valid client_id.",
        ),
        (
            assertion(&org, &key, "svc", |_, c| c["sub"] = json!("someone")),
            "okta.users.read",
            401,
            "invalid_client",
            "The subject claim for client_assertion is not a valid client_id.",
        ),
        (
            assertion(&org, &key, "svc", |h, _| h["alg"] = json!("HS256")),
            "okta.users.read",
            401,
            "invalid_client",
            "The client_assertion JWT signature algorithm is invalid.",
        ),
        (
            assertion(&org, &key, "svc2", |_, _| {}),
            "okta.users.read",
            401,
            "invalid_client",
            "The client_assertion JWT kid is invalid.",
        ),
        (
            assertion(&org, &key, "svc2", |h, _| h["kid"] = json!("three")),
            "okta.users.read",
            401,
            "invalid_client",
            "The client_assertion JWT kid is invalid.",
        ),
        (
            "not.a.jwt".into(),
            "okta.users.read",
            401,
            "invalid_client",
            "The parsing of the client_assertion failed.",
        ),
        (
            assertion(&org, &key, "svc", |_, _| {}),
            "",
            400,
            "invalid_scope",
            "No scopes were requested.",
        ),
        (
            assertion(&org, &key, "svc", |_, _| {}),
            "okta.users.read okta.groups.read",
            400,
            "invalid_scope",
            "The requested scope is invalid, unknown, malformed, or exceeds the scope granted by the resource owner.",
        ),
    ];
    for (a, scope, status, error, description) in &cases {
        let r = cc_request(&org, a, scope, None).await;
        assert_eq!(error_of(&r), (*status, *error, *description), "{}", r.text);
    }
    // With the right kid among several keys the assertion works.
    let ok = assertion(&org, &other, "svc2", |h, _| h["kid"] = json!("two"));
    assert_eq!(
        cc_request(&org, &ok, "okta.users.read", None).await.status,
        200
    );

    // A jti is accepted once.
    let once = assertion(&org, &key, "svc", |_, _| {});
    assert_eq!(
        cc_request(&org, &once, "okta.users.read", None)
            .await
            .status,
        200
    );
    let again = cc_request(&org, &once, "okta.users.read", None).await;
    assert_eq!(
        error_of(&again),
        (
            401,
            "invalid_client",
            "The client_assertion token has already been used."
        )
    );
    // The assertion type must be jwt-bearer; no credentials at all is invalid_client.
    let a = assertion(&org, &key, "svc", |_, _| {});
    let r = form(
        &org,
        "/oauth2/v1/token",
        &[
            ("grant_type", "client_credentials"),
            ("scope", "okta.users.read"),
            ("client_assertion_type", "urn:other"),
            ("client_assertion", &a),
        ],
        &[],
    )
    .await;
    assert_eq!(
        error_of(&r),
        (
            400,
            "invalid_request",
            "The client_assertion_type is invalid."
        )
    );
    let r = form(
        &org,
        "/oauth2/v1/token",
        &[("grant_type", "client_credentials"), ("client_id", "svc")],
        &[],
    )
    .await;
    assert_eq!(
        error_of(&r),
        (401, "invalid_client", "No client credentials found.")
    );
    let r = form(&org, "/oauth2/v1/token", &[("grant_type", "password")], &[]).await;
    assert_eq!(
        r.status, 401,
        "client authentication comes first: {}",
        r.text
    );
}

#[tokio::test]
async fn dpop_at_the_token_endpoint_follows_the_nonce_dance() {
    let org = TestOrg::start().await;
    let (key, dpop_key) = (Key::ec(), Key::ec());
    register(&org, service_app("svc", &key, true, &["okta.users.read"])).await;
    let token_url = org.url("/oauth2/v1/token");

    // No DPoP header at all.
    let a = assertion(&org, &key, "svc", |_, _| {});
    let r = cc_request(&org, &a, "okta.users.read", None).await;
    assert_eq!(
        error_of(&r),
        (
            400,
            "invalid_dpop_proof",
            "The DPoP proof JWT header is missing."
        )
    );

    // A valid proof without nonce: use_dpop_nonce and the nonce in a header.
    let a = assertion(&org, &key, "svc", |_, _| {});
    let p = proof(&org, &dpop_key, "POST", &token_url, None, None);
    let r = cc_request(&org, &a, "okta.users.read", Some(&p)).await;
    assert_eq!(
        error_of(&r),
        (
            400,
            "use_dpop_nonce",
            "Authorization server requires nonce in DPoP proof."
        )
    );
    let nonce = r
        .header("dpop-nonce")
        .expect("a DPoP-Nonce header")
        .to_string();

    // The assertion's jti was spent by that 400: reusing it fails even with a good proof.
    let p = proof(&org, &dpop_key, "POST", &token_url, Some(&nonce), None);
    let r = cc_request(&org, &a, "okta.users.read", Some(&p)).await;
    assert_eq!(
        error_of(&r),
        (
            401,
            "invalid_client",
            "The client_assertion token has already been used."
        )
    );

    // That request failed before its proof was looked at, so the proof is still good: with a
    // fresh assertion it gets a DPoP token. Used once, it is refused afterwards.
    let a = assertion(&org, &key, "svc", |_, _| {});
    let r = cc_request(&org, &a, "okta.users.read", Some(&p)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["token_type"], "DPoP");
    assert_eq!(r.header("dpop-nonce"), Some(nonce.as_str()));
    let token = r.body["access_token"].as_str().unwrap().to_string();
    let a = assertion(&org, &key, "svc", |_, _| {});
    let r = cc_request(&org, &a, "okta.users.read", Some(&p)).await;
    assert_eq!(
        error_of(&r),
        (
            400,
            "invalid_dpop_proof",
            "The DPoP proof JWT has already been used."
        )
    );

    // Introspection shows the binding (cnf.jkt = the proof key's thumbprint).
    let intro_url = org.url("/oauth2/v1/introspect");
    let a = assertion(&org, &key, "svc", |_, c| c["aud"] = json!(intro_url));
    let r = form(
        &org,
        "/oauth2/v1/introspect",
        &[
            ("token", &token),
            ("client_assertion_type", JWT_BEARER),
            ("client_assertion", &a),
        ],
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["active"], true);
    assert_eq!(r.body["token_type"], "DPoP");
    assert_eq!(r.body["client_id"], "svc");
    assert_eq!(r.body["cnf"]["jkt"], dpop_key.thumbprint());

    // Bad proofs, each with Okta's description.
    let a_proof = |edit: &dyn Fn(&mut Value, &mut Value)| {
        let mut h = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": dpop_key.public_jwk()});
        let mut c = json!({"htm": "POST", "htu": token_url, "iat": now_s(&org), "jti": random(), "nonce": nonce});
        edit(&mut h, &mut c);
        dpop_key.sign(h, c)
    };
    let now = now_s(&org);
    let cases: Vec<(String, &str)> = vec![
        (
            a_proof(&|h, _| h["typ"] = json!("JWT")),
            "'typ' must be 'dpop+jwt' in the DPoP proof JWT.",
        ),
        (
            a_proof(&|h, _| h["alg"] = json!("RS256")),
            "The DPoP proof JWT signature algorithm is invalid.",
        ),
        (
            a_proof(&|h, _| h["jwk"] = Key::ec().public_jwk()),
            "The DPoP proof JWT signature is invalid.",
        ),
        (
            a_proof(&|_, c| c["htm"] = json!("GET")),
            "'htm' claim in the DPoP proof JWT is invalid.",
        ),
        (
            a_proof(&|_, c| c["htu"] = json!(format!("{token_url}?x=1"))),
            "'htu' claim in the DPoP proof JWT is invalid.",
        ),
        (
            a_proof(&|_, c| c["iat"] = json!(now - 301)),
            "The DPoP proof JWT is issued more than five minutes in the past.",
        ),
        (
            a_proof(&|_, c| c["iat"] = json!(now + 600)),
            "The DPoP proof JWT is issued in the future.",
        ),
        (
            a_proof(&|_, c| {
                c.as_object_mut().unwrap().remove("jti");
            }),
            "'jti' claim in the DPoP proof JWT is invalid.",
        ),
        ("garbage".into(), "The DPoP proof JWT cannot be parsed."),
    ];
    for (p, description) in &cases {
        let a = assertion(&org, &key, "svc", |_, _| {});
        let r = cc_request(&org, &a, "okta.users.read", Some(p)).await;
        assert_eq!(
            error_of(&r),
            (400, "invalid_dpop_proof", *description),
            "{}",
            r.text
        );
    }
}

#[tokio::test]
async fn the_dpop_nonce_rotates_and_old_nonces_can_be_expired() {
    let org = TestOrg::start().await;
    let (key, dpop_key) = (Key::ec(), Key::ec());
    register(&org, service_app("svc", &key, true, &["okta.users.read"])).await;
    let token_url = org.url("/oauth2/v1/token");
    let first = org.get("/control/oauth/dpop-nonce").await.body["nonce"]
        .as_str()
        .unwrap()
        .to_string();
    let attempt = async |nonce: String| {
        let a = assertion(&org, &key, "svc", |_, _| {});
        let p = proof(&org, &dpop_key, "POST", &token_url, Some(&nonce), None);
        cc_request(&org, &a, "okta.users.read", Some(&p)).await
    };
    assert_eq!(attempt(first.clone()).await.status, 200);

    // A rotation keeps the previous nonce working (Okta: for days).
    let r = org
        .post("/control/oauth/dpop-nonce/rotate", json!({}))
        .await;
    let second = r.body["nonce"].as_str().unwrap().to_string();
    assert_ne!(first, second);
    assert_eq!(attempt(first.clone()).await.status, 200);

    // Expiring the previous ones sends a client holding one back to use_dpop_nonce.
    let r = org
        .post(
            "/control/oauth/dpop-nonce/rotate",
            json!({"expirePrevious": true}),
        )
        .await;
    let third = r.body["nonce"].as_str().unwrap().to_string();
    let r = attempt(second).await;
    assert_eq!(r.body["error"], "use_dpop_nonce");
    assert_eq!(r.header("dpop-nonce"), Some(third.as_str()));
    assert_eq!(attempt(third.clone()).await.status, 200);

    // Okta renews the nonce every 24 hours on its own.
    org.post("/control/clock", json!({"advanceMs": 24 * 3_600_000}))
        .await;
    let fourth = org.get("/control/oauth/dpop-nonce").await.body["nonce"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(third, fourth);
}

#[tokio::test]
async fn dpop_tokens_at_resources_need_a_matching_proof() {
    let org = TestOrg::start().await;
    let (key, dpop_key) = (Key::rsa(), Key::ec());
    register(&org, service_app("svc", &key, true, &["okta.users.read"])).await;
    let r = cc_token(&org, &key, "svc", "okta.users.read", Some(&dpop_key)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let token = r.body["access_token"].as_str().unwrap().to_string();

    // Good: htu without the query.
    let ok = dpop_get(&org, &dpop_key, &token, "/api/v1/users?limit=1").await;
    assert_eq!(ok.status, 200, "{}", ok.text);

    let check = |r: &Resp, status: u16, error: &str, description: &str| {
        assert_eq!(r.status, status, "{}", r.text);
        let c = www_authenticate(r);
        assert!(c.starts_with("DPoP "), "{c}");
        assert!(c.contains(&format!("error=\"{error}\"")), "{c}");
        assert!(
            c.contains(&format!("error_description=\"{description}\"")),
            "{c}"
        );
    };
    // A bound token as Bearer; as DPoP without proof.
    let r = api(&org, "/api/v1/users", "Bearer", &token, None).await;
    assert_eq!(r.status, 400);
    assert!(www_authenticate(&r).contains("The resource request must use the DPoP authentication scheme when using a DPoP bound token."));
    let r = api(&org, "/api/v1/users", "DPoP", &token, None).await;
    check(
        &r,
        400,
        "invalid_request",
        "The resource request requires a DPoP proof.",
    );
    // Wrong htu, wrong ath, wrong method.
    let p = proof(
        &org,
        &dpop_key,
        "GET",
        &org.url("/api/v1/groups"),
        None,
        Some(&token),
    );
    check(
        &api(&org, "/api/v1/users", "DPoP", &token, Some(p)).await,
        400,
        "invalid_dpop_proof",
        "'htu' claim in the DPoP proof JWT is invalid.",
    );
    let p = proof(
        &org,
        &dpop_key,
        "GET",
        &org.url("/api/v1/users"),
        None,
        Some("another token"),
    );
    check(
        &api(&org, "/api/v1/users", "DPoP", &token, Some(p)).await,
        400,
        "invalid_dpop_proof",
        "'ath' claim in the DPoP proof does not match the presented access_token.",
    );
    let p = proof(
        &org,
        &dpop_key,
        "POST",
        &org.url("/api/v1/users"),
        None,
        Some(&token),
    );
    check(
        &api(&org, "/api/v1/users", "DPoP", &token, Some(p)).await,
        400,
        "invalid_dpop_proof",
        "'htm' claim in the DPoP proof JWT is invalid.",
    );
    // A replayed proof.
    let p = proof(
        &org,
        &dpop_key,
        "GET",
        &org.url("/api/v1/users"),
        None,
        Some(&token),
    );
    assert_eq!(
        api(&org, "/api/v1/users", "DPoP", &token, Some(p.clone()))
            .await
            .status,
        200
    );
    check(
        &api(&org, "/api/v1/users", "DPoP", &token, Some(p)).await,
        400,
        "invalid_dpop_proof",
        "The DPoP proof JWT has already been used.",
    );
    // A proof by another key.
    let p = proof(
        &org,
        &Key::ec(),
        "GET",
        &org.url("/api/v1/users"),
        None,
        Some(&token),
    );
    check(
        &api(&org, "/api/v1/users", "DPoP", &token, Some(p)).await,
        400,
        "invalid_dpop_proof",
        "The access_token is not bound to the provided DPoP proof.",
    );
    // A stale proof: made, then the clock moves six minutes.
    let p = proof(
        &org,
        &dpop_key,
        "GET",
        &org.url("/api/v1/users"),
        None,
        Some(&token),
    );
    org.post("/control/clock", json!({"advanceMs": 360_000}))
        .await;
    check(
        &api(&org, "/api/v1/users", "DPoP", &token, Some(p)).await,
        400,
        "invalid_dpop_proof",
        "The DPoP proof JWT is issued more than five minutes in the past.",
    );

    // htu is compared with the percent-decoded path (FACTS.md §8).
    let path = "/api/v1/users/nobody%40acme.example.com";
    let decoded = org.url("/api/v1/users/nobody@acme.example.com");
    let p = proof(&org, &dpop_key, "GET", &decoded, None, Some(&token));
    let r = api(&org, path, "DPoP", &token, Some(p)).await;
    assert_eq!(
        r.status, 404,
        "the proof passes, the user does not exist: {}",
        r.text
    );
    let p = proof(&org, &dpop_key, "GET", &org.url(path), None, Some(&token));
    check(
        &api(&org, path, "DPoP", &token, Some(p)).await,
        400,
        "invalid_dpop_proof",
        "'htu' claim in the DPoP proof JWT is invalid.",
    );

    // A Bearer token presented with the DPoP scheme.
    let bkey = Key::ec();
    register(
        &org,
        service_app("plain", &bkey, false, &["okta.users.read"]),
    )
    .await;
    let r = cc_token(&org, &bkey, "plain", "okta.users.read", None).await;
    let bearer = r.body["access_token"].as_str().unwrap().to_string();
    let r = dpop_get(&org, &dpop_key, &bearer, "/api/v1/users").await;
    check(
        &r,
        401,
        "invalid_token",
        "The presented access_token is not DPoP bound.",
    );
}

#[tokio::test]
async fn tokens_expire_after_an_hour_and_the_admin_role_is_required() {
    let org = TestOrg::start().await;
    let key = Key::ec();
    let mut app = service_app("svc", &key, false, &["okta.users.read"]);
    app["adminRole"] = json!(false);
    register(&org, app.clone()).await;
    let r = cc_token(&org, &key, "svc", "okta.users.read", None).await;
    let token = r.body["access_token"].as_str().unwrap().to_string();
    // Token granted, but no admin role: 403 E0000006 as for an API token.
    let r = api(&org, "/api/v1/users", "Bearer", &token, None).await;
    assert_eq!(
        (r.status, r.error_code()),
        (403, Some("E0000006")),
        "{}",
        r.text
    );
    // Assigning the role takes effect for the token already held.
    app["adminRole"] = json!(true);
    register(&org, app).await;
    assert_eq!(
        api(&org, "/api/v1/users", "Bearer", &token, None)
            .await
            .status,
        200
    );

    org.post("/control/clock", json!({"advanceMs": 3_599_000}))
        .await;
    assert_eq!(
        api(&org, "/api/v1/users", "Bearer", &token, None)
            .await
            .status,
        200
    );
    org.post("/control/clock", json!({"advanceMs": 2_000}))
        .await;
    let r = api(&org, "/api/v1/users", "Bearer", &token, None).await;
    assert_eq!(
        (r.status, r.error_code()),
        (401, Some("E0000011")),
        "{}",
        r.text
    );
    assert!(www_authenticate(&r).contains("error=\"invalid_token\""));
}

/// A web app with a secret, its redirect URI and PKCE; returns (verifier, code).
async fn authorize(org: &TestOrg, client_id: &str, scope: &str) -> (String, String) {
    let verifier = random() + &random();
    let url = format!(
        "/oauth2/v1/authorize?client_id={client_id}&redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2Fcallback&response_type=code&scope={}&state=st-1&code_challenge={}&code_challenge_method=S256",
        scope.replace(' ', "%20"),
        sha256(&verifier)
    );
    let r = authorize_get(org, &url).await;
    assert_eq!(r.status, 302, "{}", r.text);
    let location = r.header("location").unwrap().to_string();
    assert!(
        location.starts_with("http://127.0.0.1:8765/callback?code="),
        "{location}"
    );
    assert!(location.ends_with("&state=st-1"), "{location}");
    let code = location
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_string();
    (verifier, code)
}

async fn authorize_get(org: &TestOrg, url: &str) -> Resp {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    read(client.get(org.url(url)).send().await.unwrap()).await
}

fn web_app(id: &str, rotation: &str) -> Value {
    json!({"clientId": id, "type": "web", "clientSecret": "s3cret",
           "redirectUris": ["http://127.0.0.1:8765/callback"],
           "grantedScopes": ["okta.users.read", "okta.groups.read"],
           "refreshToken": {"rotation": rotation, "leeway": 30}})
}

fn basic(id: &str, secret: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

async fn exchange(org: &TestOrg, code: &str, verifier: &str, redirect: &str) -> Resp {
    let auth = basic("web", "s3cret");
    form(
        org,
        "/oauth2/v1/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect),
            ("code_verifier", verifier),
        ],
        &[("Authorization", &auth)],
    )
    .await
}

const REDIRECT: &str = "http://127.0.0.1:8765/callback";

#[tokio::test]
async fn authorization_code_with_pkce_end_to_end_and_its_refusals() {
    let org = TestOrg::start().await;
    register(&org, web_app("web", "STATIC")).await;

    let (verifier, code) = authorize(&org, "web", "okta.users.read offline_access").await;
    let r = exchange(&org, &code, &verifier, REDIRECT).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["scope"], "okta.users.read offline_access");
    assert!(r.body["refresh_token"].is_string());
    let token = r.body["access_token"].as_str().unwrap();
    assert_eq!(
        api(&org, "/api/v1/users", "Bearer", token, None)
            .await
            .status,
        200
    );
    // A code is single use.
    let r = exchange(&org, &code, &verifier, REDIRECT).await;
    assert_eq!(
        error_of(&r),
        (
            400,
            "invalid_grant",
            "The authorization code is invalid or has expired."
        )
    );

    // PKCE mismatch, redirect mismatch, expiry after 300 s.
    let (_, code) = authorize(&org, "web", "okta.users.read").await;
    let r = exchange(
        &org,
        &code,
        "wrong-verifier-wrong-verifier-wrong-verifier",
        REDIRECT,
    )
    .await;
    assert_eq!(
        error_of(&r),
        (400, "invalid_grant", "PKCE verification failed.")
    );
    let (verifier, code) = authorize(&org, "web", "okta.users.read").await;
    let r = exchange(&org, &code, &verifier, "http://127.0.0.1:9999/callback").await;
    assert_eq!(
        error_of(&r),
        (
            400,
            "invalid_grant",
            "The 'redirect_uri' does not match the redirection URI used in the authorization request."
        )
    );
    let (verifier, code) = authorize(&org, "web", "okta.users.read").await;
    org.post("/control/clock", json!({"advanceMs": 301_000}))
        .await;
    let r = exchange(&org, &code, &verifier, REDIRECT).await;
    assert_eq!(
        error_of(&r),
        (
            400,
            "invalid_grant",
            "The authorization code is invalid or has expired."
        )
    );

    // client_secret_post works; a wrong secret does not.
    let (verifier, code) = authorize(&org, "web", "okta.users.read").await;
    let r = form(
        &org,
        "/oauth2/v1/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
            ("client_id", "web"),
            ("client_secret", "s3cret"),
        ],
        &[],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.body.get("refresh_token").is_none(),
        "no offline_access, no refresh token"
    );
    let r = form(
        &org,
        "/oauth2/v1/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", "x"),
            ("redirect_uri", REDIRECT),
            ("code_verifier", "v"),
        ],
        &[("Authorization", &basic("web", "nope"))],
    )
    .await;
    assert_eq!(
        error_of(&r),
        (
            401,
            "invalid_client",
            "The client secret supplied for a confidential client is invalid."
        )
    );
    // A web app may not use client_credentials.
    let r = form(
        &org,
        "/oauth2/v1/token",
        &[
            ("grant_type", "client_credentials"),
            ("scope", "okta.users.read"),
        ],
        &[("Authorization", &basic("web", "s3cret"))],
    )
    .await;
    assert_eq!(error_of(&r).0, 401);

    // /authorize: an unregistered redirect URI is an error page, not a redirect.
    let base = "/oauth2/v1/authorize?client_id=web&response_type=code&scope=okta.users.read&state=s&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256";
    let r = authorize_get(
        &org,
        &format!("{base}&redirect_uri=http%3A%2F%2Fevil.example%2Fcb"),
    )
    .await;
    assert_eq!(r.status, 400);
    assert!(r.header("location").is_none());
    assert!(
        r.text
            .contains("The &#39;redirect_uri&#39; parameter must be a Login redirect URI"),
        "{}",
        r.text
    );
    // Other errors are redirected with error, error_description and state.
    let with_redirect = format!("{base}&redirect_uri=http%3A%2F%2F127.0.0.1%3A8765%2Fcallback");
    for (change, error) in [
        (
            ("scope=okta.users.read", "scope=okta.apps.read"),
            "invalid_scope",
        ),
        (
            ("response_type=code", "response_type=token"),
            "unsupported_response_type",
        ),
        (
            ("code_challenge_method=S256", "code_challenge_method=plain"),
            "invalid_request",
        ),
        (("&state=s", ""), "invalid_request"),
    ] {
        let r = authorize_get(&org, &with_redirect.replace(change.0, change.1)).await;
        assert_eq!(r.status, 302, "{change:?}");
        let location = r.header("location").unwrap();
        assert!(location.starts_with(REDIRECT), "{location}");
        assert!(
            location.contains(&format!("error={error}&error_description=")),
            "{change:?}: {location}"
        );
    }
}

#[tokio::test]
async fn refresh_tokens_rotate_with_a_grace_period_and_reuse_revokes_the_family() {
    let org = TestOrg::start().await;
    register(&org, web_app("web", "ROTATE")).await;
    let auth = basic("web", "s3cret");
    let refresh = async |rt: String| {
        form(
            &org,
            "/oauth2/v1/token",
            &[("grant_type", "refresh_token"), ("refresh_token", &rt)],
            &[("Authorization", &auth)],
        )
        .await
    };
    let (verifier, code) = authorize(&org, "web", "okta.users.read offline_access").await;
    let first = exchange(&org, &code, &verifier, REDIRECT).await;
    let rt1 = first.body["refresh_token"].as_str().unwrap().to_string();

    let r = refresh(rt1.clone()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let rt2 = r.body["refresh_token"].as_str().unwrap().to_string();
    assert_ne!(rt1, rt2, "ROTATE hands out a new refresh token");
    // Within the leeway the spent token still works.
    org.post("/control/clock", json!({"advanceMs": 20_000}))
        .await;
    assert_eq!(refresh(rt1.clone()).await.status, 200);
    // After it, reuse is detected: invalid_grant and the whole family revoked.
    let r = refresh(rt2.clone()).await;
    let rt3 = r.body["refresh_token"].as_str().unwrap().to_string();
    let access = r.body["access_token"].as_str().unwrap().to_string();
    org.post("/control/clock", json!({"advanceMs": 31_000}))
        .await;
    let r = refresh(rt1).await;
    assert_eq!(
        error_of(&r),
        (
            400,
            "invalid_grant",
            "The refresh token is invalid or expired."
        )
    );
    assert_eq!(
        refresh(rt3).await.status,
        400,
        "the newest token went with the family"
    );
    assert_eq!(
        api(&org, "/api/v1/users", "Bearer", &access, None)
            .await
            .status,
        401
    );
    let events = org
        .get("/api/v1/logs?filter=eventType%20eq%20%22app.oauth2.token.detect_reuse%22")
        .await;
    assert_eq!(
        events.body.as_array().map(Vec::len),
        Some(1),
        "{}",
        events.text
    );

    // STATIC keeps the same token; a narrower scope may be asked, a wider one not.
    register(&org, web_app("web", "STATIC")).await;
    let (verifier, code) = authorize(
        &org,
        "web",
        "okta.users.read okta.groups.read offline_access",
    )
    .await;
    let rt = exchange(&org, &code, &verifier, REDIRECT).await.body["refresh_token"]
        .as_str()
        .unwrap()
        .to_string();
    let r = refresh(rt.clone()).await;
    assert_eq!(r.body["refresh_token"].as_str(), Some(rt.as_str()));
    let r = form(
        &org,
        "/oauth2/v1/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &rt),
            ("scope", "okta.users.read"),
        ],
        &[("Authorization", &auth)],
    )
    .await;
    assert_eq!(r.body["scope"], "okta.users.read");
    let r = form(
        &org,
        "/oauth2/v1/token",
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &rt),
            ("scope", "okta.users.manage"),
        ],
        &[("Authorization", &auth)],
    )
    .await;
    assert_eq!(error_of(&r).1, "access_denied");
}

#[tokio::test]
async fn dpop_bound_refresh_needs_the_same_key() {
    let org = TestOrg::start().await;
    let mut app = web_app("web", "ROTATE");
    app["dpopRequired"] = json!(true);
    register(&org, app).await;
    let (key, other) = (Key::ec(), Key::rsa());
    let token_url = org.url("/oauth2/v1/token");
    let nonce = org.get("/control/oauth/dpop-nonce").await.body["nonce"]
        .as_str()
        .unwrap()
        .to_string();
    let auth = basic("web", "s3cret");
    let (verifier, code) = authorize(&org, "web", "okta.users.read offline_access").await;
    let p = proof(&org, &key, "POST", &token_url, Some(&nonce), None);
    let r = form(
        &org,
        "/oauth2/v1/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("code_verifier", &verifier),
        ],
        &[("Authorization", &auth), ("DPoP", &p)],
    )
    .await;
    assert_eq!(r.body["token_type"], "DPoP", "{}", r.text);
    let rt = r.body["refresh_token"].as_str().unwrap().to_string();
    let token = r.body["access_token"].as_str().unwrap().to_string();
    assert_eq!(
        dpop_get(&org, &key, &token, "/api/v1/users").await.status,
        200
    );

    let p = proof(&org, &other, "POST", &token_url, Some(&nonce), None);
    let r = form(
        &org,
        "/oauth2/v1/token",
        &[("grant_type", "refresh_token"), ("refresh_token", &rt)],
        &[("Authorization", &auth), ("DPoP", &p)],
    )
    .await;
    assert_eq!(
        error_of(&r),
        (
            400,
            "invalid_dpop_proof",
            "Invalid DPoP Public Key binding in refresh token"
        )
    );
    let p = proof(&org, &key, "POST", &token_url, Some(&nonce), None);
    let r = form(
        &org,
        "/oauth2/v1/token",
        &[("grant_type", "refresh_token"), ("refresh_token", &rt)],
        &[("Authorization", &auth), ("DPoP", &p)],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test]
async fn revoke_keys_and_the_app_registry() {
    let org = TestOrg::start().await;
    register(&org, web_app("web", "STATIC")).await;
    let auth = basic("web", "s3cret");
    let (verifier, code) = authorize(&org, "web", "okta.users.read").await;
    let token = exchange(&org, &code, &verifier, REDIRECT).await.body["access_token"]
        .as_str()
        .unwrap()
        .to_string();

    let r = form(
        &org,
        "/oauth2/v1/revoke",
        &[("token", "unknown")],
        &[("Authorization", &auth)],
    )
    .await;
    assert_eq!(r.status, 200, "unknown tokens are 200 too");
    let r = form(&org, "/oauth2/v1/revoke", &[], &[("Authorization", &auth)]).await;
    assert_eq!(
        error_of(&r),
        (400, "invalid_request", "The 'token' parameter is required.")
    );
    let r = form(&org, "/oauth2/v1/revoke", &[("token", &token)], &[]).await;
    assert_eq!(
        error_of(&r),
        (401, "invalid_client", "No client credentials found.")
    );
    assert_eq!(
        api(&org, "/api/v1/users", "Bearer", &token, None)
            .await
            .status,
        200
    );
    let r = form(
        &org,
        "/oauth2/v1/revoke",
        &[("token", &token)],
        &[("Authorization", &auth)],
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        api(&org, "/api/v1/users", "Bearer", &token, None)
            .await
            .status,
        401
    );

    let keys = org.get("/oauth2/v1/keys").await;
    assert_eq!(keys.status, 200);
    assert_eq!(keys.body["keys"][0]["kty"], "EC");
    assert!(keys.body["keys"][0].get("d").is_none());

    // The registry lists apps without their secrets; bad registrations are refused.
    let apps = org.get("/control/oauth/apps").await;
    assert_eq!(apps.body[0]["clientId"], "web");
    assert!(!apps.text.contains("s3cret"));
    let r = org
        .post(
            "/control/oauth/apps",
            json!({"clientId": "x", "type": "service", "grantedScopes": []}),
        )
        .await;
    assert_eq!(r.status, 400);
    let private = json!({"kty": "EC", "crv": "P-256", "x": b64(&[1; 32]), "y": b64(&[2; 32]), "d": b64(&[3; 32])});
    let r = org
        .post(
            "/control/oauth/apps",
            json!({"clientId": "x", "type": "service", "jwks": {"keys": [private]}}),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
}
