//! The integration tests: one binary over one shared harness.

#[allow(dead_code, reason = "each test module uses only part of the shared harness")]
mod harness;
mod keys;
