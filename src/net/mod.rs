//! Outbound HTTP for links and AI-provider endpoints, under the upstream URL-safety rules.
//!
//! This module owns every request the server makes to a URL a user supplied: source links
//! ([`fetch`]), provider model lists ([`get_json`]) and the checks for URLs that are only stored
//! ([`validate_url`], [`validate_url_resolved`]). It leaves content extraction to `ingest` and
//! the mapping of [`FetchError`] to an HTTP answer to the caller ([`FetchError::status_hint`]).
//!
//! Invariant: no byte leaves the process towards an address that `url_safety` has not approved
//! for that very hop, and the connection goes to exactly the approved address. Private ranges and
//! loopback are allowed on purpose (self-hosting); link-local and metadata addresses never are.

mod client;
mod error;
mod resolve;
mod url_safety;

#[cfg(test)]
mod tests;

use std::sync::OnceLock;
use std::time::Duration;

pub use client::{Connect, Fetcher, TcpConnector};
pub use error::FetchError;
pub use resolve::{Resolve, SystemResolver};
pub use url_safety::{UrlError, is_forbidden_ip, validate_url};

/// Bounds on one fetch, redirects included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchLimits {
    /// Time for the whole exchange: resolution, connections, redirects and the body.
    pub timeout: Duration,
    /// Largest body accepted; reading stops as soon as it is exceeded.
    pub max_bytes: usize,
    /// How many redirects are followed before giving up.
    pub max_redirects: usize,
}

impl Default for FetchLimits {
    /// 30 seconds, 50 MiB and 10 redirects.
    fn default() -> Self {
        Self { timeout: Duration::from_secs(30), max_bytes: 50 << 20, max_redirects: 10 }
    }
}

/// A successfully fetched document.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The URL the body came from after redirects, without any user name or password.
    pub final_url: String,
    /// The `Content-Type` header as sent, when it was valid text.
    pub content_type: Option<String>,
    /// The body, exactly as received (no content decoding is requested or applied).
    pub body: bytes::Bytes,
}

/// Fetches `raw` with GET under `limits`, following redirects that pass the safety rules.
///
/// Every hop is validated and its host's addresses vetted before connecting; a non-2xx final
/// status is an error ([`FetchError::Status`]).
pub async fn fetch(raw: &str, limits: &FetchLimits) -> Result<Fetched, FetchError> {
    shared().fetch(raw, limits).await
}

/// GETs `url` and parses the answer as JSON, sending `Authorization: Bearer <bearer>` if given.
///
/// Meant for OpenAI-compatible `/v1/models` calls. Any status is returned with its body; a
/// non-2xx answer that is not JSON comes back as `Value::Null`, a 2xx one is
/// [`FetchError::NotJson`]. The token is sent only to the origin of `url`, never after a
/// redirect to another origin.
pub async fn get_json(
    url: &str,
    bearer: Option<&str>,
    limits: &FetchLimits,
) -> Result<(u16, serde_json::Value), FetchError> {
    shared().get_json(url, bearer, limits).await
}

/// [`validate_url`], then refuses a host name that resolves to a link-local or metadata address.
///
/// For URLs that are stored rather than fetched now (credential base URLs). As upstream, a name
/// that does not resolve at all is accepted; the fetch will vet it again when it happens.
pub async fn validate_url_resolved(raw: &str) -> Result<url::Url, UrlError> {
    shared().validate_resolved(raw).await
}

fn shared() -> &'static Fetcher {
    static FETCHER: OnceLock<Fetcher> = OnceLock::new();
    FETCHER.get_or_init(Fetcher::new)
}
