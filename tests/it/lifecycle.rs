//! What happens to sources and notes over time: notebook deletion cascades, links, a
//! `kill -9` with many sources, multi-byte text, and rebuilding the index from the database.

use serde_json::{Value, json};

use crate::harness::{Options, Server, run};

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap().to_string()
}

fn sorted(mut ids: Vec<String>) -> Vec<String> {
    ids.sort();
    ids
}

fn search_sorted(server: &Server, query: &str) -> Vec<String> {
    sorted(server.search_ids(query))
}

#[test]
fn deleting_a_notebook_with_its_exclusive_sources_empties_search_but_keeps_shared_ones() {
    let server = Server::start();
    let (doomed, kept) = (server.notebook("Doomed"), server.notebook("Kept"));
    let exclusive = id(&server.text_source("quokka exclusive", json!({ "notebook_id": doomed })));
    let shared = id(&server.text_source("quokka shared", json!({ "notebook_id": doomed })));
    let note = server.call(
        "POST",
        "/api/notes",
        Some(&json!({ "content": "quokka note", "notebook_id": doomed })),
    );
    let note = id(&note.json());
    let kept_note = server.call(
        "POST",
        "/api/notes",
        Some(&json!({ "content": "quokka kept note", "notebook_id": kept })),
    );
    let kept_note = id(&kept_note.json());
    let link = format!("/api/notebooks/{kept}/sources/{shared}");
    for _ in 0..2 {
        let linked = server.call("POST", &link, None);
        assert_eq!(linked.json(), json!({ "message": "Source linked to notebook successfully" }));
    }
    let counts = |notebook: &str| {
        let view = server.call("GET", &format!("/api/notebooks/{notebook}"), None).json();
        (view["source_count"].as_u64().unwrap(), view["note_count"].as_u64().unwrap())
    };
    assert_eq!(counts(&kept), (1, 1), "linking twice counts once");
    assert_eq!(counts(&doomed), (2, 1));

    let preview = server.call("GET", &format!("/api/notebooks/{doomed}/delete-preview"), None);
    assert_eq!(
        preview.json(),
        json!({
            "notebook_id": doomed, "notebook_name": "Doomed", "note_count": 1,
            "exclusive_source_count": 1, "shared_source_count": 1,
        })
    );
    let deleted = server.call(
        "DELETE",
        &format!("/api/notebooks/{doomed}?delete_exclusive_sources=true"),
        None,
    );
    assert_eq!(
        deleted.json(),
        json!({
            "message": "Notebook deleted successfully", "deleted_notes": 1,
            "deleted_sources": 1, "unlinked_sources": 1, "deleted_chat_sessions": 0,
        })
    );
    assert_eq!(server.call("GET", &format!("/api/sources/{exclusive}"), None).status, 404);
    assert_eq!(server.call("GET", &format!("/api/notes/{note}"), None).status, 404);
    let survivor = server.call("GET", &format!("/api/sources/{shared}"), None).json();
    assert_eq!(survivor["notebooks"], json!([kept]));
    assert_eq!(search_sorted(&server, "quokka"), sorted(vec![shared.clone(), kept_note]));
    let in_kept = server.search("quokka", json!({ "notebook_id": kept, "search_notes": false }));
    assert_eq!(in_kept["results"][0]["id"], shared.as_str());
    let in_doomed = server.search("quokka", json!({ "notebook_id": doomed }));
    assert_eq!(in_doomed["total_count"], 0);
    let listed = server.call("GET", "/api/sources", None).json();
    assert_eq!(listed.as_array().unwrap().len(), 1);
}

#[test]
fn unlinking_keeps_the_source_and_is_idempotent() {
    let server = Server::start();
    let notebook = server.notebook("Shelf");
    let source = id(&server.text_source("wombat burrows", json!({ "notebook_id": notebook })));
    let link = format!("/api/notebooks/{notebook}/sources/{source}");
    for _ in 0..2 {
        let unlinked = server.call("DELETE", &link, None);
        assert_eq!(
            (unlinked.status, unlinked.json()),
            (200, json!({ "message": "Source removed from notebook successfully" }))
        );
    }
    let kept = server.call("GET", &format!("/api/sources/{source}"), None).json();
    assert_eq!(kept["notebooks"], json!([]));
    assert_eq!(server.search_ids("wombat"), [source.as_str()]);
    let missing =
        server.call("DELETE", &format!("/api/notebooks/notebook:gone/sources/{source}"), None);
    assert_eq!((missing.status, missing.json()), (404, json!({ "detail": "Notebook not found" })));
    let bad_link =
        server.call("POST", &format!("/api/notebooks/{notebook}/sources/source:gone"), None);
    assert_eq!(
        (bad_link.status, bad_link.json()),
        (404, json!({ "detail": "Notebook or source not found" }))
    );

    let plain = server.call("DELETE", &format!("/api/notebooks/{notebook}"), None).json();
    assert_eq!(plain["deleted_sources"], 0);
    assert_eq!(server.call("GET", &format!("/api/sources/{source}"), None).status, 200);
}

