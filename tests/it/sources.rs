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
