//! One integration-test binary (fast to link) over the real server: each module covers one
//! area of the product through HTTP or the command line, sharing one harness.

mod auth;
mod config;
mod content;
#[allow(dead_code, reason = "each test module uses only part of the shared harness")]
mod harness;
mod keys;
mod lifecycle;
mod listing;
mod notebooks;
mod notes;
mod processing;
mod sources;
