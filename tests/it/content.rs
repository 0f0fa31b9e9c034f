//! Every document of the shared corpus uploaded through the API, found by search, and
//! found first by a query on its own topic; refused documents leave nothing behind.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Value, json};

use crate::harness::{Server, corpus};

/// Corpus files that must be refused with a clear 4xx: (file, words the detail must hold).
const REFUSED: &[(&str, &str)] = &[
    ("pdf/libreoffice-writer-password.pdf", "password-protected"),
    // An untouched default Word document: no text at all, so nothing to search.
    ("docx/doc-default.docx", "No text was found"),
];

/// A server holding the whole corpus, with one notebook per folder and extension.
struct Library {
    server: Server,
    /// corpus-relative path → source id
    sources: BTreeMap<String, String>,
    /// `folder/extension` (and `converted`) → notebook id
    notebooks: BTreeMap<String, String>,
}

fn is_document(path: &Path) -> bool {
    let name = path.file_name().unwrap().to_string_lossy();
    !(name.starts_with("LICENSE") || name.starts_with("README") || name.ends_with(".tex"))
}

fn corpus_files() -> Vec<String> {
    let mut files = Vec::new();
    for folder in ["pdf", "docx", "markdown", "converted"] {
        for entry in std::fs::read_dir(corpus(folder)).unwrap() {
            let path = entry.unwrap().path();
            if is_document(&path) {
                let name = path.file_name().unwrap().to_string_lossy().into_owned();
                files.push(format!("{folder}/{name}"));
            }
        }
    }
    files.sort();
    files
}

fn group_of(relative: &str) -> String {
    let (folder, name) = relative.split_once('/').unwrap();
    let extension = name.rsplit('.').next().unwrap();
    format!("{folder}/{extension}")
}

impl Library {
    fn load() -> Self {
        let server = Server::start();
        let mut library = Library { server, sources: BTreeMap::new(), notebooks: BTreeMap::new() };
        let converted = library.server.notebook("converted");
        library.notebooks.insert("converted".into(), converted.clone());
        for relative in corpus_files() {
            if REFUSED.iter().any(|(file, _)| *file == relative) {
                continue;
            }
            let notebook = library.notebook_for(&group_of(&relative));
            let id = library.upload(&relative, &notebook);
            if relative.starts_with("converted/") {
                let path = format!("/api/notebooks/{converted}/sources/{id}");
                assert_eq!(library.server.call("POST", &path, None).status, 200);
            }
            library.sources.insert(relative, id);
        }
        library
    }

    fn notebook_for(&mut self, group: &str) -> String {
        if let Some(id) = self.notebooks.get(group) {
            return id.clone();
        }
        let id = self.server.notebook(group);
        self.notebooks.insert(group.to_string(), id.clone());
        id
    }

    fn upload(&self, relative: &str, notebook: &str) -> String {
        let bytes = std::fs::read(corpus(relative)).unwrap();
        let name = relative.rsplit('/').next().unwrap();
        let response = self.server.upload(name, &bytes, &[("notebook_id", notebook)]);
        assert_eq!(response.status, 200, "{relative}: {}", response.text());
        let body = response.json();
        assert_eq!(body["status"], "completed", "{relative}: {body}");
        body["id"].as_str().unwrap().to_string()
    }

    fn relative_of(&self, id: &str) -> String {
        let found = self.sources.iter().find(|(_, v)| v.as_str() == id);
        found.map_or_else(|| id.to_string(), |(k, _)| k.clone())
    }

    /// Corpus files of the search results, best first, within one notebook group.
    fn ranked(&self, query: &str, group: Option<&str>) -> Vec<String> {
        let notebook = group.map(|g| self.notebooks[g].clone());
        let body = self.server.search(query, json!({ "notebook_id": notebook, "limit": 20 }));
        let results = body["results"].as_array().unwrap();
        results.iter().map(|r| self.relative_of(r["id"].as_str().unwrap())).collect()
    }

    fn assert_first(&self, query: &str, group: Option<&str>, expected: &str) {
        let ranked = self.ranked(query, group);
        assert_eq!(
            ranked.first().map(String::as_str),
            Some(expected),
            "query {query:?} in {group:?} ranked {ranked:?}"
        );
    }
}

/// A phrase of three consecutive plain words from the middle of `text`, else one word.
fn phrase_from(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let plain = |w: &&str| w.len() >= 3 && w.chars().all(|c| c.is_ascii_alphabetic());
    let start = words.len() / 3;
    for window in words[start..].windows(3).chain(words.windows(3)) {
        if window.iter().all(plain) {
            return format!("\"{}\"", window.join(" "));
        }
    }
    let longest = words.iter().filter(|w| w.chars().all(char::is_alphanumeric));
    longest.max_by_key(|w| w.chars().count()).unwrap_or(&"").to_string()
}

