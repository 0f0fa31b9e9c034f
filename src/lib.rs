//! open-notebook: a self-hosted, private notebook for research documents in one binary.
//!
//! The library holds everything so the binary, the benchmarks, the fuzz targets and the
//! integration tests all run the same code. Layers, from the outside in: `cli` parses
//! commands, `config` resolves settings and secrets, `http` serves the API, `auth` guards it,
//! `ingest` turns uploads and links into text, `net` fetches links under the URL-safety
//! rules, `search` indexes text and `store` keeps everything in redb.
//! `keys` decides how stored AI-provider keys are encrypted; `providers` lists the providers.

pub mod assets;
pub mod audit;
pub mod auth;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod http;
pub mod ingest;
pub mod keys;
pub mod net;
pub mod providers;
pub mod search;
pub mod store;
