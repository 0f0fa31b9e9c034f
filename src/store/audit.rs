//! The capped `audit` table: newest events kept, oldest dropped past the cap.

use redb::{ReadableTable, ReadableTableMetadata};

use super::{AUDIT, Store, StoreResult, records};
use crate::audit::AuditEntry;

/// Most audit events kept.
pub const AUDIT_CAP: u64 = 10_000;

impl Store {
    /// Appends events in one transaction, dropping the oldest beyond the cap.
    pub fn append_audit(&self, entries: &[AuditEntry]) -> StoreResult<()> {
        self.write(|txn| {
            let mut table = txn.open_table(AUDIT)?;
            let first = table.last()?.map_or(1, |(seq, _)| seq.value() + 1);
            for (seq, entry) in (first..).zip(entries) {
                table.insert(seq, records::encode(entry)?.as_slice())?;
            }
            while table.len()? > AUDIT_CAP {
                table.pop_first()?;
            }
            Ok(())
        })
    }

    /// The newest `limit` events, newest first, with their sequence numbers.
    pub fn audit_entries(&self, limit: usize) -> StoreResult<Vec<(u64, AuditEntry)>> {
        let txn = self.read()?;
        let table = txn.open_table(AUDIT)?;
        let mut out = Vec::new();
        for entry in table.iter()?.rev().take(limit) {
            let (seq, bytes) = entry?;
            out.push((seq.value(), records::decode(bytes.value())?));
        }
        Ok(out)
    }
}
