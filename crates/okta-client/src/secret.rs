//! Secrets whose `Debug` and `Display` never show the value.

use std::fmt;

/// An API token, client secret, private key or access token. The only way to read it is
/// [`SecretString::expose`], so every place that uses the value is easy to find.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    pub fn new(value: impl Into<String>) -> Self {
        SecretString(value.into())
    }

    /// The secret itself: for the request header or the encrypted store, nowhere else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl From<String> for SecretString {
    fn from(value: String) -> Self {
        SecretString(value)
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(<redacted>)")
    }
}

impl fmt::Display for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_redact() {
        let s = SecretString::new("00abcSECRET");
        assert!(!format!("{s:?}").contains("SECRET"));
        assert!(!format!("{s}").contains("SECRET"));
        assert_eq!(s.expose(), "00abcSECRET");
    }
}
