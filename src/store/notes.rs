//! Notes: Markdown written in a notebook, searchable like sources.
//!
//! A note belongs to at most one notebook (the `artifact` relation holds notebook → notes);
//! its record keeps the notebook id too so a note can be unlinked when it is deleted.

use redb::{ReadableMultimapTable, ReadableTable};

use super::records::Note;
use super::{
    NOTEBOOK_NOTES, NOTEBOOKS, NOTES, Store, StoreResult, all_records, enqueue_index, get_record,
    put_record,
};

impl Store {
    /// Stores a new note and links it to its notebook; `false` if the notebook is missing.
    pub fn insert_note(&self, note: &Note) -> StoreResult<bool> {
        self.write(|txn| {
            if let Some(notebook_id) = &note.notebook_id {
                if txn.open_table(NOTEBOOKS)?.get(notebook_id.as_str())?.is_none() {
                    return Ok(false);
                }
                txn.open_multimap_table(NOTEBOOK_NOTES)?
                    .insert(notebook_id.as_str(), note.id.as_str())?;
            }
            put_record(txn, NOTES, &note.id, note)?;
            enqueue_index(txn, &note.id)?;
            Ok(true)
        })
    }

    /// Reads one note.
    pub fn note(&self, id: &str) -> StoreResult<Option<Note>> {
        let txn = self.read()?;
        get_record(&txn.open_table(NOTES)?, id)
    }

    /// Every note, or those of one notebook, newest update first (ties by id).
    pub fn notes(&self, notebook_id: Option<&str>) -> StoreResult<Vec<Note>> {
        let txn = self.read()?;
        let table = txn.open_table(NOTES)?;
        let mut notes: Vec<Note> = match notebook_id {
            Some(notebook_id) => {
                let mut out = Vec::new();
                for id in txn.open_multimap_table(NOTEBOOK_NOTES)?.get(notebook_id)? {
                    if let Some(note) = get_record(&table, id?.value())? {
                        out.push(note);
                    }
                }
                out
            }
            None => all_records(&table)?,
        };
        notes.sort_by(|a, b| b.updated.cmp(&a.updated).then_with(|| a.id.cmp(&b.id)));
        Ok(notes)
    }

    /// Saves a changed note; `false` if it no longer exists.
    pub fn save_note(&self, note: &Note) -> StoreResult<bool> {
        self.write(|txn| {
            if txn.open_table(NOTES)?.get(note.id.as_str())?.is_none() {
                return Ok(false);
            }
            put_record(txn, NOTES, &note.id, note)?;
            enqueue_index(txn, &note.id)?;
            Ok(true)
        })
    }

    /// Deletes a note; `false` if it did not exist.
    pub fn delete_note(&self, id: &str) -> StoreResult<bool> {
        self.write(|txn| {
            let Some(note) = get_record::<Note>(&txn.open_table(NOTES)?, id)? else {
                return Ok(false);
            };
            txn.open_table(NOTES)?.remove(id)?;
            if let Some(notebook_id) = &note.notebook_id {
                txn.open_multimap_table(NOTEBOOK_NOTES)?.remove(notebook_id.as_str(), id)?;
            }
            enqueue_index(txn, id)?;
            Ok(true)
        })
    }
}
