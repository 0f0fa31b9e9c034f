//! Service routes: liveness, health, auth status, configuration, recently viewed, and the
//! API description (`/openapi.json`, `/docs`).

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, StatusCode};
use serde_json::json;

use super::App;
use super::reply::{ApiResult, bytes_reply, ok};
use super::request::{Ctx, query_int};
use super::router::RouterBuilder;
use crate::store::format_time;

pub(super) fn routes(builder: RouterBuilder) -> RouterBuilder {
    builder
        .route(Method::GET, "/", root)
        .route(Method::GET, "/health", health)
        .route(Method::GET, "/api/auth/status", auth_status)
        .route(Method::GET, "/api/config", config)
        .route(Method::GET, "/api/recently-viewed", recently_viewed)
        .route(Method::GET, "/api/audit", audit)
        .route(Method::GET, "/openapi.json", openapi)
        .route(Method::GET, "/docs", docs)
}

async fn root(_app: Arc<App>, _ctx: Ctx) -> ApiResult {
    ok(&json!({ "message": "Open Notebook API is running" }))
}

async fn health(_app: Arc<App>, _ctx: Ctx) -> ApiResult {
    ok(&json!({ "status": "healthy" }))
}

async fn auth_status(_app: Arc<App>, _ctx: Ctx) -> ApiResult {
    // A password (possibly the development default) is always required by this server.
    ok(&json!({ "auth_enabled": true, "message": "Authentication is required" }))
}

async fn config(app: Arc<App>, _ctx: Ctx) -> ApiResult {
    let online = app.db(|s| s.meta("schema_version")).await.is_ok();
    ok(&json!({
        "version": env!("CARGO_PKG_VERSION"),
        "latestVersion": null,
        "hasUpdate": false,
        "dbStatus": if online { "online" } else { "offline" },
    }))
}

async fn recently_viewed(app: Arc<App>, ctx: Ctx) -> ApiResult {
    let limit = query_int(&ctx, "limit", 1, 50)?.unwrap_or(12) as usize;
    let (notebooks, sources) = app
        .db(|s| {
            Ok((
                s.notebooks(None, crate::store::NotebookOrder::Name { desc: false })?,
                s.all_sources()?,
            ))
        })
        .await?;
    let mut items: Vec<(i64, serde_json::Value)> = Vec::new();
    for view in notebooks {
        let n = view.notebook;
        if let Some(at) = n.last_viewed_at {
            let title = if n.name.trim().is_empty() { "Untitled notebook".into() } else { n.name };
            items.push((at, recent_item("notebook", &n.id, &title, at)));
        }
    }
    for source in sources {
        if let Some(at) = source.last_viewed_at {
            let title = source.title.clone().unwrap_or_else(|| "Untitled source".into());
            items.push((at, recent_item("source", &source.id, &title, at)));
        }
    }
    items.sort_by_key(|item| std::cmp::Reverse(item.0));
    ok(&items.into_iter().take(limit).map(|(_, v)| v).collect::<Vec<_>>())
}

fn recent_item(kind: &str, id: &str, title: &str, at: i64) -> serde_json::Value {
    json!({ "type": kind, "id": id, "title": title, "last_viewed_at": format_time(at) })
}

async fn openapi(_app: Arc<App>, _ctx: Ctx) -> ApiResult {
    ok(&super::openapi::document())
}

async fn docs(_app: Arc<App>, _ctx: Ctx) -> ApiResult {
    let html = super::openapi::docs_page();
    Ok(bytes_reply(StatusCode::OK, "text/html; charset=utf-8", Bytes::from(html)))
}

async fn audit(app: Arc<App>, ctx: Ctx) -> ApiResult {
    let limit = query_int(&ctx, "limit", 1, 1000)?.unwrap_or(100) as usize;
    let entries = app.db(move |s| s.audit_entries(limit)).await?;
    let items: Vec<_> = entries
        .into_iter()
        .map(|(id, e)| {
            json!({
                "id": id,
                "at": format_time(e.at),
                "level": e.level,
                "event": e.message,
                "fields": e.fields,
            })
        })
        .collect();
    ok(&items)
}
