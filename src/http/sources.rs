//! `/api/sources*`: creating sources from uploads, links and text; reading, listing,
//! updating, retrying, downloading and deleting them.
//!
//! All three create routes build one [`CreateSource`] and share [`create_source`]. An upload
//! whose type has no extractor is refused (415) before anything is stored. With synchronous
//! processing the text is extracted first and nothing is stored unless that succeeds, so a
//! refused document leaves no row, no file and no index entry; the reply is sent only once
//! the text is searchable. With asynchronous processing the source and its job are stored
//! together and a worker fills the text in.

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode, header};
use serde::Deserialize;
use serde_json::{Value, json};

use super::App;
use super::reply::{ApiError, ApiResult, bytes_reply, message, ok};
use super::request::{Ctx, query_int};
use super::router::RouterBuilder;
use crate::ingest::extract::{self, ExtractError, Format};
use crate::ingest::process::{self, ProcessError, SourceInput};
use crate::ingest::uploads;
use crate::store::{
    Asset, Job, JobStatus, SourceOrder, SourceRow, format_time, new_id, now_micros,
};

pub(super) fn routes(builder: RouterBuilder) -> RouterBuilder {
    builder
        .route(Method::GET, "/api/sources", list)
        .route(Method::POST, "/api/sources", create_form)
        .route(Method::POST, "/api/sources/json", create_json)
        .route(Method::POST, "/api/sources/upload", create_upload)
        .route(Method::GET, "/api/sources/{id}", read)
        .route(Method::PUT, "/api/sources/{id}", update)
        .route(Method::DELETE, "/api/sources/{id}", delete)
        .route(Method::GET, "/api/sources/{id}/status", status)
        .route(Method::POST, "/api/sources/{id}/retry", retry)
        .route(Method::GET, "/api/sources/{id}/download", download)
        .route(Method::HEAD, "/api/sources/{id}/download", download)
        .route(Method::GET, "/api/sources/{id}/insights", insights)
}

const NOT_FOUND: &str = "Source not found";

/// Most notebooks or transformations one create request may name.
const MAX_LIST_ITEMS: usize = 50;

/// A create request, whichever route and encoding it came from.
#[derive(Debug, Default)]
struct CreateSource {
    kind: String,
    notebooks: Vec<String>,
    url: Option<String>,
    content: Option<String>,
    title: Option<String>,
    file: Option<(String, Bytes)>,
    async_processing: bool,
}

/// The original's boolean form fields: true iff `true`, `1`, `yes` or `on`.
fn form_bool(value: &str) -> bool {
    crate::config::parse_bool(value)
}

impl CreateSource {
    fn set_field(&mut self, name: &str, value: String) -> Result<(), ApiError> {
        match name {
            "type" => self.kind = value,
            "notebook_id" if !value.is_empty() => self.notebooks.push(value),
            "notebooks" if !value.trim().is_empty() => {
                let ids: Vec<String> = serde_json::from_str(&value).map_err(|_| {
                    ApiError::bad_request("notebooks must be a JSON array of notebook ids")
                })?;
                self.notebooks.extend(ids);
            }
            "url" if !value.is_empty() => self.url = Some(value),
            "content" => self.content = Some(value),
            "title" if !value.trim().is_empty() => self.title = Some(value),
            "async_processing" => self.async_processing = form_bool(&value),
            _ => {} // Unknown, empty or not-yet-supported fields are ignored, as upstream does.
        }
        Ok(())
    }
}

async fn create_form(app: Arc<App>, ctx: Ctx) -> ApiResult {
    let request = parse_form(&ctx).await?;
    create_source(&app, request).await
}

async fn create_upload(app: Arc<App>, ctx: Ctx) -> ApiResult {
    let mut request = parse_form(&ctx).await?;
    if request.kind.is_empty() {
        request.kind = "upload".into();
    }
    create_source(&app, request).await
}

#[derive(Deserialize)]
struct CreateSourceJson {
    #[serde(rename = "type")]
    kind: String,
    notebook_id: Option<String>,
    #[serde(default)]
    notebooks: Option<Vec<String>>,
    url: Option<String>,
    content: Option<String>,
    title: Option<String>,
    file_path: Option<String>,
    #[serde(default)]
    async_processing: bool,
}

