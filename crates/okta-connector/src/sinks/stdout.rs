//! The stdout sink: one NDJSON envelope per line.
