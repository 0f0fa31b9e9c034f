//! The source list (pagination, sorting, notebook filter, error texts), source edits,
//! retry, download and deletion with its stored file.

use serde_json::{Value, json};

use crate::harness::{Server, corpus};

fn ids_of(server: &Server, query: &str) -> Vec<String> {
    let response = server.call("GET", &format!("/api/sources?{query}"), None);
    assert_eq!(response.status, 200, "{query}: {}", response.text());
    let list = response.json();
    list.as_array().unwrap().iter().map(|s| s["id"].as_str().unwrap().to_string()).collect()
}

fn titled(server: &Server, title: &str, fields: Value) -> String {
    let mut fields = fields;
    fields["title"] = json!(title);
    let source = server.text_source(&format!("{title} body text"), fields);
    source["id"].as_str().unwrap().to_string()
}

#[test]
fn the_source_list_paginates_sorts_with_ties_by_id_and_filters_by_notebook() {
    let server = Server::start();
    let notebook = server.notebook("Shelf");
    let owned = [
        titled(&server, "banana", json!({ "notebook_id": notebook })),
        titled(&server, "Apple", json!({})),
        titled(&server, "cherry", json!({ "notebook_id": notebook })),
        titled(&server, "apple", json!({})),
    ];
    let [b, upper_a, c, lower_a] = owned.each_ref().map(String::as_str);
    let (first_a, second_a) =
        if upper_a < lower_a { (upper_a, lower_a) } else { (lower_a, upper_a) };

    let by_title = ids_of(&server, "sort_by=title&sort_order=asc");
    assert_eq!(by_title, [first_a, second_a, b, c], "case-insensitive, ties by id");
    let by_title_desc = ids_of(&server, "sort_by=title&sort_order=desc");
    assert_eq!(by_title_desc, [c, b, first_a, second_a], "ties stay by id ascending");
    assert_eq!(ids_of(&server, "sort_by=created&sort_order=asc"), [b, upper_a, c, lower_a]);
    assert_eq!(ids_of(&server, ""), [lower_a, c, upper_a, b], "default: updated desc");
    assert_eq!(ids_of(&server, "sort_by=created&sort_order=asc&limit=2&offset=1"), [upper_a, c]);
    assert_eq!(ids_of(&server, "sort_by=created&sort_order=asc&offset=4"), Vec::<String>::new());
    let mut all = owned.to_vec();
    all.sort();
    assert_eq!(ids_of(&server, "sort_by=embedded&sort_order=desc"), all, "all equal: by id");
    assert_eq!(
        ids_of(&server, &format!("notebook_id={notebook}&sort_by=title&sort_order=asc")),
        [b, c]
    );
    let listed = server.call("GET", "/api/sources?limit=1", None).json();
    let item = listed[0].as_object().unwrap();
    for key in [
        "id",
        "title",
        "topics",
        "asset",
        "embedded",
        "embedded_chunks",
        "insights_count",
        "created",
        "updated",
        "file_available",
        "command_id",
        "status",
        "processing_info",
    ] {
        assert!(item.contains_key(key), "{key} missing from {item:?}");
    }
}

#[test]
fn bad_list_parameters_get_the_original_texts() {
    let server = Server::start();
    let expect = |query: &str, status: u16, detail: Option<&str>| {
        let response = server.call("GET", &format!("/api/sources?{query}"), None);
        assert_eq!(response.status, status, "{query}: {}", response.text());
        if let Some(detail) = detail {
            assert_eq!(response.json(), json!({ "detail": detail }));
        }
    };
    expect(
        "sort_by=size",
        400,
        Some("sort_by must be one of: type, title, created, updated, insights_count, embedded"),
    );
    expect("sort_order=up", 400, Some("sort_order must be 'asc' or 'desc'"));
    expect("notebook_id=notebook:missing", 404, Some("Notebook not found"));
    expect("limit=0", 422, None);
    expect("limit=101", 422, None);
    expect("offset=-1", 422, None);
    expect("limit=ten", 422, None);
}

