//! Notebooks and their cascading deletion.
//!
//! A notebook owns its notes; sources are shared through the `reference` relation, so
//! deleting a notebook deletes its notes, unlinks every source, and deletes only the sources
//! that no other notebook references when the caller asks for it.

use redb::{ReadableMultimapTable, WriteTransaction};

use super::records::Notebook;
use super::{
    NOTEBOOK_NOTES, NOTEBOOK_SOURCES, NOTEBOOKS, NOTES, SOURCE_NOTEBOOKS, Store, StoreResult,
    all_records, enqueue_index, get_record, new_id, now_micros, put_record,
};

/// A notebook with the counts its API responses carry.
#[derive(Debug, Clone)]
pub struct NotebookView {
    pub notebook: Notebook,
    pub source_count: u64,
    pub note_count: u64,
}

/// The field a notebook list is sorted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotebookOrder {
    Name { desc: bool },
    Created { desc: bool },
    Updated { desc: bool },
}

/// What deleting a notebook did (or, for a preview, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NotebookDeletion {
    pub deleted_notes: u64,
    pub deleted_sources: u64,
    pub unlinked_sources: u64,
    /// Stored files of deleted sources, for the caller to remove after commit.
    pub removed_files: Vec<String>,
}

/// Changes to a notebook; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct NotebookPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub archived: Option<bool>,
}

impl Store {
    /// Creates a notebook.
    pub fn create_notebook(&self, name: &str, description: &str) -> StoreResult<NotebookView> {
        let now = now_micros();
        let notebook = Notebook {
            id: new_id("notebook"),
            name: name.to_string(),
            description: description.to_string(),
            archived: false,
            created: now,
            updated: now,
            last_viewed_at: None,
        };
        self.write(|txn| put_record(txn, NOTEBOOKS, &notebook.id, &notebook))?;
        Ok(NotebookView { notebook, source_count: 0, note_count: 0 })
    }

    /// Reads one notebook with its counts.
    pub fn notebook(&self, id: &str) -> StoreResult<Option<NotebookView>> {
        let txn = self.read()?;
        let Some(notebook) = get_record(&txn.open_table(NOTEBOOKS)?, id)? else {
            return Ok(None);
        };
        let sources = txn.open_multimap_table(NOTEBOOK_SOURCES)?.get(id)?.len();
        let notes = txn.open_multimap_table(NOTEBOOK_NOTES)?.get(id)?.len();
        Ok(Some(NotebookView { notebook, source_count: sources, note_count: notes }))
    }

    /// Lists notebooks, optionally only (un)archived ones, sorted; ties broken by id.
    pub fn notebooks(
        &self,
        archived: Option<bool>,
        order: NotebookOrder,
    ) -> StoreResult<Vec<NotebookView>> {
        let txn = self.read()?;
        let by_source = txn.open_multimap_table(NOTEBOOK_SOURCES)?;
        let by_note = txn.open_multimap_table(NOTEBOOK_NOTES)?;
        let mut views = Vec::new();
        for notebook in all_records::<Notebook>(&txn.open_table(NOTEBOOKS)?)? {
            if archived.is_some_and(|wanted| wanted != notebook.archived) {
                continue;
            }
            let source_count = by_source.get(notebook.id.as_str())?.len();
            let note_count = by_note.get(notebook.id.as_str())?.len();
            views.push(NotebookView { notebook, source_count, note_count });
        }
        sort_notebooks(&mut views, order);
        Ok(views)
    }

    /// Applies a partial update; `None` when the notebook does not exist.
    pub fn update_notebook(
        &self,
        id: &str,
        patch: NotebookPatch,
    ) -> StoreResult<Option<NotebookView>> {
        let updated = self.write(|txn| {
            let Some(mut notebook) = get_record::<Notebook>(&txn.open_table(NOTEBOOKS)?, id)?
            else {
                return Ok(false);
            };
            if let Some(name) = patch.name {
                notebook.name = name;
            }
            if let Some(description) = patch.description {
                notebook.description = description;
            }
            if let Some(archived) = patch.archived {
                notebook.archived = archived;
            }
            notebook.updated = now_micros();
            put_record(txn, NOTEBOOKS, id, &notebook)?;
            Ok(true)
        })?;
        if updated { self.notebook(id) } else { Ok(None) }
    }

