//! The integration-test harness: a real `open-notebook` process on loopback ports, a temp
//! data folder, and a tiny HTTP/1.1 client, so every test goes through the same binary,
//! redb file and tantivy index a user gets.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The password most tests start the server with.
pub const PASSWORD: &str = "integration-test-password";

/// The built binary under test.
pub fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_open-notebook")
}

/// A folder of the shared corpus.
pub fn corpus(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus").join(relative)
}

/// A free loopback port (released before the server binds it).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).unwrap()
}

/// How to start a server.
#[derive(Clone)]
pub struct Options {
    pub env: Vec<(String, String)>,
    pub args: Vec<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self { env: vec![("OPEN_NOTEBOOK_PASSWORD".into(), PASSWORD.into())], args: Vec::new() }
    }
}

impl Options {
    /// Options with no password at all (the development default applies).
    pub fn without_password() -> Self {
        Self { env: Vec::new(), args: Vec::new() }
    }

    /// Adds an environment variable.
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// Adds a command-line argument.
    pub fn arg(mut self, arg: &str) -> Self {
        self.args.push(arg.into());
        self
    }
}

/// A running server and its data folder.
pub struct Server {
    pub port: u16,
    pub dir: tempfile::TempDir,
    pub options: Options,
    child: Option<Child>,
    log_path: PathBuf,
}

/// Builds the command for the binary with a clean environment.
pub fn command(options: &Options) -> Command {
    let mut cmd = Command::new(binary());
    cmd.env_clear();
    cmd.env("PATH", std::env::var("PATH").unwrap_or_default());
    cmd.env("RUST_LOG", "info");
    for (name, value) in &options.env {
        cmd.env(name, value);
    }
    cmd.args(&options.args);
    cmd
}

impl Server {
    /// Starts a server with the default test password in a new temp folder.
    pub fn start() -> Self {
        Self::start_with(Options::default())
    }

