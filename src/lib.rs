//! open-notebook library root.

pub mod net;
