//! open-notebook library root.
