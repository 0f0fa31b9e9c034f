//! The error a fetch ends with, worded for the person who submitted the link.
//!
//! This module owns [`FetchError`] and its split into "your URL is not allowed" (400) and "the
//! remote side failed" (502). It leaves logging to the caller, which may log the `source()` chain.
//!
//! Invariant: no `Display` text contains a bearer token, a header value, or any part of a URL
//! other than a host name; the only URL text shown is a host, which carries no secrets.

use std::io;

use http::StatusCode;

use super::url_safety::UrlError;

/// Why a fetch failed; `Display` is a sentence fit to show the user.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The URL given (or a name it resolves to) is not allowed; nothing was connected to.
    #[error("{0}")]
    Unsafe(#[from] UrlError),
    /// A redirect pointed at a URL that is not allowed; the redirect was not followed.
    #[error("The link redirected to an address that is not allowed. {0}")]
    RedirectRefused(UrlError),
    /// More redirects than the limit allows.
    #[error("The link redirected more than {0} times.")]
    TooManyRedirects(usize),
    /// A redirect status came without a usable `Location` header.
    #[error("The server sent a redirect without a usable location.")]
    BadRedirect,
    /// The host name could not be resolved.
    #[error("The host name '{host}' could not be resolved.")]
    Resolve {
        /// The host name, as normalised by the URL parser.
        host: String,
        /// The resolver's error, for logs.
        #[source]
        source: io::Error,
    },
    /// No connection could be made to any of the host's addresses.
    #[error("Could not connect to the server.")]
    Connect(#[source] io::Error),
    /// The TLS handshake failed (bad certificate, unsupported protocol, ...).
    #[error("The secure connection to the server could not be established.")]
    Tls(#[source] io::Error),
    /// The server's answer broke the HTTP protocol or the connection dropped.
    #[error("The server's answer could not be read.")]
    Protocol(#[source] hyper::Error),
    /// The whole exchange took longer than the time limit.
    #[error("The server did not answer within the time limit ({0} s).")]
    Timeout(u64),
    /// The body is larger than the size limit; reading stopped at the limit.
    #[error("The server's answer is larger than the limit of {0} bytes.")]
    TooLarge(usize),
    /// The final answer had a non-success status (for [`super::fetch`] only).
    #[error("The server answered with HTTP status {0}.")]
    Status(u16),
    /// A successful answer to [`super::get_json`] was not valid JSON.
    #[error("The server's answer is not valid JSON.")]
    NotJson(#[source] serde_json::Error),
    /// The URL's path or query holds characters an HTTP request line cannot carry.
    #[error("The link cannot be sent as an HTTP request.")]
    UnsendableUrl,
    /// The bearer token holds characters an HTTP header cannot carry.
    #[error("The API key contains characters that cannot be sent in an HTTP header.")]
    BadCredential,
}

impl FetchError {
    /// The HTTP status an API handler should answer with for this error.
    ///
    /// `400 Bad Request` when the submitted URL is at fault (unsafe or invalid, including an
    /// unsafe redirect target, or an unusable API key), `502 Bad Gateway` for every failure on the
    /// remote side, timeouts included.
    pub fn status_hint(&self) -> StatusCode {
        match self {
            Self::Unsafe(_)
            | Self::RedirectRefused(_)
            | Self::UnsendableUrl
            | Self::BadCredential => StatusCode::BAD_REQUEST,
            _ => StatusCode::BAD_GATEWAY,
        }
    }
}
