import { api } from '../api.js';
import { h, replace, fields, busy } from '../dom.js';

/** The list of notebooks with a form to create one. */
export function notebooksView({ fail, go, isCurrent }) {
  document.title = 'Notebooks · Open Notebook';
  const list = h('ul', { class: 'items', 'aria-live': 'polite' }, h('li', { class: 'muted' }, 'Loading…'));

  async function load() {
    try {
      const notebooks = await api('GET', '/api/notebooks?order_by=updated%20desc');
      if (!isCurrent()) return;
      if (!notebooks.length) {
        replace(list, h('li', { class: 'muted' }, 'No notebooks yet: create one below.'));
        return;
      }
      replace(
        list,
        notebooks.map((nb) =>
          h(
            'li',
            {},
            h('a', { href: `#/notebook/${encodeURIComponent(nb.id)}`, class: 'title' }, nb.name),
            nb.archived ? h('span', { class: 'tag' }, 'archived') : null,
            nb.description ? h('p', { class: 'muted' }, nb.description) : null,
            h('p', { class: 'meta' }, `${nb.source_count} sources · ${nb.note_count} notes`),
          ),
        ),
      );
    } catch (err) {
      replace(list, h('li', { class: 'muted' }, 'Could not load the notebooks.'));
      fail(err);
    }
  }

  const form = h(
    'form',
    { class: 'card', 'aria-labelledby': 'new-notebook' },
    h('h2', { id: 'new-notebook' }, 'New notebook'),
    h('label', { for: 'nb-name' }, 'Name'),
    h('input', { id: 'nb-name', name: 'name', required: true, maxlength: 200 }),
    h('label', { for: 'nb-description' }, 'Description (optional)'),
    h('textarea', { id: 'nb-description', name: 'description', rows: 2 }),
    h('button', { type: 'submit' }, 'Create notebook'),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const { name, description } = fields(form);
    try {
      const created = await busy(form, () => api('POST', '/api/notebooks', { json: { name, description } }));
      go(`#/notebook/${encodeURIComponent(created.id)}`);
    } catch (err) {
      fail(err);
    }
  });

  load();
  return h('div', {}, h('h1', {}, 'Notebooks'), list, form);
}
