/**
 * How far a reader of a stream is behind, per shard: batches stored after
 * its committed offset (a trimmed range counts as read). Shared by the
 * Prometheus gauges and the console.
 */
import type { LogStore } from '../../../storage/index.js';

export interface ShardLag {
  shardId: number;
  committedLsn: number;
  tailLsn: number;
  behind: number;
}

export function shardLags(store: LogStore, committed: ReadonlyArray<{ shardId: number; lsn: number }>): ShardLag[] {
  const out: ShardLag[] = [];
  for (const { shardId, lsn } of committed) {
    if (!store.hasLog(shardId)) continue;
    const tail = store.tail(shardId);
    out.push({ shardId, committedLsn: lsn, tailLsn: tail, behind: Math.max(0, tail - Math.max(lsn, store.head(shardId) - 1)) });
  }
  return out;
}

export function totalLag(store: LogStore, committed: ReadonlyArray<{ shardId: number; lsn: number }>): number {
  return shardLags(store, committed).reduce((sum, s) => sum + s.behind, 0);
}
