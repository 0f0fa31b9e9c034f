//! One integration-test binary (fast to link) over the real server: each module covers one
//! area of the product through HTTP or the command line.

mod auth;
mod config;
mod harness;
mod notebooks;
mod sources;
