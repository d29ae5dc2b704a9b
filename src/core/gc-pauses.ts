/**
 * Every garbage-collection pause of this process, by kind, handed to a sink:
 * `/metrics` keeps them as a histogram (metrics.ts), heap tuning re-derives
 * its limit after each full collection, and the bench counts its own.
 *
 * Why /metrics shows them: under a steady load the longest stalls of the
 * server's event loop are V8's own pauses, and every call and delivery in
 * flight waits them out. On a 2-vCPU machine at 5k appended records/s, the
 * slowest deliveries were the ones that arrived during a scavenge directly
 * followed by a mark-compact's atomic pause (10–27 ms together). An operator
 * reading an RPC latency percentile needs these next to it to tell the
 * server's work from the runtime's.
 *
 * Observed through perf_hooks: the observer runs once per collection and
 * costs nothing while none happens.
 */
import { constants, PerformanceObserver } from 'node:perf_hooks';

export type GcKind = 'minor' | 'major' | 'incremental' | 'weakcb';

const KINDS: ReadonlyMap<number, GcKind> = new Map([
  [constants.NODE_PERFORMANCE_GC_MINOR, 'minor'],
  [constants.NODE_PERFORMANCE_GC_MAJOR, 'major'],
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL, 'incremental'],
  [constants.NODE_PERFORMANCE_GC_WEAKCB, 'weakcb'],
]);

export interface PauseSink {
  recordGcPause(kind: GcKind, ms: number): void;
}

/** Starts handing every collection's pause to `sink`; returns the function that stops it. */
export function observeGcPauses(sink: PauseSink): () => void {
  const observer = new PerformanceObserver((list) => {
    for (const entry of list.getEntries() as Array<PerformanceEntry & { detail?: { kind?: number } }>) {
      const kind = KINDS.get(entry.detail?.kind ?? -1);
      if (kind) sink.recordGcPause(kind, entry.duration);
    }
  });
  observer.observe({ entryTypes: ['gc'] });
  return () => observer.disconnect();
}
