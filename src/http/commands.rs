//! `/api/commands/jobs*`: the generic job API over the processing queue.
//!
//! Jobs are the `command:` records the store's queue runs. This module only reads them and
//! cancels jobs that have not started; running them is the ingest workers' business. Unlike
//! the original's stubs, the list is real and a cancel really stops a queued job.

use std::sync::Arc;

use http::Method;
use serde_json::{Value, json};

use super::App;
use super::reply::{ApiError, ApiResult, ok};
use super::request::{Ctx, query_int};
use super::router::RouterBuilder;
use crate::store::{Job, JobStatus, format_time};

pub(super) fn routes(builder: RouterBuilder) -> RouterBuilder {
    builder
        .route(Method::GET, "/api/commands/jobs", list)
        .route(Method::GET, "/api/commands/jobs/{job_id}", status)
        .route(Method::DELETE, "/api/commands/jobs/{job_id}", cancel)
}

/// The original's job status shape; `result` is set once the job has ended.
fn job_json(job: &Job) -> Value {
    let finished = !job.status.is_active();
    let result = finished.then(|| {
        json!({
            "command": job.command,
            "target": job.target,
            "execution_metadata": {
                "started_at": job.started_at.map(format_time),
                "completed_at": job.completed_at.map(format_time),
                "attempts": job.attempts,
            },
        })
    });
    json!({
        "job_id": job.id,
        "status": job.status.as_str(),
        "result": result,
        "error_message": job.error_message,
        "created": format_time(job.created),
        "updated": format_time(job.updated),
        "progress": null,
    })
}

async fn status(app: Arc<App>, ctx: Ctx) -> ApiResult {
    let id = ctx.param("job_id");
    let lookup = id.clone();
    match app.db(move |s| s.job(&lookup)).await? {
        Some(job) => ok(&job_json(&job)),
        None => ok(&json!({
            "job_id": id,
            "status": "unknown",
            "result": null,
            "error_message": null,
            "created": null,
            "updated": null,
            "progress": null,
        })),
    }
}

async fn list(app: Arc<App>, ctx: Ctx) -> ApiResult {
    let limit = query_int(&ctx, "limit", 1, 1000)?.unwrap_or(50) as usize;
    let command = ctx.query_value("command_filter").filter(|c| !c.is_empty());
    let wanted = ctx.query_value("status_filter").filter(|s| !s.is_empty());
    if let Some(status) = &wanted
        && !KNOWN_STATUSES.contains(&status.as_str())
    {
        return Err(ApiError::bad_request(format!(
            "status_filter must be one of: {}",
            KNOWN_STATUSES.join(", ")
        )));
    }
    let jobs = app.db(move |s| s.jobs(command.as_deref(), wanted.as_deref(), limit)).await?;
    ok(&jobs.iter().map(job_json).collect::<Vec<_>>())
}

const KNOWN_STATUSES: [&str; 5] = [
    JobStatus::New.as_str(),
    JobStatus::Queued.as_str(),
    JobStatus::Running.as_str(),
    JobStatus::Completed.as_str(),
    JobStatus::Failed.as_str(),
];

async fn cancel(app: Arc<App>, ctx: Ctx) -> ApiResult {
    let id = ctx.param("job_id");
    let lookup = id.clone();
    let cancelled = app
        .db(move |s| s.cancel_job(&lookup))
        .await?
        .ok_or_else(|| ApiError::not_found("Job not found"))?;
    ok(&json!({ "job_id": id, "cancelled": cancelled }))
}
