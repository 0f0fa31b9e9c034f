// Small DOM helpers. Text always goes in as text nodes; nothing here sets innerHTML.

/**
 * Creates an element: h('p', {class: 'x', onclick: fn}, 'text', child, [more]).
 * Attributes starting with "on" become listeners; false/null attributes are skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), value);
    } else if (name === 'class') {
      el.className = value;
    } else if (value === true) {
      el.setAttribute(name, '');
    } else {
      el.setAttribute(name, String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces everything inside `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
}

// The entities the server's snippet writer produces; anything else stays as written.
const ENTITIES = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'", '&#x27;': "'" };

function decodeEntities(text) {
  return text.replace(/&(?:amp|lt|gt|quot|#39|#x27);/g, (m) => ENTITIES[m]);
}

/**
 * Renders a search snippet. The server marks matches with <b>…</b>; every other character
 * is shown as text, so a snippet can never inject markup. Returns a <span>.
 */
export function snippet(html) {
  const out = document.createElement('span');
  out.className = 'snippet';
  let bold = false;
  for (const part of String(html ?? '').split(/(<\/?b>)/)) {
    if (part === '<b>') bold = true;
    else if (part === '</b>') bold = false;
    else if (part) {
      const text = document.createTextNode(decodeEntities(part));
      if (bold) {
        const b = document.createElement('b');
        b.append(text);
        out.append(b);
      } else {
        out.append(text);
      }
    }
  }
  return out;
}

/** Reads a form's named fields as an object of trimmed strings. */
export function fields(form) {
  const values = {};
  for (const [name, value] of new FormData(form)) {
    if (typeof value === 'string') values[name] = value.trim();
  }
  return values;
}

/** Disables a form's controls while `work` runs. */
export async function busy(form, work) {
  const controls = [...form.elements];
  const before = controls.map((c) => c.disabled);
  controls.forEach((c) => {
    c.disabled = true;
  });
  form.setAttribute('aria-busy', 'true');
  try {
    return await work();
  } finally {
    controls.forEach((c, i) => {
      c.disabled = before[i];
    });
    form.removeAttribute('aria-busy');
  }
}
