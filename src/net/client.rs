//! The outbound HTTP client: one GET, its redirects, and the limits around them.
//!
//! This module owns the request loop of [`Fetcher`]: vet the URL, resolve and vet its addresses,
//! connect to one of exactly those addresses (TLS via rustls where the scheme asks for it), send
//! one HTTP/1.1 GET, then either follow a redirect (back to the start with the new URL) or read
//! the body under the size cap. The rules themselves live in `url_safety`, name resolution in
//! `resolve`; connecting is behind the [`Connect`] trait so tests can watch every attempt.
//!
//! Invariants: a connection is opened only after `vetted_addrs` approved its address, for every
//! hop; the body is counted while it streams in and reading stops at the cap; the whole exchange,
//! redirects included, runs under one timeout; a bearer token is sent only to the origin it was
//! given for, never to a host a redirect points at.

use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use bytes::{Bytes, BytesMut};
use http::header::{ACCEPT, AUTHORIZATION, CONNECTION, CONTENT_LENGTH, CONTENT_TYPE, HOST};
use http::header::{LOCATION, USER_AGENT};
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio_rustls::TlsConnector;
use url::{Host, Position, Url};

use super::error::FetchError;
use super::resolve::{Resolve, ResolveError, SystemResolver, vetted_addrs};
use super::url_safety::{UrlError, check_parsed, validate_url};
use super::{FetchLimits, Fetched};

const USER_AGENT_VALUE: &str = concat!("open-notebook/", env!("CARGO_PKG_VERSION"));
const ACCEPT_PAGE: &str = "text/html,application/xhtml+xml,application/pdf;q=0.9,*/*;q=0.8";
const ACCEPT_JSON: &str = "application/json";

/// Opens TCP connections; substitute one in tests to record or forbid connection attempts.
pub trait Connect: Send + Sync {
    /// Connects to exactly `addr`; implementations must not resolve or rewrite it.
    fn connect(&self, addr: SocketAddr) -> impl Future<Output = io::Result<TcpStream>> + Send;
}

/// The production connector: a plain `TcpStream::connect` to the given address.
#[derive(Debug, Default, Clone, Copy)]
pub struct TcpConnector;

impl Connect for TcpConnector {
    async fn connect(&self, addr: SocketAddr) -> io::Result<TcpStream> {
        TcpStream::connect(addr).await
    }
}

/// An HTTP client that only talks to addresses the URL-safety rules allow.
///
/// The free functions [`super::fetch`] and [`super::get_json`] use a shared
/// `Fetcher<SystemResolver, TcpConnector>`; build one with [`Fetcher::with_parts`] to substitute
/// the resolver or the connector.
pub struct Fetcher<R = SystemResolver, C = TcpConnector> {
    resolver: R,
    connector: C,
    tls: TlsConnector,
}

impl Fetcher {
    /// A fetcher with the system resolver, plain TCP and the Mozilla root certificates.
    pub fn new() -> Self {
        Self::with_parts(SystemResolver::new(), TcpConnector)
    }
}

impl Default for Fetcher {
    fn default() -> Self {
        Self::new()
    }
}

/// What one finished exchange produced, before the caller decides what a status means.
struct Reply {
    final_url: Url,
    status: StatusCode,
    content_type: Option<String>,
    body: Bytes,
}

/// A response whose connection task is aborted when the response is dropped.
struct Exchange {
    response: Response<Incoming>,
    _conn: AbortOnDrop,
}

