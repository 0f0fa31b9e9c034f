//! The URL-safety rules every outbound request obeys, and their user-facing refusals.
//!
//! This module owns the decision "may the server talk to this URL or address": only `http` and
//! `https`, a host that can be determined, and never a link-local or cloud-metadata address in any
//! spelling (IPv4 169.254.0.0/16, IPv6 fe80::/10, `fd00:ec2::254`, and IPv4 link-local carried
//! inside an IPv6 address). Private ranges and loopback stay allowed, because self-hosters point
//! the server at their own machines. Resolving names and connecting are left to the sibling
//! modules; they call [`is_forbidden_ip`] on every address before any connection.
//!
//! Invariant: checks run on the host as the `url` crate normalised it (decimal, hex and octal
//! IPv4 forms are already plain addresses by then), never on the raw text, so a spelling the
//! parser accepts cannot slip past a check that only knows another spelling.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

/// The AWS instance-metadata service's IPv6 address (IMDS over IPv6).
const AWS_IMDS_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254);

/// Why a URL was refused; the `Display` text is the sentence shown to the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum UrlError {
    /// The scheme is not `http` or `https` (empty when the text had no scheme at all).
    #[error("Invalid URL scheme: '{0}'. Only http and https are allowed.")]
    Scheme(String),
    /// The URL has no host, or an empty one.
    #[error("Invalid URL: hostname could not be determined.")]
    NoHost,
    /// The text is not a URL the parser accepts (bad IPv6 literal, zone id, bad port...).
    #[error("Invalid URL: {0}.")]
    Malformed(url::ParseError),
    /// The host is a link-local or metadata address written as a literal.
    #[error(
        "Link-local addresses (169.254.x.x) are not allowed for security reasons. \
         These addresses are used for cloud metadata endpoints."
    )]
    LinkLocal,
    /// The host is a name, and at least one of its addresses is link-local or metadata.
    #[error(
        "Hostname '{host}' resolves to a link-local address ({addr}), which is not allowed for \
         security reasons. Such addresses are used for cloud metadata endpoints."
    )]
    ResolvesToLinkLocal {
        /// The host name as the URL parser normalised it.
        host: String,
        /// The first refused address among those the name resolved to.
        addr: IpAddr,
    },
}

/// Parses `raw` and applies every check that needs no name resolution.
///
/// Returns the normalised URL on success. Host names are not resolved here, so a name that
/// resolves to a link-local address passes; the fetcher vets resolved addresses itself before it
/// connects, and `validate_url_resolved` does the same for URLs that are only stored.
pub fn validate_url(raw: &str) -> Result<Url, UrlError> {
    let url = Url::parse(raw).map_err(from_parse_error)?;
    check_parsed(&url)?;
    Ok(url)
}

/// Applies the scheme and literal-address rules to an already parsed URL.
pub(crate) fn check_parsed(url: &Url) -> Result<(), UrlError> {
    match url.scheme() {
        "http" | "https" => {}
        other => return Err(UrlError::Scheme(other.to_owned())),
    }
    match url.host() {
        None => Err(UrlError::NoHost),
        Some(Host::Domain("")) => Err(UrlError::NoHost),
        Some(Host::Domain(_)) => Ok(()),
        Some(Host::Ipv4(ip)) => check_literal(IpAddr::V4(ip)),
        Some(Host::Ipv6(ip)) => check_literal(IpAddr::V6(ip)),
    }
}

/// Refuses the resolved addresses of `host` when any one of them is forbidden.
///
/// All addresses are checked, not only the first: a name answering both a loopback and a
/// metadata address is refused outright instead of being tried address by address.
pub(crate) fn check_resolved(host: &str, addrs: &[IpAddr]) -> Result<(), UrlError> {
    match addrs.iter().find(|ip| is_forbidden_ip(**ip)) {
        Some(addr) => Err(UrlError::ResolvesToLinkLocal { host: host.to_owned(), addr: *addr }),
        None => Ok(()),
    }
}

/// Whether the server must never connect to `ip`.
///
/// True for IPv4 link-local (169.254.0.0/16), IPv6 link-local (fe80::/10), the AWS IPv6 metadata
/// address, and IPv6 addresses that carry an IPv4 link-local address (mapped, compatible,
/// translated, NAT64 and 6to4 forms), since the network may deliver those to the IPv4 address.
pub fn is_forbidden_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_link_local(),
        IpAddr::V6(v6) => is_forbidden_v6(v6),
    }
}

fn check_literal(ip: IpAddr) -> Result<(), UrlError> {
    if is_forbidden_ip(ip) { Err(UrlError::LinkLocal) } else { Ok(()) }
}

fn is_forbidden_v6(ip: Ipv6Addr) -> bool {
    let is_link_local = ip.segments()[0] & 0xffc0 == 0xfe80;
    is_link_local || ip == AWS_IMDS_V6 || embedded_v4(ip).is_some_and(|v4| v4.is_link_local())
}

// The IPv4 address an IPv6 address stands for, in the encodings a host or gateway may act on:
// ::ffff:a.b.c.d (mapped), ::a.b.c.d (compatible), ::ffff:0:a.b.c.d (SIIT translated),
// 64:ff9b::a.b.c.d (NAT64 well-known prefix) and 2002:aabb:ccdd::/48 (6to4).
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let low = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff | 0, _, _] => Some(low),
        [0, 0, 0, 0, 0xffff, 0, _, _] => Some(low),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(low),
        // RFC 8215 local-use NAT64 (64:ff9b:1::/48): refused whatever the embedding, since
        // an operator may place the IPv4 part anywhere after the prefix.
        [0x64, 0xff9b, 1, ..] => Some(Ipv4Addr::new(169, 254, 0, 0)),
        // Teredo (2001::/32): the client's IPv4 address is the last 32 bits, inverted.
        [0x2001, 0, ..] => Some(Ipv4Addr::from(!u32::from(low))),
        [0x2002, hi, lo, ..] => {
            Some(Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8))
        }
        _ => None,
    }
}

