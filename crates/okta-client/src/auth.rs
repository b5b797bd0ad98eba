//! How a request proves who it is. API tokens (SSWS) today; the OAuth grants and DPoP join here.

use crate::secret::SecretString;

#[derive(Clone, Debug)]
pub enum Auth {
    /// `Authorization: SSWS <token>`.
    ApiToken(SecretString),
}

impl Auth {
    /// The `Authorization` header value for a request.
    pub fn authorization(&self) -> SecretString {
        match self {
            Auth::ApiToken(token) => SecretString::new(format!("SSWS {}", token.expose())),
        }
    }

    /// A short name for messages: never the secret.
    pub fn kind(&self) -> &'static str {
        match self {
            Auth::ApiToken(_) => "API token",
        }
    }
}
