//! The connection test: two read calls every connector needs, and each failure explained in plain
//! words with its fix. The explanation is one pure function, [`explain`], over the client's error.

use okta_client::{Client, Error, ErrorKind, Query};
use serde_json::Value;

/// One call of the connection test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Check {
    /// `GET /api/v1/logs?limit=1`: the System Log, what triggers read.
    SystemLog,
    /// `GET /api/v1/meta/schemas/user/default`: the profile schema, what user actions validate against.
    UserSchema,
}

impl Check {
    pub const ALL: [Check; 2] = [Check::SystemLog, Check::UserSchema];

    pub fn name(self) -> &'static str {
        match self {
            Check::SystemLog => "System Log",
            Check::UserSchema => "user profile schema",
        }
    }

    pub fn path(self) -> &'static str {
        match self {
            Check::SystemLog => "/api/v1/logs",
            Check::UserSchema => "/api/v1/meta/schemas/user/default",
        }
    }

    /// The call as a user would write it: `GET /api/v1/logs?limit=1`.
    pub fn call(self) -> String {
        let query: Vec<String> = self
            .query()
            .0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        match query.is_empty() {
            true => format!("GET {}", self.path()),
            false => format!("GET {}?{}", self.path(), query.join("&")),
        }
    }

    fn query(self) -> Query {
        match self {
            Check::SystemLog => Query::new().push("limit", 1),
            Check::UserSchema => Query::new(),
        }
    }

    /// The OAuth scope this call needs.
    pub fn scope(self) -> &'static str {
        match self {
            Check::SystemLog => "okta.logs.read",
            Check::UserSchema => "okta.schemas.read",
        }
    }

    /// What reading this takes: the admin role an API token's admin needs, and the OAuth scope.
    fn needs(self) -> &'static str {
        match self {
            Check::SystemLog => {
                "reading the System Log needs an admin role that can view it (Read-Only Administrator, \
                 Report Administrator or above; OAuth scope okta.logs.read)"
            }
            Check::UserSchema => {
                "reading the user profile schema needs an admin role such as Read-Only Administrator or \
                 above (OAuth scope okta.schemas.read)"
            }
        }
    }

    /// Runs the check: what it found, or why it failed.
    pub async fn run(self, client: &Client) -> Result<String, Error> {
        let body: Value = client.get(self.path(), &self.query()).await?;
        Ok(match self {
            Check::SystemLog => match body.as_array().and_then(|events| events.first()) {
                Some(event) => format!(
                    "readable; latest event {} at {}",
                    event["eventType"].as_str().unwrap_or("?"),
                    event["published"].as_str().unwrap_or("?")
                ),
                None => "readable; no events in the last 7 days".to_string(),
            },
            Check::UserSchema => {
                let count = |group: &str| {
                    body["definitions"][group]["properties"]
                        .as_object()
                        .map_or(0, |p| p.len())
                };
                format!(
                    "readable; {} base and {} custom attributes",
                    count("base"),
                    count("custom")
                )
            }
        })
    }
}

/// A failure in words: what went wrong and what to do about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnosis {
    /// A few words: "bad or expired API token".
    pub problem: &'static str,
    /// What happened, with Okta's code and request id when there is one.
    pub detail: String,
    pub fix: String,
}

