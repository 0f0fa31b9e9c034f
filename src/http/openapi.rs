//! The API description served at `/openapi.json`, and the `/docs` page that renders it.
//!
//! The operation table below is the single list both are built from; a unit test keeps it
//! equal to the router's table, so a route cannot be added without being described.

use serde_json::{Map, Value, json};

/// (method, path, tag, summary, has JSON body)
type Operation = (&'static str, &'static str, &'static str, &'static str, bool);

const OPERATIONS: &[Operation] = &[
    ("get", "/", "system", "Liveness message", false),
    ("get", "/health", "system", "Health check", false),
    ("get", "/docs", "system", "This API's documentation page", false),
    ("get", "/openapi.json", "system", "This API's OpenAPI description", false),
    ("get", "/api/auth/status", "auth", "Whether a password is required", false),
    ("post", "/api/auth/login", "auth", "Trade the password for a session token", true),
    ("post", "/api/auth/logout", "auth", "End the session of the bearer token", false),
    ("get", "/api/config", "system", "Version and database status", false),
    ("get", "/api/audit", "security", "Audit events, newest first (limit)", false),
    ("get", "/api/recently-viewed", "notebooks", "Recently opened notebooks and sources", false),
    ("get", "/api/notebooks", "notebooks", "List notebooks (archived, order_by)", false),
    ("post", "/api/notebooks", "notebooks", "Create a notebook {name, description}", true),
    ("get", "/api/notebooks/{id}", "notebooks", "Read a notebook", false),
    ("put", "/api/notebooks/{id}", "notebooks", "Update name, description or archived", true),
    ("delete", "/api/notebooks/{id}", "notebooks", "Delete (delete_exclusive_sources)", false),
    ("get", "/api/notebooks/{id}/delete-preview", "notebooks", "What deletion removes", false),
    ("post", "/api/notebooks/{id}/sources/{source_id}", "notebooks", "Link a source", false),
    ("delete", "/api/notebooks/{id}/sources/{source_id}", "notebooks", "Unlink a source", false),
    ("post", "/api/search", "search", "Text search over sources and notes", true),
    ("get", "/api/sources", "sources", "List sources (notebook_id, limit, offset, sort)", false),
    ("post", "/api/sources", "sources", "Create a source from a form (link, upload, text)", true),
    ("post", "/api/sources/json", "sources", "Create a source from JSON", true),
    (
        "post",
        "/api/sources/upload",
        "sources",
        "Upload a file as a source (file, notebook_id)",
        true,
    ),
    ("get", "/api/sources/{id}", "sources", "Read a source with its text", false),
    ("put", "/api/sources/{id}", "sources", "Update title or topics", true),
    (
        "delete",
        "/api/sources/{id}",
        "sources",
        "Delete a source, its file and index entries",
        false,
    ),
    ("get", "/api/sources/{id}/status", "sources", "Processing status", false),
    ("post", "/api/sources/{id}/retry", "sources", "Queue processing again", false),
    ("get", "/api/sources/{id}/download", "sources", "Download the uploaded file", false),
    ("head", "/api/sources/{id}/download", "sources", "Whether the file can be downloaded", false),
    ("get", "/api/sources/{id}/insights", "sources", "Insights of a source", false),
    ("get", "/api/notes", "notes", "List notes (notebook_id)", false),
    ("post", "/api/notes", "notes", "Create a note", true),
    ("get", "/api/notes/{id}", "notes", "Read a note", false),
    ("put", "/api/notes/{id}", "notes", "Update a note", true),
    ("delete", "/api/notes/{id}", "notes", "Delete a note", false),
    ("get", "/api/credentials/status", "credentials", "Providers configured; key set?", false),
    ("get", "/api/credentials/env-status", "credentials", "Providers set by env vars", false),
    ("get", "/api/credentials", "credentials", "List credentials (provider)", false),
    ("get", "/api/credentials/by-provider/{provider}", "credentials", "Readable ones", false),
    ("post", "/api/credentials", "credentials", "Create; the API key is encrypted", true),
    ("get", "/api/credentials/{id}", "credentials", "Read a credential (never the key)", false),
    ("put", "/api/credentials/{id}", "credentials", "Presence-based update", true),
    ("delete", "/api/credentials/{id}", "credentials", "Delete (migrate_to)", false),
    ("post", "/api/credentials/{id}/test", "credentials", "Test the connection", false),
    ("post", "/api/credentials/{id}/discover", "credentials", "List the provider's models", false),
    ("post", "/api/credentials/{id}/register-models", "credentials", "Save models", true),
    ("post", "/api/credentials/migrate-from-env", "credentials", "Env vars to credentials", false),
    ("get", "/api/models", "models", "List models (type)", false),
    ("post", "/api/models", "models", "Register a model {name, provider, type}", true),
    ("delete", "/api/models/{id}", "models", "Delete a model", false),
    ("get", "/api/models/defaults", "models", "Default model slots", false),
    ("put", "/api/models/defaults", "models", "Set default slots (presence-based)", true),
    ("get", "/api/models/providers", "models", "Available providers and types", false),
    ("get", "/api/settings", "settings", "Content-processing settings", false),
    ("put", "/api/settings", "settings", "Update settings (partial)", true),
    ("get", "/api/providers", "providers", "The provider registry", false),
    ("get", "/api/commands/jobs", "commands", "List jobs (command_filter, status_filter)", false),
    ("get", "/api/commands/jobs/{job_id}", "commands", "Status of a processing job", false),
    ("delete", "/api/commands/jobs/{job_id}", "commands", "Cancel a job not yet started", false),
];

