//! Full-text search: the tantivy index of source text, source titles and notes.
//!
//! redb is the source of truth; this index is a derived view. Changes reach it only through
//! the store's outbox: [`SearchIndex::drain`] reads pending entries, re-reads each record
//! from the database, replaces its documents (delete by parent id, then add), commits, and
//! only then acknowledges the entries. Replaying an entry after a crash is therefore
//! harmless, and `reindex` rebuilds everything from nothing.

mod chunk;

use std::collections::HashMap;
use std::path::Path;
use std::sync::Mutex;

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, QueryParser, TermQuery};
use tantivy::schema::{
    FAST, Field, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::snippet::SnippetGenerator;
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term, doc,
};

use crate::store::{Note, Store, StoreError};

/// Memory the index writer may use before it flushes a segment.
const WRITER_HEAP_BYTES: usize = 32 * 1024 * 1024;

/// Outbox entries applied per commit.
const DRAIN_BATCH: usize = 512;

/// A search failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SearchError {
    /// The query text cannot be parsed; safe to show to the user.
    #[error("Invalid search query: {0}")]
    BadQuery(String),
    #[error("search index error: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("search index cannot be opened: {0}")]
    Open(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What kinds of documents a query looks at.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    pub query: String,
    pub limit: usize,
    pub sources: bool,
    pub notes: bool,
    pub notebook_id: Option<String>,
}

/// One result, grouped by the source or note it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchHit {
    pub id: String,
    pub title: String,
    pub relevance: f32,
    pub snippet: String,
}

#[derive(Clone, Copy)]
struct Fields {
    doc_key: Field,
    parent: Field,
    kind: Field,
    title: Field,
    body: Field,
    notebook: Field,
}

/// The open index with its single writer.
pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    rebuilt: bool,
}

/// The schema of an index already in `dir`, if one is there and readable.
fn existing_schema(dir: &Path) -> Option<Schema> {
    if !dir.join("meta.json").exists() {
        return None;
    }
    let directory = tantivy::directory::MmapDirectory::open(dir).ok()?;
    Index::open(directory).ok().map(|index| index.schema())
}

fn build_schema() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let text = TextOptions::default().set_stored().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer("en_stem")
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let fields = Fields {
        doc_key: builder.add_text_field("doc_key", STRING | STORED),
        parent: builder.add_text_field("parent", STRING | STORED | FAST),
        kind: builder.add_text_field("kind", STRING | STORED),
        title: builder.add_text_field("title", text.clone()),
        body: builder.add_text_field("body", text),
        notebook: builder.add_text_field("notebook", STRING),
    };
    (builder.build(), fields)
}

impl SearchIndex {
    /// Opens the index in `dir`, creating it when absent.
    ///
    /// An index written with another schema (an older build) is discarded and created
    /// anew; [`Self::needs_rebuild`] then tells the caller to queue every record again.
    pub fn open(dir: &Path) -> Result<Self, SearchError> {
        let (schema, fields) = build_schema();
        let stale = existing_schema(dir).is_some_and(|found| found != schema);
        if stale {
            std::fs::remove_dir_all(dir).map_err(|e| SearchError::Open(e.to_string()))?;
        }
        std::fs::create_dir_all(dir).map_err(|e| SearchError::Open(e.to_string()))?;
        let directory = tantivy::directory::MmapDirectory::open(dir)
            .map_err(|e| SearchError::Open(e.to_string()))?;
        let index = Index::open_or_create(directory, schema)?;
        let writer = index.writer_with_num_threads(1, WRITER_HEAP_BYTES)?;
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        Ok(Self { index, reader, writer: Mutex::new(writer), fields, rebuilt: stale })
    }

    /// True when [`Self::open`] replaced an index of an older schema: it is empty, and
    /// every source and note must be queued for indexing again.
    pub fn needs_rebuild(&self) -> bool {
        self.rebuilt
    }

    /// Empties the index (documents are re-added from the outbox afterwards).
    pub fn clear(&self) -> Result<(), SearchError> {
        let mut writer = self.lock_writer();
        writer.delete_all_documents()?;
        writer.commit()?;
        self.reader.reload()?;
        Ok(())
    }

    /// Applies every pending outbox entry; returns how many were applied.
    pub fn drain(&self, store: &Store) -> Result<usize, SearchError> {
        self.drain_observed(store, |_| {})
    }

