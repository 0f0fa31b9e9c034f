// The one way the UI talks to the server: same origin, bearer session token, JSON errors.

const TOKEN_KEY = 'open-notebook.session';

/** The session token lives in sessionStorage only: gone when the browser closes. */
export const session = {
  token() {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  save(token) {
    sessionStorage.setItem(TOKEN_KEY, token);
  },
  clear() {
    sessionStorage.removeItem(TOKEN_KEY);
  },
};

/** An API failure with the server's `detail` turned into one readable line. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

let unauthorizedHandler = () => {};

/** Called after any 401 outside the login call, once the token has been dropped. */
export function onUnauthorized(handler) {
  unauthorizedHandler = handler;
}

function describe(data, response) {
  const detail = data && typeof data === 'object' ? data.detail : null;
  if (typeof detail === 'string' && detail) return detail;
  if (Array.isArray(detail)) {
    return detail
      .map((item) => {
        const where = Array.isArray(item.loc) ? item.loc.filter((p) => p !== 'body').join('.') : '';
        return where ? `${where}: ${item.msg}` : String(item.msg ?? item);
      })
      .join('; ');
  }
  return `The server answered ${response.status} ${response.statusText}`.trim();
}

/**
 * Calls the API. `json` sends a JSON body, `form` a FormData (multipart) body.
 * Resolves to the parsed answer; rejects with ApiError.
 */
export async function api(method, path, { json, form } = {}) {
  const headers = { Accept: 'application/json' };
  const token = session.token();
  if (token) headers.Authorization = `Bearer ${token}`;
  let body;
  if (json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(json);
  } else if (form !== undefined) {
    body = form;
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body, cache: 'no-store', credentials: 'omit' });
  } catch (err) {
    throw new ApiError(0, `Cannot reach the server (${err.message})`);
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (response.status === 401 && path !== '/api/auth/login') {
    session.clear();
    unauthorizedHandler();
  }
  if (!response.ok) throw new ApiError(response.status, describe(data, response));
  return data;
}

/** Builds a query string from an object, skipping empty values. */
export function query(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, value);
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}
