//! Sources through the upload route, found by search, and kept across a crash.

use serde_json::json;

use crate::harness::{Server, corpus};

fn upload_corpus(server: &Server, relative: &str, notebook: Option<&str>) -> serde_json::Value {
    let path = corpus(relative);
    let bytes = std::fs::read(&path).unwrap();
    let name = path.file_name().unwrap().to_str().unwrap();
    let fields: Vec<(&str, &str)> =
        notebook.map(|id| vec![("notebook_id", id)]).unwrap_or_default();
    let response = server.upload(name, &bytes, &fields);
    assert_eq!(response.status, 200, "{relative}: {}", response.text());
    response.json()
}

#[test]
fn uploaded_pdfs_are_found_by_their_own_words_and_survive_kill() {
    let mut server = Server::start();
    let notebook = server.call("POST", "/api/notebooks", Some(&json!({ "name": "Papers" }))).json();
    let notebook_id = notebook["id"].as_str().unwrap();
    let latex = upload_corpus(&server, "pdf/pdflatex-4-pages.pdf", Some(notebook_id));
    let crazy = upload_corpus(&server, "pdf/crazyones-pdfa.pdf", None);
    let latex_id = latex["id"].as_str().unwrap().to_string();
    let crazy_id = crazy["id"].as_str().unwrap().to_string();
    assert!(latex_id.starts_with("source:"));
    assert_eq!(latex["status"], "completed");
    assert_eq!(latex["notebooks"], json!([notebook_id]));

    assert_eq!(server.search_ids("misfits rebels troublemakers").first(), Some(&crazy_id));
    assert_eq!(server.search_ids("printed text information").first(), Some(&latex_id));

    server.crash_and_restart();
    let listed = server.call("GET", &format!("/api/notebooks/{notebook_id}"), None).json();
    assert_eq!(listed["source_count"], 1);
    let source = server.call("GET", &format!("/api/sources/{latex_id}"), None).json();
    assert!(source["full_text"].as_str().unwrap().contains("without a meaning"));
    assert_eq!(server.search_ids("misfits").first(), Some(&crazy_id));
    assert_eq!(server.search_ids("without meaning").first(), Some(&latex_id));
}

#[test]
fn search_response_has_the_original_shape() {
    let server = Server::start();
    let uploaded = upload_corpus(&server, "pdf/crazyones-pdfa.pdf", None);
    let response =
        server.call("POST", "/api/search", Some(&json!({ "query": "misfits", "type": "text" })));
    let body = response.json();
    assert_eq!(body["search_type"], "text");
    assert_eq!(body["total_count"], 1);
    let hit = &body["results"][0];
    assert_eq!(hit["id"], uploaded["id"]);
    assert_eq!(hit["parent_id"], uploaded["id"]);
    assert!(hit["relevance"].as_f64().unwrap() > 0.0);
    assert!(hit["snippet"].as_str().unwrap().contains("<b>misfits</b>"));

    let empty = server.call("POST", "/api/search", Some(&json!({ "query": "  " })));
    assert_eq!(
        (empty.status, empty.json()),
        (400, json!({ "detail": "Search keyword cannot be empty" }))
    );
    let vector =
        server.call("POST", "/api/search", Some(&json!({ "query": "x", "type": "vector" })));
    assert_eq!(
        (vector.status, vector.json()),
        (
            400,
            json!({ "detail": "Vector search requires an embedding model. \
                               Please configure one in the Models section." })
        )
    );
    let unparsable = server.call("POST", "/api/search", Some(&json!({ "query": "title:(" })));
    assert_eq!(unparsable.status, 400, "{}", unparsable.text());
}

/// A one-page PDF saying `text`, plus an object of `depth` nested dictionaries.
fn pdf_with_nested_dicts(text: &str, depth: usize) -> Vec<u8> {
    let content = format!("BT /F1 12 Tf 72 712 Td ({text}) Tj ET");
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R \
         /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_string(),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>".to_string(),
        format!("{}{}", "<< /A ".repeat(depth), ">>".repeat(depth)),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (n, object) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{object}\nendobj\n", n + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

#[test]
fn hostile_pdfs_never_take_the_server_down() {
    let server = Server::start();
    let nested = server.upload("nested.pdf", &pdf_with_nested_dicts("quokka", 1_000), &[]);
    assert_eq!(nested.status, 200, "a deep but sane PDF is read: {}", nested.text());
    assert!(nested.json()["full_text"].as_str().unwrap().contains("quokka"));

    let abyss = server.upload("abyss.pdf", &pdf_with_nested_dicts("wombat", 2_000_000), &[]);
    assert!(matches!(abyss.status, 200 | 422), "{}: {}", abyss.status, abyss.text());
    let queued = server.upload(
        "later.pdf",
        &pdf_with_nested_dicts("numbat", 2_000_000),
        &[("async_processing", "true")],
    );
    assert_eq!(queued.status, 200);
    let id = queued.json()["id"].as_str().unwrap().to_string();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let status = loop {
        let status = server.call("GET", &format!("/api/sources/{id}/status"), None).json();
        if status["status"] == "completed" || status["status"] == "failed" {
            break status;
        }
        assert!(std::time::Instant::now() < deadline, "job never ended: {status}");
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    assert!(status["processing_info"]["error"].is_null() == (status["status"] == "completed"));

    assert_eq!(server.get("/health", None).status, 200, "the server is still up");
    let sources = server.call("GET", "/api/sources", None).json();
    let expected = if abyss.status == 200 { 3 } else { 2 };
    assert_eq!(sources.as_array().unwrap().len(), expected, "a refused upload leaves no row");
    assert_eq!(server.search_ids("quokka").len(), 1);
}

#[test]
fn pathological_queries_are_400s_and_the_server_stays_up() {
    let server = Server::start();
    let nested = format!("{}a{}", "(".repeat(5_000), ")".repeat(5_000));
    let long = "word ".repeat(1_000);
    for query in [nested.as_str(), long.as_str(), "title:(", "\"unclosed"] {
        let response = server.call("POST", "/api/search", Some(&json!({ "query": query })));
        assert_eq!(response.status, 400, "{}", response.text());
        assert!(response.json()["detail"].as_str().unwrap().starts_with("Invalid search query"));
    }
    assert_eq!(server.get("/health", None).status, 200);
}