async fn create_json(app: Arc<App>, ctx: Ctx) -> ApiResult {
    let body: CreateSourceJson = ctx.json()?;
    let mut request = CreateSource {
        kind: body.kind,
        notebooks: body.notebooks.unwrap_or_default(),
        url: body.url,
        content: body.content,
        title: body.title.filter(|t| !t.trim().is_empty()),
        async_processing: body.async_processing,
        ..CreateSource::default()
    };
    request.notebooks.extend(body.notebook_id.filter(|id| !id.is_empty()));
    if let Some(path) = body.file_path {
        request.file = Some(read_existing_upload(&app, &path).await?);
    }
    create_source(&app, request).await
}

/// The legacy `file_path` field: only a file already inside the uploads folder.
async fn read_existing_upload(app: &App, raw: &str) -> Result<(String, Bytes), ApiError> {
    let denied = || ApiError::bad_request("file_path must name a file inside the uploads folder");
    let path = PathBuf::from(raw);
    let path = if path.is_absolute() { path } else { app.uploads_dir.join(path) };
    let (Ok(file), Ok(dir)) = (path.canonicalize(), app.uploads_dir.canonicalize()) else {
        return Err(denied());
    };
    if !file.starts_with(&dir) {
        return Err(denied());
    }
    let bytes = tokio::fs::read(&file).await.map_err(|_| denied())?;
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    Ok((name, Bytes::from(bytes)))
}

/// Parses a multipart or urlencoded form body.
async fn parse_form(ctx: &Ctx) -> Result<CreateSource, ApiError> {
    let content_type = ctx.header("content-type").unwrap_or("").to_ascii_lowercase();
    let mut request = CreateSource::default();
    if content_type.starts_with("multipart/form-data") {
        parse_multipart(ctx, &mut request).await?;
    } else if content_type.starts_with("application/x-www-form-urlencoded") {
        for (name, value) in serde_urlencoded::from_bytes::<Vec<(String, String)>>(&ctx.body)
            .map_err(|_| ApiError::bad_request("The form body is not valid urlencoded data"))?
        {
            request.set_field(&name, value)?;
        }
    } else {
        return Err(ApiError::unprocessable(vec![json!({
            "type": "missing",
            "loc": ["body", "type"],
            "msg": "Field required; send multipart/form-data or urlencoded form fields \
                    (JSON goes to /api/sources/json)",
        })]));
    }
    Ok(request)
}

async fn parse_multipart(ctx: &Ctx, request: &mut CreateSource) -> Result<(), ApiError> {
    let bad =
        |why: String| ApiError::bad_request(format!("The multipart body is malformed: {why}"));
    let boundary = multer::parse_boundary(ctx.header("content-type").unwrap_or(""))
        .map_err(|e| bad(e.to_string()))?;
    let body = ctx.body.clone();
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::io::Error>(body) });
    let mut multipart = multer::Multipart::new(stream, boundary);
    while let Some(field) = multipart.next_field().await.map_err(|e| bad(e.to_string()))? {
        let name = field.name().unwrap_or("").to_string();
        let file_name = field.file_name().map(str::to_string);
        let data = field.bytes().await.map_err(|e| bad(e.to_string()))?;
        match file_name {
            Some(file_name) if name == "file" => request.file = Some((file_name, data)),
            _ => {
                let text = String::from_utf8(data.to_vec())
                    .map_err(|_| bad(format!("field '{name}' is not UTF-8 text")))?;
                request.set_field(&name, text)?;
            }
        }
    }
    Ok(())
}

/// What a validated request will store.
struct Prepared {
    input: SourceInput,
    asset: Option<Asset>,
    file: Option<(String, Bytes)>,
}

