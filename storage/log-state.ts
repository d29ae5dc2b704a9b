/**
 * What the store knows about one log in memory: its trim point, tail,
 * segments, and who waits for it to grow. Shared by the writer, recovery,
 * reads and waits.
 */
import type { MetaPacking } from './meta-snapshot.js';
import type { Segment } from './segment.js';

/** LSNs start above 2^32 like LogDevice's (epoch 1, esn 1): ids keep a constant decimal width for a long time. */
export const LSN_BASE = 2 ** 32;
export const FIRST_LSN = LSN_BASE + 1;

/** A log's stored record (metadata path `log/<shardId>`). */
export interface LogMeta {
  shardId: number;
  /** every LSN <= trimPoint has been removed */
  trimPoint: number;
}

/** The in-memory state of one log; the store's map of logs holds its shard id. */
export interface LogState {
  /** every LSN <= trimPoint has been removed */
  trimPoint: number;
  /** last committed (readable) LSN; LSN_BASE when nothing was ever appended */
  tail: number;
  /** last LSN handed out by the writer; > tail only while a write is in flight */
  assigned: number;
  lastTimeMs: number;
  segments: Segment[];
  /** the last segment came from a restart: the next batch opens a new one */
  openSegmentSealed: boolean;
  /**
   * Who waits for the log to grow; made by the first wait. Most logs of a
   * store with many streams are never waited on, and an empty Set with its
   * hash table is ~150 bytes per log.
   */
  waiters?: Set<() => void>;
}

export const logPath = (shardId: number) => `log/${shardId}`;

/**
 * Log records in the metadata snapshot as [shardId, trimPoint] (one with other fields stays as it
 * is stored): with 100k logs, their objects were 7.5 MB of the snapshot's JSON.
 */
export const LOG_META_PACKING: MetaPacking<LogMeta, [number, number] | LogMeta> = {
  format: 'log-1',
  pack: (m) => (typeof m.shardId === 'number' && typeof m.trimPoint === 'number' && Object.keys(m).length === 2 ? [m.shardId, m.trimPoint] : m),
};

/** A fresh state for a log nothing was written to yet, for the writer or a waiter to change. */
export function emptyLog(): LogState {
  return { trimPoint: LSN_BASE, tail: LSN_BASE, assigned: LSN_BASE, lastTimeMs: 0, segments: [], openSegmentSealed: false };
}

/**
 * The one state every never-written log shares until the writer or a waiter
 * needs its own (LogStore materializes it). Most logs of a store with many
 * streams stay empty: an object per log, with its LSNs as boxed numbers and
 * an empty segment list, was ~220 bytes each, a fifth of a 100k-stream
 * server's heap. Frozen, so a write that forgot to materialize throws
 * instead of changing every empty log at once.
 */
export const NEVER_WRITTEN: Readonly<LogState> = Object.freeze({ ...emptyLog(), segments: Object.freeze([]) as unknown as Segment[] });

/** Wakes everyone waiting on the log (it grew, was deleted, or the store closes). */
export function wake(log: LogState): void {
  if (!log.waiters) return;
  for (const waiter of [...log.waiters]) waiter();
}

/**
 * Resolves when the log has a readable batch after `afterLsn` (its tail
 * moved past both `afterLsn` and the trim point), `timeoutMs` passes,
 * `signal` aborts or a wake-up finds `current()` false (the log was deleted).
 * Returns true when data arrived.
 *
 * The trim point counts because batches at or below it cannot be read: a
 * reader positioned below a trim point of a shard trimmed up to its tail
 * used to get "data arrived" at once, read nothing, and ask again, a
 * microtask loop that starved the event loop and hung the whole server
 * (found by the reliability suite: TrimShard LATEST, then a tail-following
 * ReadShardStream from EARLIEST).
 */
export function waitForGrowth(log: LogState, afterLsn: number, timeoutMs: number, signal: AbortSignal | undefined, current: () => boolean): Promise<boolean> {
  const readable = () => log.tail > Math.max(afterLsn, log.trimPoint);
  if (readable() || signal?.aborted) return Promise.resolve(readable());
  return new Promise<boolean>((resolve) => {
    const finish = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', finish);
      log.waiters?.delete(finish);
      if (log.waiters?.size === 0) log.waiters = undefined;
      resolve(readable() && current());
    };
    // Appends, deletes, reopens and close wake waiters: an endless wait needs no timer.
    const timer = Number.isFinite(timeoutMs) ? setTimeout(finish, timeoutMs) : undefined;
    signal?.addEventListener('abort', finish, { once: true });
    (log.waiters ??= new Set()).add(finish);
  });
}
