//! Ingestion: turning uploaded bytes into searchable text.
//!
//! This layer owns everything between "the client sent a file" and "the store
//! holds its text". For now it holds only the pure extractors; the job queue
//! and the HTTP glue live elsewhere and call into [`extract`].

pub mod extract;