/// Explains why `check` failed with `error`. Pure: unit-tested for every case.
pub fn explain(check: Check, error: &Error) -> Diagnosis {
    let detail = error.to_string();
    let diagnosis = |problem, fix: &str| Diagnosis {
        problem,
        detail: detail.clone(),
        fix: fix.to_string(),
    };
    // Some handshake failures reach us as connection errors; their words say TLS.
    let kind = match error.kind {
        ErrorKind::Connect if is_tls(&error.message) => ErrorKind::Tls,
        kind => kind,
    };
    match (kind, error.status, error.error_code()) {
        (_, Some(401), _) => diagnosis(
            "bad or expired API token",
            "Okta did not accept the token: it is mistyped, revoked, or expired (a token expires after 30 \
             days without use, and when the admin who created it is deactivated). Create a new one in the \
             Admin Console (Security > API > Tokens) and store it with \
             `okta-connector connections add NAME --org-url ORG.okta.com --replace --secret-stdin`.",
        ),
        (_, Some(403), Some("E0000005")) => diagnosis(
            "malformed token",
            "Okta could not read the Authorization header (E0000005 Invalid session): the stored token is \
             not an API token (check for a truncated copy or extra characters) and add it again with --replace.",
        ),
        (_, Some(403), _) => Diagnosis {
            problem: "missing permission",
            detail: detail.clone(),
            fix: format!(
                "The token works but its admin may not do this: {}. An API token has the roles of the admin \
                 who created it: give that admin the role (Security > Administrators), or create the token \
                 as an admin who has it. A token limited to network zones is also refused outside them.",
                check.needs()
            ),
        },
        (ErrorKind::Redirect, _, _) | (_, Some(300..=399), _) => {
            let admin = error
                .location
                .as_deref()
                .is_some_and(|l| l.contains("-admin."));
            diagnosis(
                "the org URL redirects",
                if admin {
                    "This is the Admin Console's domain (ORG-admin.okta.com), which answers the API with a \
                     302: use the org's domain without '-admin' (ORG.okta.com)."
                } else {
                    "The URL answers with a redirect instead of the API: it is probably not the org's address. \
                     Use the org's Okta domain (ORG.okta.com) or its verified custom domain."
                },
            )
        }
        (_, Some(404), _) => diagnosis(
            "not an Okta org",
            "The server has no such API: the org URL probably points at something other than an Okta org \
             (a custom domain that is not set up for the API, or a typo).",
        ),
        (ErrorKind::RateLimited, _, _) | (_, Some(429), _) => diagnosis(
            "rate limited",
            "Okta's rate limit for this call is used up, by this or another integration of the org. Wait \
             a minute and test again; if it persists, check the org's rate-limit dashboard.",
        ),
        (_, Some(500..=599), _) => diagnosis(
            "Okta server error",
            "Okta failed to answer: a problem on Okta's side. Try again later; status.okta.com shows incidents.",
        ),
        (ErrorKind::Api, _, _) => diagnosis(
            "unexpected answer",
            "Okta refused the request; the detail above has Okta's reason. Check the org URL and the token.",
        ),
        (ErrorKind::Tls, _, _) => diagnosis(
            "TLS failure",
            "The secure connection could not be set up: the server's certificate is not valid for this host \
             (a custom domain without its certificate, or a proxy that intercepts TLS), or the server does \
             not speak https at all (a local plain-http server such as the simulator is given as \
             http://127.0.0.1:PORT).",
        ),
        (ErrorKind::Timeout, _, _) => diagnosis(
            "timeout",
            "No answer in time: the org is unreachable from here (a firewall or proxy dropping traffic) or \
             very slow. Check the network, or allow more time with --timeout SECONDS.",
        ),
        (ErrorKind::Connect, _, _) if is_dns(&error.message) => diagnosis(
            "unknown host (DNS)",
            "The org's host name does not resolve: check it for typos (the org name, okta.com vs \
             oktapreview.com) and that this machine's DNS works.",
        ),
        (ErrorKind::Connect, _, _) if error.message.contains("refused") => diagnosis(
            "connection refused",
            "Nothing listens at that address and port: check the org URL (and, for the simulator, that \
             `okta-connector sim` is running on that port).",
        ),
        (ErrorKind::Connect, _, _) => diagnosis(
            "network failure",
            "The connection to the org failed: check the network, a proxy, or a firewall between here and Okta.",
        ),
        (ErrorKind::Decode, _, _) => diagnosis(
            "not an Okta answer",
            "The answer is not what Okta's API sends: the org URL probably points at a server that is not \
             an Okta org.",
        ),
        (ErrorKind::Invalid, _, _) => diagnosis(
            "invalid request",
            "The request could not be made: check the connection's org URL (`okta-connector connections show`).",
        ),
    }
}

