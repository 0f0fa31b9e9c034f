//! Search latency through HTTP: the built server on loopback, loaded with the whole shared
//! corpus and then about 10,000 generated chunks, queried with two-word queries over one
//! keep-alive connection. Prints p50/p90/p99 for `POST /api/search` at the default limit
//! (100 results) and at 10, then the same queries straight on the index in-process (no
//! HTTP), so the two costs can be told apart.
//!
//! Run with `cargo bench --bench search`. It is a plain binary (`harness = false`), not a
//! criterion bench: percentiles of single requests are the figures we want.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use open_notebook::search::{SearchIndex, SearchRequest};

const PASSWORD: &str = "benchmark-password-long-enough";
/// Generated text sources and the chunks each holds (about 1,800 new bytes per chunk).
const SOURCES: usize = 500;
const CHUNKS_PER_SOURCE: usize = 20;
const WARM_UP: usize = 300;
const MEASURED: usize = 3_000;
/// Result limits measured: the API's default, and a top-10 page like the anchors' queries.
const LIMITS: [usize; 2] = [100, 10];

fn main() {
    let data = tempfile::tempdir().expect("temp dir");
    let mut server = Server::start(data.path());
    let loaded = Instant::now();
    let (uploaded, refused) = load_corpus(&server);
    let vocabulary = vocabulary();
    load_generated(&server, &vocabulary);
    eprintln!("loaded in {:.1} s", loaded.elapsed().as_secs_f64());
    let queries = queries(&vocabulary);

    let mut client = Client::connect(server.port);
    for query in queries.iter().take(WARM_UP) {
        client.search(query, 100);
    }
    let mut http = Vec::new();
    for limit in LIMITS {
        let mut times = Vec::with_capacity(MEASURED);
        let mut hits = 0usize;
        for query in queries.iter().cycle().take(MEASURED) {
            let started = Instant::now();
            hits += client.search(query, limit);
            times.push(started.elapsed());
        }
        http.push((limit, times, hits));
    }
    drop(client);
    server.stop();

    let index = SearchIndex::open(&data.path().join("data/search-index")).expect("index");
    println!("corpus files uploaded: {uploaded} (refused as designed: {refused})");
    println!("generated text sources: {SOURCES} (~{} chunks)", SOURCES * CHUNKS_PER_SOURCE);
    println!("index documents (chunks, titles, notes): {}", index.document_count());
    for (limit, mut times, hits) in http {
        let mean_hits = hits as f64 / MEASURED as f64;
        report(&format!("HTTP POST /api/search, limit {limit} ({mean_hits:.1} hits)"), &mut times);
    }
    for limit in LIMITS {
        let mut times = time_in_process(&index, &queries, limit);
        report(&format!("in-process SearchIndex::search, limit {limit}"), &mut times);
    }
}

fn time_in_process(index: &SearchIndex, queries: &[String], limit: usize) -> Vec<Duration> {
    let request = |query: &String| SearchRequest {
        query: query.clone(),
        limit,
        sources: true,
        notes: true,
        notebook_id: None,
    };
    for query in queries.iter().take(WARM_UP) {
        index.search(&request(query)).expect("search");
    }
    let mut times = Vec::with_capacity(MEASURED);
    for query in queries.iter().cycle().take(MEASURED) {
        let started = Instant::now();
        std::hint::black_box(index.search(&request(query)).expect("search"));
        times.push(started.elapsed());
    }
    times
}

fn report(label: &str, times: &mut [Duration]) {
    times.sort();
    let at = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    let mean = times.iter().sum::<Duration>() / times.len() as u32;
    println!(
        "{label}: n={} p50={:?} p90={:?} p99={:?} mean={:?} max={:?}",
        times.len(),
        at(0.50),
        at(0.90),
        at(0.99),
        mean,
        times[times.len() - 1]
    );
}

