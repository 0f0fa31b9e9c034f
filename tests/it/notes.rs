//! Notes through every route, their validation, and notes in search (per notebook, and
//! with sources or notes left out).

use serde_json::{Value, json};

use crate::harness::Server;

fn create_note(server: &Server, body: Value) -> Value {
    let response = server.call("POST", "/api/notes", Some(&body));
    assert_eq!(response.status, 200, "{}", response.text());
    response.json()
}

#[test]
fn notes_round_trip_through_every_route() {
    let server = Server::start();
    let notebook = server.notebook("Field trip");
    let note = create_note(
        &server,
        json!({
            "title": "Harbour",
            "content": "Seals bask on the breakwater.",
            "notebook_id": notebook,
        }),
    );
    let id = note["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("note:"));
    assert_eq!(note["note_type"], "human");
    assert_eq!(note["content"], "Seals bask on the breakwater.");
    assert_eq!(note["command_id"], Value::Null);
    let loose = create_note(&server, json!({ "content": "Loose thought", "note_type": "ai" }));

    let path = format!("/api/notes/{id}");
    assert_eq!(server.call("GET", &path, None).json(), note);
    let all = server.call("GET", "/api/notes", None).json();
    assert_eq!(all.as_array().unwrap().len(), 2);
    assert_eq!(all[0]["id"], loose["id"], "newest update first");
    assert_eq!(all[1]["content"], "Seals bask on the breakwater.");
    let in_notebook = server.call("GET", &format!("/api/notes?notebook_id={notebook}"), None);
    let in_notebook = in_notebook.json();
    assert_eq!(in_notebook.as_array().unwrap().len(), 1);
    assert_eq!(in_notebook[0]["id"], id.as_str());
    assert_eq!(in_notebook[0]["content"], Value::Null, "notebook lists omit content");
    let counted = server.call("GET", &format!("/api/notebooks/{notebook}"), None).json();
    assert_eq!(counted["note_count"], 1);

    let updated = server.call("PUT", &path, Some(&json!({ "content": "Puffins nest above." })));
    assert_eq!(updated.status, 200);
    assert_eq!(updated.json()["title"], "Harbour", "absent fields stay");
    assert_eq!(updated.json()["content"], "Puffins nest above.");
    assert_eq!(server.search_ids("puffins"), [id.as_str()]);
    assert!(server.search_ids("seals").is_empty(), "old content left the index");

    let deleted = server.call("DELETE", &path, None);
    assert_eq!(deleted.json(), json!({ "message": "Note deleted successfully" }));
    let gone = server.call("GET", &path, None);
    assert_eq!((gone.status, gone.json()), (404, json!({ "detail": "Note not found" })));
    assert_eq!(server.call("DELETE", &path, None).status, 404);
    assert!(server.search_ids("puffins").is_empty());
    let counted = server.call("GET", &format!("/api/notebooks/{notebook}"), None).json();
    assert_eq!(counted["note_count"], 0);
}

#[test]
fn blank_content_is_400_on_create_and_update_and_changes_nothing() {
    let server = Server::start();
    let blank = server.call("POST", "/api/notes", Some(&json!({ "content": " \n " })));
    assert_eq!(
        (blank.status, blank.json()),
        (400, json!({ "detail": "Note content cannot be empty" }))
    );
    let missing = server.call("POST", "/api/notes", Some(&json!({ "title": "x" })));
    assert_eq!(missing.status, 422);
    let bad_type =
        server.call("POST", "/api/notes", Some(&json!({ "content": "x", "note_type": "bot" })));
    assert_eq!(
        (bad_type.status, bad_type.json()),
        (400, json!({ "detail": "note_type must be 'human' or 'ai'" }))
    );
    let orphan = server.call(
        "POST",
        "/api/notes",
        Some(&json!({ "content": "x", "notebook_id": "notebook:missing" })),
    );
    assert_eq!((orphan.status, orphan.json()), (404, json!({ "detail": "Notebook not found" })));
    assert_eq!(server.call("GET", "/api/notes", None).json(), json!([]));
    let unknown_notebook = server.call("GET", "/api/notes?notebook_id=notebook:missing", None);
    assert_eq!(unknown_notebook.status, 404);

    let note = create_note(&server, json!({ "content": "Kelp forests sway." }));
    let path = format!("/api/notes/{}", note["id"].as_str().unwrap());
    let blank_update = server.call("PUT", &path, Some(&json!({ "content": "\t" })));
    assert_eq!(
        (blank_update.status, blank_update.json()),
        (400, json!({ "detail": "Note content cannot be empty" }))
    );
    let bad_update = server.call("PUT", &path, Some(&json!({ "note_type": "robot" })));
    assert_eq!(bad_update.status, 400);
    assert_eq!(server.call("GET", &path, None).json(), note, "refused updates change nothing");
    let missing_note =
        server.call("PUT", "/api/notes/note:missing", Some(&json!({ "title": "t" })));
    assert_eq!(missing_note.status, 404);
}

#[test]
fn search_can_be_limited_to_one_notebook_and_to_sources_or_notes() {
    let server = Server::start();
    let (coast, inland) = (server.notebook("Coast"), server.notebook("Inland"));
    let coast_note = create_note(
        &server,
        json!({ "content": "The lighthouse keeper logs storms.", "notebook_id": coast }),
    );
    let inland_note = create_note(
        &server,
        json!({ "content": "A lighthouse replica stands in the park.", "notebook_id": inland }),
    );
    let coast_source =
        server.text_source("Lighthouse lenses focus the beam.", json!({ "notebook_id": coast }));
    let loose_source = server.text_source("A lighthouse on a hill.", json!({}));
    let id = |v: &Value| v["id"].as_str().unwrap().to_string();
    let ids = |fields: Value| -> Vec<String> {
        let body = server.search("lighthouse", fields);
        assert_eq!(body["search_type"], "text");
        assert_eq!(body["total_count"], body["results"].as_array().unwrap().len());
        let mut ids: Vec<String> = body["results"].as_array().unwrap().iter().map(id).collect();
        ids.sort();
        ids
    };
    let sorted = |mut v: Vec<String>| {
        v.sort();
        v
    };
    assert_eq!(ids(json!({})).len(), 4);
    assert_eq!(
        ids(json!({ "notebook_id": coast })),
        sorted(vec![id(&coast_note), id(&coast_source)])
    );
    assert_eq!(ids(json!({ "notebook_id": inland })), vec![id(&inland_note)]);
    assert_eq!(
        ids(json!({ "search_notes": false })),
        sorted(vec![id(&coast_source), id(&loose_source)])
    );
    assert_eq!(
        ids(json!({ "search_sources": false })),
        sorted(vec![id(&coast_note), id(&inland_note)])
    );
    assert_eq!(
        ids(json!({ "search_sources": false, "notebook_id": coast })),
        vec![id(&coast_note)]
    );
    assert!(ids(json!({ "search_sources": false, "search_notes": false })).is_empty());
    let note_hit = &server.search("keeper", json!({}))["results"][0];
    assert_eq!(note_hit["parent_id"], note_hit["id"]);
    assert!(note_hit["snippet"].as_str().unwrap().contains("<b>keeper</b>"));
}
