//! The action registry. Filled in by the actions work.
