/**
 * Per-stream append statistics: lifetime counters (GetStats) and per-second
 * buckets over the last few minutes for rates (PerStreamTimeSeriesStats).
 *
 * A stream keeps one bucket per second in which it was appended to, within
 * the last HISTORY_SECONDS, in a ring that grows with use: a stream appended
 * to once costs a few hundred bytes, one appended to every second at most
 * HISTORY_SECONDS buckets (~24 KB). Fixed 600-slot arrays per metric cost
 * ~38 KB for every stream ever appended to, 4 GB at 100k streams.
 */

export const STREAM_METRICS = ['appends', 'append_in_records', 'append_in_requests', 'append_failed_requests'] as const;
export type StreamMetric = (typeof STREAM_METRICS)[number];

const HISTORY_SECONDS = 600;
const METRICS = STREAM_METRICS.length;
const INITIAL_BUCKETS = 4;
const METRIC_INDEX: Record<StreamMetric, number> = { appends: 0, append_in_records: 1, append_in_requests: 2, append_failed_requests: 3 };

/** One stream's counters: totals, and (second, value per metric) buckets oldest first in a growable ring. */
class StreamSeries {
  readonly totals = new Float64Array(METRICS);
  #seconds = new Float64Array(INITIAL_BUCKETS);
  #values = new Float64Array(INITIAL_BUCKETS * METRICS);
  /** ring position of the oldest bucket, and how many are in use */
  #start = 0;
  #count = 0;

  add(metric: number, value: number, nowMs: number): void {
    this.totals[metric]! += value;
    const second = Math.floor(nowMs / 1000);
    const cap = this.#seconds.length;
    if (this.#count > 0) {
      const last = (this.#start + this.#count - 1) % cap;
      // a clock step back lands in the newest bucket: rates stay approximately right
      if (this.#seconds[last]! >= second) {
        this.#values[last * METRICS + metric]! += value;
        return;
      }
    }
    // buckets older than the window are never read again
    while (this.#count > 0 && this.#seconds[this.#start]! <= second - HISTORY_SECONDS) {
      this.#start = (this.#start + 1) % cap;
      this.#count--;
    }
    if (this.#count === cap) this.#grow();
    const slot = (this.#start + this.#count) % this.#seconds.length;
    this.#seconds[slot] = second;
    this.#values.fill(0, slot * METRICS, slot * METRICS + METRICS);
    this.#values[slot * METRICS + metric] = value;
    this.#count++;
  }

  /** Mean rate per second over the last `intervalMs`. */
  rate(metric: number, intervalMs: number, nowMs: number): number {
    const seconds = Math.max(1, Math.min(HISTORY_SECONDS, Math.ceil(intervalMs / 1000)));
    const current = Math.floor(nowMs / 1000);
    const cap = this.#seconds.length;
    let sum = 0;
    for (let k = this.#count - 1; k >= 0; k--) {
      const slot = (this.#start + k) % cap;
      const second = this.#seconds[slot]!;
      if (second <= current - seconds) break;
      if (second <= current) sum += this.#values[slot * METRICS + metric]!;
    }
    return sum / seconds;
  }

  /** Per-second values of the last `seconds` whole seconds before `nowMs`, oldest first (0 where nothing happened). */
  perSecond(metric: number, seconds: number, nowMs: number): number[] {
    const out = new Array<number>(seconds).fill(0);
    const first = Math.floor(nowMs / 1000) - seconds;
    const cap = this.#seconds.length;
    for (let k = 0; k < this.#count; k++) {
      const slot = (this.#start + k) % cap;
      const i = this.#seconds[slot]! - first;
      if (i >= 0 && i < seconds) out[i] += this.#values[slot * METRICS + metric]!;
    }
    return out;
  }

  #grow(): void {
    const cap = this.#seconds.length;
    const next = Math.min(cap * 2, HISTORY_SECONDS + 1);
    const seconds = new Float64Array(next);
    const values = new Float64Array(next * METRICS);
    for (let k = 0; k < this.#count; k++) {
      const slot = (this.#start + k) % cap;
      seconds[k] = this.#seconds[slot]!;
      values.set(this.#values.subarray(slot * METRICS, slot * METRICS + METRICS), k * METRICS);
    }
    this.#seconds = seconds;
    this.#values = values;
    this.#start = 0;
  }
}

export class StatsRegistry {
  private readonly streams = new Map<string, StreamSeries>();

  private series(stream: string): StreamSeries {
    let s = this.streams.get(stream);
    if (!s) {
      s = new StreamSeries();
      this.streams.set(stream, s);
    }
    return s;
  }

  recordAppend(stream: string, bytes: number, records: number, nowMs = Date.now()): void {
    const s = this.series(stream);
    s.add(METRIC_INDEX.appends, bytes, nowMs);
    s.add(METRIC_INDEX.append_in_records, records, nowMs);
    s.add(METRIC_INDEX.append_in_requests, 1, nowMs);
  }

  recordAppendFailure(stream: string, nowMs = Date.now()): void {
    this.series(stream).add(METRIC_INDEX.append_failed_requests, 1, nowMs);
  }

  forgetStream(stream: string): void {
    this.streams.delete(stream);
  }

  has(stream: string): boolean {
    return this.streams.has(stream);
  }

  streamNames(): string[] {
    return [...this.streams.keys()];
  }

  total(stream: string, metric: StreamMetric): number {
    return this.streams.get(stream)?.totals[METRIC_INDEX[metric]] ?? 0;
  }

  /** Per-second values over the last `seconds` (at most the kept history), oldest first. */
  perSecond(stream: string, metric: StreamMetric, seconds: number, nowMs = Date.now()): number[] {
    const n = Math.max(1, Math.min(HISTORY_SECONDS, seconds));
    return this.streams.get(stream)?.perSecond(METRIC_INDEX[metric], n, nowMs) ?? new Array<number>(n).fill(0);
  }

  rates(stream: string, metric: StreamMetric, intervalsMs: number[], nowMs = Date.now()): number[] | undefined {
    const s = this.streams.get(stream);
    return s ? intervalsMs.map((ms) => s.rate(METRIC_INDEX[metric], ms, nowMs)) : undefined;
  }
}

/** Upstream accepts "appends" as an alias of the bytes metric and both plain and `append_in_bytes`. */
export function parseStreamMetric(method: string): StreamMetric | undefined {
  if (method === 'append_in_bytes') return 'appends';
  return (STREAM_METRICS as readonly string[]).includes(method) ? (method as StreamMetric) : undefined;
}
