//! Turning a source's input (stored file, link or pasted text) into text, and the worker
//! pool that does it for queued jobs.
//!
//! Extraction is CPU-bound and runs on the blocking pool under a time limit; link fetching
//! goes through `net` and its URL-safety rules. A job always ends `completed` or `failed`
//! with a reason: an error, a panic in an extractor or a timeout all fail the job rather
//! than leave it running.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use super::extract::{self, ExtractError, Extracted};
use crate::net::{FetchError, FetchLimits};
use crate::store::{Job, Source, Store, StoreError};

/// Longest time one extraction may take.
pub const EXTRACT_TIMEOUT: Duration = Duration::from_secs(300);

/// Where a source's content comes from.
#[derive(Debug, Clone)]
pub enum SourceInput {
    /// A file already stored in the uploads folder.
    File { path: PathBuf },
    /// A web address to fetch.
    Link(String),
    /// Text pasted by the user.
    Text(String),
}

impl SourceInput {
    /// The input a stored source was created from.
    pub fn of(source: &Source, stored_text: Option<String>) -> Option<Self> {
        let asset = source.asset.clone().unwrap_or_default();
        if let Some(path) = asset.file_path {
            return Some(Self::File { path: PathBuf::from(path) });
        }
        if let Some(url) = asset.url {
            return Some(Self::Link(url));
        }
        stored_text.map(Self::Text)
    }
}

/// Why processing failed; the message is safe to show to the user.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProcessError {
    #[error(transparent)]
    Extract(#[from] ExtractError),
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("The uploaded file could not be read back from disk ({0}); upload it again")]
    MissingFile(String),
    #[error("Processing took longer than {} seconds and was stopped", EXTRACT_TIMEOUT.as_secs())]
    Timeout,
    #[error("The text extractor failed unexpectedly on this file; try another format")]
    Crashed,
    #[error("Text content cannot be empty; paste some text")]
    EmptyText,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Extracts text from any input, under the time limit.
pub async fn extract_input(input: SourceInput) -> Result<Extracted, ProcessError> {
    match input {
        SourceInput::Text(text) => text_source(&text),
        SourceInput::File { path } => {
            let name =
                path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let bytes = tokio::fs::read(&path)
                .await
                .map_err(|e| ProcessError::MissingFile(e.kind().to_string()))?;
            extract_bytes(bytes, name).await
        }
        SourceInput::Link(url) => {
            let fetched = crate::net::fetch(&url, &FetchLimits::default()).await?;
            let name = name_for_link(&fetched.final_url, fetched.content_type.as_deref());
            let mut extracted = extract_bytes(fetched.body.to_vec(), name).await?;
            if extracted.title.is_none() {
                extracted.title = Some(fetched.final_url);
            }
            Ok(extracted)
        }
    }
}

fn text_source(text: &str) -> Result<Extracted, ProcessError> {
    if text.trim().is_empty() {
        return Err(ProcessError::EmptyText);
    }
    Ok(Extracted { title: None, text: text.to_string(), mime: "text/plain" })
}

/// Runs the extractor on the blocking pool with the time limit.
pub async fn extract_bytes(bytes: Vec<u8>, name: String) -> Result<Extracted, ProcessError> {
    let task = tokio::task::spawn_blocking(move || extract::extract(&bytes, &name));
    match tokio::time::timeout(EXTRACT_TIMEOUT, task).await {
        Ok(Ok(result)) => Ok(result?),
        Ok(Err(_panicked)) => Err(ProcessError::Crashed),
        Err(_elapsed) => Err(ProcessError::Timeout),
    }
}

/// A file-name hint for fetched content, so the extractor can tell HTML from text.
fn name_for_link(url: &str, content_type: Option<&str>) -> String {
    let mime = content_type.unwrap_or("").to_ascii_lowercase();
    if mime.contains("html") {
        return "page.html".into();
    }
    if mime.contains("markdown") {
        return "page.md".into();
    }
    let path = url.split(['?', '#']).next().unwrap_or("");
    path.rsplit('/').next().filter(|s| !s.is_empty()).unwrap_or("download").to_string()
}

/// What workers need: the store and the wake-up signals.
#[derive(Clone)]
pub struct Workers {
    pub store: Arc<Store>,
    pub jobs_ready: Arc<Notify>,
    pub index_ready: Arc<Notify>,
}

impl Workers {
    /// Starts `count` workers that run queued jobs until the runtime stops.
    pub fn spawn(&self, count: usize) {
        for _ in 0..count {
            let workers = self.clone();
            tokio::spawn(async move { workers.run().await });
        }
    }

    async fn run(self) {
        loop {
            match self.claim().await {
                Some(job) => self.process(job).await,
                None => {
                    tokio::select! {
                        () = self.jobs_ready.notified() => {},
                        () = tokio::time::sleep(Duration::from_secs(2)) => {},
                    }
                }
            }
        }
    }

    async fn claim(&self) -> Option<Job> {
        let store = Arc::clone(&self.store);
        match tokio::task::spawn_blocking(move || store.claim_next_job()).await {
            Ok(Ok(job)) => job,
            Ok(Err(e)) => {
                tracing::error!(error = %e, "could not take a job from the queue");
                None
            }
            Err(e) => {
                tracing::error!(error = %e, "job queue task failed");
                None
            }
        }
    }

    async fn process(&self, job: Job) {
        let outcome = match run_source_job(&self.store, &job).await {
            Ok(()) => Ok(()),
            Err(e) => {
                tracing::warn!(job = %job.id, source = %job.target, error = %e, "job failed");
                Err(e.to_string())
            }
        };
        let store = Arc::clone(&self.store);
        let id = job.id.clone();
        match tokio::task::spawn_blocking(move || store.finish_job(&id, outcome)).await {
            Ok(Ok(())) => tracing::info!(job = %job.id, "job finished"),
            Ok(Err(e)) => tracing::error!(job = %job.id, error = %e, "could not record job end"),
            Err(e) => tracing::error!(job = %job.id, error = %e, "job end task failed"),
        }
        self.index_ready.notify_one();
    }
}

/// Processes one `process_source` job: extract, then store the text.
async fn run_source_job(store: &Arc<Store>, job: &Job) -> Result<(), ProcessError> {
    let (row_store, id) = (Arc::clone(store), job.target.clone());
    let loaded = tokio::task::spawn_blocking(move || {
        Ok::<_, StoreError>((row_store.source(&id)?, row_store.source_text(&id)?))
    })
    .await
    .map_err(|_| ProcessError::Crashed)??;
    let (Some(row), stored_text) = loaded else {
        return Ok(()); // The source was deleted while queued: nothing left to do.
    };
    let Some(input) = SourceInput::of(&row.source, stored_text) else {
        return Err(ProcessError::EmptyText);
    };
    let file_name = match &input {
        SourceInput::File { path } => path.file_name().map(|n| n.to_string_lossy().into_owned()),
        _ => None,
    };
    let mut extracted = extract_input(input).await?;
    // As with synchronous processing, an upload without a title of its own is named after
    // its stored file.
    extracted.title = extracted.title.or(file_name);
    let (write_store, id) = (Arc::clone(store), job.target.clone());
    tokio::task::spawn_blocking(move || {
        write_store.set_source_content(
            &id,
            extracted.title.as_deref(),
            extracted.mime,
            &extracted.text,
        )
    })
    .await
    .map_err(|_| ProcessError::Crashed)??;
    Ok(())
}
