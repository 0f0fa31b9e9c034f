//! open-notebook library root.

pub mod ingest;
