//! The database: one redb file holding every record, relation and queue.
//!
//! This module owns the table layout, record ids, timestamps, the schema version and the
//! index outbox. Each public write method runs in one write transaction and returns only
//! after redb has durably committed it, so an acknowledged write survives `kill -9`. Any
//! change to searchable text also appends an [`IndexTask`] to the outbox in the same
//! transaction; the search module drains it. Nothing here knows about HTTP.

mod audit;
mod credentials;
mod jobs;
mod migrate;
mod notebooks;
mod notes;
mod preferences;
pub mod records;
mod sources;

use std::path::Path;

use redb::{
    Database, MultimapTableDefinition, ReadTransaction, ReadableDatabase, ReadableTable,
    TableDefinition, WriteTransaction,
};

pub use credentials::{
    Credential, CredentialDeletion, Endpoints, KEY_CHECK_META, KEY_ROTATED_META, KeyUpdate, Model,
    NewModel, Registered, StoredKey,
};
pub use notebooks::{NotebookDeletion, NotebookOrder, NotebookPatch, NotebookView};
pub use preferences::{ContentSettings, DefaultModels};
pub use records::{Asset, IndexTask, Job, JobStatus, Note, Notebook, Record, Source};
pub use sources::{SourceOrder, SourceRow};

pub(crate) const NOTEBOOKS: TableDefinition<&str, &[u8]> = TableDefinition::new("notebook");
pub(crate) const SOURCES: TableDefinition<&str, &[u8]> = TableDefinition::new("source");
pub(crate) const SOURCE_TEXT: TableDefinition<&str, &str> = TableDefinition::new("source_text");
pub(crate) const NOTES: TableDefinition<&str, &[u8]> = TableDefinition::new("note");
pub(crate) const JOBS: TableDefinition<&str, &[u8]> = TableDefinition::new("command");
pub(crate) const JOB_QUEUE: TableDefinition<u64, &str> = TableDefinition::new("command_queue");
pub(crate) const OUTBOX: TableDefinition<u64, &[u8]> = TableDefinition::new("index_outbox");
pub(crate) const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
pub(crate) const AUDIT: TableDefinition<u64, &[u8]> = TableDefinition::new("audit");
/// source id → notebook ids, and the reverse.
pub(crate) const SOURCE_NOTEBOOKS: MultimapTableDefinition<&str, &str> =
    MultimapTableDefinition::new("reference");
pub(crate) const NOTEBOOK_SOURCES: MultimapTableDefinition<&str, &str> =
    MultimapTableDefinition::new("reference_by_notebook");
/// notebook id → note ids.
pub(crate) const NOTEBOOK_NOTES: MultimapTableDefinition<&str, &str> =
    MultimapTableDefinition::new("artifact");

/// A storage failure. These are internal errors: the HTTP layer logs them and answers 500.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    #[error("the database is in use by another process (is a server running on this folder?)")]
    Locked,
    #[error("database error: {0}")]
    Db(String),
    #[error("record encoding error: {0}")]
    Codec(String),
    #[error(
        "the database was written by a newer version (schema {found}, this build knows {known})"
    )]
    TooNew { found: u32, known: u32 },
}

macro_rules! db_error_from {
    ($($t:ty),*) => {$(
        impl From<$t> for StoreError {
            fn from(e: $t) -> Self {
                StoreError::Db(e.to_string())
            }
        }
    )*};
}

db_error_from!(
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    redb::Error
);

impl From<redb::DatabaseError> for StoreError {
    fn from(e: redb::DatabaseError) -> Self {
        match e {
            redb::DatabaseError::DatabaseAlreadyOpen => StoreError::Locked,
            other => StoreError::Db(other.to_string()),
        }
    }
}

/// Result of store operations.
pub type StoreResult<T> = Result<T, StoreError>;

/// The open database.
pub struct Store {
    db: Database,
}

impl Store {
    /// Opens (or creates) the database file and brings its schema up to date.
    pub fn open(path: &Path) -> StoreResult<Self> {
        let db = Database::create(path)?;
        let store = Self { db };
        migrate::run(&store)?;
        Ok(store)
    }

    /// Runs `f` in a write transaction and commits durably.
    pub(crate) fn write<T>(
        &self,
        f: impl FnOnce(&WriteTransaction) -> StoreResult<T>,
    ) -> StoreResult<T> {
        let txn = self.db.begin_write()?;
        let value = f(&txn)?;
        txn.commit()?;
        Ok(value)
    }

    /// Starts a read transaction over a consistent snapshot.
    pub(crate) fn read(&self) -> StoreResult<ReadTransaction> {
        Ok(self.db.begin_read()?)
    }

    /// Reads one value from the `meta` table.
    pub fn meta(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        let txn = self.read()?;
        let table = match txn.open_table(META) {
            Ok(table) => table,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(e.into()),
        };
        Ok(table.get(key)?.map(|v| v.value().to_vec()))
    }

    /// Writes one value to the `meta` table.
    pub fn set_meta(&self, key: &str, value: &[u8]) -> StoreResult<()> {
        self.write(|txn| {
            txn.open_table(META)?.insert(key, value)?;
            Ok(())
        })
    }