    /// Like [`Self::drain`], calling `on_batch` with the count of each committed batch.
    pub fn drain_observed(
        &self,
        store: &Store,
        on_batch: impl FnMut(usize),
    ) -> Result<usize, SearchError> {
        self.drain_through(store, u64::MAX, on_batch)
    }

    /// Applies outbox entries up to sequence number `last` (those a caller wrote), and no
    /// later ones, so one caller never ends up indexing everybody else's stream of changes.
    pub fn drain_through(
        &self,
        store: &Store,
        last: u64,
        mut on_batch: impl FnMut(usize),
    ) -> Result<usize, SearchError> {
        let mut applied = 0;
        loop {
            let mut writer = self.lock_writer();
            let mut tasks = store.pending_index_tasks(DRAIN_BATCH)?;
            tasks.retain(|(seq, _)| *seq <= last);
            if tasks.is_empty() {
                return Ok(applied);
            }
            let mut seqs = Vec::with_capacity(tasks.len());
            for (seq, crate::store::IndexTask::Refresh(id)) in tasks {
                self.refresh(&writer, store, &id)?;
                seqs.push(seq);
            }
            writer.commit()?;
            self.reader.reload()?;
            store.ack_index_tasks(&seqs)?;
            applied += seqs.len();
            on_batch(seqs.len());
        }
    }

    fn lock_writer(&self) -> std::sync::MutexGuard<'_, IndexWriter> {
        // A panic while holding the writer leaves nothing half-written that the next commit
        // could expose: uncommitted operations are simply redone from the outbox.
        self.writer.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn refresh(&self, writer: &IndexWriter, store: &Store, id: &str) -> Result<(), SearchError> {
        writer.delete_term(Term::from_field_text(self.fields.parent, id));
        if id.starts_with("source:") {
            self.add_source(writer, store, id)
        } else if id.starts_with("note:") {
            match store.note(id)? {
                Some(note) => self.add_note(writer, &note),
                None => Ok(()),
            }
        } else {
            Ok(())
        }
    }

    fn add_source(&self, writer: &IndexWriter, store: &Store, id: &str) -> Result<(), SearchError> {
        let Some(row) = store.source(id)? else { return Ok(()) };
        let title = row.source.title.clone().unwrap_or_default();
        let text = store.source_text(id)?.unwrap_or_default();
        let mut chunks = chunk::split(&text);
        if chunks.is_empty() {
            chunks.push(String::new());
        }
        let f = self.fields;
        for (n, body) in chunks.into_iter().enumerate() {
            let mut document = doc!(
                f.doc_key => format!("{id}#{n}"),
                f.parent => id,
                f.kind => "source",
                f.title => title.as_str(),
                f.body => body,
            );
            for notebook_id in &row.notebooks {
                document.add_text(f.notebook, notebook_id);
            }
            writer.add_document(document)?;
        }
        Ok(())
    }

    fn add_note(&self, writer: &IndexWriter, note: &Note) -> Result<(), SearchError> {
        let f = self.fields;
        let mut document = doc!(
            f.doc_key => note.id.as_str(),
            f.parent => note.id.as_str(),
            f.kind => "note",
            f.title => note.title.clone().unwrap_or_default(),
            f.body => note.content.clone().unwrap_or_default(),
        );
        if let Some(notebook_id) = &note.notebook_id {
            document.add_text(f.notebook, notebook_id);
        }
        writer.add_document(document)?;
        Ok(())
    }

    /// Runs a text query; results are grouped by source or note, best first.
    ///
    /// Candidates are grouped by their parent through its fast field, without loading any
    /// stored document; only the hits that are returned are loaded and given a snippet.
    pub fn search(&self, request: &SearchRequest) -> Result<Vec<SearchHit>, SearchError> {
        if !request.sources && !request.notes || request.limit == 0 {
            return Ok(Vec::new());
        }
        let f = self.fields;
        let parser = QueryParser::for_index(&self.index, vec![f.title, f.body]);
        check_query_shape(&request.query)?;
        let text_query = parser.parse_query(&plain_apostrophes(&request.query)).map_err(|e| {
            SearchError::BadQuery(format!(
                "{e}. Words are matched as typed; put text containing ( ) : + - ^ [ ] {{ }} ~ \
                 or * inside double quotes"
            ))
        })?;
        let query = self.restrict(text_query, request);
        let searcher = self.reader.searcher();
        let wanted = request.limit.saturating_mul(8).clamp(64, 8192);
        let top = searcher.search(&query, &TopDocs::with_limit(wanted).order_by_score())?;
        let best = best_per_parent(&searcher, top)?;

        let mut snippets = SnippetGenerator::create(&searcher, &*query, f.body)?;
        snippets.set_max_num_chars(200);
        let stems = body_terms(&*query, f.body);
        let mut hits = Vec::with_capacity(best.len().min(request.limit));
        for (id, score, address) in best.into_iter().take(request.limit) {
            let document: TantivyDocument = searcher.doc(address)?;
            let body = text_of(&document, f.body);
            let snippet = snippets.snippet(snippet_window(&body, &stems)).to_html();
            let title = text_of(&document, f.title);
            hits.push(SearchHit { id, title, relevance: score, snippet });
        }
        Ok(hits)
    }

