import { api, query } from '../api.js';
import { h, replace, fields, busy, snippet } from '../dom.js';

const when = (iso) => (iso ? new Date(iso).toLocaleString() : '');

/** One notebook: its sources, its notes and a search limited to it. */
export function notebookView({ notify, fail, isCurrent }, id) {
  document.title = 'Notebook · Open Notebook';
  const heading = h('h1', {}, 'Notebook');
  const description = h('p', { class: 'muted' });
  const sourceList = h('ul', { class: 'items', id: 'sources' }, h('li', { class: 'muted' }, 'Loading…'));
  const noteList = h('ul', { class: 'items', id: 'notes' }, h('li', { class: 'muted' }, 'Loading…'));
  const results = h('div', { id: 'results', 'aria-live': 'polite' });

  async function loadNotebook() {
    try {
      const nb = await api('GET', `/api/notebooks/${encodeURIComponent(id)}`);
      if (!isCurrent()) return;
      heading.textContent = nb.name;
      description.textContent = nb.description || '';
      document.title = `${nb.name} · Open Notebook`;
    } catch (err) {
      fail(err);
    }
  }

  async function loadSources() {
    try {
      const sources = await api('GET', `/api/sources${query({ notebook_id: id })}`);
      if (!isCurrent()) return;
      replace(
        sourceList,
        sources.length
          ? sources.map((s) =>
              h(
                'li',
                {},
                h('span', { class: 'title' }, s.title || '(untitled)'),
                s.status && s.status !== 'completed' ? h('span', { class: 'tag' }, s.status) : null,
                h('p', { class: 'meta' }, sourceKind(s), ' · added ', when(s.created)),
              ),
            )
          : h('li', { class: 'muted' }, 'No sources yet.'),
      );
    } catch (err) {
      replace(sourceList, h('li', { class: 'muted' }, 'Could not load the sources.'));
      fail(err);
    }
  }

  async function loadNotes() {
    try {
      const notes = await api('GET', `/api/notes${query({ notebook_id: id })}`);
      if (!isCurrent()) return;
      replace(
        noteList,
        notes.length ? notes.map(noteItem) : h('li', { class: 'muted' }, 'No notes yet.'),
      );
    } catch (err) {
      replace(noteList, h('li', { class: 'muted' }, 'Could not load the notes.'));
      fail(err);
    }
  }

  function noteItem(note) {
    const body = h('pre', { class: 'note-body' }, note.content ?? '');
    const details = h(
      'details',
      {},
      h('summary', {}, note.title || '(untitled note)', h('span', { class: 'meta' }, ' · ', when(note.updated))),
      body,
    );
    details.addEventListener('toggle', async () => {
      if (!details.open || note.content != null) return;
      try {
        const full = await api('GET', `/api/notes/${encodeURIComponent(note.id)}`);
        note.content = full.content ?? '';
        body.textContent = note.content;
      } catch (err) {
        fail(err);
      }
    });
    return h('li', {}, details);
  }

  // Adding sources: one form per kind, each posting form fields like the original client.
  function sourceForm(kind, legend, controls) {
    const form = h(
      'form',
      { class: 'card', 'aria-label': legend, 'data-kind': kind },
      h('h3', {}, legend),
      controls,
      h('button', { type: 'submit' }, legend),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const body = new FormData(form);
      body.set('type', kind);
      body.set('notebook_id', id);
      const file = body.get('file');
      if (kind === 'upload' && !(file instanceof File && file.name)) {
        notify('Choose a file to upload.');
        return;
      }
      const path = kind === 'upload' ? '/api/sources/upload' : '/api/sources';
      try {
        const created = await busy(form, () => api('POST', path, { form: body }));
        form.reset();
        notify(`Added “${created.title || 'source'}”.`, 'info');
        loadSources();
      } catch (err) {
        fail(err);
      }
    });
    return form;
  }

  const uploadForm = sourceForm('upload', 'Upload a file', [
    h('label', { for: 'src-file' }, 'File (PDF, DOCX, ODT, EPUB, PPTX, XLSX, HTML, Markdown, text)'),
    h('input', { id: 'src-file', name: 'file', type: 'file', required: true }),
  ]);
  const textForm = sourceForm('text', 'Add text', [
    h('label', { for: 'src-text-title' }, 'Title (optional)'),
    h('input', { id: 'src-text-title', name: 'title' }),
    h('label', { for: 'src-text' }, 'Text'),
    h('textarea', { id: 'src-text', name: 'content', rows: 5, required: true }),
  ]);
  const linkForm = sourceForm('link', 'Add a link', [
    h('label', { for: 'src-url' }, 'Web address'),
    h('input', { id: 'src-url', name: 'url', type: 'url', required: true, placeholder: 'https://…' }),
  ]);

  const noteForm = h(
    'form',
    { class: 'card', 'aria-labelledby': 'new-note' },
    h('h3', { id: 'new-note' }, 'New note'),
    h('label', { for: 'note-title' }, 'Title (optional)'),
    h('input', { id: 'note-title', name: 'title' }),
    h('label', { for: 'note-content' }, 'Note (Markdown)'),
    h('textarea', { id: 'note-content', name: 'content', rows: 4, required: true }),
    h('button', { type: 'submit' }, 'Save note'),
  );
  noteForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const { title, content } = fields(noteForm);
    const json = { content, notebook_id: id };
    if (title) json.title = title;
    try {
      await busy(noteForm, () => api('POST', '/api/notes', { json }));
      noteForm.reset();
      loadNotes();
    } catch (err) {
      fail(err);
    }
  });

  const searchForm = h(
    'form',
    { class: 'search', role: 'search', 'aria-label': 'Search this notebook' },
    h('label', { for: 'search-query' }, 'Search this notebook'),
    h('div', { class: 'row' },
      h('input', { id: 'search-query', name: 'query', type: 'search', required: true }),
      h('button', { type: 'submit' }, 'Search'),
    ),
  );
  searchForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const { query: text } = fields(searchForm);
    if (!text) return;
    try {
      const answer = await busy(searchForm, () =>
        api('POST', '/api/search', { json: { query: text, type: 'text', notebook_id: id } }),
      );
      const hits = answer.results ?? [];
      replace(
        results,
        h('p', { class: 'meta' }, `${hits.length} result${hits.length === 1 ? '' : 's'} for “${text}”`),
        hits.length
          ? h(
              'ol',
              { class: 'items' },
              hits.map((hit) =>
                h(
                  'li',
                  {},
                  h('span', { class: 'title' }, hit.title || '(untitled)'),
                  h('span', { class: 'tag' }, String(hit.id).split(':')[0]),
                  h('p', {}, snippet(hit.snippet)),
                ),
              ),
            )
          : null,
      );
    } catch (err) {
      replace(results);
      fail(err);
    }
  });

  loadNotebook();
  loadSources();
  loadNotes();

  return h(
    'div',
    {},
    h('p', {}, h('a', { href: '#/' }, '← All notebooks')),
    heading,
    description,
    h('section', { 'aria-labelledby': 'search-title' }, h('h2', { id: 'search-title', class: 'visually-hidden' }, 'Search'), searchForm, results),
    h(
      'div',
      { class: 'columns' },
      h('section', { 'aria-labelledby': 'sources-title' },
        h('h2', { id: 'sources-title' }, 'Sources'), sourceList, textForm, linkForm, uploadForm),
      h('section', { 'aria-labelledby': 'notes-title' },
        h('h2', { id: 'notes-title' }, 'Notes'), noteList, noteForm),
    ),
  );
}

function sourceKind(source) {
  const asset = source.asset;
  if (asset && asset.url) return `link: ${asset.url}`;
  if (asset && asset.file_path) return 'file';
  return 'text';
}
