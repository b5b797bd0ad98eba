//! Tests of the simulator: logs.
