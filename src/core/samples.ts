/**
 * The console's charts: once a second, rates computed from counters the
 * server already keeps (append totals in StatsRegistry, records delivered by
 * subscriptions, RPC outcomes and Append latency in Metrics), kept in a fixed
 * ring of the last RING_SECONDS samples.
 *
 * Memory is fixed at start: RING_SECONDS × SERIES doubles (300 × 6 × 8 B =
 * 14.4 KB), whatever the number of streams or the uptime.
 */
import { LATENCY_BUCKETS, type Metrics } from './metrics.js';
import type { StatsRegistry } from './stats.js';

export const RING_SECONDS = 300;
export const SERIES = ['time', 'appendRecords', 'appendBytes', 'deliveredRecords', 'rpcErrors', 'appendP99Ms'] as const;
export type SeriesName = (typeof SERIES)[number];

export interface CounterSources {
  stats: StatsRegistry;
  metrics: Metrics;
  deliveredRecords(): number;
}

interface Totals {
  records: number;
  bytes: number;
  delivered: number;
  errors: number;
  latency: { counts: readonly number[]; count: number };
  ms: number;
}

/** `series` columns, oldest first; `appendP99Ms` is null for a second without gRPC appends. */
export type SampleColumns = Record<SeriesName, Array<number | null>>;

export class SampleRing {
  readonly #values = new Float64Array(RING_SECONDS * SERIES.length);
  #next = 0;
  #count = 0;
  #previous: Totals;
  #timer: NodeJS.Timeout | undefined;

  constructor(private readonly sources: CounterSources) {
    this.#previous = this.#totals(Date.now());
  }

  start(intervalMs = 1000): void {
    this.#timer ??= setInterval(() => this.sample(), intervalMs);
    // the ring must not keep a stopping process alive
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #totals(ms: number): Totals {
    const { stats, metrics } = this.sources;
    let records = 0;
    let bytes = 0;
    for (const name of stats.streamNames()) {
      records += stats.total(name, 'append_in_records');
      bytes += stats.total(name, 'appends');
    }
    return { records, bytes, delivered: this.sources.deliveredRecords(), errors: metrics.callTotals().errors, latency: metrics.latencyCounts('Append'), ms };
  }

  /** Takes one sample now (the timer calls this each second). */
  sample(nowMs = Date.now()): void {
    const now = this.#totals(nowMs);
    const before = this.#previous;
    this.#previous = now;
    const seconds = Math.max(0.001, (now.ms - before.ms) / 1000);
    // a deleted stream takes its totals with it: a drop is no negative rate
    const rate = (a: number, b: number) => Math.max(0, a - b) / seconds;
    const row = [
      Math.floor(nowMs / 1000),
      rate(now.records, before.records),
      rate(now.bytes, before.bytes),
      rate(now.delivered, before.delivered),
      rate(now.errors, before.errors),
      p99Ms(now.latency, before.latency),
    ];
    this.#values.set(row, this.#next * SERIES.length);
    this.#next = (this.#next + 1) % RING_SECONDS;
    this.#count = Math.min(RING_SECONDS, this.#count + 1);
  }

  columns(): SampleColumns {
    const out = Object.fromEntries(SERIES.map((name) => [name, [] as Array<number | null>])) as SampleColumns;
    const first = (this.#next - this.#count + RING_SECONDS) % RING_SECONDS;
    for (let k = 0; k < this.#count; k++) {
      const base = ((first + k) % RING_SECONDS) * SERIES.length;
      SERIES.forEach((name, i) => {
        const v = this.#values[base + i]!;
        out[name].push(Number.isNaN(v) ? null : v);
      });
    }
    return out;
  }
}

/** The upper bound (ms) of the bucket holding the 99th percentile of the calls between two snapshots; NaN without calls. */
function p99Ms(now: Totals['latency'], before: Totals['latency']): number {
  const calls = now.count - before.count;
  if (calls <= 0) return NaN;
  const wanted = Math.ceil(calls * 0.99);
  for (let i = 0; i < LATENCY_BUCKETS.length; i++) {
    if (now.counts[i]! - before.counts[i]! >= wanted) return LATENCY_BUCKETS[i]! * 1000;
  }
  // slower than the last bucket: report its bound, the most the histogram can say
  return LATENCY_BUCKETS[LATENCY_BUCKETS.length - 1]! * 1000;
}
