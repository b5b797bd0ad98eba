//! okta-client's one integration-test binary, one module per area.

mod common;
mod governor;
mod origin;
mod replay;
mod sim;
