// Streams: list with shard count, retention and a records/s sparkline; create and delete.
import { useState } from 'preact/hooks';
import { api, enc } from './api.js';
import { Sparkline } from './chart.js';
import { html } from './html.js';
import { ErrorBox, Table, useAction, usePoll } from './ui.js';

function CreateStream({ onCreated }) {
  const [name, setName] = useState('');
  const [shards, setShards] = useState(1);
  const [retention, setRetention] = useState(86400);
  const [run, busy, error] = useAction();
  const submit = (e) => {
    e.preventDefault();
    run(async () => {
      await api('/v1/streams', { method: 'POST', body: { stream_name: name.trim(), shard_count: Number(shards), backlog_duration: Number(retention) } });
      setName('');
      onCreated();
    });
  };
  return html`<form class="inline" onSubmit=${submit} aria-label="Create a stream">
    <label>Name <input name="stream_name" required value=${name} onInput=${(e) => setName(e.target.value)} /></label>
    <label>Shards <input name="shard_count" type="number" min="1" max="1024" value=${shards} onInput=${(e) => setShards(e.target.value)} /></label>
    <label>Retention (s) <input name="backlog_duration" type="number" min="0" value=${retention} onInput=${(e) => setRetention(e.target.value)} /></label>
    <button type="submit" disabled=${busy}>Create stream</button>
    <${ErrorBox} error=${error} />
  </form>`;
}

/** Asks before deleting; `force` also deletes a stream that subscriptions still read. */
export function DeleteButton({ what, name, path, onDone, forceLabel = 'force (even with subscriptions)' }) {
  const [asking, setAsking] = useState(false);
  const [force, setForce] = useState(false);
  const [run, busy, error] = useAction();
  if (!asking) return html`<button class="danger" onClick=${() => setAsking(true)} aria-label=${`Delete ${what} ${name}`}>Delete</button>`;
  return html`<span class="confirm" role="group" aria-label=${`Confirm deleting ${what} ${name}`}>
    Delete ${what} <strong>${name}</strong>?
    <label><input type="checkbox" checked=${force} onChange=${(e) => setForce(e.target.checked)} /> ${forceLabel}</label>
    <button class="danger" disabled=${busy} onClick=${() => run(async () => { await api(`${path}?force=${force}`, { method: 'DELETE' }); onDone(); })}>Yes, delete</button>
    <button onClick=${() => setAsking(false)}>Cancel</button>
    <${ErrorBox} error=${error} />
  </span>`;
}

export function Streams() {
  const list = usePoll(() => api('/v1/streams'), 5000);
  const activity = usePoll(() => api('/v1/stream-activity'), 2000);
  const rates = new Map((activity.data ?? []).map((a) => [a.stream_name, a.records_per_second]));
  return html`<section aria-labelledby="streams-title">
    <h1 id="streams-title">Streams</h1>
    <${CreateStream} onCreated=${list.reload} />
    <${ErrorBox} error=${list.error} />
    <${Table}
      caption="Streams"
      rows=${list.data}
      empty="No streams yet: create one above."
      columns=${[
        { label: 'Name', render: (s) => html`<a href=${`#/streams/${enc(s.stream_name)}`}>${s.stream_name}</a>` },
        { label: 'Shards', key: 'shard_count', cls: 'num' },
        { label: 'Retention (s)', key: 'backlog_duration', cls: 'num' },
        { label: 'Records/s (60 s)', render: (s) => html`<${Sparkline} key=${s.stream_name} values=${rates.get(s.stream_name) ?? new Array(60).fill(0)} label=${`records per second appended to ${s.stream_name}`} />` },
        { label: 'Actions', render: (s) => html`<${DeleteButton} what="stream" name=${s.stream_name} path=${`/v1/streams/${enc(s.stream_name)}`} onDone=${list.reload} />` },
      ]}
    />
  </section>`;
}
