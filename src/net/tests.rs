//! Behaviour tests for `net`, against HTTP servers the tests start on 127.0.0.1.
//!
//! The harness owns three fakes: a scripted HTTP/1.1 server (raw bytes, so it can also stall or
//! stream forever), a resolver answering from a table, and a connector that records every
//! attempt and refuses anything but loopback. Invariant: no test sends a byte to a non-loopback
//! address; the recording connector is the backstop if the code under test ever tried.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http::StatusCode;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

use super::*;

// ---- the scripted server -----------------------------------------------------------------------

/// What the test server does with one request.
#[derive(Clone)]
enum Reply {
    /// Write these bytes, then close.
    Raw(Vec<u8>),
    /// Send a chunked 200 whose body never ends.
    Endless,
    /// Read the request and never answer.
    Silent,
}

struct Server {
    addr: SocketAddr,
    requests: Arc<Mutex<Vec<String>>>,
    task: JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }

    fn paths(&self) -> Vec<String> {
        self.requests().iter().map(|head| request_path(head).to_owned()).collect()
    }
}

/// Starts a server on 127.0.0.1 answering each request with `route(path)`.
async fn serve(route: impl Fn(&str) -> Reply + Send + Sync + 'static) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&requests);
    let route = Arc::new(route);
    let task = tokio::spawn(async move {
        // Connection tasks live in the set, so aborting the server aborts them all.
        let mut connections = JoinSet::new();
        while let Ok((stream, _)) = listener.accept().await {
            let (seen, route) = (Arc::clone(&seen), Arc::clone(&route));
            connections.spawn(async move {
                let mut stream = stream;
                let head = read_head(&mut stream).await;
                seen.lock().unwrap().push(head.clone());
                answer(stream, route(request_path(&head))).await;
            });
        }
    });
    Server { addr, requests, task }
}

