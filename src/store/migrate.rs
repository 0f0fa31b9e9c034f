//! Schema versions and the migrations between them.
//!
//! The `meta` table's `schema_version` names the layout a file was last written with. At
//! open, each pending migration runs in order inside one write transaction, so a file is
//! either fully at the new version or untouched. A file newer than this build is refused
//! rather than guessed at.

use redb::{ReadableTable, WriteTransaction};

use super::{
    AUDIT, JOB_QUEUE, JOBS, META, NOTEBOOK_NOTES, NOTEBOOK_SOURCES, NOTEBOOKS, NOTES, OUTBOX,
    SOURCE_NOTEBOOKS, SOURCE_TEXT, SOURCES, Store, StoreError, StoreResult,
};

/// The schema this build writes.
pub const SCHEMA_VERSION: u32 = 3;

const VERSION_KEY: &str = "schema_version";

type Migration = fn(&WriteTransaction) -> StoreResult<()>;

/// Migrations in order; entry `n` takes a file from version `n` to `n + 1`.
const MIGRATIONS: &[Migration] = &[create_tables, create_key_tables, create_audit_table];

/// Brings the database up to [`SCHEMA_VERSION`].
pub fn run(store: &Store) -> StoreResult<()> {
    store.write(|txn| {
        let found = current_version(txn)?;
        if found > SCHEMA_VERSION {
            return Err(StoreError::TooNew { found, known: SCHEMA_VERSION });
        }
        for (from, migration) in MIGRATIONS.iter().enumerate().skip(found as usize) {
            migration(txn)?;
            tracing::info!(from, to = from + 1, "applied schema migration");
        }
        txn.open_table(META)?.insert(VERSION_KEY, SCHEMA_VERSION.to_le_bytes().as_slice())?;
        Ok(())
    })
}

fn current_version(txn: &WriteTransaction) -> StoreResult<u32> {
    let table = txn.open_table(META)?;
    let Some(raw) = table.get(VERSION_KEY)? else { return Ok(0) };
    let bytes: [u8; 4] = raw
        .value()
        .try_into()
        .map_err(|_| StoreError::Codec("schema_version is not 4 bytes".into()))?;
    Ok(u32::from_le_bytes(bytes))
}

/// Version 0 → 1: every table of the first layout.
fn create_tables(txn: &WriteTransaction) -> StoreResult<()> {
    for def in [NOTEBOOKS, SOURCES, NOTES, JOBS] {
        txn.open_table(def)?;
    }
    txn.open_table(SOURCE_TEXT)?;
    txn.open_table(JOB_QUEUE)?;
    txn.open_table(OUTBOX)?;
    for def in [SOURCE_NOTEBOOKS, NOTEBOOK_SOURCES, NOTEBOOK_NOTES] {
        txn.open_multimap_table(def)?;
    }
    Ok(())
}

/// Version 1 → 2: credentials, models and the singletons (default models, settings).
fn create_key_tables(txn: &WriteTransaction) -> StoreResult<()> {
    use super::credentials::{CREDENTIALS, MODELS};
    use super::preferences::SINGLETONS;
    for def in [CREDENTIALS, MODELS, SINGLETONS] {
        txn.open_table(def)?;
    }
    Ok(())
}

/// Version 2 → 3: the capped audit table.
fn create_audit_table(txn: &WriteTransaction) -> StoreResult<()> {
    txn.open_table(AUDIT)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reopening_keeps_version_and_newer_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("db.redb");
        drop(Store::open(&path).unwrap());
        let store = Store::open(&path).unwrap();
        assert_eq!(store.meta(VERSION_KEY).unwrap().unwrap(), SCHEMA_VERSION.to_le_bytes());
        store.set_meta(VERSION_KEY, &(SCHEMA_VERSION + 1).to_le_bytes()).unwrap();
        drop(store);
        assert!(matches!(Store::open(&path), Err(StoreError::TooNew { .. })));
    }
}
