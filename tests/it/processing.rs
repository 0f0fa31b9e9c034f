//! Link sources fetched from a local site, background processing, the job API, and jobs
//! that outlive a `kill -9`.

use std::sync::atomic::Ordering;
use std::time::Duration;

use serde_json::{Value, json};

use crate::harness::{Options, PASSWORD, PageServer, Server, free_port, request};

const PAGE: &str = "<!doctype html><html><head><title>Tide pools of Brittany</title>\
    <style>.hidden { color: stylesheetsecret; }</style>\
    <script>var scriptsecret = 'javascriptonly';</script></head>\
    <body><h1>Tide pools</h1><p>Anemones and periwinkles shelter in granite hollows.</p>\
    <script>document.write('inlinescriptword');</script></body></html>";

fn link(server: &Server, url: &str, async_processing: bool) -> Value {
    let body = json!({ "type": "link", "url": url, "async_processing": async_processing });
    let response = server.call("POST", "/api/sources/json", Some(&body));
    assert_eq!(response.status, 200, "{}", response.text());
    response.json()
}

/// Posts an urlencoded form to `/api/sources`, as the web UI's form would.
fn form(server: &Server, fields: &str) -> crate::harness::Response {
    let auth = format!("Bearer {PASSWORD}");
    let headers =
        [("Authorization", auth.as_str()), ("Content-Type", "application/x-www-form-urlencoded")];
    request(server.port, "POST", "/api/sources", &headers, Some(fields.as_bytes()))
}

