//! One integration-test binary (fast to link) over the real server: each module covers one
//! area of the product through HTTP or the command line.

mod auth;
mod config;
mod content;
mod harness;
mod lifecycle;
mod listing;
mod notebooks;
mod notes;
mod processing;
mod sources;