fn listed_source_ids(server: &Server) -> Vec<String> {
    let mut ids = Vec::new();
    for offset in (0..).step_by(100) {
        let page = server.call("GET", &format!("/api/sources?limit=100&offset={offset}"), None);
        let page = page.json();
        let page = page.as_array().unwrap();
        ids.extend(page.iter().map(|s| s["id"].as_str().unwrap().to_string()));
        if page.len() < 100 {
            return ids;
        }
    }
    unreachable!()
}

fn stored_files(server: &Server) -> usize {
    std::fs::read_dir(server.data_dir().join("uploads")).unwrap().count()
}

#[test]
fn every_corpus_document_becomes_a_searchable_source_found_first_on_its_topic() {
    let library = Library::load();
    let expected = corpus_files().len() - REFUSED.len();
    assert_eq!(library.sources.len(), expected);
    assert_eq!(listed_source_ids(&library.server).len(), expected);
    assert_eq!(stored_files(&library.server), expected);
    every_source_is_found_by_its_own_words(&library);
    topics_rank_their_documents_first(&library);
    refused_corpus_documents_leave_nothing(&library);
}

fn every_source_is_found_by_its_own_words(library: &Library) {
    for (relative, id) in &library.sources {
        let source = library.server.call("GET", &format!("/api/sources/{id}"), None).json();
        let text = source["full_text"].as_str().unwrap_or_default();
        assert!(text.chars().any(char::is_alphanumeric), "{relative} has no text: {source}");
        let query = phrase_from(text);
        let notebook = &library.notebooks[&group_of(relative)];
        let body = library.server.search(&query, json!({ "notebook_id": notebook, "limit": 1000 }));
        let found = body["results"].as_array().unwrap().iter().any(|r| r["id"] == id.as_str());
        assert!(found, "{relative} not found by {query}: {body}");
    }
}

fn topics_rank_their_documents_first(library: &Library) {
    let chapter = "ch04-02-references-and-borrowing";
    for group in ["markdown/md", "converted/docx", "converted/html"] {
        let (folder, extension) = group.split_once('/').unwrap();
        library.assert_first(
            "references borrowing",
            Some(group),
            &format!("{folder}/{chapter}.{extension}"),
        );
    }
    let mut top_three = library.ranked("references borrowing", None);
    top_three.truncate(3);
    top_three.sort();
    assert_eq!(
        top_three,
        [
            format!("converted/{chapter}.docx"),
            format!("converted/{chapter}.html"),
            format!("markdown/{chapter}.md"),
        ],
        "every format of the chapter outranks the rest of the corpus"
    );
    let cases: &[(&str, Option<&str>, &str)] = &[
        (
            "variables mutability shadowing",
            Some("converted"),
            "converted/ch03-common-concepts.epub",
        ),
        ("enum variants", Some("converted"), "converted/ch06-01-defining-an-enum.odt"),
        ("UTF-8 encoded strings", Some("converted/docx"), "converted/ch08-02-strings.docx"),
        ("UTF-8 encoded strings", Some("markdown/md"), "markdown/ch08-02-strings.md"),
        ("traits shared behavior", Some("converted/html"), "converted/ch10-02-traits.html"),
        ("traits shared behavior", Some("markdown/md"), "markdown/ch10-02-traits.md"),
        ("closures capture environment", Some("converted/docx"), "converted/ch13-01-closures.docx"),
        ("closures capture environment", Some("markdown/md"), "markdown/ch13-01-closures.md"),
        ("defining an enum", Some("markdown/md"), "markdown/ch06-01-defining-an-enum.md"),
        (
            "recoverable errors Result",
            Some("markdown/md"),
            "markdown/ch09-02-recoverable-errors-with-result.md",
        ),
        (
            "recoverable errors Result",
            Some("converted/html"),
            "converted/ch09-02-recoverable-errors-with-result.html",
        ),
        ("hash maps", None, "markdown/ch08-03-hash-maps.md"),
        ("cargo workspaces", None, "markdown/ch14-03-cargo-workspaces.md"),
        ("guessing game", None, "markdown/ch02-00-guessing-game-tutorial.md"),
        ("misfits rebels troublemakers", None, "pdf/crazyones-pdfa.pdf"),
        ("habibi", None, "pdf/habibi.pdf"),
        ("two-column document", None, "pdf/multicolumn.pdf"),
        ("Foo Bar Baz", None, "pdf/pdflatex-outline.pdf"),
        ("PDF Example Document", None, "pdf/google-doc-document.pdf"),
        ("beautiful better than ugly", None, "pdf/google-doc-document.pdf"),
        ("awesome hyperlink", None, "docx/par-hyperlinks.docx"),
        ("section header", Some("docx/docx"), "docx/hdr-header-footer.docx"),
        ("List Number style", None, "docx/num-having-numbering-part.docx"),
        ("worthy of note", None, "docx/comments-rich-para.docx"),
    ];
    for (query, group, expected) in cases {
        library.assert_first(query, *group, expected);
    }
}

