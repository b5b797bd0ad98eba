//! A typed async client for the Core Okta API v1.
//!
//! * [`Client`] sends requests through a [`Transport`] (reqwest with rustls by default; anything else in
//!   tests) with the connection's [`Auth`], paced by a rate-limit [`governor`] and retried by a pure
//!   [`retry`] policy.
//! * Lists are [`Stream`](futures_core::Stream)s that fetch one page at a time by following `Link`
//!   headers ([`page`]); the System Log's polling mode ends a poll on the first empty page and hands
//!   back the cursor to resume from.
//! * [`models`] type the fields a program uses and keep everything else in a catch-all map, so a round
//!   trip loses nothing; [`api`] has one module per resource family.
//! * Every failure is one [`Error`]: HTTP status, Okta's error body, the request id, and whether it is
//!   worth retrying.
//!
//! ```no_run
//! use futures_util::TryStreamExt;
//! use okta_client::{Auth, Client, ClientConfig, SecretString};
//!
//! # async fn example(token: String) -> Result<(), Box<dyn std::error::Error>> {
//! let config = ClientConfig::new("https://acme.okta.com".parse()?, Auth::ApiToken(SecretString::new(token)));
//! let client = Client::new(config)?;
//! let mut users = client.users().list().search(r#"profile.department eq "Sales""#).stream();
//! while let Some(user) = users.try_next().await? {
//!     println!("{} {:?} {:?}", user.id, user.status, user.profile.custom_str("employeeId"));
//! }
//! let alice = client.users().get("alice@acme.com").await?;
//! let mut events = client
//!     .logs()
//!     .search()
//!     .since("2026-11-28T00:00:00Z")
//!     .filter(r#"eventType eq "user.session.start""#)
//!     .stream();
//! while let Some(event) = events.try_next().await? {
//!     println!("{:?} {} {}", event.published(), event.event_type, alice.id);
//! }
//! # Ok(())
//! # }
//! ```

pub mod api;
pub mod auth;
pub mod client;
pub mod clock;
pub mod error;
pub mod governor;
pub mod models;
pub mod observer;
pub mod page;
pub mod retry;
pub mod secret;
pub mod transport;

pub use auth::{
    Auth, AuthStatus, AuthorizationCode, ClientCredentials, DpopMode, KeyError, Pkce, PrivateKey,
    RefreshTokenStore,
};
pub use client::{Client, ClientConfig, Query};
pub use clock::{Clock, ManualClock, TokioClock};
pub use error::{Error, ErrorBody, ErrorCause, ErrorKind};
pub use governor::GovernorConfig;
pub use observer::Observer;
pub use page::{LogPoll, LogStart, Page, Pages};
pub use retry::RetryPolicy;
pub use secret::SecretString;
pub use transport::{HttpTransport, Transport};
