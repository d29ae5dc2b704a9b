// Calls to the server's /v1 API. The token (--http-token), when the server
// needs one, is asked once and kept for this tab only (sessionStorage).

const TOKEN_KEY = 'hstreamlite.token';

export class ApiError extends Error {
  constructor(status, body) {
    super(body?.error ?? `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY) ?? '',
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

/** listeners told when the server refuses the token (the app then asks for it) */
const unauthorized = new Set();
export const onUnauthorized = (fn) => {
  unauthorized.add(fn);
  return () => unauthorized.delete(fn);
};

function headers(json) {
  const h = {};
  const t = token.get();
  if (t) h.authorization = `Bearer ${t}`;
  if (json) h['content-type'] = 'application/json';
  return h;
}

async function failure(res) {
  let body;
  try {
    body = await res.json();
  } catch {
    body = { error: `HTTP ${res.status} ${res.statusText}` };
  }
  if (res.status === 401) for (const fn of unauthorized) fn();
  return new ApiError(res.status, body);
}

/** A JSON call; rejects with ApiError carrying the server's {error, code, extra, position}. */
export async function api(path, { method = 'GET', body, signal } = {}) {
  const res = await fetch(path, { method, headers: headers(body !== undefined), body: body === undefined ? undefined : JSON.stringify(body), signal });
  if (!res.ok) throw await failure(res);
  return res.json();
}

export const enc = encodeURIComponent;

/**
 * Runs a push query: POST /v1/sql/push, read as server-sent events.
 * `onEvent(name, data)` for started / rows / error / end. Aborting `signal`
 * closes the connection; the server then deletes what the query made.
 */
export async function pushQuery(sql, onEvent, signal) {
  const res = await fetch('/v1/sql/push', { method: 'POST', headers: headers(true), body: JSON.stringify({ sql }), signal });
  if (!res.ok) throw await failure(res);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let end;
      while ((end = buffer.indexOf('\n\n')) >= 0) {
        const chunk = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let name = 'message';
        let data = '';
        for (const line of chunk.split('\n')) {
          if (line.startsWith('event: ')) name = line.slice(7);
          else if (line.startsWith('data: ')) data += line.slice(6);
        }
        if (data) onEvent(name, JSON.parse(data));
      }
    }
  } catch (err) {
    if (signal?.aborted) return;
    throw err;
  }
}
