//! Tests of the simulator: fidelity.
