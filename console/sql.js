// SQL editor: runs one statement of what `hstream sql` runs; a push query
// (SELECT … EMIT CHANGES) streams rows into the table until stopped.
import { useRef, useState } from 'preact/hooks';
import { api, pushQuery } from './api.js';
import { html } from './html.js';
import { RowsTable } from './queries.js';
import { ErrorBox } from './ui.js';

/** Rows kept on screen for a push query: the newest win. */
const MAX_PUSH_ROWS = 1000;

export function Sql() {
  const [text, setText] = useState('SHOW STREAMS;');
  const [result, setResult] = useState();
  const [error, setError] = useState();
  const [pushing, setPushing] = useState(false);
  const [pushRows, setPushRows] = useState([]);
  const stop = useRef();

  const run = async (e) => {
    e?.preventDefault();
    setError(undefined);
    setResult(undefined);
    if (/\bEMIT\s+CHANGES\b/i.test(text)) return push();
    try {
      setResult(await api('/v1/sql', { method: 'POST', body: { sql: text } }));
    } catch (err) {
      setError(err);
    }
  };

  const push = async () => {
    const controller = new AbortController();
    stop.current = controller;
    setPushRows([]);
    setPushing(true);
    try {
      await pushQuery(
        text,
        (name, data) => {
          if (name === 'rows') setPushRows((rows) => [...rows, ...data].slice(-MAX_PUSH_ROWS));
          else if (name === 'error') setError({ message: data.error, body: data });
        },
        controller.signal,
      );
    } catch (err) {
      setError(err);
    } finally {
      setPushing(false);
      stop.current = undefined;
    }
  };

  const onKey = (e) => {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) run(e);
  };

  return html`<section aria-labelledby="sql-title">
    <h1 id="sql-title">SQL</h1>
    <form onSubmit=${run}>
      <label class="block" for="sql-text">Statement (Ctrl+Enter runs it)</label>
      <textarea id="sql-text" name="sql" rows="6" spellcheck="false" value=${text} onInput=${(e) => setText(e.target.value)} onKeyDown=${onKey}></textarea>
      <div class="inline">
        <button type="submit" disabled=${pushing}>Run</button>
        ${pushing && html`<button type="button" class="danger" onClick=${() => stop.current?.abort()}>Stop push query</button>`}
        ${pushing && html`<span role="status" class="live">Streaming rows… (${pushRows.length})</span>`}
      </div>
    </form>
    <${ErrorBox} error=${error} />
    ${result && result.rows.length === 0 && html`<p role="status" class="ok">Done (${result.statement}).</p>`}
    ${result && result.rows.length > 0 && html`<${RowsTable} caption=${`Result of ${result.statement}`} rows=${result.rows} />`}
    ${(pushing || pushRows.length > 0) && html`<div id="push-rows"><${RowsTable} caption="Push query rows" rows=${pushRows} /></div>`}
  </section>`;
}
