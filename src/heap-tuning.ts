/**
 * Keeps V8's old-generation limit well above the live heap, for the server
 * process only (main.ts; an embedding process owns its own GC settings).
 *
 * Why: with the default heap sizing, a server whose live heap is small
 * (~13 MB) gets an old-generation limit only ~16 MB above it, no more than
 * the young generation it has grown to. V8 then starts incremental marking
 * again right after every full GC: under inflight-1 appends that was a
 * mark-compact every ~100 ms, whose marking and sweeping threads took
 * ~0.5 ms of CPU per Append on a 2-core machine. Raising the limit to
 * live + 48 MB cut full GCs from 44 to 7 per 6 s of load and server CPU per
 * 1k appended records from ~18 to ~13 ms. Large heaps keep V8's own factor,
 * so the memory this costs is bounded by the slack.
 *
 * `--heap-growing-percent` is read at each full GC, so setting it at run time
 * works; it is re-derived after every full GC as the live heap changes.
 */
import v8 from 'node:v8';
import { observeGcPauses } from './core/gc-pauses.js';

export const DEFAULT_HEAP_SLACK_BYTES = 48 * 1024 * 1024;
/** A factor of 4 at most: a tiny heap right after start must not get a huge limit. */
const MAX_GROWING_PERCENT = 300;

/**
 * The heap growing percent that puts the next limit about `slackBytes` above
 * `liveBytes`; 0 (V8's own dynamic factor) once the slack is already the
 * smaller part of the limit.
 */
export function heapGrowingPercent(liveBytes: number, slackBytes: number): number {
  if (!(liveBytes > 0) || !(slackBytes > 0)) return 0;
  if (liveBytes >= slackBytes) return 0;
  return Math.min(MAX_GROWING_PERCENT, Math.ceil((slackBytes / liveBytes) * 100));
}

/**
 * Applies heapGrowingPercent now and after every full GC. Does nothing when
 * the process was started with its own `--heap-growing-percent`. Returns a
 * function that stops adjusting (the last value stays in force).
 */
export function keepHeapSlack(slackBytes = DEFAULT_HEAP_SLACK_BYTES, execArgv: readonly string[] = process.execArgv): () => void {
  if (execArgv.some((arg) => arg.startsWith('--heap-growing-percent') || arg.startsWith('--heap_growing_percent'))) {
    return () => {};
  }
  let current = -1;
  const apply = () => {
    const percent = heapGrowingPercent(v8.getHeapStatistics().used_heap_size, slackBytes);
    if (percent === current) return;
    v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
    current = percent;
  };
  apply();
  return observeGcPauses({
    recordGcPause: (kind) => {
      if (kind === 'major') apply();
    },
  });
}