struct AbortOnDrop(JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<R: Resolve, C: Connect> Fetcher<R, C> {
    /// A fetcher resolving names with `resolver` and opening connections with `connector`.
    pub fn with_parts(resolver: R, connector: C) -> Self {
        Self { resolver, connector, tls: tls_connector() }
    }

    /// Fetches `raw` with GET, following safe redirects; see [`super::fetch`].
    pub async fn fetch(&self, raw: &str, limits: &FetchLimits) -> Result<Fetched, FetchError> {
        let reply = self.exchange(raw, None, ACCEPT_PAGE, limits).await?;
        if !reply.status.is_success() {
            return Err(FetchError::Status(reply.status.as_u16()));
        }
        let final_url = reply.final_url.to_string();
        Ok(Fetched { final_url, content_type: reply.content_type, body: reply.body })
    }

    /// GETs a JSON document, optionally with a bearer token; see [`super::get_json`].
    pub async fn get_json(
        &self,
        url: &str,
        bearer: Option<&str>,
        limits: &FetchLimits,
    ) -> Result<(u16, serde_json::Value), FetchError> {
        let reply = self.exchange(url, bearer, ACCEPT_JSON, limits).await?;
        let status = reply.status.as_u16();
        match serde_json::from_slice(&reply.body) {
            Ok(value) => Ok((status, value)),
            Err(_) if !reply.status.is_success() => Ok((status, serde_json::Value::Null)),
            Err(err) => Err(FetchError::NotJson(err)),
        }
    }

    /// Validates `raw` and, when its host is a name, refuses it if the name resolves to a
    /// forbidden address; see [`super::validate_url_resolved`].
    pub async fn validate_resolved(&self, raw: &str) -> Result<Url, UrlError> {
        let url = validate_url(raw)?;
        match vetted_addrs(&self.resolver, &url).await {
            Ok(_) | Err(ResolveError::Failed { .. }) => Ok(url),
            Err(ResolveError::Unsafe(err)) => Err(err),
        }
    }

    async fn exchange(
        &self,
        raw: &str,
        bearer: Option<&str>,
        accept: &'static str,
        limits: &FetchLimits,
    ) -> Result<Reply, FetchError> {
        let url = validate_url(raw)?;
        let work = self.follow(url, bearer, accept, limits);
        match tokio::time::timeout(limits.timeout, work).await {
            Ok(result) => result,
            Err(_) => Err(FetchError::Timeout(limits.timeout.as_millis().div_ceil(1000) as u64)),
        }
    }

    async fn follow(
        &self,
        mut url: Url,
        bearer: Option<&str>,
        accept: &'static str,
        limits: &FetchLimits,
    ) -> Result<Reply, FetchError> {
        let origin = url.origin();
        for hop in 0..=limits.max_redirects {
            let token = bearer.filter(|_| url.origin() == origin);
            let exchange = self.send(&url, token, accept, hop > 0).await?;
            match redirect_target(&url, exchange.response.status(), exchange.response.headers())? {
                Some(next) => url = next,
                None => return read_reply(url, exchange, limits.max_bytes).await,
            }
        }
        Err(FetchError::TooManyRedirects(limits.max_redirects))
    }

    async fn send(
        &self,
        url: &Url,
        bearer: Option<&str>,
        accept: &'static str,
        is_redirect: bool,
    ) -> Result<Exchange, FetchError> {
        let request = build_request(url, bearer, accept)?;
        let addrs = vetted_addrs(&self.resolver, url).await.map_err(|err| match err {
            ResolveError::Unsafe(e) if is_redirect => FetchError::RedirectRefused(e),
            ResolveError::Unsafe(e) => FetchError::Unsafe(e),
            ResolveError::Failed { host, source } => FetchError::Resolve { host, source },
        })?;
        let port = url.port_or_known_default().unwrap_or(80);
        let tcp = self.connect_first(&addrs, port).await?;
        if url.scheme() == "https" {
            let tls = self.tls.connect(server_name(url)?, tcp).await.map_err(FetchError::Tls)?;
            send_on(tls, request).await
        } else {
            send_on(tcp, request).await
        }
    }

    // Tries the vetted addresses in the resolver's order; the first that accepts wins.
    async fn connect_first(&self, addrs: &[IpAddr], port: u16) -> Result<TcpStream, FetchError> {
        let mut last_error = None;
        for ip in addrs {
            match self.connector.connect(SocketAddr::new(*ip, port)).await {
                Ok(stream) => return Ok(stream),
                Err(err) => last_error = Some(err),
            }
        }
        Err(FetchError::Connect(last_error.unwrap_or_else(|| io::Error::other("no address"))))
    }
}

fn tls_connector() -> TlsConnector {
    let roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("the ring provider supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    // The client speaks HTTP/1.1 only, so it must not let the server pick h2.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    TlsConnector::from(Arc::new(config))
}

fn server_name(url: &Url) -> Result<ServerName<'static>, FetchError> {
    match url.host() {
        Some(Host::Domain(name)) => ServerName::try_from(name.to_owned())
            .map_err(|err| FetchError::Tls(io::Error::new(io::ErrorKind::InvalidInput, err))),
        Some(Host::Ipv4(ip)) => Ok(ServerName::from(IpAddr::V4(ip))),
        Some(Host::Ipv6(ip)) => Ok(ServerName::from(IpAddr::V6(ip))),
        None => Err(FetchError::Unsafe(UrlError::NoHost)),
    }
}

// The userinfo of the URL is deliberately not sent: links carrying passwords are not a use case,
// and a password must not travel to a host that a redirect chose.
fn build_request(
    url: &Url,
    bearer: Option<&str>,
    accept: &'static str,
) -> Result<Request<Empty<Bytes>>, FetchError> {
    let host = url.host_str().ok_or(UrlError::NoHost)?;
    let host = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    let mut builder = Request::get(&url[Position::BeforePath..Position::AfterQuery])
        .header(HOST, host)
        .header(USER_AGENT, USER_AGENT_VALUE)
        .header(ACCEPT, accept)
        .header(CONNECTION, "close");
    if let Some(token) = bearer {
        let mut value = HeaderValue::try_from(format!("Bearer {token}"))
            .map_err(|_| FetchError::BadCredential)?;
        value.set_sensitive(true);
        builder = builder.header(AUTHORIZATION, value);
    }
    builder.body(Empty::new()).map_err(|_| FetchError::UnsendableUrl)
}

async fn send_on<T>(io: T, request: Request<Empty<Bytes>>) -> Result<Exchange, FetchError>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(FetchError::Protocol)?;
    let conn = AbortOnDrop(tokio::spawn(async move {
        // The connection's own error surfaces through `send_request` or the body.
        let _ = conn.await;
    }));
    let response = sender.send_request(request).await.map_err(FetchError::Protocol)?;
    Ok(Exchange { response, _conn: conn })
}

