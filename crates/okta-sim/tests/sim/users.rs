//! Tests of the simulator: users.
