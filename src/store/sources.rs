//! Sources, their extracted text, and their links to notebooks.
//!
//! A source's record and its text are stored apart (`source` and `source_text`) so lists
//! stay cheap. Links are kept in both directions (`reference` and `reference_by_notebook`)
//! and always changed together; linking twice is a no-op. Every change that alters what
//! search sees (text, title, links, deletion) queues an index refresh in the same commit.

use redb::{ReadableMultimapTable, ReadableTable, WriteTransaction};

use super::records::{Job, Source};
use super::{
    JOBS, NOTEBOOK_SOURCES, NOTEBOOKS, SOURCE_NOTEBOOKS, SOURCE_TEXT, SOURCES, Store, StoreResult,
    all_records, enqueue_index, get_record, now_micros, put_record,
};

/// A source with what its API responses derive from other tables.
#[derive(Debug, Clone)]
pub struct SourceRow {
    pub source: Source,
    pub notebooks: Vec<String>,
    pub job: Option<Job>,
}

/// The field a source list is sorted by; ties are broken by id ascending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceOrder {
    Type,
    Title,
    Created,
    Updated,
    /// Insights and embeddings do not exist yet, so these sort as equal (by id).
    Constant,
}

impl Store {
    /// Stores a new source, its text (if already extracted) and its notebook links.
    pub fn insert_source(
        &self,
        source: &Source,
        text: Option<&str>,
        notebook_ids: &[String],
        job: Option<&Job>,
    ) -> StoreResult<()> {
        self.write(|txn| {
            put_record(txn, SOURCES, &source.id, source)?;
            if let Some(text) = text {
                txn.open_table(SOURCE_TEXT)?.insert(source.id.as_str(), text)?;
            }
            for notebook_id in notebook_ids {
                link_in(txn, notebook_id, &source.id)?;
            }
            if let Some(job) = job {
                super::jobs::put_job_in(txn, job)?;
            }
            enqueue_index(txn, &source.id)
        })
    }

    /// Reads one source with its links and job.
    pub fn source(&self, id: &str) -> StoreResult<Option<SourceRow>> {
        let txn = self.read()?;
        let Some(source) = get_record::<Source>(&txn.open_table(SOURCES)?, id)? else {
            return Ok(None);
        };
        let notebooks = txn
            .open_multimap_table(SOURCE_NOTEBOOKS)?
            .get(id)?
            .map(|v| v.map(|v| v.value().to_string()))
            .collect::<Result<_, _>>()?;
        let job = match &source.command {
            Some(job_id) => get_record(&txn.open_table(JOBS)?, job_id)?,
            None => None,
        };
        Ok(Some(SourceRow { source, notebooks, job }))
    }

    /// The extracted text of a source, if any.
    pub fn source_text(&self, id: &str) -> StoreResult<Option<String>> {
        let txn = self.read()?;
        let table = txn.open_table(SOURCE_TEXT)?;
        Ok(table.get(id)?.map(|v| v.value().to_string()))
    }

    /// Lists sources, optionally of one notebook, sorted and paginated.
    pub fn sources(
        &self,
        notebook_id: Option<&str>,
        order: SourceOrder,
        descending: bool,
        limit: usize,
        offset: usize,
    ) -> StoreResult<Vec<SourceRow>> {
        let txn = self.read()?;
        let table = txn.open_table(SOURCES)?;
        let jobs = txn.open_table(JOBS)?;
        let links = txn.open_multimap_table(SOURCE_NOTEBOOKS)?;
        let mut sources: Vec<Source> = match notebook_id {
            Some(notebook_id) => {
                let mut out = Vec::new();
                for id in txn.open_multimap_table(NOTEBOOK_SOURCES)?.get(notebook_id)? {
                    if let Some(source) = get_record(&table, id?.value())? {
                        out.push(source);
                    }
                }
                out
            }
            None => all_records(&table)?,
        };
        sort_sources(&mut sources, order, descending);
        let mut rows = Vec::new();
        for source in sources.into_iter().skip(offset).take(limit) {
            let notebooks = links
                .get(source.id.as_str())?
                .map(|v| v.map(|v| v.value().to_string()))
                .collect::<Result<_, _>>()?;
            let job = match &source.command {
                Some(job_id) => get_record(&jobs, job_id)?,
                None => None,
            };
            rows.push(SourceRow { source, notebooks, job });
        }
        Ok(rows)
    }

    /// Every source (without text), for views that scan them all.
    pub fn all_sources(&self) -> StoreResult<Vec<Source>> {
        let txn = self.read()?;
        all_records(&txn.open_table(SOURCES)?)
    }

    /// Saves a changed source record and re-indexes it.
    pub fn save_source(&self, source: &Source) -> StoreResult<bool> {
        self.write(|txn| {
            if txn.open_table(SOURCES)?.get(source.id.as_str())?.is_none() {
                return Ok(false);
            }
            put_record(txn, SOURCES, &source.id, source)?;
            enqueue_index(txn, &source.id)?;
            Ok(true)
        })
    }

