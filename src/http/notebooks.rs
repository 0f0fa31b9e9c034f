//! `/api/notebooks*`: notebook CRUD, deletion preview and cascade, and source links.

use std::sync::Arc;

use http::Method;
use serde::Deserialize;
use serde_json::{Value, json};

use super::App;
use super::reply::{ApiError, ApiResult, message, ok};
use super::request::{Ctx, query_bool};
use super::router::RouterBuilder;
use crate::store::{NotebookOrder, NotebookPatch, NotebookView, format_time};

pub(super) fn routes(builder: RouterBuilder) -> RouterBuilder {
    builder
        .route(Method::GET, "/api/notebooks", list)
        .route(Method::POST, "/api/notebooks", create)
        .route(Method::GET, "/api/notebooks/{id}", read)
        .route(Method::PUT, "/api/notebooks/{id}", update)
        .route(Method::DELETE, "/api/notebooks/{id}", delete)
        .route(Method::GET, "/api/notebooks/{id}/delete-preview", delete_preview)
        .route(Method::POST, "/api/notebooks/{id}/sources/{source_id}", link_source)
        .route(Method::DELETE, "/api/notebooks/{id}/sources/{source_id}", unlink_source)
}

const NOT_FOUND: &str = "Notebook not found";
const EMPTY_NAME: &str = "Notebook name cannot be empty";

/// The original's `NotebookResponse`.
pub(super) fn notebook_json(view: &NotebookView) -> Value {
    let n = &view.notebook;
    json!({
        "id": n.id,
        "name": n.name,
        "description": n.description,
        "archived": n.archived,
        "created": format_time(n.created),
        "updated": format_time(n.updated),
        "source_count": view.source_count,
        "note_count": view.note_count,
    })
}

/// Parses `order_by` (`field` or `field direction`) with the original's error texts.
pub(super) fn parse_order(raw: &str) -> Result<NotebookOrder, ApiError> {
    const FIELDS: &str = "Allowed fields: created, name, updated";
    let parts: Vec<&str> = raw.split_whitespace().collect();
    let (field, direction) = match parts.as_slice() {
        [field] => (*field, "asc"),
        [field, direction] => (*field, *direction),
        _ => {
            return Err(ApiError::bad_request(format!(
                "Invalid order_by format: '{raw}'. Expected 'field' or 'field direction'"
            )));
        }
    };
    let desc = match direction.to_ascii_lowercase().as_str() {
        "asc" => false,
        "desc" => true,
        _ => {
            return Err(ApiError::bad_request(format!(
                "Invalid order_by: '{raw}'. {FIELDS}. Allowed directions: asc, desc"
            )));
        }
    };
    match field.to_ascii_lowercase().as_str() {
        "name" => Ok(NotebookOrder::Name { desc }),
        "created" => Ok(NotebookOrder::Created { desc }),
        "updated" => Ok(NotebookOrder::Updated { desc }),
        _ => Err(ApiError::bad_request(format!("Invalid order_by field: '{field}'. {FIELDS}"))),
    }
}

async fn list(app: Arc<App>, ctx: Ctx) -> ApiResult {
    let archived = query_bool(&ctx, "archived")?;
    let order = parse_order(&ctx.query_value("order_by").unwrap_or_else(|| "updated desc".into()))?;
    let views = app.db(move |s| s.notebooks(archived, order)).await?;
    ok(&views.iter().map(notebook_json).collect::<Vec<_>>())
}

#[derive(Deserialize)]
struct CreateNotebook {
    name: String,
    #[serde(default)]
    description: Option<String>,
}

async fn create(app: Arc<App>, ctx: Ctx) -> ApiResult {
    let body: CreateNotebook = ctx.json()?;
    if body.name.trim().is_empty() {
        return Err(ApiError::bad_request(EMPTY_NAME));
    }
    let description = body.description.unwrap_or_default();
    let view = app.db(move |s| s.create_notebook(&body.name, &description)).await?;
    ok(&notebook_json(&view))
}