    /// Starts a server with `options` in a new temp folder.
    pub fn start_with(options: Options) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut server = Self { port: 0, dir, options, child: None, log_path: PathBuf::new() };
        server.launch();
        server
    }

    /// The data folder.
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn launch(&mut self) {
        self.port = free_port();
        let runs = std::fs::read_dir(self.dir.path()).map(|d| d.count()).unwrap_or(0);
        self.log_path = self.dir.path().join(format!("server-{runs}.log"));
        let log = std::fs::File::create(&self.log_path).unwrap();
        let mut cmd = command(&self.options);
        cmd.arg("--data-dir").arg(self.data_dir());
        cmd.args(["--api-port", &self.port.to_string(), "--ui-port", "0"]);
        cmd.stdout(Stdio::null()).stderr(log);
        self.child = Some(cmd.spawn().unwrap());
        self.wait_healthy();
    }

    fn wait_healthy(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("server exited early with {status}: {}", self.log());
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok()
                && self.get("/health", None).status == 200
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("server did not become healthy: {}", self.log());
    }

    /// Everything the server has logged so far, across restarts.
    pub fn log(&self) -> String {
        let mut all = String::new();
        if let Ok(entries) = std::fs::read_dir(self.dir.path()) {
            let mut paths: Vec<_> = entries.flatten().map(|e| e.path()).collect();
            paths.sort();
            for path in paths.iter().filter(|p| p.extension().is_some_and(|e| e == "log")) {
                all.push_str(&std::fs::read_to_string(path).unwrap_or_default());
            }
        }
        all
    }

    /// Kills the process with SIGKILL (no chance to flush anything) and starts it again.
    pub fn crash_and_restart(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
        self.launch();
    }

    /// Stops the process with SIGTERM and waits for it; returns whether it exited cleanly.
    pub fn stop(&mut self) -> bool {
        let Some(mut child) = self.child.take() else { return true };
        let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                return status.success();
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        false
    }

    /// Starts the process again after [`Self::stop`], on the same data.
    pub fn relaunch(&mut self) {
        assert!(self.child.is_none(), "the server is still running");
        self.launch();
    }

    /// Stops gracefully and starts again on the same data.
    pub fn restart(&mut self) {
        assert!(self.stop(), "server did not stop cleanly: {}", self.log());
        self.launch();
    }

    /// A request with the test password.
    pub fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Response {
        let auth = format!("Bearer {PASSWORD}");
        let body = body.map(|b| serde_json::to_vec(b).unwrap());
        let mut headers = vec![("Authorization", auth.as_str())];
        if body.is_some() {
            headers.push(("Content-Type", "application/json"));
        }
        request(self.port, method, path, &headers, body.as_deref())
    }

    /// A GET with an optional raw Authorization header.
    pub fn get(&self, path: &str, authorization: Option<&str>) -> Response {
        let headers: Vec<(&str, &str)> =
            authorization.map(|a| vec![("Authorization", a)]).unwrap_or_default();
        request(self.port, "GET", path, &headers, None)
    }

    /// Uploads a file through `/api/sources/upload` as the security page's curl example does.
    pub fn upload(&self, file_name: &str, bytes: &[u8], fields: &[(&str, &str)]) -> Response {
        let (content_type, body) = multipart(file_name, bytes, fields);
        let auth = format!("Bearer {PASSWORD}");
        let headers = [("Authorization", auth.as_str()), ("Content-Type", content_type.as_str())];
        request(self.port, "POST", "/api/sources/upload", &headers, Some(&body))
    }

    /// Creates a notebook and returns its id.
    pub fn notebook(&self, name: &str) -> String {
        let response =
            self.call("POST", "/api/notebooks", Some(&serde_json::json!({ "name": name })));
        assert_eq!(response.status, 200, "{}", response.text());
        response.json()["id"].as_str().unwrap().to_string()
    }

    /// Creates a text source through `/api/sources/json`, returning the response body.
    pub fn text_source(&self, content: &str, fields: Value) -> Value {
        let mut body = serde_json::json!({ "type": "text", "content": content });
        if let (Some(body), Some(extra)) = (body.as_object_mut(), fields.as_object()) {
            body.extend(extra.clone());
        }
        let response = self.call("POST", "/api/sources/json", Some(&body));
        assert_eq!(response.status, 200, "{}", response.text());
        response.json()
    }

    /// Runs a search with extra body fields; returns the whole response body.
    pub fn search(&self, query: &str, fields: Value) -> Value {
        let mut body = serde_json::json!({ "query": query });
        if let (Some(body), Some(extra)) = (body.as_object_mut(), fields.as_object()) {
            body.extend(extra.clone());
        }
        let response = self.call("POST", "/api/search", Some(&body));
        assert_eq!(response.status, 200, "{query}: {}", response.text());
        response.json()
    }

    /// Polls a processing job until it ends (`completed` or `failed`) and returns its status.
    pub fn wait_for_job(&self, job_id: &str, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let job = self.call("GET", &format!("/api/commands/jobs/{job_id}"), None).json();
            if job["status"] == "completed" || job["status"] == "failed" {
                return job;
            }
            assert!(Instant::now() < deadline, "job {job_id} still {job} after {within:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Runs a text search and returns the result ids in order.
    pub fn search_ids(&self, query: &str) -> Vec<String> {
        let response =
            self.call("POST", "/api/search", Some(&serde_json::json!({ "query": query })));
        assert_eq!(response.status, 200, "{}", response.text());
        response.json()["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["id"].as_str().unwrap().to_string())
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Builds a multipart/form-data body with one file part and extra text fields.
pub fn multipart(file_name: &str, bytes: &[u8], fields: &[(&str, &str)]) -> (String, Vec<u8>) {
    let boundary = "----open-notebook-test-boundary-7f3a";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
            )
            .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; \
             filename=\"{file_name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A parsed HTTP response.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The body as JSON (panics with the body text when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| panic!("not JSON ({}): {}", self.status, self.text()))
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header value by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// Sends one HTTP/1.1 request over a new connection and reads the whole response.
pub fn request(
    port: u16,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Response {
    let mut head =
        format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(body) = body {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut raw = head.into_bytes();
    raw.extend_from_slice(body.unwrap_or_default());
    raw_request(port, &raw)
}

/// Sends raw bytes and parses the response (for malformed or chunked requests).
pub fn raw_request(port: u16, raw: &[u8]) -> Response {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(120))).unwrap();
    // The server may answer (e.g. 413) and close before reading everything we send.
    let _ = stream.write_all(raw);
    let mut bytes = Vec::new();
    let _ = stream.read_to_end(&mut bytes);
    parse_response(&bytes)
}

fn parse_response(bytes: &[u8]) -> Response {
    let split = bytes.windows(4).position(|w| w == b"\r\n\r\n").expect("no response head");
    let head = String::from_utf8_lossy(&bytes[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next().unwrap().split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let raw_body = &bytes[split + 4..];
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    let body = if chunked { dechunk(raw_body) } else { raw_body.to_vec() };
    Response { status, headers, body }
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(line_end) = raw.windows(2).position(|w| w == b"\r\n") {
        let size_text = String::from_utf8_lossy(&raw[..line_end]).into_owned();
        let size = usize::from_str_radix(size_text.trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = line_end + 2;
        out.extend_from_slice(&raw[start..start + size]);
        raw = &raw[start + size + 2..];
    }
    out
}

/// Runs the binary to completion (for commands and refused start-ups).
pub fn run(options: &Options, args: &[&str]) -> Output {
    let mut cmd = command(options);
    cmd.args(args);
    cmd.stdin(Stdio::null());
    cmd.output().unwrap()
}

/// A tiny HTTP server on 127.0.0.1 serving one HTML page, for link sources. While `hold` is
/// set, requests are accepted but not answered (a slow site), for up to a minute.
pub struct PageServer {
    pub port: u16,
    pub hits: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    pub hold: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl PageServer {
    /// Starts serving `page` as `text/html` to every request, on its own threads.
    pub fn start(page: &str) -> Self {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, AtomicUsize};
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(AtomicUsize::new(0));
        let hold = Arc::new(AtomicBool::new(false));
        let (page, counter, gate) = (page.to_string(), Arc::clone(&hits), Arc::clone(&hold));
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (page, counter, gate) = (page.clone(), Arc::clone(&counter), Arc::clone(&gate));
                std::thread::spawn(move || answer(stream, &page, &counter, &gate));
            }
        });
        Self { port, hits, hold }
    }

    /// The URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

fn answer(
    mut stream: TcpStream,
    page: &str,
    hits: &std::sync::atomic::AtomicUsize,
    hold: &std::sync::atomic::AtomicBool,
) {
    use std::sync::atomic::Ordering;
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
        head.push(byte[0]);
    }
    hits.fetch_add(1, Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(60);
    while hold.load(Ordering::SeqCst) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{page}",
        page.len()
    );
    let _ = stream.write_all(response.as_bytes());
}