/// The server binary this bench was built with, on a free loopback port.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(dir: &Path) -> Self {
        let port = TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).unwrap().port();
        let child = Command::new(env!("CARGO_BIN_EXE_open-notebook"))
            .env_clear()
            .env("OPEN_NOTEBOOK_PASSWORD", PASSWORD)
            .env("RUST_LOG", "warn")
            .args(["serve", "--data-dir"])
            .arg(dir.join("data"))
            .args(["--api-port", &port.to_string(), "--ui-port", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the server");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "server did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
        Self { child, port }
    }

    fn stop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let _ = self.child.wait();
    }

    fn post(&self, path: &str, content_type: &str, body: &[u8]) -> (u16, String) {
        let mut client = Client::connect(self.port);
        client.send("POST", path, content_type, body)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A keep-alive HTTP/1.1 client for one connection.
struct Client {
    reader: BufReader<TcpStream>,
}

impl Client {
    fn connect(port: u16) -> Self {
        let stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        stream.set_nodelay(true).ok();
        Self { reader: BufReader::new(stream) }
    }

    fn send(&mut self, method: &str, path: &str, content_type: &str, body: &[u8]) -> (u16, String) {
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {PASSWORD}\r\n\
             Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let stream = self.reader.get_mut();
        stream.write_all(head.as_bytes()).and_then(|()| stream.write_all(body)).expect("send");
        self.read_response()
    }

    fn read_response(&mut self) -> (u16, String) {
        let mut line = String::new();
        self.reader.read_line(&mut line).expect("status line");
        let status = line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let mut length = 0;
        loop {
            line.clear();
            self.reader.read_line(&mut line).expect("header");
            if line == "\r\n" {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse().unwrap_or(0);
            }
        }
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).expect("body");
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    /// Runs one search; returns the number of results.
    fn search(&mut self, query: &str, limit: usize) -> usize {
        let body = serde_json::json!({ "query": query, "limit": limit }).to_string();
        let (status, text) = self.send("POST", "/api/search", "application/json", body.as_bytes());
        assert_eq!(status, 200, "{query}: {text}");
        let parsed: serde_json::Value = serde_json::from_str(&text).expect("JSON");
        parsed["total_count"].as_u64().unwrap_or(0) as usize
    }
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus")
}

/// Uploads every corpus document; returns (accepted, refused).
fn load_corpus(server: &Server) -> (usize, usize) {
    let (mut uploaded, mut refused) = (0, 0);
    for folder in ["pdf", "docx", "markdown", "converted"] {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(corpus_dir().join(folder))
            .expect("corpus folder")
            .map(|e| e.expect("entry").path())
            .collect();
        paths.sort();
        for path in paths {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with("LICENSE") || name.starts_with("README") || name.ends_with(".tex") {
                continue;
            }
            let bytes = std::fs::read(&path).expect("read corpus file");
            let (content_type, body) = multipart(&name, &bytes);
            match server.post("/api/sources/upload", &content_type, &body) {
                (200, _) => uploaded += 1,
                (400..=499, _) => refused += 1,
                (status, text) => panic!("{name}: {status} {text}"),
            }
        }
    }
    (uploaded, refused)
}

fn multipart(name: &str, bytes: &[u8]) -> (String, Vec<u8>) {
    let boundary = "bench-boundary-5d1e";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n\
         Content-Type: application/octet-stream\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// Distinct lower-case words of the Markdown chapters, most frequent first.
fn vocabulary() -> Vec<String> {
    let mut counts = std::collections::HashMap::<String, usize>::new();
    for entry in std::fs::read_dir(corpus_dir().join("markdown")).expect("markdown folder") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "md") {
            let text = std::fs::read_to_string(&path).expect("read chapter");
            for word in text.split(|c: char| !c.is_ascii_alphabetic()).filter(|w| w.len() > 2) {
                *counts.entry(word.to_ascii_lowercase()).or_default() += 1;
            }
        }
    }
    let mut words: Vec<(String, usize)> = counts.into_iter().collect();
    words.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    words.into_iter().map(|(w, _)| w).collect()
}

/// A small deterministic generator (xorshift), so every run indexes the same text.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A Zipf-like pick: low indexes (frequent words) far more often than high ones.
    fn word<'a>(&mut self, words: &'a [String]) -> &'a str {
        let u = (self.next() % 1_000_000) as f64 / 1_000_000.0;
        let index = ((words.len() as f64).powf(u) - 1.0) as usize;
        &words[index.min(words.len() - 1)]
    }
}

/// Stores generated prose as text sources, about `CHUNKS_PER_SOURCE` chunks each.
fn load_generated(server: &Server, words: &[String]) {
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let bytes_per_source = CHUNKS_PER_SOURCE * 1_800 + 200;
    for n in 0..SOURCES {
        let mut text = String::with_capacity(bytes_per_source + 16);
        while text.len() < bytes_per_source {
            text.push_str(rng.word(words));
            text.push(' ');
        }
        let body = serde_json::json!({
            "type": "text",
            "title": format!("Generated {n}"),
            "content": text,
        });
        let (status, reply) =
            server.post("/api/sources/json", "application/json", body.to_string().as_bytes());
        assert_eq!(status, 200, "generated source {n}: {reply}");
    }
}

/// Two-word queries: the corpus topics, then pairs of mid-frequency words.
fn queries(words: &[String]) -> Vec<String> {
    let mut queries: Vec<String> = [
        "references borrowing",
        "hash maps",
        "closures environment",
        "traits behavior",
        "error handling",
        "cargo workspaces",
        "string slices",
        "enum variants",
    ]
    .map(String::from)
    .to_vec();
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let middle = &words[50.min(words.len())..2_000.min(words.len())];
    while queries.len() < 1_000 {
        let a = &middle[(rng.next() % middle.len() as u64) as usize];
        let b = &middle[(rng.next() % middle.len() as u64) as usize];
        queries.push(format!("{a} {b}"));
    }
    queries
}
