//! Event categories.