    /// Records that a notebook was opened, for the recently-viewed list.
    pub fn stamp_notebook_viewed(&self, id: &str) -> StoreResult<()> {
        self.write(|txn| {
            let found = get_record::<Notebook>(&txn.open_table(NOTEBOOKS)?, id)?;
            if let Some(mut notebook) = found {
                notebook.last_viewed_at = Some(now_micros());
                put_record(txn, NOTEBOOKS, id, &notebook)?;
            }
            Ok(())
        })
    }

    /// Counts what deleting the notebook would remove; `None` if it does not exist.
    pub fn notebook_deletion_preview(
        &self,
        id: &str,
    ) -> StoreResult<Option<(Notebook, NotebookDeletion)>> {
        let txn = self.read()?;
        let Some(notebook) = get_record::<Notebook>(&txn.open_table(NOTEBOOKS)?, id)? else {
            return Ok(None);
        };
        let links = txn.open_multimap_table(SOURCE_NOTEBOOKS)?;
        let mut preview = NotebookDeletion {
            deleted_notes: txn.open_multimap_table(NOTEBOOK_NOTES)?.get(id)?.len(),
            ..NotebookDeletion::default()
        };
        for source in txn.open_multimap_table(NOTEBOOK_SOURCES)?.get(id)? {
            let source = source?;
            if links.get(source.value())?.len() <= 1 {
                preview.deleted_sources += 1;
            } else {
                preview.unlinked_sources += 1;
            }
        }
        Ok(Some((notebook, preview)))
    }

    /// Deletes a notebook, its notes and links, and (optionally) its exclusive sources.
    pub fn delete_notebook(
        &self,
        id: &str,
        delete_exclusive_sources: bool,
    ) -> StoreResult<Option<NotebookDeletion>> {
        self.write(|txn| {
            if txn.open_table(NOTEBOOKS)?.remove(id)?.is_none() {
                return Ok(None);
            }
            let mut outcome = NotebookDeletion {
                deleted_notes: delete_notes_of(txn, id)?,
                ..NotebookDeletion::default()
            };
            for source_id in unlink_all_sources(txn, id)? {
                let orphan =
                    txn.open_multimap_table(SOURCE_NOTEBOOKS)?.get(source_id.as_str())?.is_empty();
                if orphan && delete_exclusive_sources {
                    if let Some(file) = super::sources::delete_source_in(txn, &source_id)? {
                        outcome.removed_files.push(file);
                    }
                    outcome.deleted_sources += 1;
                } else {
                    enqueue_index(txn, &source_id)?;
                    outcome.unlinked_sources += 1;
                }
            }
            Ok(Some(outcome))
        })
    }
}

fn delete_notes_of(txn: &WriteTransaction, notebook_id: &str) -> StoreResult<u64> {
    let note_ids: Vec<String> = txn
        .open_multimap_table(NOTEBOOK_NOTES)?
        .remove_all(notebook_id)?
        .map(|entry| entry.map(|v| v.value().to_string()))
        .collect::<Result<_, _>>()?;
    let mut notes = txn.open_table(NOTES)?;
    for note_id in &note_ids {
        notes.remove(note_id.as_str())?;
        enqueue_index(txn, note_id)?;
    }
    Ok(note_ids.len() as u64)
}

/// Removes every source link of a notebook, returning the source ids.
fn unlink_all_sources(txn: &WriteTransaction, notebook_id: &str) -> StoreResult<Vec<String>> {
    let source_ids: Vec<String> = txn
        .open_multimap_table(NOTEBOOK_SOURCES)?
        .remove_all(notebook_id)?
        .map(|entry| entry.map(|v| v.value().to_string()))
        .collect::<Result<_, _>>()?;
    let mut links = txn.open_multimap_table(SOURCE_NOTEBOOKS)?;
    for source_id in &source_ids {
        links.remove(source_id.as_str(), notebook_id)?;
    }
    Ok(source_ids)
}

fn sort_notebooks(views: &mut [NotebookView], order: NotebookOrder) {
    views.sort_by(|a, b| {
        let (a, b) = (&a.notebook, &b.notebook);
        let (ordering, desc) = match order {
            NotebookOrder::Name { desc } => {
                (a.name.to_lowercase().cmp(&b.name.to_lowercase()), desc)
            }
            NotebookOrder::Created { desc } => (a.created.cmp(&b.created), desc),
            NotebookOrder::Updated { desc } => (a.updated.cmp(&b.updated), desc),
        };
        let ordering = if desc { ordering.reverse() } else { ordering };
        ordering.then_with(|| a.id.cmp(&b.id))
    });
}
