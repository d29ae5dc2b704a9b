// Small shared pieces: polling, tables, error boxes, number formats.
import { useEffect, useState, useCallback } from 'preact/hooks';
import { html } from './html.js';

/** Loads `load()` now and every `everyMs` (0: once); `reload()` loads again at once. */
export function usePoll(load, everyMs, deps = []) {
  const [state, setState] = useState({ data: undefined, error: undefined });
  const [tick, setTick] = useState(0);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  useEffect(() => {
    let live = true;
    let timer;
    const run = async () => {
      try {
        const data = await load();
        if (live) setState({ data, error: undefined });
      } catch (error) {
        if (live) setState((s) => ({ data: s.data, error }));
      }
      if (live && everyMs > 0) timer = setTimeout(run, everyMs);
    };
    run();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [...deps, tick]);
  return { ...state, reload };
}

export function ErrorBox({ error }) {
  if (!error) return null;
  const pos = error.body?.position;
  const extra = error.body?.extra;
  return html`<div class="error" role="alert">
    ${error.message}${pos ? html` <strong>(line ${pos.line}, column ${pos.column})</strong>` : ''}
    ${extra && typeof extra === 'string' && extra !== error.message ? html`<div class="extra">${extra}</div>` : ''}
  </div>`;
}

/** Every cell is rendered as text: values from records never become markup. */
export function Table({ columns, rows, caption, empty = 'Nothing here yet.' }) {
  if (!rows || rows.length === 0) return html`<p class="empty">${empty}</p>`;
  return html`<table>
    ${caption ? html`<caption>${caption}</caption>` : ''}
    <thead><tr>${columns.map((c) => html`<th scope="col">${c.label}</th>`)}</tr></thead>
    <tbody>${rows.map((r, i) => html`<tr key=${r.key ?? i}>${columns.map((c) => html`<td class=${c.cls ?? ''}>${c.render ? c.render(r) : cellText(r[c.key])}</td>`)}</tr>`)}</tbody>
  </table>`;
}

export function cellText(v) {
  if (v === null || v === undefined) return '';
  return typeof v === 'object' ? JSON.stringify(v) : String(v);
}

export const fmt = {
  num: (n) => (n === null || n === undefined ? '–' : n >= 100 ? Math.round(n).toLocaleString('en') : Number(n.toFixed(2)).toLocaleString('en')),
  bytes: (n) => (n >= 1048576 ? `${(n / 1048576).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${Math.round(n)} B`),
  time: (ms) => new Date(ms).toISOString().replace('T', ' ').slice(0, 19),
  duration: (s) => (s >= 86400 ? `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h` : s >= 3600 ? `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m` : `${Math.floor(s / 60)}m ${s % 60}s`),
};

/** Runs an action, showing its error; returns a [run, busy, error] triple. */
export function useAction() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState();
  const run = async (fn) => {
    setBusy(true);
    setError(undefined);
    try {
      return await fn();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return [run, busy, error];
}
