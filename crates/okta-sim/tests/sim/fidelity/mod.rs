//! Fidelity of the simulator against Okta's official OpenAPI spec and recorded real traffic.

mod cassettes;
mod openapi;
