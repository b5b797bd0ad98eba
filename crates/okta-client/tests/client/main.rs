//! okta-client's one integration-test binary, one module per area.

mod common;
mod replay;
mod sim;
