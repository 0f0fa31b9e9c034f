//! Ingestion: turning uploads, links and pasted text into searchable text.
//!
//! This layer owns everything between "the client sent something" and "the store holds its
//! text": the pure extractors ([`extract`]), safe storage of uploaded files ([`uploads`]),
//! and the job runner that processes queued sources ([`process`]). The HTTP handlers call
//! into it; it never touches HTTP types.

pub mod extract;
pub mod process;
pub mod sandbox;
pub mod uploads;
