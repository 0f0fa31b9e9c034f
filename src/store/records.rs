//! The records kept in redb, one struct per entity, and how they are encoded.
//!
//! Every stored value is one format-version byte followed by the postcard encoding of the
//! struct. A struct's layout never changes under the same version: a new field means a new
//! version and a migration in `store::migrate` that rewrites the old rows. Large text (a
//! source's extracted content) lives in its own table so lists never decode it.

use serde::{Deserialize, Serialize, de::DeserializeOwned};

use super::StoreError;

/// A record type with a fixed on-disk format version.
pub trait Record: Serialize + DeserializeOwned {
    /// The table the record lives in, also the prefix of its ids (`notebook:...`).
    const KIND: &'static str;
    /// The current format version written by this build.
    const VERSION: u8;
}

/// Encodes a record as its version byte plus postcard bytes.
pub fn encode<R: Record>(record: &R) -> Result<Vec<u8>, StoreError> {
    let mut bytes = vec![R::VERSION];
    let body = postcard::to_stdvec(record).map_err(|e| StoreError::Codec(e.to_string()))?;
    bytes.extend_from_slice(&body);
    Ok(bytes)
}

/// Decodes a record written by [`encode`]; another version is a codec error.
pub fn decode<R: Record>(bytes: &[u8]) -> Result<R, StoreError> {
    match bytes.split_first() {
        Some((&version, body)) if version == R::VERSION => {
            postcard::from_bytes(body).map_err(|e| StoreError::Codec(e.to_string()))
        }
        Some((&version, _)) => Err(StoreError::Codec(format!(
            "{} record has format version {version}, expected {}",
            R::KIND,
            R::VERSION
        ))),
        None => Err(StoreError::Codec(format!("empty {} record", R::KIND))),
    }
}

/// A notebook: a named collection of sources and notes.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Notebook {
    pub id: String,
    pub name: String,
    pub description: String,
    pub archived: bool,
    pub created: i64,
    pub updated: i64,
    pub last_viewed_at: Option<i64>,
}

impl Record for Notebook {
    const KIND: &'static str = "notebook";
    const VERSION: u8 = 1;
}

/// Where a source's content came from.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Asset {
    pub file_path: Option<String>,
    pub url: Option<String>,
}

/// A source: an uploaded file, a fetched link or pasted text.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Source {
    pub id: String,
    pub title: Option<String>,
    pub topics: Vec<String>,
    pub asset: Option<Asset>,
    /// The processing job that fills this source's text, if any.
    pub command: Option<String>,
    /// The detected media type of the content, once extracted.
    pub mime: Option<String>,
    pub created: i64,
    pub updated: i64,
    pub last_viewed_at: Option<i64>,
}

impl Record for Source {
    const KIND: &'static str = "source";
    const VERSION: u8 = 1;
}

impl Source {
    /// The original's derived type: `file`, `link` or `text`.
    pub fn kind(&self) -> &'static str {
        match &self.asset {
            Some(Asset { file_path: Some(_), .. }) => "file",
            Some(Asset { url: Some(_), .. }) => "link",
            _ => "text",
        }
    }
}

/// A note written by a person or saved from an AI answer.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Note {
    pub id: String,
    pub title: Option<String>,
    pub content: Option<String>,
    pub note_type: Option<String>,
    pub notebook_id: Option<String>,
    pub created: i64,
    pub updated: i64,
}

impl Record for Note {
    const KIND: &'static str = "note";
    const VERSION: u8 = 1;
}

/// The life of a processing job, as clients see it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum JobStatus {
    New,
    Queued,
    Running,
    Completed,
    Failed,
}

impl JobStatus {
    /// The status string of the original API.
    pub const fn as_str(self) -> &'static str {
        match self {
            JobStatus::New => "new",
            JobStatus::Queued => "queued",
            JobStatus::Running => "running",
            JobStatus::Completed => "completed",
            JobStatus::Failed => "failed",
        }
    }

    /// True while the job still has work to do.
    pub fn is_active(self) -> bool {
        matches!(self, JobStatus::New | JobStatus::Queued | JobStatus::Running)
    }
}

/// A queued unit of background work (`command:...` ids).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Job {
    pub id: String,
    /// The command name, e.g. `process_source`.
    pub command: String,
    /// The record the job works on.
    pub target: String,
    pub status: JobStatus,
    pub attempts: u32,
    pub error_message: Option<String>,
    pub created: i64,
    pub updated: i64,
    pub started_at: Option<i64>,
    pub completed_at: Option<i64>,
}

impl Record for Job {
    const KIND: &'static str = "command";
    const VERSION: u8 = 1;
}

/// Work for the search index, written in the same transaction as the change it reflects.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub enum IndexTask {
    /// Re-read this source or note from the database and index it (or drop it if gone).
    Refresh(String),
}

impl Record for IndexTask {
    const KIND: &'static str = "outbox";
    const VERSION: u8 = 1;
}
