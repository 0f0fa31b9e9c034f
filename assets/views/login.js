import { api, session, ApiError } from '../api.js';
import { h, busy } from '../dom.js';

/** The sign-in form: trades the password for a session token. */
export function loginView({ notify, onSignedIn }) {
  const password = h('input', {
    id: 'password',
    name: 'password',
    type: 'password',
    autocomplete: 'current-password',
    required: true,
  });
  const form = h(
    'form',
    { class: 'card narrow', 'aria-labelledby': 'login-title' },
    h('h1', { id: 'login-title' }, 'Sign in'),
    h('label', { for: 'password' }, 'Password'),
    password,
    h('button', { type: 'submit' }, 'Sign in'),
  );
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const value = password.value;
    if (!value) return;
    notify('');
    try {
      const answer = await busy(form, () => api('POST', '/api/auth/login', { json: { password: value } }));
      password.value = '';
      if (!answer || typeof answer.token !== 'string') throw new ApiError(0, 'The server sent no session token');
      session.save(answer.token);
      onSignedIn();
    } catch (err) {
      password.value = '';
      notify(err.message);
      password.focus();
    }
  });
  queueMicrotask(() => password.focus());
  return form;
}
