// Queries and views: SQL, status, plan, terminate / resume / delete; a view's rows.
import { api, enc } from './api.js';
import { html } from './html.js';
import { ErrorBox, Table, cellText, fmt, useAction, usePoll } from './ui.js';

function QueryActions({ q, onDone }) {
  const [run, busy, error] = useAction();
  const act = (path, method = 'POST') => run(async () => { await api(path, { method }); onDone(); });
  const base = `/v1/queries/${enc(q.query_id)}`;
  return html`<span class="actions">
    ${q.status === 'RUNNING' && html`<button disabled=${busy} onClick=${() => act(`${base}/terminate`)} aria-label=${`Terminate query ${q.query_id}`}>Terminate</button>`}
    ${q.status !== 'RUNNING' && html`<button disabled=${busy} onClick=${() => act(`${base}/resume`)} aria-label=${`Resume query ${q.query_id}`}>Resume</button>`}
    ${q.status !== 'RUNNING' && html`<button class="danger" disabled=${busy} onClick=${() => act(base, 'DELETE')} aria-label=${`Delete query ${q.query_id}`}>Delete</button>`}
    <${ErrorBox} error=${error} />
  </span>`;
}

/** A view's rows as a table, columns from the rows' keys. */
export function RowsTable({ rows, caption }) {
  const keys = [...new Set((rows ?? []).flatMap((r) => Object.keys(r)))];
  return html`<${Table} caption=${caption} rows=${rows} empty="No rows." columns=${keys.map((k) => ({ label: k, render: (r) => cellText(r[k]) }))} />`;
}

export function Queries() {
  const list = usePoll(() => api('/v1/queries'), 3000);
  const views = usePoll(() => api('/v1/views'), 3000);
  return html`<section aria-labelledby="queries-title">
    <h1 id="queries-title">Queries and views</h1>
    <${ErrorBox} error=${list.error ?? views.error} />
    <${Table}
      caption="Queries"
      rows=${list.data}
      empty="No queries. Start one from the SQL page."
      columns=${[
        { label: 'Id', render: (q) => html`<a href=${`#/queries/${enc(q.query_id)}`}>${q.query_id}</a>` },
        { label: 'Status', key: 'status' },
        { label: 'Created', render: (q) => fmt.time(q.created_ms) },
        { label: 'SQL', key: 'sql', cls: 'mono' },
        { label: 'Actions', render: (q) => html`<${QueryActions} q=${q} onDone=${list.reload} />` },
      ]}
    />
    <${Table}
      caption="Views"
      rows=${views.data}
      empty="No views."
      columns=${[
        { label: 'View', render: (v) => html`<a href=${`#/views/${enc(v.view_name)}`}>${v.view_name}</a>` },
        { label: 'Status', key: 'status' },
        { label: 'Query', key: 'query_id' },
        { label: 'Columns', render: (v) => v.schema.join(', ') },
      ]}
    />
  </section>`;
}

export function QueryPage({ id }) {
  const q = usePoll(() => api(`/v1/queries/${enc(id)}`), 3000, [id]);
  return html`<section aria-labelledby="query-title">
    <p><a href="#/queries">← Queries</a></p>
    <h1 id="query-title">Query ${id}</h1>
    <${ErrorBox} error=${q.error} />
    ${q.data &&
    html`<dl class="facts">
        <div><dt>Status</dt><dd>${q.data.status}</dd></div>
        <div><dt>Writes to</dt><dd>${q.data.result_name} (${q.data.kind})</dd></div>
        <div><dt>Reads</dt><dd>${q.data.sources.join(', ')}</dd></div>
        ${q.data.reason && html`<div><dt>Reason</dt><dd>${q.data.reason}</dd></div>`}
      </dl>
      <${QueryActions} q=${q.data} onDone=${q.reload} />
      <h2>SQL</h2><pre class="sql">${q.data.sql}</pre>
      <h2>Plan</h2><pre class="plan">${q.data.plan}</pre>`}
  </section>`;
}

export function ViewPage({ name }) {
  const v = usePoll(() => api(`/v1/views/${enc(name)}`), 2000, [name]);
  return html`<section aria-labelledby="view-title">
    <p><a href="#/queries">← Queries and views</a></p>
    <h1 id="view-title">View ${name}</h1>
    <${ErrorBox} error=${v.error} />
    ${v.data && html`<${RowsTable} caption=${`Rows of ${name} (query ${v.data.query_id}, ${v.data.status})`} rows=${v.data.rows} />`}
  </section>`;
}