/// The OpenAPI 3.1 document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for (method, path, tag, summary, has_body) in OPERATIONS {
        let mut operation = json!({
            "tags": [tag],
            "summary": summary,
            "responses": {
                "200": { "description": "Success" },
                "401": { "description": "Missing or wrong bearer password" },
            },
        });
        if *has_body {
            operation["requestBody"] =
                json!({ "required": true, "content": { "application/json": {} } });
        }
        let entry = paths.entry(path.to_string()).or_insert_with(|| json!({}));
        entry[*method] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": { "title": "Open Notebook API", "version": env!("CARGO_PKG_VERSION") },
        "components": {
            "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } },
        },
        "security": [{ "bearer": [] }],
        "paths": paths,
    })
}

/// A self-contained HTML page listing every operation; no scripts, no external requests.
pub fn docs_page() -> String {
    let mut rows = String::new();
    for (method, path, tag, summary, _) in OPERATIONS {
        rows.push_str(&format!(
            "<tr><td>{tag}</td><td><code>{}</code></td><td><code>{}</code></td><td>{}</td></tr>\n",
            method.to_uppercase(),
            escape(path),
            escape(summary)
        ));
    }
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>Open Notebook API</title></head><body>\
         <h1>Open Notebook API</h1>\
         <p>Every <code>/api</code> route except the public ones needs \
         <code>Authorization: Bearer &lt;password&gt;</code>. The machine-readable \
         description is at <a href=\"/openapi.json\">/openapi.json</a>.</p>\
         <table><thead><tr><th>tag</th><th>method</th><th>path</th><th>what it does</th></tr>\
         </thead><tbody>\n{rows}</tbody></table></body></html>"
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Every (METHOD, path) pair described, for the consistency test.
#[cfg(test)]
pub fn described() -> Vec<(String, String)> {
    OPERATIONS.iter().map(|(m, p, ..)| (m.to_uppercase(), p.to_string())).collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_route_is_described_and_nothing_else() {
        let mut routed: Vec<(String, String)> = super::super::routes().patterns().to_vec();
        let mut described = super::described();
        routed.sort();
        described.sort();
        assert_eq!(routed, described);
    }
}
