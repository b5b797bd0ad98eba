//! Integration tests of the simulator, driven over HTTP on loopback as a user's program would.
//! One test binary for the crate (fast builds); one module per area.

mod jose;
mod support;

mod apps;
mod event_hooks;
mod fidelity;
mod groups;
mod limits;
mod logs;
mod meta;
mod oauth;
mod sdk;
mod users;
