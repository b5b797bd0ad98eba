//! The loopback end of `connections login`: wait for the browser to come back from Okta to the
//! redirect URI, take the code from the first request on the redirect path, answer the browser with a
//! short page, and hand the code (or the reason there is none) back.
//!
//! The first request on the redirect path decides: a wrong `state` or an error from Okta ends the
//! login (a second try would need a new authorize URL anyway). Other paths (a browser's
//! `/favicon.ico`) get a 404 and are otherwise ignored.

use std::fmt;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use url::Url;

/// Why a callback carries no usable code. `Display` is for the user: what happened and what to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallbackError {
    /// The `state` differs from this login's: another login's tab, or a forged request.
    StateMismatch,
    /// Okta sent the browser back with `error=...` (and usually `error_description=...`).
    Okta { error: String, description: String },
    /// Neither a code nor an error.
    NoCode,
}

impl fmt::Display for CallbackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CallbackError::StateMismatch => f.write_str(
                "the callback's state does not match this login (a tab from an earlier login, or a \
                 request this login did not start): nothing was stored; run `connections login` again \
                 and use the URL it prints",
            ),
            CallbackError::Okta { error, description } => {
                let said = if description.is_empty() {
                    format!("Okta answered {error}")
                } else {
                    format!("Okta answered {error}: {description}")
                };
                let fix = match error.as_str() {
                    "access_denied" => {
                        "the sign-in was refused or cancelled: sign in as a user assigned to the app \
                         (the app's Assignments tab) and accept the consent screen"
                    }
                    "invalid_scope" => {
                        "a requested scope is not granted to the app: grant it on the app's Okta API \
                         Scopes tab, or remove it from the connection's --scopes"
                    }
                    "unauthorized_client" => {
                        "the app may not use the authorization code flow: enable the Authorization Code \
                         grant type in the app's General settings"
                    }
                    "invalid_request" if description.contains("redirect") => {
                        "register the connection's redirect URI as a Sign-in redirect URI of the app \
                         (General tab), exactly as the connection has it"
                    }
                    _ => "check the app's settings in the Admin Console, then run `connections login` again",
                };
                write!(f, "{said}. Fix: {fix}")
            }
            CallbackError::NoCode => f.write_str(
                "the browser came back without an authorization code: run `connections login` again",
            ),
        }
    }
}

impl std::error::Error for CallbackError {}

/// What a callback's query says: the code, or why there is none. Pure.
pub fn evaluate(query: &Url, expected_state: &str) -> Result<String, CallbackError> {
    let param = |name: &str| {
        query
            .query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    // Okta's errors come back with the state too; a foreign state is refused before anything else.
    if param("state").as_deref() != Some(expected_state) {
        return Err(CallbackError::StateMismatch);
    }
    if let Some(error) = param("error") {
        return Err(CallbackError::Okta {
            error,
            description: param("error_description").unwrap_or_default(),
        });
    }
    param("code")
        .filter(|c| !c.is_empty())
        .ok_or(CallbackError::NoCode)
}

/// Waits for the callback on `listener`: the code, or why there is none. Requests on other paths
/// than `redirect`'s get a 404.
pub async fn receive(
    listener: &TcpListener,
    redirect: &Url,
    expected_state: &str,
) -> anyhow::Result<Result<String, CallbackError>> {
    loop {
        let (mut stream, _) = listener.accept().await?;
        let Some(target) = read_target(&mut stream).await else {
            continue;
        };
        let Ok(url) = redirect.join(&target) else {
            respond(&mut stream, "400 Bad Request", "Bad request", "").await;
            continue;
        };
        if url.path() != redirect.path() {
            respond(&mut stream, "404 Not Found", "Not found", "").await;
            continue;
        }
        let outcome = evaluate(&url, expected_state);
        match &outcome {
            Ok(_) => {
                respond(
                    &mut stream,
                    "200 OK",
                    "Signed in",
                    "okta-connector received the sign-in. You can close this tab and return to the terminal.",
                )
                .await
            }
            Err(e) => {
                respond(
                    &mut stream,
                    "400 Bad Request",
                    "Sign-in failed",
                    &format!("{e}. The terminal has the details."),
                )
                .await
            }
        }
        return Ok(outcome);
    }
}

/// The request target of a `GET` (the first line of the request head), or `None` for anything else.
async fn read_target(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    // The head of a browser's GET is well under 8 KiB; a longer one is not a callback.
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 8192 {
        let n = stream.read(&mut buf).await.ok()?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&head);
    let mut parts = head.lines().next()?.split(' ');
    match (parts.next(), parts.next()) {
        (Some("GET"), Some(target)) => Some(target.to_string()),
        _ => None,
    }
}

async fn respond(stream: &mut TcpStream, status: &str, title: &str, text: &str) {
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body style=\"font-family:sans-serif;margin:3em\"><h1>{title}</h1><p>{}</p></body></html>",
        html_escape(text)
    );
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/html; charset=utf-8\r\ncontent-length: {}\r\n\
         cache-control: no-store\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    // The browser may already be gone; the outcome is the terminal's to report.
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
}

fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(query: &str) -> Url {
        Url::parse(&format!("http://127.0.0.1:8765/callback?{query}")).unwrap()
    }

    #[test]
    fn a_code_with_the_right_state_is_taken() {
        assert_eq!(evaluate(&at("code=abc&state=s1"), "s1"), Ok("abc".into()));
    }

    #[test]
    fn a_wrong_or_missing_state_is_refused_first() {
        assert_eq!(
            evaluate(&at("code=abc&state=other"), "s1"),
            Err(CallbackError::StateMismatch)
        );
        assert_eq!(
            evaluate(&at("error=access_denied"), "s1"),
            Err(CallbackError::StateMismatch)
        );
        assert!(
            CallbackError::StateMismatch
                .to_string()
                .contains("nothing was stored")
        );
    }

    #[test]
    fn okta_errors_are_explained() {
        let e = evaluate(
            &at("state=s1&error=access_denied&error_description=User+is+not+assigned+to+the+client+application."),
            "s1",
        )
        .unwrap_err();
        let text = e.to_string();
        assert!(text.contains("User is not assigned"), "{text}");
        assert!(text.contains("Assignments tab"), "{text}");
        let e = evaluate(&at("state=s1&error=invalid_scope"), "s1").unwrap_err();
        assert!(e.to_string().contains("Okta API Scopes tab"), "{e}");
        assert_eq!(evaluate(&at("state=s1"), "s1"), Err(CallbackError::NoCode));
    }

    #[tokio::test]
    async fn the_listener_answers_the_browser_and_ignores_other_paths() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let redirect = Url::parse(&format!("http://127.0.0.1:{port}/callback")).unwrap();
        let browser = tokio::spawn(async move {
            let get = |path: String| async move {
                let mut s = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
                s.write_all(format!("GET {path} HTTP/1.1\r\nhost: x\r\n\r\n").as_bytes())
                    .await
                    .unwrap();
                let mut out = String::new();
                s.read_to_string(&mut out).await.unwrap();
                out
            };
            let favicon = get("/favicon.ico".into()).await;
            let callback = get("/callback?code=c0de&state=st".into()).await;
            (favicon, callback)
        });
        let got = receive(&listener, &redirect, "st").await.unwrap();
        assert_eq!(got, Ok("c0de".to_string()));
        let (favicon, callback) = browser.await.unwrap();
        assert!(favicon.starts_with("HTTP/1.1 404"), "{favicon}");
        assert!(
            callback.starts_with("HTTP/1.1 200") && callback.contains("close this tab"),
            "{callback}"
        );
    }
}
