// Overview: the server, object counts and live charts from the sample ring.
import { api } from './api.js';
import { Chart } from './chart.js';
import { html } from './html.js';
import { ErrorBox, fmt, usePoll } from './ui.js';

const CHARTS = [
  ['appendRecords', 'Records/s appended', '', 'chart-append-records'],
  ['appendBytes', 'Bytes/s appended', '', 'chart-append-bytes'],
  ['deliveredRecords', 'Records/s delivered', '', 'chart-delivered'],
  ['rpcErrors', 'RPC errors/s', '', 'chart-errors'],
  ['appendP99Ms', 'Append p99 latency', ' ms', 'chart-p99'],
];

export function Overview() {
  const info = usePoll(() => api('/v1/overview'), 2000);
  const samples = usePoll(() => api('/v1/samples'), 1000);
  const o = info.data;
  return html`<section aria-labelledby="overview-title">
    <h1 id="overview-title">Overview</h1>
    <${ErrorBox} error=${info.error ?? samples.error} />
    ${o &&
    html`<dl class="facts">
        <div><dt>Version</dt><dd>${o.version}</dd></div>
        <div><dt>Uptime</dt><dd>${fmt.duration(o.uptime_seconds)}</dd></div>
        <div><dt>Data dir</dt><dd>${o.data_dir ?? 'in memory'}</dd></div>
        <div><dt>Durability</dt><dd>${o.durability}</dd></div>
      </dl>
      <ul class="counts" aria-label="Counts">
        ${Object.entries(o.counts).map(([k, v]) => html`<li><span class="count" data-count=${k}>${v}</span> ${k.replace('_', ' ')}</li>`)}
      </ul>`}
    <div class="charts">
      ${samples.data &&
      CHARTS.map(([key, title, unit, id]) => html`<${Chart} key=${key} id=${id} title=${title} unit=${unit} data=${[samples.data.time, samples.data[key]]} />`)}
    </div>
  </section>`;
}