// Reads up to the blank line ending the request head (the client sends no body).
async fn read_head(stream: &mut TcpStream) -> String {
    let mut head = Vec::new();
    let mut buffer = [0u8; 1024];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 65536 {
        match stream.read(&mut buffer).await {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buffer[..n]),
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

async fn answer(mut stream: TcpStream, reply: Reply) {
    match reply {
        Reply::Raw(bytes) => {
            let _ = stream.write_all(&bytes).await;
            let _ = stream.shutdown().await;
        }
        Reply::Endless => {
            let head = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
            let _ = stream.write_all(head.as_bytes()).await;
            let chunk = format!("4000\r\n{}\r\n", "x".repeat(0x4000));
            while stream.write_all(chunk.as_bytes()).await.is_ok() {}
        }
        Reply::Silent => {
            let mut sink = [0u8; 64];
            while stream.read(&mut sink).await.is_ok_and(|n| n > 0) {}
        }
    }
}

fn request_path(head: &str) -> &str {
    head.split(' ').nth(1).unwrap_or("")
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

fn ok(content_type: &str, body: &str) -> Reply {
    let len = body.len();
    let text = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {len}\r\n\r\n{body}"
    );
    Reply::Raw(text.into_bytes())
}

fn status(code: u16, content_type: &str, body: &str) -> Reply {
    let len = body.len();
    let text = format!(
        "HTTP/1.1 {code} X\r\nContent-Type: {content_type}\r\nContent-Length: {len}\r\n\r\n{body}"
    );
    Reply::Raw(text.into_bytes())
}

fn redirect(code: u16, location: &str) -> Reply {
    let text =
        format!("HTTP/1.1 {code} Moved\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n");
    Reply::Raw(text.into_bytes())
}

// ---- the fake resolver and the recording connector ---------------------------------------------

/// Answers from a fixed table and counts lookups; unknown names do not resolve.
#[derive(Default)]
struct FakeDns {
    answers: HashMap<String, Vec<IpAddr>>,
    lookups: Arc<AtomicUsize>,
}

impl FakeDns {
    fn with(mut self, name: &str, addrs: &[&str]) -> Self {
        let addrs = addrs.iter().map(|a| a.parse().unwrap()).collect();
        self.answers.insert(name.to_owned(), addrs);
        self
    }
}

impl Resolve for FakeDns {
    async fn lookup(&self, host: &str) -> io::Result<Vec<IpAddr>> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        self.answers.get(host).cloned().ok_or_else(|| io::ErrorKind::NotFound.into())
    }
}

/// Answers loopback to the first lookup and the metadata address to every later one, the way a
/// DNS-rebinding attacker's name server would.
#[derive(Default)]
struct RebindingDns {
    lookups: AtomicUsize,
}

impl Resolve for RebindingDns {
    async fn lookup(&self, _host: &str) -> io::Result<Vec<IpAddr>> {
        let first = self.lookups.fetch_add(1, Ordering::SeqCst) == 0;
        let addr = if first { "127.0.0.1" } else { "169.254.169.254" };
        Ok(vec![addr.parse().unwrap()])
    }
}

/// Records every connection attempt and refuses all but loopback.
#[derive(Clone, Default)]
struct Recorder {
    attempts: Arc<Mutex<Vec<SocketAddr>>>,
}

impl Recorder {
    fn attempts(&self) -> Vec<SocketAddr> {
        self.attempts.lock().unwrap().clone()
    }
}

impl Connect for Recorder {
    async fn connect(&self, addr: SocketAddr) -> io::Result<TcpStream> {
        self.attempts.lock().unwrap().push(addr);
        if !addr.ip().is_loopback() {
            let refusal = "the test connector only reaches loopback";
            return Err(io::Error::new(io::ErrorKind::PermissionDenied, refusal));
        }
        TcpStream::connect(addr).await
    }
}

fn watched<R: Resolve>(dns: R) -> (Fetcher<R, Recorder>, Recorder) {
    let recorder = Recorder::default();
    (Fetcher::with_parts(dns, recorder.clone()), recorder)
}

fn limits() -> FetchLimits {
    FetchLimits { timeout: Duration::from_secs(10), max_bytes: 1 << 20, max_redirects: 5 }
}

// ---- fetching ----------------------------------------------------------------------------------

#[tokio::test]
async fn fetch_returns_the_page_and_its_content_type() {
    let server = serve(|_| ok("text/html; charset=utf-8", "<h1>hello</h1>")).await;
    let page = fetch(&server.url("/page?q=1#frag"), &limits()).await.unwrap();
    assert_eq!(&page.body[..], b"<h1>hello</h1>");
    assert_eq!(page.content_type.as_deref(), Some("text/html; charset=utf-8"));
    assert_eq!(page.final_url, server.url("/page?q=1#frag"));
    let head = &server.requests()[0];
    assert!(head.starts_with("GET /page?q=1 HTTP/1.1\r\n"), "{head}");
    assert_eq!(header(head, "host"), Some(server.addr.to_string().as_str()));
}

#[tokio::test]
async fn localhost_is_answered_without_dns() {
    let server = serve(|_| ok("text/plain", "local")).await;
    let dns = FakeDns::default();
    let lookups = Arc::clone(&dns.lookups);
    let (fetcher, _) = watched(dns);
    let url = format!("http://localhost:{}/", server.addr.port());
    assert_eq!(&fetcher.fetch(&url, &limits()).await.unwrap().body[..], b"local");
    assert_eq!(&fetch(&url, &limits()).await.unwrap().body[..], b"local");
    assert_eq!(lookups.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_non_success_status_is_a_remote_failure() {
    let server = serve(|_| status(404, "text/plain", "gone")).await;
    let err = fetch(&server.url("/"), &limits()).await.unwrap_err();
    assert!(matches!(err, FetchError::Status(404)), "{err:?}");
    assert_eq!(err.status_hint(), StatusCode::BAD_GATEWAY);
    assert_eq!(err.to_string(), "The server answered with HTTP status 404.");
}

#[tokio::test]
async fn a_redirect_chain_within_the_limit_is_followed() {
    let server = serve(|path| match path {
        "/a" => redirect(301, "/b"),
        "/b" => redirect(307, "c?x=1"),
        "/c?x=1" => redirect(308, "/d"),
        _ => ok("text/plain", "done"),
    })
    .await;
    let three = FetchLimits { max_redirects: 3, ..limits() };
    let page = fetch(&server.url("/a"), &three).await.unwrap();
    assert_eq!(&page.body[..], b"done");
    assert_eq!(page.final_url, server.url("/d"));
    assert_eq!(server.paths(), ["/a", "/b", "/c?x=1", "/d"]);
}

#[tokio::test]
async fn more_redirects_than_the_limit_are_refused() {
    let server = serve(|_| redirect(302, "/again")).await;
    let two = FetchLimits { max_redirects: 2, ..limits() };
    let err = fetch(&server.url("/"), &two).await.unwrap_err();
    assert!(matches!(err, FetchError::TooManyRedirects(2)), "{err:?}");
    assert_eq!(err.status_hint(), StatusCode::BAD_GATEWAY);
    assert_eq!(server.paths(), ["/", "/again", "/again"]);

    let none = FetchLimits { max_redirects: 0, ..limits() };
    let err = fetch(&server.url("/"), &none).await.unwrap_err();
    assert!(matches!(err, FetchError::TooManyRedirects(0)), "{err:?}");
}

#[tokio::test]
async fn a_redirect_to_a_forbidden_target_is_refused_before_connecting() {
    let server = serve(|path| match path {
        "/imds" => redirect(302, "http://169.254.169.254/latest/meta-data/"),
        "/decimal" => redirect(301, "http://2852039166/"),
        "/mapped" => redirect(307, "http://[::ffff:169.254.169.254]/"),
        "/v6" => redirect(308, "http://[fd00:ec2::254]/"),
        "/named" => redirect(302, "http://metadata.test/computeMetadata/v1/"),
        "/file" => redirect(302, "file:///etc/passwd"),
        _ => ok("text/plain", "unreachable"),
    })
    .await;
    let dns = FakeDns::default().with("metadata.test", &["169.254.169.254"]);
    let (fetcher, recorder) = watched(dns);
    for path in ["/imds", "/decimal", "/mapped", "/v6", "/named", "/file"] {
        let err = fetcher.fetch(&server.url(path), &limits()).await.unwrap_err();
        assert!(matches!(err, FetchError::RedirectRefused(_)), "{path}: {err:?}");
        assert_eq!(err.status_hint(), StatusCode::BAD_REQUEST);
    }
    // Only the six first hops reached a socket, all of them the test server.
    assert_eq!(recorder.attempts(), vec![server.addr; 6]);
}

#[tokio::test]
async fn a_refused_redirect_names_the_rule_it_broke() {
    let server = serve(|_| redirect(302, "http://169.254.169.254/")).await;
    let err = fetch(&server.url("/"), &limits()).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "The link redirected to an address that is not allowed. Link-local addresses \
         (169.254.x.x) are not allowed for security reasons. These addresses are used for cloud \
         metadata endpoints."
    );
}

#[tokio::test]
async fn a_body_over_the_cap_is_refused_while_it_streams() {
    let server = serve(|_| Reply::Endless).await;
    let small = FetchLimits { max_bytes: 100_000, ..limits() };
    let started = Instant::now();
    let err = fetch(&server.url("/"), &small).await.unwrap_err();
    assert!(matches!(err, FetchError::TooLarge(100_000)), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(err.status_hint(), StatusCode::BAD_GATEWAY);
}

#[tokio::test]
async fn a_declared_length_over_the_cap_is_refused_and_the_cap_itself_is_allowed() {
    let server = serve(|_| ok("text/plain", &"y".repeat(1000))).await;
    let exact = FetchLimits { max_bytes: 1000, ..limits() };
    assert_eq!(fetch(&server.url("/"), &exact).await.unwrap().body.len(), 1000);
    let under = FetchLimits { max_bytes: 999, ..limits() };
    let err = fetch(&server.url("/"), &under).await.unwrap_err();
    assert!(matches!(err, FetchError::TooLarge(999)), "{err:?}");
}

#[tokio::test]
async fn a_server_that_never_answers_times_out() {
    let server = serve(|_| Reply::Silent).await;
    let quick = FetchLimits { timeout: Duration::from_millis(300), ..limits() };
    let started = Instant::now();
    let err = fetch(&server.url("/"), &quick).await.unwrap_err();
    assert!(matches!(err, FetchError::Timeout(1)), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!(err.status_hint(), StatusCode::BAD_GATEWAY);
    assert_eq!(server.requests().len(), 1);
}

#[tokio::test]
async fn https_to_a_server_that_does_not_speak_tls_is_a_tls_failure() {
    // A listener that answers plain HTTP at once, before reading the TLS client hello.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").await;
        }
    });
    let err = fetch(&format!("https://{addr}/"), &limits()).await.unwrap_err();
    task.abort();
    assert!(matches!(err, FetchError::Tls(_)), "{err:?}");
    assert_eq!(err.status_hint(), StatusCode::BAD_GATEWAY);
}

// ---- refusals before any connection ------------------------------------------------------------

#[tokio::test]
async fn other_schemes_are_refused_before_any_lookup_or_connection() {
    let dns = FakeDns::default();
    let lookups = Arc::clone(&dns.lookups);
    let (fetcher, recorder) = watched(dns);
    for (raw, scheme) in [
        ("file:///etc/passwd", "file"),
        ("ftp://127.0.0.1/pub", "ftp"),
        ("javascript:alert(document.cookie)", "javascript"),
        ("data:text/plain;base64,aGk=", "data"),
    ] {
        let err = fetcher.fetch(raw, &limits()).await.unwrap_err();
        assert!(matches!(&err, FetchError::Unsafe(UrlError::Scheme(s)) if s == scheme), "{raw}");
        assert_eq!(err.status_hint(), StatusCode::BAD_REQUEST);
        let public = fetch(raw, &limits()).await.unwrap_err();
        assert_eq!(public.to_string(), err.to_string());
    }
    assert_eq!(lookups.load(Ordering::SeqCst), 0);
    assert!(recorder.attempts().is_empty());
}

#[tokio::test]
async fn every_link_local_spelling_is_refused_before_any_connection() {
    let dns = FakeDns::default();
    let lookups = Arc::clone(&dns.lookups);
    let (fetcher, recorder) = watched(dns);
    for raw in [
        "http://169.254.169.254/latest/meta-data/",
        "http://2852039166/",
        "http://0xa9.0xfe.0xa9.0xfe/",
        "http://0xa9fea9fe/",
        "http://0251.0376.0251.0376/",
        "http://169.254.43518/",
        "http://169.254.169.254./",
        "https://169.254.169.254:443/",
        "http://[fe80::1]/",
        "http://[::ffff:169.254.169.254]/",
        "http://[::ffff:a9fe:a9fe]/",
        "http://[64:ff9b::a9fe:a9fe]/",
        "http://[fd00:ec2::254]/",
    ] {
        let err = fetcher.fetch(raw, &limits()).await.unwrap_err();
        assert!(matches!(err, FetchError::Unsafe(UrlError::LinkLocal)), "{raw}: {err:?}");
        assert_eq!(err.status_hint(), StatusCode::BAD_REQUEST);
    }
    for raw in ["http://[fe80::1%25eth0]/", "http://[fe80::a9fe:a9fe%251]:80/"] {
        let err = fetcher.fetch(raw, &limits()).await.unwrap_err();
        assert!(matches!(err, FetchError::Unsafe(UrlError::Malformed(_))), "{raw}: {err:?}");
    }
    assert_eq!(lookups.load(Ordering::SeqCst), 0);
    assert!(recorder.attempts().is_empty());
}

#[tokio::test]
async fn a_name_resolving_to_a_forbidden_address_is_refused_before_any_connection() {
    let dns = FakeDns::default()
        .with("metadata.test", &["169.254.169.254"])
        .with("mixed.test", &["127.0.0.1", "169.254.169.254"])
        .with("v6.test", &["::1", "fe80::1"])
        .with("imds6.test", &["fd00:ec2::254"])
        .with("nat64.test", &["64:ff9b::a9fe:a9fe"]);
    let (fetcher, recorder) = watched(dns);
    for host in ["metadata.test", "mixed.test", "v6.test", "imds6.test", "nat64.test"] {
        let err = fetcher.fetch(&format!("http://{host}/"), &limits()).await.unwrap_err();
        let FetchError::Unsafe(UrlError::ResolvesToLinkLocal { host: named, addr }) = &err else {
            panic!("{host}: {err:?}");
        };
        assert_eq!(named, host);
        assert!(is_forbidden_ip(*addr));
        assert!(err.to_string().starts_with(&format!("Hostname '{host}' resolves to a link-")));
        assert_eq!(err.status_hint(), StatusCode::BAD_REQUEST);
    }
    assert!(recorder.attempts().is_empty());
}

#[tokio::test]
async fn the_connection_goes_to_the_vetted_address_without_a_second_lookup() {
    let server = serve(|_| ok("text/plain", "vetted")).await;
    let dns = RebindingDns::default();
    let (fetcher, recorder) = watched(dns);
    let url = format!("http://rebind.test:{}/", server.addr.port());
    let page = fetcher.fetch(&url, &limits()).await.unwrap();
    assert_eq!(&page.body[..], b"vetted");
    assert_eq!(recorder.attempts(), [server.addr]);
    assert_eq!(header(&server.requests()[0], "host"), Some(&url[7..url.len() - 1]));
}

#[tokio::test]
async fn every_redirect_hop_is_resolved_and_vetted_again() {
    let server = serve(|path| match path {
        "/start" => redirect(302, "/next"),
        _ => ok("text/plain", "must not be reached"),
    })
    .await;
    // The first lookup answers loopback, the second (for the redirect hop) the metadata address.
    let (fetcher, recorder) = watched(RebindingDns::default());
    let url = format!("http://rebind.test:{}/start", server.addr.port());
    let err = fetcher.fetch(&url, &limits()).await.unwrap_err();
    let FetchError::RedirectRefused(UrlError::ResolvesToLinkLocal { addr, .. }) = err else {
        panic!("{err:?}");
    };
    assert_eq!(addr.to_string(), "169.254.169.254");
    assert_eq!(recorder.attempts(), [server.addr]);
    assert_eq!(server.paths(), ["/start"]);
}

#[tokio::test]
async fn stored_urls_are_vetted_by_resolution_and_unresolvable_names_pass() {
    let dns = FakeDns::default()
        .with("metadata.test", &["169.254.169.254"])
        .with("ollama.lan", &["192.168.1.20"]);
    let (fetcher, recorder) = watched(dns);
    let err = fetcher.validate_resolved("http://metadata.test/v1").await.unwrap_err();
    assert!(matches!(err, UrlError::ResolvesToLinkLocal { .. }), "{err:?}");
    assert!(fetcher.validate_resolved("http://ollama.lan:11434/v1").await.is_ok());
    assert!(fetcher.validate_resolved("http://nowhere.test/").await.is_ok());
    assert!(fetcher.validate_resolved("http://[fe80::1]/").await.is_err());
    assert!(recorder.attempts().is_empty());
}

// ---- JSON calls and secrets --------------------------------------------------------------------

#[tokio::test]
async fn get_json_sends_the_bearer_token_and_parses_the_answer() {
    let server = serve(|_| ok("application/json", r#"{"data":[{"id":"llama3"}]}"#)).await;
    let (code, value) =
        get_json(&server.url("/v1/models"), Some("sk-test-123"), &limits()).await.unwrap();
    assert_eq!(code, 200);
    assert_eq!(value, serde_json::json!({"data": [{"id": "llama3"}]}));
    let head = &server.requests()[0];
    assert_eq!(request_path(head), "/v1/models");
    assert_eq!(header(head, "authorization"), Some("Bearer sk-test-123"));
    assert_eq!(header(head, "accept"), Some("application/json"));
}

#[tokio::test]
async fn get_json_sends_no_authorization_without_a_token() {
    let server = serve(|_| ok("application/json", "[]")).await;
    let (code, value) = get_json(&server.url("/v1/models"), None, &limits()).await.unwrap();
    assert_eq!((code, value), (200, serde_json::json!([])));
    assert_eq!(header(&server.requests()[0], "authorization"), None);
}

#[tokio::test]
async fn the_bearer_token_does_not_follow_a_redirect_to_another_origin() {
    let other = serve(|_| ok("application/json", "{}")).await;
    let target = other.url("/v1/models");
    let first = serve(move |path| match path {
        "/v1/models" => redirect(302, "/moved"),
        _ => redirect(302, &target),
    })
    .await;
    let answer = get_json(&first.url("/v1/models"), Some("sk-secret"), &limits()).await;
    assert_eq!(answer.unwrap().0, 200);
    let heads = first.requests();
    assert_eq!(header(&heads[0], "authorization"), Some("Bearer sk-secret"));
    assert_eq!(header(&heads[1], "authorization"), Some("Bearer sk-secret"));
    assert_eq!(header(&other.requests()[0], "authorization"), None);
}

#[tokio::test]
async fn get_json_returns_error_statuses_and_refuses_a_successful_non_json_body() {
    let server = serve(|path| match path {
        "/denied" => status(401, "application/json", r#"{"error":"bad key"}"#),
        "/html" => status(500, "text/html", "<p>oops</p>"),
        _ => ok("text/html", "<p>not json</p>"),
    })
    .await;
    let (code, value) = get_json(&server.url("/denied"), None, &limits()).await.unwrap();
    assert_eq!((code, value), (401, serde_json::json!({"error": "bad key"})));
    let (code, value) = get_json(&server.url("/html"), None, &limits()).await.unwrap();
    assert_eq!((code, value), (500, serde_json::Value::Null));
    let err = get_json(&server.url("/ok"), None, &limits()).await.unwrap_err();
    assert!(matches!(err, FetchError::NotJson(_)), "{err:?}");
}

#[tokio::test]
async fn errors_and_results_never_carry_secrets() {
    let server = serve(|_| ok("text/plain", "fine")).await;
    let with_password = format!("http://reader:hunter2@{}/doc", server.addr);
    let page = fetch(&with_password, &limits()).await.unwrap();
    assert_eq!(page.final_url, server.url("/doc"));
    assert_eq!(header(&server.requests()[0], "authorization"), None);

    let refused = fetch("http://reader:hunter2@127.0.0.1:1/", &limits()).await.unwrap_err();
    assert!(matches!(refused, FetchError::Connect(_)), "{refused:?}");
    let metadata = fetch("http://reader:hunter2@169.254.169.254/", &limits()).await.unwrap_err();
    let bad_key = get_json(&server.url("/"), Some("sk-hunter2\n"), &limits()).await.unwrap_err();
    assert!(matches!(bad_key, FetchError::BadCredential), "{bad_key:?}");
    for err in [refused, metadata, bad_key] {
        let shown = format!("{err} / {err:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn default_limits_are_the_documented_ones() {
    let limits = FetchLimits::default();
    assert_eq!(limits.timeout, Duration::from_secs(30));
    assert_eq!(limits.max_bytes, 50 * 1024 * 1024);
    assert_eq!(limits.max_redirects, 10);
}
