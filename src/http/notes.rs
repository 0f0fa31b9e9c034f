//! `/api/notes*`: Markdown notes, optionally in a notebook, searchable like sources.

use std::sync::Arc;

use http::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use super::App;
use super::reply::{ApiError, ApiResult, message, ok};
use super::request::Ctx;
use super::router::RouterBuilder;
use crate::store::{Note, format_time, new_id, now_micros};

pub(super) fn routes(builder: RouterBuilder) -> RouterBuilder {
    builder
        .route(Method::GET, "/api/notes", list)
        .route(Method::POST, "/api/notes", create)
        .route(Method::GET, "/api/notes/{id}", read)
        .route(Method::PUT, "/api/notes/{id}", update)
        .route(Method::DELETE, "/api/notes/{id}", delete)
}

const NOT_FOUND: &str = "Note not found";
const EMPTY_CONTENT: &str = "Note content cannot be empty";

fn note_json(note: &Note, with_content: bool) -> Value {
    json!({
        "id": note.id,
        "title": note.title,
        "content": if with_content { json!(note.content) } else { Value::Null },
        "note_type": note.note_type,
        "created": format_time(note.created),
        "updated": format_time(note.updated),
        "command_id": null,
    })
}

fn check_note_type(note_type: Option<&str>) -> Result<(), ApiError> {
    match note_type {
        None | Some("human" | "ai") => Ok(()),
        Some(_) => Err(ApiError::bad_request("note_type must be 'human' or 'ai'")),
    }
}

async fn list(app: Arc<App>, ctx: Ctx) -> ApiResult {
    let notebook = ctx.query_value("notebook_id").filter(|id| !id.is_empty());
    if let Some(id) = notebook.clone()
        && app.db(move |s| s.notebook(&id)).await?.is_none()
    {
        return Err(ApiError::not_found("Notebook not found"));
    }
    let with_content = notebook.is_none();
    let notes = app.db(move |s| s.notes(notebook.as_deref())).await?;
    ok(&notes.iter().map(|n| note_json(n, with_content)).collect::<Vec<_>>())
}

#[derive(Deserialize)]
struct CreateNote {
    title: Option<String>,
    content: String,
    note_type: Option<String>,
    notebook_id: Option<String>,
}

async fn create(app: Arc<App>, ctx: Ctx) -> ApiResult {
    let body: CreateNote = ctx.json()?;
    check_note_type(body.note_type.as_deref())?;
    if body.content.trim().is_empty() {
        return Err(ApiError::bad_request(EMPTY_CONTENT));
    }
    let now = now_micros();
    let note = Note {
        id: new_id("note"),
        title: body.title.filter(|t| !t.trim().is_empty()),
        content: Some(body.content),
        note_type: Some(body.note_type.unwrap_or_else(|| "human".into())),
        notebook_id: body.notebook_id.filter(|id| !id.is_empty()),
        created: now,
        updated: now,
    };
    let stored = note.clone();
    if !app.db(move |s| s.insert_note(&stored)).await? {
        return Err(ApiError::not_found("Notebook not found"));
    }
    app.sync_index().await?;
    ok(&note_json(&note, true))
}

async fn load(app: &Arc<App>, id: String) -> Result<Note, ApiError> {
    app.db(move |s| s.note(&id)).await?.ok_or_else(|| ApiError::not_found(NOT_FOUND))
}

async fn read(app: Arc<App>, ctx: Ctx) -> ApiResult {
    ok(&note_json(&load(&app, ctx.param("id")).await?, true))
}

#[derive(Deserialize)]
struct UpdateNote {
    title: Option<String>,
    content: Option<String>,
    note_type: Option<String>,
}

async fn update(app: Arc<App>, ctx: Ctx) -> ApiResult {
    let body: UpdateNote = ctx.json()?;
    check_note_type(body.note_type.as_deref())?;
    if body.content.as_deref().is_some_and(|c| c.trim().is_empty()) {
        return Err(ApiError::bad_request(EMPTY_CONTENT));
    }
    let mut note = load(&app, ctx.param("id")).await?;
    if let Some(title) = body.title {
        note.title = Some(title);
    }
    if let Some(content) = body.content {
        note.content = Some(content);
    }
    if let Some(note_type) = body.note_type {
        note.note_type = Some(note_type);
    }
    note.updated = now_micros();
    let stored = note.clone();
    if !app.db(move |s| s.save_note(&stored)).await? {
        return Err(ApiError::not_found(NOT_FOUND));
    }
    app.sync_index().await?;
    ok(&note_json(&note, true))
}

async fn delete(app: Arc<App>, ctx: Ctx) -> ApiResult {
    let id = ctx.param("id");
    if !app.db(move |s| s.delete_note(&id)).await? {
        return Err(ApiError::not_found(NOT_FOUND));
    }
    app.sync_index().await?;
    message("Note deleted successfully")
}