fn prepare(request: &mut CreateSource) -> Result<Prepared, ApiError> {
    if request.notebooks.len() > MAX_LIST_ITEMS {
        return Err(ApiError::bad_request("At most 50 notebooks can be given"));
    }
    match request.kind.as_str() {
        "upload" => {
            let Some((name, bytes)) = request.file.take() else {
                return Err(ApiError::bad_request("A file is required for upload sources"));
            };
            refuse_unsupported(&bytes, &name)?;
            let input = SourceInput::File { path: PathBuf::new() };
            Ok(Prepared { input, asset: None, file: Some((name, bytes)) })
        }
        "link" => {
            let url = request.url.clone().unwrap_or_default();
            if url.trim().is_empty() {
                return Err(ApiError::bad_request("A URL is required for link sources"));
            }
            crate::net::validate_url(url.trim())
                .map_err(|e| ApiError::bad_request(e.to_string()))?;
            let asset = Asset { file_path: None, url: Some(url.trim().to_string()) };
            Ok(Prepared {
                input: SourceInput::Link(url.trim().into()),
                asset: Some(asset),
                file: None,
            })
        }
        "text" => {
            let content = request.content.clone().unwrap_or_default();
            if content.trim().is_empty() {
                return Err(ApiError::bad_request("Content is required for text sources"));
            }
            Ok(Prepared { input: SourceInput::Text(content), asset: None, file: None })
        }
        "" => Err(ApiError::unprocessable(vec![json!({
            "type": "missing", "loc": ["body", "type"], "msg": "Field required",
        })])),
        other => Err(ApiError::bad_request(format!(
            "Invalid source type '{other}'. Use one of: link, upload, text"
        ))),
    }
}

fn refuse_unsupported(bytes: &[u8], name: &str) -> Result<(), ApiError> {
    let detected = extract::detect(bytes, name);
    if detected.format == Format::Other {
        let error = ExtractError::Unsupported { mime: detected.mime.to_string() };
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("{error} (detected type: {})", detected.mime),
        ));
    }
    Ok(())
}

/// Maps a processing failure to the client's status and message.
fn process_error(error: ProcessError) -> ApiError {
    let status = match &error {
        ProcessError::Extract(ExtractError::Unsupported { .. }) => {
            StatusCode::UNSUPPORTED_MEDIA_TYPE
        }
        ProcessError::Extract(ExtractError::TooLarge) => StatusCode::PAYLOAD_TOO_LARGE,
        ProcessError::Extract(_) | ProcessError::EmptyText | ProcessError::Crashed => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        ProcessError::Fetch(e) => e.status_hint(),
        ProcessError::Timeout => StatusCode::GATEWAY_TIMEOUT,
        ProcessError::Store(_) | ProcessError::MissingFile(_) => {
            return ApiError::internal(error);
        }
    };
    let detail = match &error {
        ProcessError::Extract(ExtractError::Unsupported { mime }) => {
            format!("{error} (detected type: {mime})")
        }
        _ => error.to_string(),
    };
    ApiError::new(status, detail)
}

async fn create_source(app: &Arc<App>, mut request: CreateSource) -> ApiResult {
    let prepared = prepare(&mut request)?;
    check_notebooks(app, &request.notebooks).await?;
    let extracted = if request.async_processing {
        None
    } else {
        Some(extract_now(&prepared).await.map_err(process_error)?)
    };
    let asset = match &prepared.file {
        Some((name, bytes)) => Some(save_upload(app, name, bytes).await?),
        None => prepared.asset,
    };
    let id = new_id("source");
    let now = now_micros();
    let job = new_job(&id, extracted.is_none(), now);
    let fallback_title = asset.as_ref().and_then(|a| a.file_path.as_deref()).map(file_name_of);
    let title = request.title.clone().or_else(|| match &extracted {
        Some(e) => e.title.clone().or(fallback_title.clone()),
        None => None,
    });
    let source = crate::store::Source {
        id: id.clone(),
        title,
        topics: Vec::new(),
        asset,
        command: Some(job.id.clone()),
        mime: extracted.as_ref().map(|e| e.mime.to_string()),
        created: now,
        updated: now,
        last_viewed_at: None,
    };
    let text = match (&extracted, &prepared.input) {
        (Some(e), _) => Some(e.text.clone()),
        (None, SourceInput::Text(text)) => Some(text.clone()),
        _ => None,
    };
    let row = SourceRow { source, notebooks: request.notebooks.clone(), job: Some(job) };
    let (stored, stored_text) = (row.clone(), text.clone());
    let inserted = app
        .db(move |s| {
            let job = stored.job.as_ref();
            s.insert_source(&stored.source, stored_text.as_deref(), &stored.notebooks, job)
        })
        .await;
    if let Err(error) = inserted {
        if let Some(file) = row.source.asset.as_ref().and_then(|a| a.file_path.as_deref()) {
            super::remove_upload(app, file).await;
        }
        return Err(error);
    }
    // The reply is built from what was stored, never re-read: a worker may already be
    // running the job, and an asynchronous create answers `new` as the original does.
    let mut body = source_json(app, &row, text).await;
    if request.async_processing {
        body["processing_info"] = json!({ "async": true, "queued": true });
        if matches!(prepared.input, SourceInput::Link(_) | SourceInput::File { .. }) {
            body["full_text"] = Value::Null;
        }
        app.wake_workers();
    } else {
        app.sync_index().await?;
    }
    ok(&body)
}

