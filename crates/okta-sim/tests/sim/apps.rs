//! Tests of the simulator: apps.
