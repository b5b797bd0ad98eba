//! Integration tests of the simulator, driven over HTTP on loopback as a user's program would.
//! One test binary for the crate (fast builds); one module per area.

mod support;

mod apps;
mod fidelity;
mod groups;
mod limits;
mod logs;
mod meta;
mod sdk;
mod users;