// Maps parser failures onto the upstream texts where upstream has one: text without a scheme is
// a scheme refusal (Python's parser reports an empty scheme), an empty host is a missing host.
fn from_parse_error(err: url::ParseError) -> UrlError {
    match err {
        url::ParseError::RelativeUrlWithoutBase => UrlError::Scheme(String::new()),
        url::ParseError::EmptyHost => UrlError::NoHost,
        other => UrlError::Malformed(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINK_LOCAL_TEXT: &str = "Link-local addresses (169.254.x.x) are not allowed for \
        security reasons. These addresses are used for cloud metadata endpoints.";

    #[test]
    fn plain_http_and_https_urls_are_accepted() {
        for raw in [
            "http://example.com/",
            "https://example.com/a?b=c#d",
            "http://127.0.0.1:8080/",
            "http://localhost/",
            "http://10.0.0.5/",
            "http://192.168.1.1/",
            "http://[::1]/",
            "http://[fd00::1]/",
            "http://169.253.255.255/",
            "http://169.255.0.1/",
        ] {
            assert!(validate_url(raw).is_ok(), "{raw} should be accepted");
        }
    }

    #[test]
    fn other_schemes_are_refused_with_the_upstream_text() {
        let cases = [
            ("file:///etc/passwd", "file"),
            ("ftp://example.com/x", "ftp"),
            ("javascript:alert(1)", "javascript"),
            ("data:text/html,<b>x</b>", "data"),
            ("gopher://example.com/", "gopher"),
            ("FILE:///etc/passwd", "file"),
            ("example.com/path", ""),
        ];
        for (raw, scheme) in cases {
            let err = validate_url(raw).unwrap_err();
            assert_eq!(err, UrlError::Scheme(scheme.to_owned()), "{raw}");
            let text = format!("Invalid URL scheme: '{scheme}'. Only http and https are allowed.");
            assert_eq!(err.to_string(), text);
        }
    }

    #[test]
    fn a_url_without_host_is_refused_with_the_upstream_text() {
        for raw in ["http://", "https://:80/", "http://?x"] {
            let err = validate_url(raw).unwrap_err();
            assert_eq!(err, UrlError::NoHost, "{raw}");
            assert_eq!(err.to_string(), "Invalid URL: hostname could not be determined.");
        }
    }

    #[test]
    fn every_spelling_of_a_link_local_literal_is_refused() {
        for raw in [
            "http://169.254.169.254/latest/meta-data/",
            "http://169.254.0.1/",
            "https://169.254.255.255:8443/",
            "http://2852039166/",
            "http://0xa9fea9fe/",
            "http://0xa9.0xfe.0xa9.0xfe/",
            "http://0251.0376.0251.0376/",
            "http://169.254.43518/",
            "http://169.16689662/",
            "http://169.254.169.254./",
            "http://%31%36%39.254.169.254/",
            "http://\u{ff11}\u{ff16}\u{ff19}.254.169.254/",
            "http://user:pw@169.254.169.254/",
            "http://[fe80::1]/",
            "http://[FE80::a:b:c:d]/",
            "http://[febf:ffff::1]/",
            "http://[::ffff:169.254.169.254]/",
            "http://[::ffff:a9fe:a9fe]/",
            "http://[::169.254.169.254]/",
            "http://[::ffff:0:169.254.169.254]/",
            "http://[64:ff9b::169.254.169.254]/",
            "http://[2002:a9fe:a9fe::1]/",
            "http://[fd00:ec2::254]/",
            "http://[fd00:0ec2:0000::0254]/",
        ] {
            let err = validate_url(raw).unwrap_err();
            assert_eq!(err, UrlError::LinkLocal, "{raw}");
            assert_eq!(err.to_string(), LINK_LOCAL_TEXT);
        }
    }

    #[test]
    fn ipv6_zone_ids_are_refused_as_malformed() {
        for raw in ["http://[fe80::1%25eth0]/", "http://[fe80::1%eth0]/", "http://[::1%251]/"] {
            assert!(matches!(validate_url(raw), Err(UrlError::Malformed(_))), "{raw}");
        }
    }

    #[test]
    fn a_name_resolving_to_any_forbidden_address_is_refused() {
        let ok: IpAddr = "127.0.0.1".parse().unwrap();
        let bad: IpAddr = "169.254.169.254".parse().unwrap();
        assert!(check_resolved("example.test", &[ok]).is_ok());
        let err = check_resolved("example.test", &[ok, bad]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "Hostname 'example.test' resolves to a link-local address (169.254.169.254), which \
             is not allowed for security reasons. Such addresses are used for cloud metadata \
             endpoints."
        );
    }

    #[test]
    fn neighbours_of_forbidden_ranges_stay_allowed() {
        let neighbours = ["fec0::1", "fe7f::1", "fd00:ec2::253", "::1", "::", "2002:7f00:1::"];
        for ip in neighbours.into_iter().chain(["0.0.0.0", "169.253.255.255", "169.255.0.0"]) {
            assert!(!is_forbidden_ip(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn local_use_nat64_and_teredo_carrying_metadata_are_refused() {
        for raw in
            ["http://[64:ff9b:1::a9fe:a9fe]/", "http://[2001:0:4136:e378:8000:63bf:5601:5601]/"]
        {
            assert!(validate_url(raw).is_err(), "{raw} must be refused");
        }
        assert!(validate_url("http://[2001:db8::1]/").is_ok(), "documentation range is fine");
    }
}
