// uPlot charts: a time series chart and a tiny sparkline.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import { html } from './html.js';

/** A line chart of one series over time; `data` is [times (s), values]. */
export function Chart({ title, data, unit, id }) {
  const box = useRef();
  const plot = useRef();
  useEffect(() => {
    const width = Math.max(260, box.current.clientWidth - 8);
    plot.current = new uPlot(
      {
        width,
        height: 160,
        legend: { show: false },
        cursor: { show: false },
        scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(1, max * 1.1)] } },
        axes: [{ stroke: '#667' }, { stroke: '#667', size: 56, values: (u, vals) => vals.map((v) => `${+v.toFixed(1)}${unit ?? ''}`) }],
        series: [{}, { label: title, stroke: '#2563eb', width: 2, fill: 'rgba(37,99,235,0.12)', spanGaps: false }],
      },
      data,
      box.current,
    );
    return () => plot.current.destroy();
  }, []);
  useEffect(() => {
    plot.current?.setData(data);
  }, [data]);
  return html`<figure class="chart" id=${id} data-points=${data[1].filter((v) => v !== null && v > 0).length}>
    <figcaption>${title}</figcaption>
    <div ref=${box} role="img" aria-label=${`${title} over the last minutes`}></div>
  </figure>`;
}

/** A 120×28 line of per-second values, no axes. */
export function Sparkline({ values, label }) {
  const box = useRef();
  const plot = useRef();
  const data = [values.map((_, i) => i), values];
  useEffect(() => {
    plot.current = new uPlot(
      {
        width: 120,
        height: 28,
        legend: { show: false },
        cursor: { show: false },
        axes: [{ show: false }, { show: false }],
        scales: { x: { time: false }, y: { range: (u, min, max) => [0, Math.max(1, max)] } },
        series: [{}, { stroke: '#16a34a', width: 1.5 }],
      },
      data,
      box.current,
    );
    return () => plot.current.destroy();
  }, []);
  useEffect(() => plot.current?.setData(data), [values]);
  return html`<div class="sparkline" ref=${box} role="img" aria-label=${label}></div>`;
}
