//! The live side of [`super::Auth`]: token cache, DPoP nonce, Okta's clock.