/// Explains a failure of an OAuth connection: at the token endpoint (`check` is `None`: getting a
/// token, or the login's code exchange) or on a call of the test. `None` when the failure has nothing
/// OAuth-specific to it (a network error, a 404, ...): [`explain`] covers those. Pure.
pub fn explain_oauth(check: Option<Check>, error: &Error) -> Option<Diagnosis> {
    let detail = error.to_string();
    let d = |problem, fix: String| {
        Some(Diagnosis {
            problem,
            detail: detail.clone(),
            fix,
        })
    };
    let (code, description) = match error.oauth_error() {
        Some((code, description)) => (code, description.unwrap_or_default()),
        None => ("", ""),
    };
    let says = |words: &[&str]| {
        let lower = description.to_ascii_lowercase();
        words.iter().any(|w| lower.contains(w))
    };
    let replace = "store the fix with `okta-connector connections add NAME ... --replace`";
    match (code, error.status, error.error_code()) {
        ("invalid_dpop_proof", _, _) if says(&["header is missing"]) => d(
            "the app requires DPoP",
            format!(
                "The app has \"Require Demonstrating Proof of Possession (DPoP)\" on (the default for new \
                 API Services apps) and this connection has DPoP off: use --dpop auto or --dpop on \
                 ({replace})."
            ),
        ),
        ("invalid_dpop_proof", _, _) if says(&["in the future", "in the past"]) => d(
            "clock skew",
            "Okta judged the DPoP proof's time wrong: check this machine's clock (enable NTP time sync)."
                .to_string(),
        ),
        ("invalid_dpop_proof" | "use_dpop_nonce", _, _) => d(
            "DPoP proof refused",
            format!(
                "Okta refused the DPoP proof ({description}). Try again; if it persists, add the connection \
                 again with a new DPoP key ({replace})."
            ),
        ),
        ("invalid_client", _, _)
            if says(&["expired", "issued before", "too far into the future", "in the future"]) =>
        {
            d(
                "clock skew",
                format!(
                    "Okta judged the client assertion's time wrong ({description}): check this machine's \
                     clock (enable NTP time sync); the assertion is valid for minutes only."
                ),
            )
        }
        ("invalid_client", _, _) if says(&["signature is invalid", "kid is invalid"]) => d(
            "key not registered with the app",
            format!(
                "The app's public key set does not contain this connection's key{}: upload the public key \
                 (print it with `okta-connector connections show NAME --public-key`) on the app's General \
                 tab > Client Credentials > Public keys, and give its Key ID with --key-id ({replace}).",
                if says(&["kid"]) {
                    " (no key has the key ID sent)"
                } else {
                    ""
                }
            ),
        ),
        ("invalid_client", _, _) if says(&["algorithm"]) => d(
            "key algorithm refused",
            "Okta does not accept the key's algorithm for this app: use an RSA (2048 bits or more) or EC \
             P-256 key and register its public key."
                .to_string(),
        ),
        ("invalid_client", _, _) if says(&["secret"]) => d(
            "wrong client secret",
            format!(
                "Okta did not accept the client secret: copy it again from the app's General tab > Client \
                 Credentials > Client secrets ({replace})."
            ),
        ),
        ("invalid_client", _, _) if says(&["client_id", "issuer claim", "client id"]) => d(
            "unknown client ID",
            format!(
                "No app in this org has this client ID: copy the Client ID from the app's General tab (and \
                 check the org URL: the app must be in this org) ({replace})."
            ),
        ),
        ("invalid_client", _, _) => d(
            "invalid client",
            format!(
                "Okta did not accept the app's credentials ({description}): check the client ID, the key \
                 or secret, and that the app is active ({replace})."
            ),
        ),
        ("invalid_scope", _, _) => d(
            "scope not granted",
            format!(
                "A requested scope is not granted to the app ({description}): grant {} on the app's Okta \
                 API Scopes tab, or remove it from --scopes ({replace}).",
                scope_named(description).unwrap_or("each scope of the connection")
            ),
        ),
        ("insufficient_scope", _, _) => {
            let scope = error
                .body
                .as_ref()
                .and_then(|b| b.extra.get("scope"))
                .and_then(|s| s.as_str())
                .or(check.map(Check::scope))
                .unwrap_or("the scope of this call");
            d(
                "missing scope",
                format!(
                    "The access token lacks {scope}: grant it on the app's Okta API Scopes tab and add it \
                     to the connection's --scopes ({replace})."
                ),
            )
        }
        ("invalid_grant", _, _) if says(&["redirect"]) => d(
            "redirect URI mismatch",
            "The redirect URI differs from the one the sign-in used or the app registered: add the \
             connection's redirect URI to the app's Sign-in redirect URIs (General tab), then run \
             `okta-connector connections login NAME` again."
                .to_string(),
        ),
        ("invalid_grant", _, _) => d(
            "sign-in expired",
            format!(
                "Okta refused the grant ({description}): the refresh token expired, was revoked, or was \
                 used twice, or the sign-in code is stale. Sign in again with \
                 `okta-connector connections login NAME`."
            ),
        ),
        ("unauthorized_client", _, _) => d(
            "grant type not allowed",
            "The app may not use this grant: allow Client Credentials (API Services app), or \
             Authorization Code and Refresh Token (Web app), in the app's General settings."
                .to_string(),
        ),
        ("invalid_token", _, _) | (_, Some(401), _) => d(
            "access token refused",
            "Okta refused the access token after getting it (expired or revoked): test again; if it \
             persists, check that the app is active."
                .to_string(),
        ),
        (_, Some(403), Some("E0000006")) => d(
            "no admin role",
            format!(
                "Okta granted a token but the app has no admin role that allows this call: assign the app \
                 an admin role on its Admin roles tab (or Security > Administrators > Add administrator \
                 for the app), e.g. Read-only Administrator. {}",
                check.map(Check::needs).unwrap_or_default()
            ),
        ),
        _ => None,
    }
}