    /// Stores extracted text (and the title, when still unset) for a source.
    pub fn set_source_content(
        &self,
        id: &str,
        title: Option<&str>,
        mime: &str,
        text: &str,
    ) -> StoreResult<bool> {
        self.write(|txn| {
            let Some(mut source) = get_record::<Source>(&txn.open_table(SOURCES)?, id)? else {
                return Ok(false);
            };
            if source.title.is_none()
                && let Some(title) = title
            {
                source.title = Some(title.to_string());
            }
            source.mime = Some(mime.to_string());
            source.updated = now_micros();
            put_record(txn, SOURCES, id, &source)?;
            txn.open_table(SOURCE_TEXT)?.insert(id, text)?;
            enqueue_index(txn, id)?;
            Ok(true)
        })
    }

    /// Records that a source was opened.
    pub fn stamp_source_viewed(&self, id: &str) -> StoreResult<()> {
        self.write(|txn| {
            let found = get_record::<Source>(&txn.open_table(SOURCES)?, id)?;
            if let Some(mut source) = found {
                source.last_viewed_at = Some(now_micros());
                put_record(txn, SOURCES, id, &source)?;
            }
            Ok(())
        })
    }

    /// Deletes a source; `Some(file)` holds its stored file path, if it had one.
    pub fn delete_source(&self, id: &str) -> StoreResult<Option<Option<String>>> {
        self.write(|txn| {
            if txn.open_table(SOURCES)?.get(id)?.is_none() {
                return Ok(None);
            }
            Ok(Some(delete_source_in(txn, id)?))
        })
    }

    /// Links a source to a notebook; `None` if either is missing, else whether it was new.
    pub fn link_source(&self, notebook_id: &str, source_id: &str) -> StoreResult<Option<bool>> {
        self.write(|txn| {
            let notebook_exists = txn.open_table(NOTEBOOKS)?.get(notebook_id)?.is_some();
            let source_exists = txn.open_table(SOURCES)?.get(source_id)?.is_some();
            if !notebook_exists || !source_exists {
                return Ok(None);
            }
            let added = link_in(txn, notebook_id, source_id)?;
            if added {
                enqueue_index(txn, source_id)?;
            }
            Ok(Some(added))
        })
    }

    /// Unlinks a source from a notebook; `false` if the notebook is missing.
    pub fn unlink_source(&self, notebook_id: &str, source_id: &str) -> StoreResult<bool> {
        self.write(|txn| {
            if txn.open_table(NOTEBOOKS)?.get(notebook_id)?.is_none() {
                return Ok(false);
            }
            let removed =
                txn.open_multimap_table(SOURCE_NOTEBOOKS)?.remove(source_id, notebook_id)?;
            txn.open_multimap_table(NOTEBOOK_SOURCES)?.remove(notebook_id, source_id)?;
            if removed {
                enqueue_index(txn, source_id)?;
            }
            Ok(true)
        })
    }

    /// Source ids linked to a notebook.
    pub fn notebook_source_ids(&self, notebook_id: &str) -> StoreResult<Vec<String>> {
        let txn = self.read()?;
        let ids = txn
            .open_multimap_table(NOTEBOOK_SOURCES)?
            .get(notebook_id)?
            .map(|v| v.map(|v| v.value().to_string()))
            .collect::<Result<_, _>>()?;
        Ok(ids)
    }
}

/// Adds the link in both directions; returns whether it was new.
fn link_in(txn: &WriteTransaction, notebook_id: &str, source_id: &str) -> StoreResult<bool> {
    let existed = txn.open_multimap_table(SOURCE_NOTEBOOKS)?.insert(source_id, notebook_id)?;
    txn.open_multimap_table(NOTEBOOK_SOURCES)?.insert(notebook_id, source_id)?;
    Ok(!existed)
}

/// Removes a source, its text and links inside `txn`; returns its stored file path.
pub(crate) fn delete_source_in(txn: &WriteTransaction, id: &str) -> StoreResult<Option<String>> {
    let removed = txn.open_table(SOURCES)?.remove(id)?.map(|bytes| bytes.value().to_vec());
    txn.open_table(SOURCE_TEXT)?.remove(id)?;
    let notebook_ids: Vec<String> = txn
        .open_multimap_table(SOURCE_NOTEBOOKS)?
        .remove_all(id)?
        .map(|v| v.map(|v| v.value().to_string()))
        .collect::<Result<_, _>>()?;
    let mut reverse = txn.open_multimap_table(NOTEBOOK_SOURCES)?;
    for notebook_id in &notebook_ids {
        reverse.remove(notebook_id.as_str(), id)?;
    }
    enqueue_index(txn, id)?;
    let Some(bytes) = removed else { return Ok(None) };
    let source: Source = super::records::decode(&bytes)?;
    if let Some(job_id) = &source.command {
        txn.open_table(JOBS)?.remove(job_id.as_str())?;
    }
    Ok(source.asset.and_then(|asset| asset.file_path))
}

fn sort_sources(sources: &mut [Source], order: SourceOrder, descending: bool) {
    sources.sort_by(|a, b| {
        let ordering = match order {
            SourceOrder::Type => a.kind().cmp(b.kind()),
            SourceOrder::Title => title_key(a).cmp(&title_key(b)),
            SourceOrder::Created => a.created.cmp(&b.created),
            SourceOrder::Updated => a.updated.cmp(&b.updated),
            SourceOrder::Constant => std::cmp::Ordering::Equal,
        };
        let ordering = if descending { ordering.reverse() } else { ordering };
        ordering.then_with(|| a.id.cmp(&b.id))
    });
}

fn title_key(source: &Source) -> String {
    source.title.as_deref().unwrap_or("").to_lowercase()
}
