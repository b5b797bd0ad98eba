//! DPoP proofs (RFC 9449) as Okta checks them (FACTS.md §8).
