//! `/api/search`: text search in the original's request and response shape.

use std::sync::Arc;

use http::Method;
use serde::Deserialize;
use serde_json::json;

use super::App;
use super::reply::{ApiError, ApiResult, ok};
use super::request::Ctx;
use super::router::RouterBuilder;
use crate::search::SearchRequest;

pub(super) fn routes(builder: RouterBuilder) -> RouterBuilder {
    builder.route(Method::POST, "/api/search", search)
}

#[derive(Deserialize, PartialEq)]
#[serde(rename_all = "lowercase")]
enum SearchType {
    Text,
    Vector,
}

fn default_limit() -> i64 {
    100
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
struct SearchBody {
    query: String,
    #[serde(rename = "type", default = "text_type")]
    kind: SearchType,
    #[serde(default = "default_limit")]
    limit: i64,
    #[serde(default = "yes")]
    search_sources: bool,
    #[serde(default = "yes")]
    search_notes: bool,
    #[serde(default)]
    notebook_id: Option<String>,
}

fn text_type() -> SearchType {
    SearchType::Text
}

async fn search(app: Arc<App>, ctx: Ctx) -> ApiResult {
    let body: SearchBody = ctx.json()?;
    if !(1..=1000).contains(&body.limit) {
        return Err(ApiError::unprocessable(vec![json!({
            "type": "value_error",
            "loc": ["body", "limit"],
            "msg": "Input should be between 1 and 1000",
        })]));
    }
    if body.query.trim().is_empty() {
        return Err(ApiError::bad_request("Search keyword cannot be empty"));
    }
    if body.kind == SearchType::Vector {
        return Err(ApiError::bad_request(concat!(
            "Vector search requires an embedding model. ",
            "Please configure one in the Models section."
        )));
    }
    let request = SearchRequest {
        query: body.query,
        limit: body.limit as usize,
        sources: body.search_sources,
        notes: body.search_notes,
        notebook_id: body.notebook_id.filter(|id| !id.is_empty()),
    };
    let index = Arc::clone(&app.index);
    let hits = tokio::task::spawn_blocking(move || index.search(&request)).await??;
    let results: Vec<_> = hits
        .iter()
        .map(|hit| {
            json!({
                "id": hit.id,
                "parent_id": hit.id,
                "title": hit.title,
                "relevance": hit.relevance,
                "snippet": hit.snippet,
            })
        })
        .collect();
    ok(&json!({ "results": results, "total_count": results.len(), "search_type": "text" }))
}