/// A failure at the token endpoint (the login's code exchange), always explained.
pub fn explain_token_error(error: &Error) -> Diagnosis {
    explain_oauth(None, error).unwrap_or_else(|| Diagnosis {
        problem: "token request failed",
        detail: error.to_string(),
        fix: "Check the org URL and the network, then try again.".to_string(),
    })
}

/// The first `okta.*` word of an Okta description, if it names one.
fn scope_named(description: &str) -> Option<&str> {
    description
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '_'))
        .find(|w| w.starts_with("okta.") && w.len() > 5)
}

/// rustls's words for a failed handshake, for TLS failures that arrive as connection errors (a plain
/// http server answering a TLS hello gives "received corrupt message of type InvalidContentType").
fn is_tls(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    [
        "tls",
        "certificate",
        "handshake",
        "corrupt message",
        "invalidcontenttype",
    ]
    .iter()
    .any(|word| m.contains(word))
}

fn is_dns(message: &str) -> bool {
    let m = message.to_ascii_lowercase();
    m.contains("dns") || m.contains("could not be resolved") || m.contains("lookup")
}

#[cfg(test)]
mod tests {
    use okta_client::ErrorBody;

    use super::*;

    fn api(status: u16, code: &str, summary: &str) -> Error {
        Error {
            status: Some(status),
            body: Some(Box::new(ErrorBody {
                error_code: Some(code.into()),
                error_summary: Some(summary.into()),
                ..ErrorBody::default()
            })),
            request_id: Some("reqid123".into()),
            ..Error::new(
                ErrorKind::Api,
                format!("GET /api/v1/logs: HTTP {status}: {summary}"),
            )
        }
    }

    fn explain_logs(e: &Error) -> Diagnosis {
        explain(Check::SystemLog, e)
    }

    #[test]
    fn calls_are_written_as_a_user_would() {
        assert_eq!(Check::SystemLog.call(), "GET /api/v1/logs?limit=1");
        assert_eq!(
            Check::UserSchema.call(),
            "GET /api/v1/meta/schemas/user/default"
        );
    }

