//! open-notebook library root.

pub mod crypto;