    fn restrict(&self, text_query: Box<dyn Query>, request: &SearchRequest) -> Box<dyn Query> {
        let f = self.fields;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, text_query)];
        if !(request.sources && request.notes) {
            let kind = if request.sources { "source" } else { "note" };
            clauses.push((Occur::Must, term_query(f.kind, kind)));
        }
        if let Some(notebook_id) = &request.notebook_id {
            clauses.push((Occur::Must, term_query(f.notebook, notebook_id)));
        }
        Box::new(BooleanQuery::new(clauses))
    }

    /// Number of indexed documents (chunks, titles and notes), for reports.
    pub fn document_count(&self) -> u64 {
        self.reader.searcher().num_docs()
    }
}

/// The indexed (lower-cased, stemmed) words a query looks for in the body field.
fn body_terms(query: &dyn Query, body: Field) -> Vec<String> {
    let mut stems = Vec::new();
    query.query_terms(&mut |term, _| {
        if term.field() == body
            && let Some(text) = term.value().as_str()
        {
            stems.push(text.to_string());
        }
    });
    stems
}

/// Bytes of text handed to the snippet generator around the first match.
const SNIPPET_WINDOW: usize = 600;

/// The part of a chunk worth highlighting: a window starting a little before the first word
/// that begins with one of the query's stems (the start of the chunk when none does). The
/// snippet generator re-tokenises all it is given, so this keeps its cost per result small.
fn snippet_window<'a>(text: &'a str, stems: &[String]) -> &'a str {
    if text.len() <= SNIPPET_WINDOW {
        return text;
    }
    let first = first_match(text, stems).unwrap_or(0);
    let start = floor_char(text, first.saturating_sub(SNIPPET_WINDOW / 4));
    let end = floor_char(text, (start + SNIPPET_WINDOW).min(text.len()));
    &text[start..end]
}

fn first_match(text: &str, stems: &[String]) -> Option<usize> {
    text.split(|c: char| !c.is_alphanumeric()).filter(|word| !word.is_empty()).find_map(|word| {
        let lower = word.to_lowercase();
        let hit = stems.iter().any(|stem| lower.starts_with(stem.as_str()));
        // `word` is a slice of `text`, so its start is its distance from text's start.
        hit.then(|| word.as_ptr() as usize - text.as_ptr() as usize)
    })
}