async fn read(app: Arc<App>, ctx: Ctx) -> ApiResult {
    let id = ctx.param("id");
    let view = app
        .db(move |s| {
            s.stamp_notebook_viewed(&id)?;
            s.notebook(&id)
        })
        .await?
        .ok_or_else(|| ApiError::not_found(NOT_FOUND))?;
    ok(&notebook_json(&view))
}

#[derive(Deserialize)]
struct UpdateNotebook {
    name: Option<String>,
    description: Option<String>,
    archived: Option<bool>,
}

async fn update(app: Arc<App>, ctx: Ctx) -> ApiResult {
    let id = ctx.param("id");
    let body: UpdateNotebook = ctx.json()?;
    if body.name.as_deref().is_some_and(|n| n.trim().is_empty()) {
        return Err(ApiError::bad_request(EMPTY_NAME));
    }
    let patch =
        NotebookPatch { name: body.name, description: body.description, archived: body.archived };
    let view = app
        .db(move |s| s.update_notebook(&id, patch))
        .await?
        .ok_or_else(|| ApiError::not_found(NOT_FOUND))?;
    ok(&notebook_json(&view))
}

async fn delete(app: Arc<App>, ctx: Ctx) -> ApiResult {
    let id = ctx.param("id");
    let exclusive = query_bool(&ctx, "delete_exclusive_sources")?.unwrap_or(false);
    let outcome = app
        .db(move |s| s.delete_notebook(&id, exclusive))
        .await?
        .ok_or_else(|| ApiError::not_found(NOT_FOUND))?;
    for file in &outcome.removed_files {
        super::remove_upload(&app, file).await;
    }
    app.sync_index().await?;
    ok(&json!({
        "message": "Notebook deleted successfully",
        "deleted_notes": outcome.deleted_notes,
        "deleted_sources": outcome.deleted_sources,
        "unlinked_sources": outcome.unlinked_sources,
        "deleted_chat_sessions": 0,
    }))
}

async fn delete_preview(app: Arc<App>, ctx: Ctx) -> ApiResult {
    let id = ctx.param("id");
    let (notebook, preview) = app
        .db(move |s| s.notebook_deletion_preview(&id))
        .await?
        .ok_or_else(|| ApiError::not_found(NOT_FOUND))?;
    ok(&json!({
        "notebook_id": notebook.id,
        "notebook_name": notebook.name,
        "note_count": preview.deleted_notes,
        "exclusive_source_count": preview.deleted_sources,
        "shared_source_count": preview.unlinked_sources,
    }))
}

async fn link_source(app: Arc<App>, ctx: Ctx) -> ApiResult {
    let (id, source_id) = (ctx.param("id"), ctx.param("source_id"));
    app.db(move |s| s.link_source(&id, &source_id))
        .await?
        .ok_or_else(|| ApiError::not_found("Notebook or source not found"))?;
    app.sync_index().await?;
    message("Source linked to notebook successfully")
}

async fn unlink_source(app: Arc<App>, ctx: Ctx) -> ApiResult {
    let (id, source_id) = (ctx.param("id"), ctx.param("source_id"));
    if !app.db(move |s| s.unlink_source(&id, &source_id)).await? {
        return Err(ApiError::not_found(NOT_FOUND));
    }
    app.sync_index().await?;
    message("Source removed from notebook successfully")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_by_accepts_field_and_direction_in_any_case() {
        assert_eq!(parse_order("name").unwrap(), NotebookOrder::Name { desc: false });
        assert_eq!(parse_order("Created DESC").unwrap(), NotebookOrder::Created { desc: true });
        assert_eq!(parse_order("updated desc").unwrap(), NotebookOrder::Updated { desc: true });
    }

    #[test]
    fn order_by_errors_use_the_original_texts() {
        let detail = |raw: &str| *parse_order(raw).unwrap_err().detail;
        assert_eq!(
            detail("title"),
            "Invalid order_by field: 'title'. Allowed fields: created, name, updated"
        );
        assert_eq!(
            detail("name up"),
            "Invalid order_by: 'name up'. Allowed fields: created, name, updated. \
             Allowed directions: asc, desc"
        );
        assert_eq!(
            detail("a b c"),
            "Invalid order_by format: 'a b c'. Expected 'field' or 'field direction'"
        );
    }
}