#[test]
fn a_link_or_unlink_is_reflected_in_notebook_search_when_it_returns() {
    let server = Server::start();
    let notebook = server.notebook("Shelf");
    let source = id(&server.text_source("wombat burrows", json!({})));
    let in_notebook = || server.search("wombat", json!({ "notebook_id": notebook }));
    let link = format!("/api/notebooks/{notebook}/sources/{source}");
    assert_eq!(server.call("POST", &link, None).status, 200);
    assert_eq!(in_notebook()["results"][0]["id"], source.as_str());
    assert_eq!(server.call("DELETE", &link, None).status, 200);
    assert_eq!(in_notebook()["total_count"], 0);
}

#[test]
fn multibyte_text_with_emoji_and_cjk_is_found_by_one_english_word() {
    let server = Server::start();
    let text = format!(
        "{} Die Größe der Brücke 🎉🌉 橋の長さは二キロです bridge 😀 naïve café {}",
        "日本語の文章🎌".repeat(400),
        "終わり🏁".repeat(300)
    );
    let source = id(&server.text_source(&text, json!({ "title": "Brücke 🌉" })));
    let body = server.search("bridge", json!({}));
    assert_eq!(body["results"][0]["id"], source.as_str());
    assert_eq!(body["results"][0]["title"], "Brücke 🌉");
    let snippet = body["results"][0]["snippet"].as_str().unwrap();
    assert!(snippet.contains("<b>bridge</b>"), "{snippet}");
    assert!(!snippet.contains('\u{fffd}'), "{snippet}");
    assert!(snippet.chars().count() <= 400, "{snippet}");
    assert_eq!(server.search_ids("größe"), [source.as_str()]);
    assert_eq!(server.search_ids("橋の長さは二キロです"), [source.as_str()]);
    let emoji_only = server.call("POST", "/api/search", Some(&json!({ "query": "🎉" })));
    assert_eq!(emoji_only.status, 200, "{}", emoji_only.text());
    let stored = server.call("GET", &format!("/api/sources/{source}"), None).json();
    assert_eq!(stored["full_text"], text.trim());
}

#[test]
fn sixty_sources_survive_kill_and_stay_searchable() {
    let mut server = Server::start();
    let ids: Vec<String> = (0..60)
        .map(|n| id(&server.text_source(&format!("entry marker{n} of the ledger"), json!({}))))
        .collect();
    server.crash_and_restart();
    let listed = server.call("GET", "/api/sources?limit=100", None).json();
    let listed: Vec<String> = listed.as_array().unwrap().iter().map(id).collect();
    assert_eq!(sorted(listed), sorted(ids.clone()));
    for (n, source) in ids.iter().enumerate() {
        assert_eq!(server.search_ids(&format!("marker{n}")), [source.as_str()]);
    }
    assert_eq!(server.search("ledger", json!({ "limit": 1000 }))["total_count"], 60);
}

#[test]
fn reindex_rebuilds_the_index_from_the_database_with_identical_results() {
    let mut server = Server::start();
    let notebook = server.notebook("Atlas");
    for (n, text) in ["fjords carve the coast", "glaciers carve valleys", "rivers carve canyons"]
        .iter()
        .enumerate()
    {
        server.text_source(
            text,
            json!({ "title": format!("Landform {n}"), "notebook_id": notebook }),
        );
    }
    let note = json!({ "content": "carve notes about erosion", "notebook_id": notebook });
    assert_eq!(server.call("POST", "/api/notes", Some(&note)).status, 200);
    let queries = ["carve", "glaciers", "erosion", "landform"];
    let before: Vec<Value> = queries.iter().map(|q| server.search(q, json!({}))).collect();
    assert_eq!(before[0]["total_count"], 4);

    assert!(server.stop(), "{}", server.log());
    let index_dir = server.data_dir().join("search-index");
    std::fs::remove_dir_all(&index_dir).unwrap();
    let data_dir = server.data_dir();
    let output = run(&Options::default(), &["reindex", "--data-dir", data_dir.to_str().unwrap()]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("reindexed 4 sources and notes"), "{stdout}");

    server.relaunch();
    let after: Vec<Value> = queries.iter().map(|q| server.search(q, json!({}))).collect();
    assert_eq!(after, before);
}

#[test]
fn reindex_refuses_while_the_server_runs() {
    let server = Server::start();
    let data_dir = server.data_dir();
    let output = run(&Options::default(), &["reindex", "--data-dir", data_dir.to_str().unwrap()]);
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("in use by another process"), "{stderr}");
}
