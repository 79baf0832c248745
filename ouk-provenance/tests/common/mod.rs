//! Helpers shared by the integration tests and the `peak_rss` example.
pub mod gen;