async fn extract_now(prepared: &Prepared) -> Result<extract::Extracted, ProcessError> {
    match (&prepared.file, &prepared.input) {
        (Some((name, bytes)), _) => process::extract_bytes(bytes.to_vec(), name.clone()).await,
        (None, input) => process::extract_input(input.clone()).await,
    }
}

fn new_job(source_id: &str, queued: bool, now: i64) -> Job {
    Job {
        id: new_id("command"),
        command: "process_source".into(),
        target: source_id.to_string(),
        status: if queued { JobStatus::New } else { JobStatus::Completed },
        attempts: u32::from(!queued),
        error_message: None,
        created: now,
        updated: now,
        started_at: (!queued).then_some(now),
        completed_at: (!queued).then_some(now),
    }
}

fn file_name_of(path: &str) -> String {
    std::path::Path::new(path)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

async fn check_notebooks(app: &Arc<App>, ids: &[String]) -> Result<(), ApiError> {
    let ids = ids.to_vec();
    let missing = app
        .db(move |s| {
            for id in &ids {
                if s.notebook(id)?.is_none() {
                    return Ok(Some(id.clone()));
                }
            }
            Ok(None)
        })
        .await?;
    match missing {
        Some(_) => Err(ApiError::not_found("Notebook not found")),
        None => Ok(()),
    }
}

async fn save_upload(app: &Arc<App>, name: &str, bytes: &Bytes) -> Result<Asset, ApiError> {
    let (dir, name, bytes) = (app.uploads_dir.clone(), name.to_string(), bytes.clone());
    let path = tokio::task::spawn_blocking(move || uploads::store_upload(&dir, &name, &bytes))
        .await?
        .map_err(|e| ApiError::internal(format!("cannot store the upload: {e}")))?;
    Ok(Asset { file_path: Some(path.to_string_lossy().into_owned()), url: None })
}

/// The original's `processing_info` for a job.
fn processing_info(job: Option<&Job>) -> Value {
    let Some(job) = job else { return Value::Null };
    let error = job.error_message.as_ref().map(|e| {
        if e.chars().count() > 200 {
            format!("{}…", e.chars().take(200).collect::<String>())
        } else {
            e.clone()
        }
    });
    json!({
        "started_at": job.started_at.map(format_time),
        "completed_at": job.completed_at.map(format_time),
        "error": error,
    })
}

fn asset_json(row: &SourceRow) -> Value {
    match &row.source.asset {
        Some(asset) => json!({ "file_path": asset.file_path, "url": asset.url }),
        None => Value::Null,
    }
}

fn file_available(app: &App, row: &SourceRow) -> Value {
    match row.source.asset.as_ref().and_then(|a| a.file_path.as_ref()) {
        Some(path) => Value::Bool(inside_uploads(app, path).is_some()),
        None => Value::Null,
    }
}

/// The canonical path of a stored file, if it exists inside the uploads folder.
fn inside_uploads(app: &App, path: &str) -> Option<PathBuf> {
    let file = std::path::Path::new(path).canonicalize().ok()?;
    let dir = app.uploads_dir.canonicalize().ok()?;
    (file.starts_with(dir) && file.is_file()).then_some(file)
}

/// The original's `SourceResponse`; `full_text` is read when not given.
async fn source_json(app: &Arc<App>, row: &SourceRow, full_text: Option<String>) -> Value {
    let full_text = match full_text {
        Some(text) => Some(text),
        None => {
            let id = row.source.id.clone();
            app.db(move |s| s.source_text(&id)).await.ok().flatten()
        }
    };
    let s = &row.source;
    json!({
        "id": s.id,
        "title": s.title,
        "topics": s.topics,
        "asset": asset_json(row),
        "full_text": full_text,
        "embedded": false,
        "embedded_chunks": 0,
        "file_available": file_available(app, row),
        "created": format_time(s.created),
        "updated": format_time(s.updated),
        "command_id": s.command,
        "status": row.job.as_ref().map(|j| j.status.as_str()),
        "processing_info": processing_info(row.job.as_ref()),
        "notebooks": row.notebooks,
    })
}

fn list_item_json(row: &SourceRow) -> Value {
    let s = &row.source;
    let status = match (&s.command, &row.job) {
        (Some(_), Some(job)) => Some(job.status.as_str()),
        (Some(_), None) => Some("unknown"),
        _ => None,
    };
    json!({
        "id": s.id,
        "title": s.title,
        "topics": s.topics,
        "asset": asset_json(row),
        "embedded": false,
        "embedded_chunks": 0,
        "insights_count": 0,
        "created": format_time(s.created),
        "updated": format_time(s.updated),
        "file_available": null,
        "command_id": s.command,
        "status": status,
        "processing_info": processing_info(row.job.as_ref()),
    })
}

async fn list(app: Arc<App>, ctx: Ctx) -> ApiResult {
    let limit = query_int(&ctx, "limit", 1, 100)?.unwrap_or(50) as usize;
    let offset = query_int(&ctx, "offset", 0, i64::MAX)?.unwrap_or(0) as usize;
    let order = match ctx.query_value("sort_by").as_deref().unwrap_or("updated") {
        "type" => SourceOrder::Type,
        "title" => SourceOrder::Title,
        "created" => SourceOrder::Created,
        "updated" => SourceOrder::Updated,
        "insights_count" | "embedded" => SourceOrder::Constant,
        _ => {
            return Err(ApiError::bad_request(
                "sort_by must be one of: type, title, created, updated, insights_count, embedded",
            ));
        }
    };
    let descending = match ctx.query_value("sort_order").as_deref().unwrap_or("desc") {
        "asc" => false,
        "desc" => true,
        _ => return Err(ApiError::bad_request("sort_order must be 'asc' or 'desc'")),
    };
    let notebook = ctx.query_value("notebook_id").filter(|id| !id.is_empty());
    if let Some(id) = notebook.clone()
        && app.db(move |s| s.notebook(&id)).await?.is_none()
    {
        return Err(ApiError::not_found("Notebook not found"));
    }
    let rows =
        app.db(move |s| s.sources(notebook.as_deref(), order, descending, limit, offset)).await?;
    ok(&rows.iter().map(list_item_json).collect::<Vec<_>>())
}

async fn load(app: &Arc<App>, id: String) -> Result<SourceRow, ApiError> {
    app.db(move |s| s.source(&id)).await?.ok_or_else(|| ApiError::not_found(NOT_FOUND))
}

async fn read(app: Arc<App>, ctx: Ctx) -> ApiResult {
    let id = ctx.param("id");
    let stamp_id = id.clone();
    app.db(move |s| s.stamp_source_viewed(&stamp_id)).await?;
    let row = load(&app, id).await?;
    ok(&source_json(&app, &row, None).await)
}

#[derive(Deserialize)]
struct UpdateSource {
    title: Option<String>,
    topics: Option<Vec<String>>,
}

async fn update(app: Arc<App>, ctx: Ctx) -> ApiResult {
    let body: UpdateSource = ctx.json()?;
    let mut row = load(&app, ctx.param("id")).await?;
    if let Some(title) = body.title {
        if title.trim().is_empty() {
            return Err(ApiError::bad_request("Source title cannot be empty"));
        }
        row.source.title = Some(title);
    }
    if let Some(topics) = body.topics {
        row.source.topics = topics;
    }
    row.source.updated = now_micros();
    let source = row.source.clone();
    if !app.db(move |s| s.save_source(&source)).await? {
        return Err(ApiError::not_found(NOT_FOUND));
    }
    app.sync_index().await?;
    ok(&source_json(&app, &row, None).await)
}

async fn delete(app: Arc<App>, ctx: Ctx) -> ApiResult {
    let id = ctx.param("id");
    let file = app
        .db(move |s| s.delete_source(&id))
        .await?
        .ok_or_else(|| ApiError::not_found(NOT_FOUND))?;
    if let Some(file) = file {
        super::remove_upload(&app, &file).await;
    }
    app.sync_index().await?;
    message("Source deleted successfully")
}

async fn status(app: Arc<App>, ctx: Ctx) -> ApiResult {
    let row = load(&app, ctx.param("id")).await?;
    let Some(command_id) = row.source.command.clone() else {
        return ok(&json!({
            "status": null,
            "message": "Legacy source (completed before async processing)",
            "processing_info": null,
            "command_id": null,
        }));
    };
    let Some(job) = &row.job else {
        return ok(&json!({
            "status": "unknown",
            "message": "Failed to retrieve processing status",
            "processing_info": null,
            "command_id": command_id,
        }));
    };
    let text = match job.status {
        JobStatus::Completed => "Source processing completed successfully".to_string(),
        JobStatus::Failed => "Source processing failed".to_string(),
        JobStatus::Running => "Source processing in progress".to_string(),
        JobStatus::Queued => "Source processing queued".to_string(),
        JobStatus::New => format!("Source processing status: {}", job.status.as_str()),
    };
    ok(&json!({
        "status": job.status.as_str(),
        "message": text,
        "processing_info": processing_info(Some(job)),
        "command_id": command_id,
    }))
}

async fn retry(app: Arc<App>, ctx: Ctx) -> ApiResult {
    let row = load(&app, ctx.param("id")).await?;
    if row.job.as_ref().is_some_and(|job| job.status.is_active()) {
        return Err(ApiError::bad_request(
            "Source is already processing. Cannot retry while processing is active.",
        ));
    }
    if let Some(path) = row.source.asset.as_ref().and_then(|a| a.file_path.clone()) {
        let bytes = tokio::fs::read(&path)
            .await
            .map_err(|_| ApiError::bad_request("Cannot determine source content for retry"))?;
        refuse_unsupported(&bytes, &file_name_of(&path))?;
    }
    let now = now_micros();
    let mut job = row.job.clone().unwrap_or_else(|| new_job(&row.source.id, true, now));
    job.target = row.source.id.clone();
    let mut source = row.source.clone();
    source.command = Some(job.id.clone());
    app.db(move |s| {
        s.save_source(&source)?;
        s.requeue_job(&job)
    })
    .await?;
    app.wake_workers();
    let row = load(&app, row.source.id.clone()).await?;
    let mut body = source_json(&app, &row, None).await;
    body["status"] = json!("queued");
    body["processing_info"] = json!({ "retry": true, "queued": true });
    ok(&body)
}

async fn download(app: Arc<App>, ctx: Ctx) -> ApiResult {
    let row = load(&app, ctx.param("id")).await?;
    let Some(path) = row.source.asset.as_ref().and_then(|a| a.file_path.clone()) else {
        return Err(ApiError::not_found("Source has no file to download"));
    };
    if !std::path::Path::new(&path).exists() {
        return Err(ApiError::not_found("File not found on server"));
    }
    let Some(file) = inside_uploads(&app, &path) else {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "Access to file denied"));
    };
    let body = if ctx.method == Method::HEAD {
        Bytes::new()
    } else {
        Bytes::from(tokio::fs::read(&file).await.map_err(ApiError::internal)?)
    };
    let mut reply = bytes_reply(StatusCode::OK, "application/octet-stream", body);
    if let Ok(value) = HeaderValue::from_str(&content_disposition(&file_name_of(&path))) {
        reply.headers_mut().insert(header::CONTENT_DISPOSITION, value);
    }
    Ok(reply)
}

/// `attachment` with an ASCII fallback name and the exact UTF-8 name (RFC 6266).
fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' { c } else { '_' })
        .collect();
    let encoded = percent_encoding::utf8_percent_encode(name, percent_encoding::NON_ALPHANUMERIC);
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

async fn insights(app: Arc<App>, ctx: Ctx) -> ApiResult {
    load(&app, ctx.param("id")).await?;
    // TODO: insights need transformations run by a language model; until model calls exist,
    // every source has none.
    ok(&json!([]))
}
