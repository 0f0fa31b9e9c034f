//! Notebook CRUD, `order_by`, validation errors, body limits and durability.

use serde_json::{Value, json};

use crate::harness::{Options, PASSWORD, Server, raw_request};

fn create(server: &Server, name: &str) -> Value {
    let response = server.call("POST", "/api/notebooks", Some(&json!({ "name": name })));
    assert_eq!(response.status, 200, "{}", response.text());
    response.json()
}

#[test]
fn notebook_crud_round_trip() {
    let server = Server::start();
    let created = server.call(
        "POST",
        "/api/notebooks",
        Some(&json!({ "name": "Thesis", "description": "chapter notes", "extra": 1 })),
    );
    assert_eq!(created.status, 200);
    let notebook = created.json();
    let id = notebook["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("notebook:"));
    assert_eq!(notebook["name"], "Thesis");
    assert_eq!(
        (notebook["source_count"].clone(), notebook["note_count"].clone()),
        (json!(0), json!(0))
    );
    assert_eq!(notebook["archived"], false);

    let path = format!("/api/notebooks/{id}");
    assert_eq!(server.call("GET", &path, None).json()["description"], "chapter notes");
    let updated = server.call("PUT", &path, Some(&json!({ "archived": true, "name": null })));
    assert_eq!(updated.json()["archived"], true);
    assert_eq!(updated.json()["name"], "Thesis", "null leaves the name unchanged");

    let archived = server.call("GET", "/api/notebooks?archived=true", None).json();
    assert_eq!(archived.as_array().unwrap().len(), 1);
    let active = server.call("GET", "/api/notebooks?archived=false", None).json();
    assert_eq!(active, json!([]));

    let preview = server.call("GET", &format!("{path}/delete-preview"), None).json();
    assert_eq!(preview["notebook_name"], "Thesis");
    let deleted = server.call("DELETE", &path, None);
    assert_eq!(deleted.json()["message"], "Notebook deleted successfully");
    let gone = server.call("GET", &path, None);
    assert_eq!((gone.status, gone.json()), (404, json!({ "detail": "Notebook not found" })));
}

#[test]
fn blank_names_are_400_and_missing_names_422() {
    let server = Server::start();
    let blank = server.call("POST", "/api/notebooks", Some(&json!({ "name": "  " })));
    assert_eq!(
        (blank.status, blank.json()),
        (400, json!({ "detail": "Notebook name cannot be empty" }))
    );
    let missing = server.call("POST", "/api/notebooks", Some(&json!({ "description": "x" })));
    assert_eq!(missing.status, 422);
    assert_eq!(missing.json()["detail"][0]["loc"], json!(["body", "name"]));
    let id = create(&server, "Kept")["id"].as_str().unwrap().to_string();
    let update = server.call("PUT", &format!("/api/notebooks/{id}"), Some(&json!({ "name": "" })));
    assert_eq!(
        (update.status, update.json()),
        (400, json!({ "detail": "Notebook name cannot be empty" }))
    );
    assert_eq!(server.call("GET", &format!("/api/notebooks/{id}"), None).json()["name"], "Kept");
}

#[test]
fn order_by_sorts_and_rejects_bad_values_with_the_original_texts() {
    let server = Server::start();
    for name in ["banana", "Apple", "cherry"] {
        create(&server, name);
    }
    let names = |query: &str| -> Vec<String> {
        let list = server.call("GET", &format!("/api/notebooks?order_by={query}"), None).json();
        list.as_array().unwrap().iter().map(|n| n["name"].as_str().unwrap().to_string()).collect()
    };
    assert_eq!(names("name"), ["Apple", "banana", "cherry"]);
    assert_eq!(names("name%20DESC"), ["cherry", "banana", "Apple"]);
    assert_eq!(names("created%20asc"), ["banana", "Apple", "cherry"]);
    assert_eq!(names("updated%20desc")[0], "cherry");

    let cases = [
        ("title", "Invalid order_by field: 'title'. Allowed fields: created, name, updated"),
        (
            "name%20sideways",
            "Invalid order_by: 'name sideways'. Allowed fields: created, name, updated. \
             Allowed directions: asc, desc",
        ),
        (
            "name%20asc%20now",
            "Invalid order_by format: 'name asc now'. Expected 'field' or 'field direction'",
        ),
    ];
    for (query, detail) in cases {
        let response = server.call("GET", &format!("/api/notebooks?order_by={query}"), None);
        assert_eq!((response.status, response.json()), (400, json!({ "detail": detail })));
    }
}

#[test]
fn broken_json_is_a_422_list_and_changes_nothing() {
    let server = Server::start();
    let auth = format!("Bearer {PASSWORD}");
    for body in [&b"{\"name\": "[..], b"not json", b"[1,2]", b"{\"name\": 5}"] {
        let response = crate::harness::request(
            server.port,
            "POST",
            "/api/notebooks",
            &[("Authorization", &auth), ("Content-Type", "application/json")],
            Some(body),
        );
        assert_eq!(response.status, 422, "{}", response.text());
        assert!(response.json()["detail"].is_array());
    }
    assert_eq!(server.call("GET", "/api/notebooks", None).json(), json!([]));
}

#[test]
fn bodies_over_the_limit_get_the_original_413_declared_or_streamed() {
    let server =
        Server::start_with(Options::default().env("OPEN_NOTEBOOK_MAX_UPLOAD_SIZE_MB", "0.01"));
    let expected = json!({ "detail": "Request body exceeds the maximum allowed upload size" });
    let big = vec![b'a'; 20_000];
    let declared = server.upload("big.txt", &big, &[]);
    assert_eq!((declared.status, declared.json()), (413, expected.clone()));

    let mut chunked = format!(
        "POST /api/notebooks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {PASSWORD}\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    for _ in 0..5 {
        chunked.extend_from_slice(format!("{:x}\r\n", 4096).as_bytes());
        chunked.extend_from_slice(&[b' '; 4096]);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let streamed = raw_request(server.port, &chunked);
    assert_eq!((streamed.status, streamed.json()), (413, expected));
    assert_eq!(server.call("GET", "/api/notebooks", None).json(), json!([]));
}

#[test]
fn acknowledged_notebooks_survive_kill_and_restart() {
    let mut server = Server::start();
    let ids: Vec<String> = (0..5)
        .map(|i| create(&server, &format!("nb {i}"))["id"].as_str().unwrap().into())
        .collect();
    server.crash_and_restart();
    let listed = server.call("GET", "/api/notebooks", None).json();
    let mut found: Vec<String> =
        listed.as_array().unwrap().iter().map(|n| n["id"].as_str().unwrap().to_string()).collect();
    found.sort();
    let mut expected = ids.clone();
    expected.sort();
    assert_eq!(found, expected);
    server.restart();
    assert_eq!(server.call("GET", "/api/notebooks", None).json().as_array().unwrap().len(), 5);
}

#[test]
fn recently_viewed_lists_opened_notebooks_newest_first() {
    let server = Server::start();
    let first = create(&server, "first")["id"].as_str().unwrap().to_string();
    let second = create(&server, "second")["id"].as_str().unwrap().to_string();
    server.call("GET", &format!("/api/notebooks/{first}"), None);
    server.call("GET", &format!("/api/notebooks/{second}"), None);
    let recent = server.call("GET", "/api/recently-viewed?limit=5", None).json();
    let ids: Vec<&str> =
        recent.as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [second.as_str(), first.as_str()]);
    assert_eq!(recent[0]["type"], "notebook");
    assert_eq!(server.call("GET", "/api/recently-viewed?limit=0", None).status, 422);
}