fn refused_corpus_documents_leave_nothing(library: &Library) {
    let server = &library.server;
    let (sources, files) = (listed_source_ids(server).len(), stored_files(server));
    for (relative, why) in REFUSED {
        let bytes = std::fs::read(corpus(relative)).unwrap();
        let name = relative.rsplit('/').next().unwrap();
        let response = server.upload(name, &bytes, &[]);
        assert!((400..500).contains(&response.status), "{relative}: {}", response.text());
        let detail = response.json()["detail"].as_str().unwrap().to_string();
        assert!(detail.contains(why), "{relative}: {detail}");
    }
    assert_eq!(listed_source_ids(server).len(), sources);
    assert_eq!(stored_files(server), files);
    for query in ["password", "libreoffice", "default"] {
        let body = server.search(query, json!({}));
        let titles: Vec<&Value> = body["results"].as_array().unwrap().iter().collect();
        assert!(
            titles.iter().all(|r| !r["title"].as_str().unwrap_or("").contains(query)),
            "{query}: {body}"
        );
    }
}

/// Deterministic noise that no detector mistakes for a document.
fn random_bytes(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

fn assert_refused(server: &Server, name: &str, bytes: &[u8], status: u16, words: &str) {
    let response = server.upload(name, bytes, &[]);
    assert_eq!(response.status, status, "{name}: {}", response.text());
    let detail = response.json()["detail"].as_str().unwrap().to_string();
    assert!(detail.contains(words), "{name}: {detail}");
    assert!(listed_source_ids(server).is_empty(), "{name} left a source row");
    assert_eq!(stored_files(server), 0, "{name} left a stored file");
}

#[test]
fn unsupported_empty_and_corrupt_uploads_are_clear_4xx_and_leave_nothing() {
    let server = Server::start();
    let noise = random_bytes(4096);
    assert_refused(&server, "noise.bin", &noise, 415, "(detected type: application/octet-stream)");
    assert_refused(&server, "notes.txt", &noise, 415, "detected type");
    let mut png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    png.extend(random_bytes(200));
    assert_refused(&server, "picture.png", &png, 415, "(detected type: image/png)");
    assert_refused(&server, "empty.txt", b"", 422, "No text was found");
    assert_refused(&server, "blank.md", b" \n\t\n", 422, "No text was found");
    let pdf = std::fs::read(corpus("pdf/crazyones-pdfa.pdf")).unwrap();
    assert_refused(&server, "truncated.pdf", &pdf[..pdf.len() / 3], 422, "could not be read");
    assert_refused(&server, "header-only.pdf", b"%PDF-1.7\n", 422, "could not be read");
    let protected = std::fs::read(corpus("pdf/libreoffice-writer-password.pdf")).unwrap();
    assert_refused(&server, "protected.pdf", &protected, 422, "password-protected");
    assert!(server.search_ids("crazy misfits").is_empty());
}

#[test]
fn a_corrupt_upload_processed_in_the_background_fails_with_a_reason() {
    let server = Server::start();
    let pdf = std::fs::read(corpus("pdf/crazyones-pdfa.pdf")).unwrap();
    let response = server.upload("cut.pdf", &pdf[..pdf.len() / 3], &[("async_processing", "true")]);
    assert_eq!(response.status, 200, "{}", response.text());
    let body = response.json();
    assert_eq!(body["status"], "new");
    let job = server.wait_for_job(body["command_id"].as_str().unwrap(), secs(30));
    assert_eq!(job["status"], "failed");
    assert!(job["error_message"].as_str().unwrap().contains("could not be read"), "{job}");
    let id = body["id"].as_str().unwrap();
    let status = server.call("GET", &format!("/api/sources/{id}/status"), None);
    let status = status.json();
    assert_eq!(status["status"], "failed");
    assert_eq!(status["message"], "Source processing failed");
    assert!(status["processing_info"]["error"].as_str().unwrap().contains("could not be read"));
}

fn secs(n: u64) -> std::time::Duration {
    std::time::Duration::from_secs(n)
}

#[test]
fn uploads_of_one_name_are_stored_as_name_and_name_1() {
    let server = Server::start();
    let bytes = std::fs::read(corpus("pdf/minimal-document.pdf")).unwrap();
    let names: Vec<String> = (0..3)
        .map(|_| {
            let body = server.upload("../../x.pdf", &bytes, &[]).json();
            let path = body["asset"]["file_path"].as_str().unwrap().to_string();
            let path = Path::new(&path);
            assert_eq!(path.parent().unwrap(), server.data_dir().join("uploads").as_path());
            path.file_name().unwrap().to_string_lossy().into_owned()
        })
        .collect();
    assert_eq!(names, ["x.pdf", "x (1).pdf", "x (2).pdf"]);
}
