/**
 * Time-window assignment (upstream's SQL docs). Time is the record's ingestion
 * time in ms. Windows are half-open [start, start + size).
 *
 * - TUMBLE(size): the one window starting at floor(ts / size) · size.
 * - HOP(size, advance): every window whose start is a multiple of `advance`
 *   with start ≤ ts < start + size, in increasing start order (upstream also
 *   skips windows that would start before 0).
 *
 * A window is closed once the query's clock (the largest timestamp seen)
 * reaches end + grace: rows for it are dropped as late, and its state can be
 * released. Upstream fixes grace at 24 h and never releases window state; we
 * keep 24 h as the default (RuntimeOptions.windowGraceMs) and release closed
 * windows, which is what bounds windowed state by time.
 *
 * Must not import anything outside sql/.
 */
import type { WindowSpec } from '../ast.js';

export const DEFAULT_WINDOW_GRACE_MS = 24 * 3_600_000;

export interface FixedWindow {
  kind: 'TUMBLE' | 'HOP';
  sizeMs: number;
  advanceMs: number;
}

export function fixedWindow(w: WindowSpec): FixedWindow | undefined {
  if (w.k === 'TUMBLE') return { kind: 'TUMBLE', sizeMs: w.size.ms, advanceMs: w.size.ms };
  if (w.k === 'HOP') return { kind: 'HOP', sizeMs: w.size.ms, advanceMs: w.advance.ms };
  return undefined;
}

/** start times of the windows `ts` falls in, ascending */
export function windowStarts(w: FixedWindow, ts: number): number[] {
  if (w.kind === 'TUMBLE') return [Math.floor(ts / w.sizeMs) * w.sizeMs];
  const first = Math.floor(Math.max(0, ts - w.sizeMs + w.advanceMs) / w.advanceMs) * w.advanceMs;
  const starts: number[] = [];
  for (let s = first; s <= ts; s += w.advanceMs) if (ts < s + w.sizeMs) starts.push(s);
  return starts;
}
