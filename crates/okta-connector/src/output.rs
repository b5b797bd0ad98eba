//! Output formats. Filled in by the actions work.
