//! Tests of the simulator: groups.