    #[test]
    fn a_401_is_a_bad_or_expired_token() {
        let d = explain_logs(&api(401, "E0000011", "Invalid token provided"));
        assert_eq!(d.problem, "bad or expired API token");
        assert!(
            d.fix.contains("30 days") && d.fix.contains("--replace"),
            "{}",
            d.fix
        );
        assert!(
            d.detail.contains("E0000011") && d.detail.contains("reqid123"),
            "{}",
            d.detail
        );
    }

    #[test]
    fn a_403_names_the_role_and_scope_needed() {
        let e = api(
            403,
            "E0000006",
            "You do not have permission to perform the requested action",
        );
        let d = explain_logs(&e);
        assert_eq!(d.problem, "missing permission");
        assert!(
            d.fix.contains("okta.logs.read") && d.fix.contains("Read-Only Administrator"),
            "{}",
            d.fix
        );
        let d = explain(Check::UserSchema, &e);
        assert!(d.fix.contains("okta.schemas.read"), "{}", d.fix);
        let d = explain_logs(&api(403, "E0000005", "Invalid session"));
        assert_eq!(d.problem, "malformed token");
    }

    #[test]
    fn a_302_to_an_admin_domain_says_to_drop_admin() {
        let e = Error {
            status: Some(302),
            location: Some("https://acme-admin.okta.com/admin/dashboard".into()),
            ..Error::new(
                ErrorKind::Redirect,
                "GET /api/v1/logs: Okta redirects (HTTP 302)",
            )
        };
        let d = explain_logs(&e);
        assert_eq!(d.problem, "the org URL redirects");
        assert!(d.fix.contains("without '-admin'"), "{}", d.fix);
        let other = Error {
            location: Some("https://elsewhere.example.com/".into()),
            ..e
        };
        assert!(explain_logs(&other).fix.contains("not the org's address"));
    }

    #[test]
    fn transport_failures_are_told_apart() {
        let case = |kind, message: &str| explain_logs(&Error::new(kind, message)).problem;
        assert_eq!(
            case(
                ErrorKind::Tls,
                "the TLS handshake failed: InvalidContentType (127.0.0.1)"
            ),
            "TLS failure"
        );
        assert_eq!(
            case(ErrorKind::Timeout, "the request timed out (127.0.0.1)"),
            "timeout"
        );
        assert_eq!(
            case(
                ErrorKind::Connect,
                "the host name could not be resolved (DNS) (nope.okta.com)"
            ),
            "unknown host (DNS)"
        );
        assert_eq!(
            case(ErrorKind::Connect, "the connection was refused (127.0.0.1)"),
            "connection refused"
        );
        assert_eq!(
            case(ErrorKind::Connect, "the connection was reset (127.0.0.1)"),
            "network failure"
        );
        assert_eq!(
            case(ErrorKind::Decode, "expected an array"),
            "not an Okta answer"
        );
        assert_eq!(case(ErrorKind::Invalid, "bad path"), "invalid request");
        assert_eq!(case(ErrorKind::RateLimited, "429"), "rate limited");
        assert!(
            explain_logs(&Error::new(ErrorKind::Timeout, "x"))
                .fix
                .contains("--timeout")
        );
    }

    #[test]
    fn other_statuses() {
        assert_eq!(
            explain_logs(&api(404, "E0000007", "Not found")).problem,
            "not an Okta org"
        );
        assert_eq!(
            explain_logs(&api(429, "E0000047", "API call exceeded rate limit")).problem,
            "rate limited"
        );
        assert_eq!(
            explain_logs(&api(503, "E0000009", "Internal Server Error")).problem,
            "Okta server error"
        );
        assert_eq!(
            explain_logs(&api(400, "E0000001", "Api validation failed")).problem,
            "unexpected answer"
        );
    }

