// Entry point: session handling, hash routing and the page frame.

import { api, session, onUnauthorized } from './api.js';
import { replace } from './dom.js';
import { loginView } from './views/login.js';
import { notebooksView } from './views/notebooks.js';
import { notebookView } from './views/notebook.js';

const main = document.getElementById('app');
const statusBox = document.getElementById('status');
const signOutButton = document.getElementById('signout');

/** Shows a message in the banner under the header; errors are announced. */
export function notify(message, kind = 'error') {
  if (!message) {
    statusBox.hidden = true;
    statusBox.textContent = '';
    return;
  }
  statusBox.textContent = message;
  statusBox.className = kind === 'error' ? 'error' : 'info';
  statusBox.setAttribute('role', kind === 'error' ? 'alert' : 'status');
  statusBox.hidden = false;
}

/** Reports a failed call; a 401 has already sent the user to the login page. */
export function fail(err) {
  if (err && err.status === 401 && !session.token()) return;
  notify(err && err.message ? err.message : String(err));
}

export function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function parseRoute() {
  const path = location.hash.replace(/^#/, '') || '/';
  const match = path.match(/^\/notebook\/(.+)$/);
  if (match) return { page: 'notebook', id: decodeURIComponent(match[1]) };
  return { page: 'notebooks' };
}

let generation = 0;

async function route() {
  const mine = ++generation;
  notify('');
  const signedIn = Boolean(session.token());
  signOutButton.hidden = !signedIn;
  const ctx = { notify, fail, go, isCurrent: () => mine === generation };
  if (!signedIn) {
    document.title = 'Sign in · Open Notebook';
    replace(main, loginView({ ...ctx, onSignedIn: () => route() }));
    return;
  }
  const where = parseRoute();
  const view = where.page === 'notebook' ? notebookView(ctx, where.id) : notebooksView(ctx);
  replace(main, view);
}

onUnauthorized(() => {
  route().then(() => notify('Your session has ended; please sign in again.'));
});

signOutButton.addEventListener('click', async () => {
  signOutButton.disabled = true;
  try {
    await api('POST', '/api/auth/logout');
  } catch {
    // The token is dropped below whatever the server says.
  } finally {
    session.clear();
    signOutButton.disabled = false;
    go('#/');
    route();
  }
});

window.addEventListener('hashchange', route);
route();
