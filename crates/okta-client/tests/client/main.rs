//! okta-client's one integration-test binary, one module per area.

mod api;
mod common;
mod fixtures;
mod governor;
mod oauth;
mod observer;
mod origin;
mod replay;
mod sim;
