//! Rate-limit pacing from the `X-Rate-Limit-*` headers. Filled in by the client-core work.
