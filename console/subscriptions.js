// Subscriptions: list and detail (consumers and their shards, committed offsets, lag, unacked).
import { api, enc } from './api.js';
import { html } from './html.js';
import { DeleteButton } from './streams.js';
import { ErrorBox, Table, usePoll } from './ui.js';

export function Subscriptions() {
  const list = usePoll(() => api('/v1/subscriptions'), 3000);
  return html`<section aria-labelledby="subs-title">
    <h1 id="subs-title">Subscriptions</h1>
    <${ErrorBox} error=${list.error} />
    <${Table}
      caption="Subscriptions"
      rows=${list.data}
      empty="No subscriptions."
      columns=${[
        { label: 'Id', render: (s) => html`<a href=${`#/subscriptions/${enc(s.subscription_id)}`}>${s.subscription_id}</a>` },
        { label: 'Stream', key: 'stream_name' },
        { label: 'Consumers', key: 'consumer_count', cls: 'num' },
        { label: 'Unacked', key: 'unacked_records', cls: 'num' },
        { label: 'Lag (batches)', key: 'lag_batches', cls: 'num' },
        { label: 'Ack timeout (s)', key: 'ack_timeout_seconds', cls: 'num' },
        { label: 'Actions', render: (s) => html`<${DeleteButton} what="subscription" name=${s.subscription_id} path=${`/v1/subscriptions/${enc(s.subscription_id)}`} onDone=${list.reload} forceLabel="force (even with consumers)" />` },
      ]}
    />
  </section>`;
}

export function SubscriptionPage({ id }) {
  const sub = usePoll(() => api(`/v1/subscriptions/${enc(id)}`), 2000, [id]);
  const s = sub.data;
  return html`<section aria-labelledby="sub-title">
    <p><a href="#/subscriptions">← Subscriptions</a></p>
    <h1 id="sub-title">Subscription ${id}</h1>
    <${ErrorBox} error=${sub.error} />
    ${s &&
    html`<dl class="facts">
        <div><dt>Stream</dt><dd>${s.stream_name}</dd></div>
        <div><dt>Offset</dt><dd>${s.offset}</dd></div>
        <div><dt>Ack timeout</dt><dd>${s.ack_timeout_seconds} s</dd></div>
        <div><dt>Max unacked</dt><dd>${s.max_unacked_records}</dd></div>
        <div><dt>Unacked now</dt><dd>${s.unacked_records}</dd></div>
      </dl>
      <${Table}
        caption="Consumers"
        rows=${s.consumers}
        empty="No consumers attached."
        columns=${[
          { label: 'Name', key: 'name' },
          { label: 'From', key: 'uri' },
          { label: 'Client', key: 'user_agent' },
          { label: 'Shards owned', render: (c) => c.shards.join(', ') },
        ]}
      />
      <${Table}
        caption="Shards"
        rows=${s.shards}
        columns=${[
          { label: 'Shard', key: 'shard_id', cls: 'mono' },
          { label: 'Committed batch', key: 'committed_batch_id', cls: 'num' },
          { label: 'Tail batch', key: 'tail_batch_id', cls: 'num' },
          { label: 'Lag (batches)', key: 'lag_batches', cls: 'num' },
        ]}
      />`}
  </section>`;
}
