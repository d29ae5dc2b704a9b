/**
 * Server metrics in Prometheus text format: per-RPC call counts, errors by
 * status code and latency histograms, the process's garbage-collection
 * pauses by kind, plus gauges read at scrape time from the stream,
 * subscription and stats registries. Fixed memory: one entry per RPC name
 * and status code, one per collection kind.
 */
import type { GcKind, PauseSink } from './gc-pauses.js';

/** Latency buckets in seconds: from well under the per-call gRPC cost to a slow fsync (GC pauses use them too). */
export const LATENCY_BUCKETS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

const BUCKETS = LATENCY_BUCKETS;

class Histogram {
  readonly counts = new Array<number>(BUCKETS.length).fill(0);
  count = 0;
  sum = 0;

  observe(seconds: number): void {
    this.count++;
    this.sum += seconds;
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]!) this.counts[i]!++;
  }
}

export interface Gauge {
  name: string;
  help: string;
  samples: Array<{ labels: Record<string, string>; value: number }>;
}

export class Metrics implements PauseSink {
  private readonly latency = new Map<string, Histogram>();
  private readonly gcPauses = new Map<GcKind, Histogram>();
  private readonly calls = new Map<string, number>();
  /** when this server started (uptime) */
  readonly startMs = Date.now();

  /** Records one finished RPC (`code` is the gRPC status, 0 = OK). */
  recordCall(rpc: string, code: number, durationMs: number): void {
    let h = this.latency.get(rpc);
    if (!h) this.latency.set(rpc, (h = new Histogram()));
    h.observe(durationMs / 1000);
    const key = `${rpc}\u0000${code}`;
    this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
  }

  /** Records one garbage-collection pause of this process (see gc-pauses.ts). */
  recordGcPause(kind: GcKind, ms: number): void {
    let h = this.gcPauses.get(kind);
    if (!h) this.gcPauses.set(kind, (h = new Histogram()));
    h.observe(ms / 1000);
  }

  /** Finished RPCs and the failed ones among them, since start. */
  callTotals(): { calls: number; errors: number } {
    let calls = 0;
    let errors = 0;
    for (const [key, n] of this.calls) {
      calls += n;
      if (!key.endsWith('\u00000')) errors += n;
    }
    return { calls, errors };
  }

  /** Cumulative latency bucket counts of one RPC (bounds in `LATENCY_BUCKETS`), for percentiles over an interval. */
  latencyCounts(rpc: string): { counts: readonly number[]; count: number } {
    const h = this.latency.get(rpc);
    return h ? { counts: [...h.counts], count: h.count } : { counts: new Array<number>(BUCKETS.length).fill(0), count: 0 };
  }

  /** Prometheus text exposition of everything recorded plus the given gauges. */
  render(gauges: Gauge[]): string {
    const out: string[] = [];
    out.push('# HELP hstream_uptime_seconds Seconds since this server started.', '# TYPE hstream_uptime_seconds gauge');
    out.push(`hstream_uptime_seconds ${((Date.now() - this.startMs) / 1000).toFixed(3)}`);
    out.push('# HELP hstream_rpc_calls_total Finished RPCs by method and gRPC status code.', '# TYPE hstream_rpc_calls_total counter');
    for (const [key, n] of this.calls) {
      const [rpc, code] = key.split('\u0000');
      out.push(`hstream_rpc_calls_total{rpc="${rpc}",code="${code}"} ${n}`);
    }
    out.push('# HELP hstream_rpc_errors_total Failed RPCs by method and gRPC status code.', '# TYPE hstream_rpc_errors_total counter');
    for (const [key, n] of this.calls) {
      const [rpc, code] = key.split('\u0000');
      if (code !== '0') out.push(`hstream_rpc_errors_total{rpc="${rpc}",code="${code}"} ${n}`);
    }
    out.push('# HELP hstream_rpc_duration_seconds RPC latency, from request to response.', '# TYPE hstream_rpc_duration_seconds histogram');
    for (const [rpc, h] of this.latency) renderHistogram(out, 'hstream_rpc_duration_seconds', `rpc="${rpc}"`, h);
    out.push(
      '# HELP hstream_gc_pause_seconds Garbage-collection pauses of the server process by kind (minor, major, incremental, weakcb): every call in flight waits them out.',
      '# TYPE hstream_gc_pause_seconds histogram',
    );
    for (const [kind, h] of this.gcPauses) renderHistogram(out, 'hstream_gc_pause_seconds', `kind="${kind}"`, h);
    for (const g of gauges) {
      out.push(`# HELP ${g.name} ${g.help}`, `# TYPE ${g.name} ${g.name.endsWith('_total') ? 'counter' : 'gauge'}`);
      for (const s of g.samples) out.push(`${g.name}${labels(s.labels)} ${s.value}`);
    }
    return out.join('\n') + '\n';
  }
}

function renderHistogram(out: string[], name: string, label: string, h: Histogram): void {
  BUCKETS.forEach((le, i) => out.push(`${name}_bucket{${label},le="${le}"} ${h.counts[i]}`));
  out.push(`${name}_bucket{${label},le="+Inf"} ${h.count}`);
  out.push(`${name}_sum{${label}} ${h.sum}`);
  out.push(`${name}_count{${label}} ${h.count}`);
}

function labels(l: Record<string, string>): string {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}
