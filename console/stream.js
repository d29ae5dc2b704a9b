// One stream: its shards, a record browser and a form to append a test record.
import { useState } from 'preact/hooks';
import { api, enc } from './api.js';
import { html } from './html.js';
import { ErrorBox, Table, fmt, useAction, usePoll } from './ui.js';

function AppendForm({ stream, onAppended }) {
  const [type, setType] = useState('HRECORD');
  const [key, setKey] = useState('');
  const [data, setData] = useState('{"hello": "world"}');
  const [result, setResult] = useState();
  const [run, busy, error] = useAction();
  const submit = (e) => {
    e.preventDefault();
    run(async () => {
      let payload = data;
      if (type === 'HRECORD') {
        try {
          payload = JSON.parse(data);
        } catch (err) {
          throw new Error(`the record is not valid JSON: ${err.message}`);
        }
      }
      const r = await api(`/v1/streams/${enc(stream)}`, { method: 'POST', body: { type, key, data: payload } });
      setResult(`${r.shard_id}-${r.batch_id}-${r.batch_index}`);
      onAppended();
    });
  };
  return html`<form onSubmit=${submit} aria-labelledby="append-title" class="card">
    <h2 id="append-title">Append a test record</h2>
    <div class="inline">
      <label>Type <select name="type" aria-label="Type" value=${type} onChange=${(e) => setType(e.target.value)}>
        <option value="HRECORD">JSON (HRECORD)</option><option value="RAW">RAW (text)</option>
      </select></label>
      <label>Key <input name="key" value=${key} onInput=${(e) => setKey(e.target.value)} placeholder="(none)" /></label>
    </div>
    <label class="block">Record <textarea name="data" rows="3" value=${data} onInput=${(e) => setData(e.target.value)}></textarea></label>
    <button type="submit" disabled=${busy}>Append</button>
    ${result && html`<span class="ok" role="status"> Appended as ${result}</span>`}
    <${ErrorBox} error=${error} />
  </form>`;
}

function RecordValue({ r, hex }) {
  if (r.type === 'JSON') return html`<pre class="json">${JSON.stringify(r.json, null, 2)}</pre>`;
  return html`<pre class="raw">${hex ? r.hex.replace(/(..)/g, '$1 ').trim() : r.text}</pre>`;
}

function RecordBrowser({ stream, shards, version }) {
  const [shard, setShard] = useState(shards[0]?.shard_id ?? '');
  const [from, setFrom] = useState('earliest');
  const [at, setAt] = useState('');
  const [page, setPage] = useState();
  const [hex, setHex] = useState(false);
  const [run, busy, error] = useAction();
  const load = (start) =>
    run(async () => {
      const p = await api(`/v1/streams/${enc(stream)}/shards/${enc(shard)}/records?from=${enc(start)}&limit=20`);
      setPage({ ...p, from: start });
    });
  const startOf = () => {
    if (from === 'record') return at.trim();
    if (from === 'time') {
      const ms = Date.parse(at);
      if (Number.isNaN(ms)) return 'time:invalid';
      return `time:${ms}`;
    }
    return from;
  };
  return html`<section aria-labelledby="browser-title" class="card">
    <h2 id="browser-title">Records</h2>
    <form class="inline" onSubmit=${(e) => { e.preventDefault(); load(startOf()); }}>
      <label>Shard <select name="shard" aria-label="Shard" value=${shard} onChange=${(e) => setShard(e.target.value)}>
        ${shards.map((s) => html`<option value=${s.shard_id}>${s.shard_id}</option>`)}
      </select></label>
      <label>From <select name="from" aria-label="From" value=${from} onChange=${(e) => setFrom(e.target.value)}>
        <option value="earliest">EARLIEST</option><option value="latest">LATEST (newest page)</option>
        <option value="record">a RecordId</option><option value="time">a time</option>
      </select></label>
      ${from === 'record' && html`<label>RecordId <input name="record_id" value=${at} onInput=${(e) => setAt(e.target.value)} placeholder="shard-batch-index" /></label>`}
      ${from === 'time' && html`<label>Time <input name="time" type="datetime-local" step="1" value=${at} onInput=${(e) => setAt(e.target.value)} /></label>`}
      <button type="submit" disabled=${busy}>Read</button>
      <label><input type="checkbox" checked=${hex} onChange=${(e) => setHex(e.target.checked)} /> RAW as hex</label>
    </form>
    <${ErrorBox} error=${error} />
    ${page &&
    html`<${Table}
        caption=${`Shard ${shard}, from ${page.from}`}
        rows=${page.records.map((r) => ({ ...r, key: r.record_id, recordKey: r.key }))}
        empty="No records here (yet). Page forward again to wait for new ones."
        columns=${[
          { label: 'RecordId', key: 'record_id', cls: 'mono' },
          { label: 'Key', key: 'recordKey' },
          { label: 'Time', render: (r) => fmt.time(r.time_ms) },
          { label: 'Type', key: 'type' },
          { label: 'Record', render: (r) => html`<${RecordValue} r=${r} hex=${hex} />${r.truncated ? html`<em> (first 16 KiB of ${fmt.bytes(r.size)})</em>` : ''}` },
        ]}
      />
      <button onClick=${() => load(page.next)} disabled=${busy}>Next page →</button>`}
  </section>`;
}

export function StreamPage({ name }) {
  const [version, setVersion] = useState(0);
  const shards = usePoll(() => api(`/v1/streams/${enc(name)}/shards`), 3000, [name, version]);
  return html`<section aria-labelledby="stream-title">
    <p><a href="#/streams">← Streams</a></p>
    <h1 id="stream-title">Stream ${name}</h1>
    <${ErrorBox} error=${shards.error} />
    <${Table}
      caption="Shards"
      rows=${shards.data}
      columns=${[
        { label: 'Shard', key: 'shard_id', cls: 'mono' },
        { label: 'Key range start', key: 'start_hash_range_key', cls: 'mono' },
        { label: 'Key range end', key: 'end_hash_range_key', cls: 'mono' },
        { label: 'Tail RecordId (first record of the last batch)', render: (s) => (s.tail_batch_id ? `${s.shard_id}-${s.tail_batch_id}-0` : '(empty)'), cls: 'mono' },
      ]}
    />
    <${AppendForm} stream=${name} onAppended=${() => setVersion((v) => v + 1)} />
    ${shards.data && html`<${RecordBrowser} stream=${name} shards=${shards.data} version=${version} />`}
  </section>`;
}
