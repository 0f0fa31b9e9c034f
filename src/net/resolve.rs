//! Turning a URL's host into the vetted addresses the client may connect to.
//!
//! This module owns name resolution: the [`Resolve`] trait (so tests can substitute answers), the
//! production [`SystemResolver`] (hickory, pure Rust, configured from `/etc/resolv.conf`), and
//! [`vetted_addrs`], the one place where resolution and the URL-safety check meet. IP literals and
//! `localhost` are answered without asking DNS.
//!
//! Invariant: [`vetted_addrs`] is the only producer of addresses the client connects to, and it
//! returns nothing unless every address it found passed [`super::is_forbidden_ip`]. The client
//! connects to exactly these addresses and never resolves the name a second time, so DNS
//! rebinding between the check and the connection is impossible.

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::OnceLock;

use hickory_resolver::TokioResolver;
use url::{Host, Url};

use super::url_safety::{UrlError, check_resolved};

/// A source of addresses for host names; substitute one in tests instead of real DNS.
pub trait Resolve: Send + Sync {
    /// Returns every address `host` resolves to (IPv4 and IPv6).
    fn lookup(&self, host: &str) -> impl Future<Output = io::Result<Vec<IpAddr>>> + Send;
}

/// The production resolver: hickory over the name servers in `/etc/resolv.conf`.
///
/// It is built on first use, so constructing it never fails; a missing or unreadable resolver
/// configuration shows up as a lookup error instead.
#[derive(Default)]
pub struct SystemResolver {
    inner: OnceLock<Result<TokioResolver, String>>,
}

impl SystemResolver {
    /// A resolver that reads the system configuration on its first lookup.
    pub fn new() -> Self {
        Self::default()
    }

    fn resolver(&self) -> io::Result<&TokioResolver> {
        let built = self.inner.get_or_init(|| {
            let builder = TokioResolver::builder_tokio().map_err(|e| e.to_string())?;
            builder.build().map_err(|e| e.to_string())
        });
        built.as_ref().map_err(|e| io::Error::other(format!("DNS resolver unavailable: {e}")))
    }
}

impl Resolve for SystemResolver {
    async fn lookup(&self, host: &str) -> io::Result<Vec<IpAddr>> {
        let answer = self.resolver()?.lookup_ip(host).await.map_err(io::Error::other)?;
        Ok(answer.iter().collect())
    }
}

/// Why no address could be produced for a URL's host.
#[derive(Debug)]
pub(crate) enum ResolveError {
    /// At least one address is forbidden; nothing was connected to.
    Unsafe(UrlError),
    /// The name did not resolve (or resolved to nothing).
    Failed { host: String, source: io::Error },
}

/// Resolves the host of an already validated URL and vets every address.
///
/// Literal addresses are returned as they are (after the same check), and `localhost` or any
/// name under `.localhost` means the loopback addresses, as RFC 6761 reserves them.
pub(crate) async fn vetted_addrs<R: Resolve>(
    resolver: &R,
    url: &Url,
) -> Result<Vec<IpAddr>, ResolveError> {
    let (name, addrs) = match url.host() {
        Some(Host::Ipv4(ip)) => (ip.to_string(), vec![IpAddr::V4(ip)]),
        Some(Host::Ipv6(ip)) => (ip.to_string(), vec![IpAddr::V6(ip)]),
        Some(Host::Domain(name)) => (name.to_owned(), lookup_name(resolver, name).await?),
        None => return Err(ResolveError::Unsafe(UrlError::NoHost)),
    };
    if addrs.is_empty() {
        let source = io::Error::new(io::ErrorKind::NotFound, "no addresses");
        return Err(ResolveError::Failed { host: name, source });
    }
    check_resolved(&name, &addrs).map_err(ResolveError::Unsafe)?;
    Ok(addrs)
}

async fn lookup_name<R: Resolve>(resolver: &R, name: &str) -> Result<Vec<IpAddr>, ResolveError> {
    let bare = name.strip_suffix('.').unwrap_or(name);
    let bare = bare.to_ascii_lowercase();
    if bare == "localhost" || bare.ends_with(".localhost") {
        return Ok(vec![IpAddr::V4(Ipv4Addr::LOCALHOST), IpAddr::V6(Ipv6Addr::LOCALHOST)]);
    }
    resolver
        .lookup(name)
        .await
        .map_err(|source| ResolveError::Failed { host: name.to_owned(), source })
}