    /// The oldest outbox entries, up to `limit`, with their sequence numbers.
    pub fn pending_index_tasks(&self, limit: usize) -> StoreResult<Vec<(u64, IndexTask)>> {
        let txn = self.read()?;
        let table = txn.open_table(OUTBOX)?;
        let mut tasks = Vec::new();
        for entry in table.iter()?.take(limit) {
            let (seq, bytes) = entry?;
            tasks.push((seq.value(), records::decode(bytes.value())?));
        }
        Ok(tasks)
    }

    /// The sequence number of the newest outbox entry (0 when empty).
    pub fn last_index_task(&self) -> StoreResult<u64> {
        let txn = self.read()?;
        let table = txn.open_table(OUTBOX)?;
        Ok(table.last()?.map_or(0, |(seq, _)| seq.value()))
    }

    /// Removes outbox entries once the index has committed them.
    pub fn ack_index_tasks(&self, seqs: &[u64]) -> StoreResult<()> {
        self.write(|txn| {
            let mut table = txn.open_table(OUTBOX)?;
            for seq in seqs {
                table.remove(seq)?;
            }
            Ok(())
        })
    }

    /// Queues an index refresh for every source and note (used by `reindex`).
    pub fn queue_full_reindex(&self) -> StoreResult<usize> {
        self.write(|txn| {
            let mut ids = Vec::new();
            for def in [SOURCES, NOTES] {
                for entry in txn.open_table(def)?.iter()? {
                    ids.push(entry?.0.value().to_string());
                }
            }
            for id in &ids {
                enqueue_index(txn, id)?;
            }
            Ok(ids.len())
        })
    }
}

/// Appends an index refresh for `id` to the outbox inside `txn`.
pub(crate) fn enqueue_index(txn: &WriteTransaction, id: &str) -> StoreResult<()> {
    let mut table = txn.open_table(OUTBOX)?;
    let next = match table.last()? {
        Some((seq, _)) => seq.value() + 1,
        None => 1,
    };
    table.insert(next, records::encode(&IndexTask::Refresh(id.to_string()))?.as_slice())?;
    Ok(())
}

/// Reads and decodes one record from `def`.
pub(crate) fn get_record<R: Record>(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
    id: &str,
) -> StoreResult<Option<R>> {
    match table.get(id)? {
        Some(bytes) => Ok(Some(records::decode(bytes.value())?)),
        None => Ok(None),
    }
}

/// Encodes and writes one record under its id.
pub(crate) fn put_record<R: Record>(
    txn: &WriteTransaction,
    def: TableDefinition<&str, &[u8]>,
    id: &str,
    record: &R,
) -> StoreResult<()> {
    txn.open_table(def)?.insert(id, records::encode(record)?.as_slice())?;
    Ok(())
}

/// Decodes every record of a table.
pub(crate) fn all_records<R: Record>(
    table: &impl ReadableTable<&'static str, &'static [u8]>,
) -> StoreResult<Vec<R>> {
    let mut out = Vec::new();
    for entry in table.iter()? {
        out.push(records::decode(entry?.1.value())?);
    }
    Ok(out)
}

/// A new record id in the original's style: `<kind>:<20 random base-36 characters>`.
pub fn new_id(kind: &str) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut raw = [0u8; 20];
    // The OS random source does not fail on supported platforms; a zeroed id would still be
    // unique enough to be caught by the insert check, so fall back rather than panic.
    let _ = getrandom::getrandom(&mut raw);
    let key: String =
        raw.iter().map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char).collect();
    format!("{kind}:{key}")
}

/// True when `id` is a full id of the given kind (`kind:key`, key non-empty and plain).
pub fn is_id_of(kind: &str, id: &str) -> bool {
    id.strip_prefix(kind).and_then(|rest| rest.strip_prefix(':')).is_some_and(|key| {
        !key.is_empty()
            && key.len() <= 64
            && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}

/// Microseconds since the Unix epoch, now.
pub fn now_micros() -> i64 {
    chrono::Utc::now().timestamp_micros()
}

/// Renders a timestamp the way the original does (Python `str(datetime)` in UTC).
pub fn format_time(micros: i64) -> String {
    let Some(time) = chrono::DateTime::from_timestamp_micros(micros) else {
        return String::new();
    };
    if micros % 1_000_000 == 0 {
        time.format("%Y-%m-%d %H:%M:%S+00:00").to_string()
    } else {
        time.format("%Y-%m-%d %H:%M:%S%.6f+00:00").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_have_kind_prefix_and_are_distinct() {
        let a = new_id("notebook");
        let b = new_id("notebook");
        assert!(is_id_of("notebook", &a), "{a}");
        assert_ne!(a, b);
        assert!(!is_id_of("notebook", "source:abc"));
        assert!(!is_id_of("notebook", "notebook:"));
        assert!(!is_id_of("notebook", "notebook:a/b"));
    }

    #[test]
    fn time_format_matches_python_str() {
        assert_eq!(format_time(1_751_371_200_000_000), "2025-07-01 12:00:00+00:00");
        assert_eq!(format_time(1_751_371_200_000_123), "2025-07-01 12:00:00.000123+00:00");
    }
}
