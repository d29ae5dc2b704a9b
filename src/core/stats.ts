/**
 * Per-stream append statistics: lifetime counters (GetStats) and per-second
 * buckets over the last few minutes for rates (PerStreamTimeSeriesStats).
 * Memory per stream is fixed: HISTORY_SECONDS buckets per metric.
 */

export const STREAM_METRICS = ['appends', 'append_in_records', 'append_in_requests', 'append_failed_requests'] as const;
export type StreamMetric = (typeof STREAM_METRICS)[number];

const HISTORY_SECONDS = 600;

class Series {
  total = 0;
  private readonly buckets = new Float64Array(HISTORY_SECONDS);
  private readonly bucketSecond = new Float64Array(HISTORY_SECONDS);

  add(value: number, nowMs: number): void {
    this.total += value;
    const second = Math.floor(nowMs / 1000);
    const i = second % HISTORY_SECONDS;
    if (this.bucketSecond[i] !== second) {
      this.bucketSecond[i] = second;
      this.buckets[i] = 0;
    }
    this.buckets[i]! += value;
  }

  /** Mean rate per second over the last `intervalMs`. */
  rate(intervalMs: number, nowMs: number): number {
    const seconds = Math.max(1, Math.min(HISTORY_SECONDS, Math.ceil(intervalMs / 1000)));
    const current = Math.floor(nowMs / 1000);
    let sum = 0;
    for (let s = current - seconds + 1; s <= current; s++) {
      const i = ((s % HISTORY_SECONDS) + HISTORY_SECONDS) % HISTORY_SECONDS;
      if (this.bucketSecond[i] === s) sum += this.buckets[i]!;
    }
    return sum / seconds;
  }
}

type StreamSeries = Record<StreamMetric, Series>;

export class StatsRegistry {
  private readonly streams = new Map<string, StreamSeries>();

  private series(stream: string): StreamSeries {
    let s = this.streams.get(stream);
    if (!s) {
      s = {
        appends: new Series(),
        append_in_records: new Series(),
        append_in_requests: new Series(),
        append_failed_requests: new Series(),
      };
      this.streams.set(stream, s);
    }
    return s;
  }

  recordAppend(stream: string, bytes: number, records: number, nowMs = Date.now()): void {
    const s = this.series(stream);
    s.appends.add(bytes, nowMs);
    s.append_in_records.add(records, nowMs);
    s.append_in_requests.add(1, nowMs);
  }

  recordAppendFailure(stream: string, nowMs = Date.now()): void {
    this.series(stream).append_failed_requests.add(1, nowMs);
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
    return this.streams.get(stream)?.[metric].total ?? 0;
  }

  rates(stream: string, metric: StreamMetric, intervalsMs: number[], nowMs = Date.now()): number[] | undefined {
    const s = this.streams.get(stream);
    return s ? intervalsMs.map((ms) => s[metric].rate(ms, nowMs)) : undefined;
  }
}

/** Upstream accepts "appends" as an alias of the bytes metric and both plain and `append_in_bytes`. */
export function parseStreamMetric(method: string): StreamMetric | undefined {
  if (method === 'append_in_bytes') return 'appends';
  return (STREAM_METRICS as readonly string[]).includes(method) ? (method as StreamMetric) : undefined;
}
