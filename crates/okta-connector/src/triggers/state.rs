//! Trigger state.