fn floor_char(text: &str, mut index: usize) -> usize {
    index = index.min(text.len());
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// Longest query accepted, in characters.
const MAX_QUERY_CHARS: usize = 2_000;

/// Deepest bracket nesting accepted; the query parser recurses once per level.
const MAX_QUERY_DEPTH: usize = 16;

/// Refuses queries too long or too deeply nested to parse safely.
fn check_query_shape(query: &str) -> Result<(), SearchError> {
    let length = query.chars().count();
    if length > MAX_QUERY_CHARS {
        return Err(SearchError::BadQuery(format!(
            "the query has {length} characters; use at most {MAX_QUERY_CHARS}"
        )));
    }
    let (mut depth, mut deepest) = (0usize, 0usize);
    for c in query.chars() {
        match c {
            '(' | '[' | '{' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            ')' | ']' | '}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if deepest > MAX_QUERY_DEPTH {
        return Err(SearchError::BadQuery(format!(
            "brackets are nested {deepest} deep; use at most {MAX_QUERY_DEPTH} levels"
        )));
    }
    Ok(())
}

/// Apostrophes are part of English words ("don't"), not query syntax: they become spaces,
/// as the tokenizer would split there anyway.
fn plain_apostrophes(query: &str) -> String {
    query.chars().map(|c| if matches!(c, '\'' | '\u{2019}') { ' ' } else { c }).collect()
}

/// The best-scoring chunk of each parent, best first (ties by parent id).
fn best_per_parent(
    searcher: &Searcher,
    top: Vec<(f32, DocAddress)>,
) -> Result<Vec<(String, f32, DocAddress)>, SearchError> {
    let mut columns = HashMap::new();
    let mut best: HashMap<String, (f32, DocAddress)> = HashMap::new();
    let mut parent = String::new();
    for (score, address) in top {
        let column = match columns.entry(address.segment_ord) {
            std::collections::hash_map::Entry::Occupied(entry) => entry.into_mut(),
            std::collections::hash_map::Entry::Vacant(entry) => {
                let reader = searcher.segment_reader(address.segment_ord);
                entry.insert(reader.fast_fields().str("parent")?)
            }
        };
        let Some(ord) = column.as_ref().and_then(|c| c.term_ords(address.doc_id).next()) else {
            continue;
        };
        parent.clear();
        let found =
            column.as_ref().is_some_and(|c| c.ord_to_str(ord, &mut parent).is_ok_and(|f| f));
        if !found {
            continue;
        }
        match best.get_mut(parent.as_str()) {
            Some(kept) if kept.0 >= score => {}
            Some(kept) => *kept = (score, address),
            None => {
                best.insert(parent.clone(), (score, address));
            }
        }
    }
    let mut ranked: Vec<(String, f32, DocAddress)> =
        best.into_iter().map(|(id, (score, address))| (id, score, address)).collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    Ok(ranked)
}

fn term_query(field: Field, value: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(Term::from_field_text(field, value), IndexRecordOption::Basic))
}

fn text_of(document: &TantivyDocument, field: Field) -> String {
    document.get_first(field).and_then(|v| v.as_str()).unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_index_of_an_older_schema_is_replaced_and_reported_for_rebuild() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("search-index");
        std::fs::create_dir_all(&path).unwrap();
        let mut old = Schema::builder();
        old.add_text_field("parent", STRING | STORED);
        let directory = tantivy::directory::MmapDirectory::open(&path).unwrap();
        drop(Index::create(directory, old.build(), Default::default()).unwrap());

        let index = SearchIndex::open(&path).unwrap();
        assert!(index.needs_rebuild());
        assert_eq!(index.document_count(), 0);
        drop(index);
        let again = SearchIndex::open(&path).unwrap();
        assert!(!again.needs_rebuild(), "a current index is kept");
    }

    #[test]
    fn chunks_of_one_source_are_one_hit_with_a_snippet() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("db.redb")).unwrap();
        let index = SearchIndex::open(&dir.path().join("index")).unwrap();
        let long = "kestrel hovering above the dunes. ".repeat(400);
        let source = crate::store::Source {
            id: "source:long".into(),
            title: Some("Kestrels".into()),
            topics: Vec::new(),
            asset: None,
            command: None,
            mime: None,
            created: 0,
            updated: 0,
            last_viewed_at: None,
        };
        store.insert_source(&source, Some(&long), &[], None).unwrap();
        index.drain(&store).unwrap();
        assert!(index.document_count() > 3, "the text spans several chunks");
        let request = SearchRequest {
            query: "kestrel".into(),
            limit: 10,
            sources: true,
            notes: true,
            notebook_id: None,
        };
        let hits = index.search(&request).unwrap();
        assert_eq!(hits.len(), 1, "{hits:?}");
        assert_eq!((hits[0].id.as_str(), hits[0].title.as_str()), ("source:long", "Kestrels"));
        assert!(hits[0].snippet.contains("<b>kestrel</b>"), "{}", hits[0].snippet);
    }

    #[test]
    fn snippets_come_from_the_first_match_even_deep_in_a_long_chunk() {
        let text = format!("{} the peregrine falcon stoops at prey {}", "filler ".repeat(250), "x");
        let stems = vec!["peregrin".to_string()];
        let window = snippet_window(&text, &stems);
        assert!(window.contains("peregrine falcon"), "{window}");
        assert!(window.len() <= SNIPPET_WINDOW);
        let multibyte = format!("{}🦅 peregrine", "é—".repeat(400));
        assert!(snippet_window(&multibyte, &stems).contains("peregrine"));
        assert_eq!(snippet_window("short text", &stems), "short text");
    }
}
