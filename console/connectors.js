// Connectors: status, last error, pause / resume and logs.
import { useState } from 'preact/hooks';
import { api, enc } from './api.js';
import { html } from './html.js';
import { ErrorBox, Table, useAction, usePoll } from './ui.js';

function Logs({ name }) {
  const logs = usePoll(() => api(`/v1/connectors/${enc(name)}/logs?begin=0&count=200`), 3000, [name]);
  return html`<section class="card" aria-label=${`Logs of ${name}`}><h2>Logs of ${name}</h2><${ErrorBox} error=${logs.error} /><pre class="logs">${logs.data?.logs || '(no log lines)'}</pre></section>`;
}

export function Connectors() {
  const list = usePoll(() => api('/v1/connectors'), 3000);
  const [shown, setShown] = useState();
  const [run, busy, error] = useAction();
  const act = (name, what) => run(async () => { await api(`/v1/connectors/${enc(name)}/${what}`, { method: 'POST' }); list.reload(); });
  return html`<section aria-labelledby="connectors-title">
    <h1 id="connectors-title">Connectors</h1>
    <${ErrorBox} error=${list.error ?? error} />
    <${Table}
      caption="Connectors"
      rows=${list.data}
      empty="No connectors. Create one with CREATE SINK CONNECTOR on the SQL page."
      columns=${[
        { label: 'Name', key: 'name' },
        { label: 'Type', render: (c) => `${c.type} → ${c.target}` },
        { label: 'Status', key: 'status' },
        { label: 'Task (last error)', key: 'task_status' },
        {
          label: 'Actions',
          render: (c) => html`<span class="actions">
            ${c.status === 'STOPPED' ? html`<button disabled=${busy} onClick=${() => act(c.name, 'resume')}>Resume</button>` : html`<button disabled=${busy} onClick=${() => act(c.name, 'pause')}>Pause</button>`}
            <button onClick=${() => setShown(c.name)} aria-label=${`Show logs of ${c.name}`}>Logs</button>
          </span>`,
        },
      ]}
    />
    ${shown && html`<${Logs} name=${shown} />`}
  </section>`;
}