#[test]
fn an_edited_title_is_searchable_as_soon_as_the_edit_returns() {
    let server = Server::start();
    let id = titled(&server, "Draft", json!({}));
    let path = format!("/api/sources/{id}");
    let edited =
        server.call("PUT", &path, Some(&json!({ "title": "Estuary survey", "topics": ["tides"] })));
    assert_eq!(edited.status, 200, "{}", edited.text());
    assert_eq!(edited.json()["title"], "Estuary survey");
    let read = server.call("GET", &path, None).json();
    assert_eq!(
        (read["title"].clone(), read["topics"].clone()),
        (json!("Estuary survey"), json!(["tides"]))
    );
    assert_eq!(server.search_ids("estuary"), [id.as_str()], "searchable on reply");
    let blank = server.call("PUT", &path, Some(&json!({ "title": "  " })));
    assert_eq!(blank.status, 400);
    assert_eq!(server.call("GET", &path, None).json()["title"], "Estuary survey");
    let missing = server.call("PUT", "/api/sources/source:missing", Some(&json!({ "title": "x" })));
    assert_eq!((missing.status, missing.json()), (404, json!({ "detail": "Source not found" })));
}

#[test]
fn an_upload_downloads_heads_and_deletes_with_its_file() {
    let server = Server::start();
    let bytes = std::fs::read(corpus("pdf/crazyones-pdfa.pdf")).unwrap();
    let source = server.upload("crazy ones.pdf", &bytes, &[]).json();
    let id = source["id"].as_str().unwrap();
    assert_eq!(source["file_available"], true);
    let path = format!("/api/sources/{id}/download");
    let download = server.call("GET", &path, None);
    assert_eq!(download.status, 200);
    assert_eq!(download.body, bytes);
    assert_eq!(download.header("content-type"), Some("application/octet-stream"));
    let disposition = download.header("content-disposition").unwrap();
    assert!(disposition.contains("filename=\"crazy ones.pdf\""), "{disposition}");
    let head = server.call("HEAD", &path, None);
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());

    let text = server.text_source("just words", json!({}));
    let no_file = server.call(
        "GET",
        &format!("/api/sources/{}/download", text["id"].as_str().unwrap()),
        None,
    );
    assert_eq!(
        (no_file.status, no_file.json()),
        (404, json!({ "detail": "Source has no file to download" }))
    );
    assert_eq!(server.call("HEAD", "/api/sources/source:missing/download", None).status, 404);

    let stored = source["asset"]["file_path"].as_str().unwrap().to_string();
    let deleted = server.call("DELETE", &format!("/api/sources/{id}"), None);
    assert_eq!(deleted.json(), json!({ "message": "Source deleted successfully" }));
    assert!(!std::path::Path::new(&stored).exists(), "the stored file is removed");
    assert!(server.search_ids("misfits").is_empty());
    assert_eq!(server.call("GET", &path, None).status, 404);
    assert_eq!(server.call("DELETE", &format!("/api/sources/{id}"), None).status, 404);
}

#[test]
fn a_missing_stored_file_is_reported_not_a_500() {
    let server = Server::start();
    let bytes = std::fs::read(corpus("pdf/minimal-document.pdf")).unwrap();
    let source = server.upload("minimal.pdf", &bytes, &[]).json();
    let id = source["id"].as_str().unwrap();
    std::fs::remove_file(source["asset"]["file_path"].as_str().unwrap()).unwrap();
    let download = server.call("GET", &format!("/api/sources/{id}/download"), None);
    assert_eq!(
        (download.status, download.json()),
        (404, json!({ "detail": "File not found on server" }))
    );
    assert_eq!(
        server.call("GET", &format!("/api/sources/{id}"), None).json()["file_available"],
        false
    );
    let retry = server.call("POST", &format!("/api/sources/{id}/retry"), None);
    assert_eq!(retry.status, 400, "{}", retry.text());
}

#[test]
fn a_finished_source_can_be_retried_and_completes_again() {
    let server = Server::start();
    let source = server.text_source("otters juggle pebbles", json!({}));
    let id = source["id"].as_str().unwrap();
    let retry = server.call("POST", &format!("/api/sources/{id}/retry"), None);
    assert_eq!(retry.status, 200, "{}", retry.text());
    let body = retry.json();
    assert_eq!(body["status"], "queued");
    assert_eq!(body["processing_info"], json!({ "retry": true, "queued": true }));
    let job = server
        .wait_for_job(body["command_id"].as_str().unwrap(), std::time::Duration::from_secs(20));
    assert_eq!(job["status"], "completed", "{job}");
    assert_eq!(server.search_ids("otters"), [id]);
}