// A redirect is a 301/302/303/307/308 with a Location; the target is re-validated here, and its
// addresses are vetted again by `send` on the next hop.
fn redirect_target(
    url: &Url,
    status: StatusCode,
    headers: &HeaderMap,
) -> Result<Option<Url>, FetchError> {
    let is_redirect = matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308);
    if !is_redirect {
        return Ok(None);
    }
    let location = headers.get(LOCATION).ok_or(FetchError::BadRedirect)?;
    let location = location.to_str().map_err(|_| FetchError::BadRedirect)?;
    let next = url.join(location).map_err(|_| FetchError::BadRedirect)?;
    check_parsed(&next).map_err(FetchError::RedirectRefused)?;
    Ok(Some(next))
}

async fn read_reply(mut url: Url, exchange: Exchange, max: usize) -> Result<Reply, FetchError> {
    let (parts, body) = exchange.response.into_parts();
    if declared_length(&parts.headers).is_some_and(|len| len > max as u64) {
        return Err(FetchError::TooLarge(max));
    }
    let body = read_capped(body, max).await?;
    // Never hand back credentials that were part of the link.
    let _ = url.set_password(None);
    let _ = url.set_username("");
    let content_type = parts.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let content_type = content_type.map(str::to_owned);
    Ok(Reply { final_url: url, status: parts.status, content_type, body })
}

fn declared_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(CONTENT_LENGTH)?.to_str().ok()?.trim().parse().ok()
}

async fn read_capped(mut body: Incoming, max: usize) -> Result<Bytes, FetchError> {
    let mut buffer = BytesMut::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(FetchError::Protocol)?;
        if let Ok(data) = frame.into_data() {
            if buffer.len() + data.len() > max {
                return Err(FetchError::TooLarge(max));
            }
            buffer.extend_from_slice(&data);
        }
    }
    Ok(buffer.freeze())
}
