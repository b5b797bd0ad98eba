//! Tests of the simulator: meta.