    fn oauth(status: u16, error: &str, description: &str) -> Error {
        let mut body = ErrorBody::default();
        body.extra.insert("error".into(), error.into());
        body.extra
            .insert("error_description".into(), description.into());
        Error {
            status: Some(status),
            body: Some(Box::new(body)),
            ..Error::new(
                ErrorKind::Api,
                format!("POST /oauth2/v1/token: HTTP {status}: {error}"),
            )
        }
    }

    fn token(status: u16, error: &str, description: &str) -> Diagnosis {
        explain_token_error(&oauth(status, error, description))
    }

    #[test]
    fn oauth_failures_name_the_cause_and_the_fix() {
        let d = token(
            400,
            "invalid_dpop_proof",
            "The DPoP proof JWT header is missing.",
        );
        assert_eq!(d.problem, "the app requires DPoP");
        assert!(d.fix.contains("--dpop auto or --dpop on"), "{}", d.fix);

        for skew in [
            "The client_assertion token is expired.",
            "The client_assertion token must be issued before the current time.",
            "The client_assertion token has an expiration too far into the future.",
        ] {
            let d = token(401, "invalid_client", skew);
            assert_eq!(d.problem, "clock skew", "{skew}");
            assert!(d.fix.contains("this machine's clock"), "{}", d.fix);
        }
        let d = token(
            401,
            "invalid_client",
            "The client_assertion signature is invalid.",
        );
        assert_eq!(d.problem, "key not registered with the app");
        assert!(
            d.fix.contains("connections show NAME --public-key"),
            "{}",
            d.fix
        );
        let d = token(
            401,
            "invalid_client",
            "The client_assertion JWT kid is invalid.",
        );
        assert!(d.fix.contains("no key has the key ID"), "{}", d.fix);
        let d = token(
            401,
            "invalid_client",
            "The client secret supplied for a confidential client is invalid.",
        );
        assert_eq!(d.problem, "wrong client secret");
        let d = token(
            401,
            "invalid_client",
            "Invalid value for 'client_id' parameter.",
        );
        assert_eq!(d.problem, "unknown client ID");
        assert!(d.fix.contains("General tab"), "{}", d.fix);

        let d = token(
            400,
            "invalid_scope",
            "The following scopes are not granted: okta.logs.read.",
        );
        assert_eq!(d.problem, "scope not granted");
        assert!(
            d.fix.contains("grant okta.logs.read") && d.fix.contains("Okta API Scopes tab"),
            "{}",
            d.fix
        );
        let d = token(
            400,
            "invalid_grant",
            "The 'redirect_uri' does not match the redirection URI used in the authorization request.",
        );
        assert_eq!(d.problem, "redirect URI mismatch");
        let d = token(
            400,
            "invalid_grant",
            "The refresh token is invalid or expired.",
        );
        assert!(d.fix.contains("connections login NAME"), "{}", d.fix);
        let d = token(
            400,
            "unauthorized_client",
            "The client is not authorized to use the provided grant type.",
        );
        assert_eq!(d.problem, "grant type not allowed");
    }

    #[test]
    fn oauth_refusals_on_calls() {
        let d = explain_oauth(
            Some(Check::UserSchema),
            &oauth(
                403,
                "insufficient_scope",
                "The access token provided does not contain the required scopes.",
            ),
        )
        .unwrap();
        assert_eq!(d.problem, "missing scope");
        assert!(
            d.fix.contains("lacks okta.schemas.read") && d.fix.contains("Okta API Scopes tab"),
            "{}",
            d.fix
        );

        let e = api(
            403,
            "E0000006",
            "You do not have permission to perform the requested action",
        );
        let d = explain_oauth(Some(Check::SystemLog), &e).unwrap();
        assert_eq!(d.problem, "no admin role");
        assert!(
            d.fix.contains("Read-only Administrator") && d.fix.contains("Admin roles tab"),
            "{}",
            d.fix
        );

        let transport = Error::new(ErrorKind::Connect, "the connection was refused (127.0.0.1)");
        assert!(
            explain_oauth(Some(Check::SystemLog), &transport).is_none(),
            "left to explain()"
        );
        assert_eq!(
            explain_token_error(&transport).problem,
            "token request failed"
        );
    }
}