fn wait_for_source(server: &Server, id: &str) -> Value {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let status = server.call("GET", &format!("/api/sources/{id}/status"), None).json();
        if status["status"] == "completed" || status["status"] == "failed" {
            return status;
        }
        assert!(std::time::Instant::now() < deadline, "{id} still {status}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_link_is_fetched_with_its_visible_words_searchable_and_its_scripts_not() {
    let site = PageServer::start(PAGE);
    let server = Server::start();
    let source = link(&server, &site.url("/tide-pools.html"), false);
    let id = source["id"].as_str().unwrap();
    assert_eq!(source["status"], "completed");
    assert_eq!(site.hits.load(Ordering::SeqCst), 1, "fetched once, before the reply");
    assert_eq!(source["title"], "Tide pools of Brittany");
    assert_eq!(source["asset"], json!({ "file_path": null, "url": site.url("/tide-pools.html") }));
    let text = source["full_text"].as_str().unwrap();
    assert!(text.contains("Anemones and periwinkles shelter in granite hollows."), "{text}");
    assert_eq!(server.search_ids("periwinkles"), [id]);
    for hidden in ["javascriptonly", "inlinescriptword", "stylesheetsecret", "scriptsecret"] {
        assert!(!text.contains(hidden), "{hidden} leaked into {text}");
        assert!(server.search_ids(hidden).is_empty(), "{hidden} is searchable");
    }
}

#[test]
fn a_link_processed_in_the_background_completes_and_reports_through_both_status_routes() {
    let site = PageServer::start(PAGE);
    let server = Server::start();
    let url = site.url("/async");
    let response = form(&server, &format!("type=link&url={url}&async_processing=true"));
    assert_eq!(response.status, 200, "{}", response.text());
    let source = response.json();
    assert_eq!(source["status"], "new");
    assert_eq!(source["processing_info"], json!({ "async": true, "queued": true }));
    let id = source["id"].as_str().unwrap();
    let job_id = source["command_id"].as_str().unwrap();
    assert!(job_id.starts_with("command:"));

    let status = wait_for_source(&server, id);
    assert_eq!(status["message"], "Source processing completed successfully");
    assert_eq!(status["command_id"], job_id);
    let job = server.wait_for_job(job_id, Duration::from_secs(5));
    assert_eq!(job["job_id"], job_id);
    assert_eq!(job["status"], "completed");
    assert_eq!(job["error_message"], Value::Null);
    assert_eq!(job["result"]["target"], id);
    assert!(job["created"].as_str().is_some() && job["updated"].as_str().is_some());
    wait_until_searchable(&server, "anemones", id);
    assert_eq!(
        server.call("GET", &format!("/api/sources/{id}"), None).json()["title"],
        "Tide pools of Brittany"
    );
}

fn wait_until_searchable(server: &Server, query: &str, id: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while server.search_ids(query) != [id] {
        assert!(std::time::Instant::now() < deadline, "{query} never found {id}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_metadata_address_link_is_refused_before_any_connection() {
    let server = Server::start();
    let body = json!({ "type": "link", "url": "http://169.254.169.254/latest/meta-data/" });
    let response = server.call("POST", "/api/sources/json", Some(&body));
    assert_eq!(
        (response.status, response.json()),
        (
            400,
            json!({ "detail": "Link-local addresses (169.254.x.x) are not allowed for security \
                               reasons. These addresses are used for cloud metadata endpoints." })
        )
    );
    let scheme = form(&server, "type=link&url=file:///etc/passwd");
    assert_eq!(scheme.status, 400, "{}", scheme.text());
    assert_eq!(server.call("GET", "/api/sources", None).json(), json!([]));
}

#[test]
fn a_link_nobody_answers_fails_with_a_reason_and_nothing_stays_running() {
    let server = Server::start();
    let dead = format!("http://127.0.0.1:{}/gone", free_port());
    let sync =
        server.call("POST", "/api/sources/json", Some(&json!({ "type": "link", "url": dead })));
    assert_eq!(sync.status, 502, "{}", sync.text());
    assert!(sync.json()["detail"].as_str().is_some());
    assert_eq!(server.call("GET", "/api/sources", None).json(), json!([]));

    let queued = link(&server, &dead, true);
    let job = server.wait_for_job(queued["command_id"].as_str().unwrap(), Duration::from_secs(30));
    assert_eq!(job["status"], "failed");
    assert!(!job["error_message"].as_str().unwrap().is_empty(), "{job}");
    let listed = server.call("GET", "/api/sources", None).json();
    assert_eq!(listed[0]["status"], "failed");
    assert!(listed[0]["processing_info"]["error"].as_str().is_some());
}

#[test]
fn queued_and_running_jobs_finish_after_a_kill() {
    let site = PageServer::start(PAGE);
    site.hold.store(true, Ordering::SeqCst);
    let options = Options::default().env("OPEN_NOTEBOOK_WORKER_MAX_TASKS", "1");
    let mut server = Server::start_with(options);
    let running = link(&server, &site.url("/slow"), true);
    let running_id = running["id"].as_str().unwrap().to_string();
    let running_job = running["command_id"].as_str().unwrap().to_string();
    wait_for_status(&server, &running_job, "running");
    let queued = link(&server, &site.url("/second"), true);
    let queued_id = queued["id"].as_str().unwrap().to_string();
    let doomed = link(&server, &site.url("/third"), true);
    let doomed_job = doomed["command_id"].as_str().unwrap().to_string();

    retry_is_refused_while_active(&server, &running_id);
    retry_is_refused_while_active(&server, &queued_id);
    jobs_are_listed_and_only_queued_ones_cancel(&server, &running_job, &doomed_job);

    server.crash_and_restart();
    site.hold.store(false, Ordering::SeqCst);
    for id in [&running_id, &queued_id] {
        let status = wait_for_source(&server, id);
        assert_eq!(status["status"], "completed", "{id}: {status}");
    }
    wait_until_found(&server, "periwinkles", &[&running_id, &queued_id]);
    let doomed = server.call("GET", &format!("/api/commands/jobs/{doomed_job}"), None).json();
    assert_eq!(doomed["status"], "failed", "a cancelled job stays cancelled after a restart");
    let active = server.call("GET", "/api/commands/jobs?status_filter=running", None).json();
    assert_eq!(active, json!([]));
}

fn wait_for_status(server: &Server, job_id: &str, wanted: &str) {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let job = server.call("GET", &format!("/api/commands/jobs/{job_id}"), None).json();
        if job["status"] == wanted {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{job_id} never {wanted}: {job}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn wait_until_found(server: &Server, query: &str, ids: &[&str]) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let mut found = server.search_ids(query);
        found.sort();
        let mut wanted: Vec<String> = ids.iter().map(|id| id.to_string()).collect();
        wanted.sort();
        if found == wanted {
            return;
        }
        assert!(std::time::Instant::now() < deadline, "{query}: {found:?} != {wanted:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn retry_is_refused_while_active(server: &Server, id: &str) {
    let retry = server.call("POST", &format!("/api/sources/{id}/retry"), None);
    assert_eq!(
        (retry.status, retry.json()),
        (
            400,
            json!({ "detail": "Source is already processing. \
                               Cannot retry while processing is active." })
        )
    );
}

fn jobs_are_listed_and_only_queued_ones_cancel(server: &Server, running: &str, queued: &str) {
    let listed = server.call("GET", "/api/commands/jobs?status_filter=running", None).json();
    let ids: Vec<&str> =
        listed.as_array().unwrap().iter().map(|j| j["job_id"].as_str().unwrap()).collect();
    assert_eq!(ids, [running]);
    let all = server.call("GET", "/api/commands/jobs?command_filter=process_source", None).json();
    assert_eq!(all.as_array().unwrap().len(), 3);
    let bad = server.call("GET", "/api/commands/jobs?status_filter=sleeping", None);
    assert_eq!(bad.status, 400, "{}", bad.text());

    let path = format!("/api/commands/jobs/{running}");
    let refused = server.call("DELETE", &path, None).json();
    assert_eq!(refused, json!({ "job_id": running, "cancelled": false }));
    let path = format!("/api/commands/jobs/{queued}");
    let cancelled = server.call("DELETE", &path, None).json();
    assert_eq!(cancelled, json!({ "job_id": queued, "cancelled": true }));
    let job = server.call("GET", &path, None).json();
    assert_eq!(job["status"], "failed");
    assert!(job["error_message"].as_str().unwrap().contains("Cancelled"), "{job}");

    let unknown = server.call("GET", "/api/commands/jobs/command:nothing", None).json();
    assert_eq!(unknown["status"], "unknown");
    assert_eq!(unknown["job_id"], "command:nothing");
    let missing = server.call("DELETE", "/api/commands/jobs/command:nothing", None);
    assert_eq!((missing.status, missing.json()), (404, json!({ "detail": "Job not found" })));
}

#[test]
fn an_asynchronous_create_always_answers_new_even_when_the_worker_is_quick() {
    let server = Server::start();
    for n in 0..20 {
        let body =
            json!({ "type": "text", "content": format!("quick{n}"), "async_processing": true });
        let source = server.call("POST", "/api/sources/json", Some(&body)).json();
        assert_eq!(source["status"], "new", "reply {n}: {source}");
        assert_eq!(source["processing_info"], json!({ "async": true, "queued": true }));
    }
    let jobs = server.call("GET", "/api/commands/jobs?limit=100", None).json();
    assert_eq!(jobs.as_array().unwrap().len(), 20);
    for job in jobs.as_array().unwrap() {
        let id = job["job_id"].as_str().unwrap();
        assert_eq!(server.wait_for_job(id, Duration::from_secs(20))["status"], "completed");
    }
}

#[test]
fn an_upload_processed_in_the_background_is_titled_like_a_synchronous_one() {
    let server = Server::start();
    let text = b"Plain words about lighthouses and foghorns.";
    let sync = server.upload("foghorns.txt", text, &[]).json();
    assert_eq!(sync["title"], "foghorns.txt");
    let queued = server.upload("foghorns.txt", text, &[("async_processing", "true")]).json();
    let id = queued["id"].as_str().unwrap();
    let job = server.wait_for_job(queued["command_id"].as_str().unwrap(), Duration::from_secs(20));
    assert_eq!(job["status"], "completed", "{job}");
    let source = server.call("GET", &format!("/api/sources/{id}"), None).json();
    assert_eq!(source["title"], "foghorns (1).txt");
    assert!(source["full_text"].as_str().unwrap().contains("foghorns"));
}
