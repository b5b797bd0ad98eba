//! Tests of the simulator: limits.
