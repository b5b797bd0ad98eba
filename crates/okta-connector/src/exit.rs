//! Exit codes, documented in `okta-connector --help` and the README:
//!
//! | code | meaning |
//! |---|---|
//! | 0 | success |
//! | 1 | an unexpected failure (a bug, a full disk) |
//! | 2 | bad usage or input: a flag, the action input, a filter refused before any call |
//! | 3 | no usable connection: none configured, unknown name, bad domain, store or key problem |
//! | 4 | Okta refused the request (4xx: bad or expired token, missing permission, not found, invalid) |
//! | 5 | Okta could not be reached or failed: DNS, TLS, timeout, refused connection, 5xx, rate limits |

use okta_client::ErrorKind;
use okta_connector::actions::ActionError;

pub const USAGE: u8 = 2;
pub const CONNECTION: u8 = 3;
pub const REFUSED: u8 = 4;
pub const UNREACHABLE: u8 = 5;

/// An error that carries its exit code.
#[derive(Debug)]
pub struct Exit {
    pub code: u8,
    pub error: anyhow::Error,
}

impl Exit {
    pub fn error(code: u8, error: impl Into<anyhow::Error>) -> anyhow::Error {
        anyhow::Error::new(Exit {
            code,
            error: error.into(),
        })
    }
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.error)
    }
}

impl std::error::Error for Exit {}

/// The exit code for an error: its own when it has one, else from the first known error in its chain.
pub fn code(error: &anyhow::Error) -> u8 {
    for cause in error.chain() {
        if let Some(exit) = cause.downcast_ref::<Exit>() {
            return exit.code;
        }
        if let Some(e) = cause.downcast_ref::<ActionError>() {
            return match e {
                ActionError::Input(_) => USAGE,
                ActionError::Okta(e) => okta_code(e),
                // Okta would have refused it (4); the check only spared the request.
                ActionError::State(_) => REFUSED,
            };
        }
        if let Some(e) = cause.downcast_ref::<okta_client::Error>() {
            return okta_code(e);
        }
    }
    1
}

/// The exit code for an error from Okta or the way to it.
pub fn okta_code(e: &okta_client::Error) -> u8 {
    match e.kind {
        ErrorKind::Invalid => USAGE,
        ErrorKind::Api
            if e.status
                .is_some_and(|s| (400..500).contains(&s) && s != 429) =>
        {
            REFUSED
        }
        _ => UNREACHABLE,
    }
}

/// Whether the error is a write to a closed pipe.
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
