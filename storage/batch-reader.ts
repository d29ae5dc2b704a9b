/**
 * Reads from the database: a range of a log's batches, checked for holes
 * (acknowledged data LevelDB lost reads as corruption, never as a gap), and
 * the time search over a log's segments.
 */
import { decodeEntry, entryTimeMs, type BatchEntry } from './codec.js';
import { StoreError } from './errors.js';
import { dataKey, decodeDataKey } from './keys.js';
import { readAll, type Kv } from './kv.js';
import type { LogState } from './log-state.js';
import { firstSegmentAtOrAfter } from './segment.js';

export interface StoredBatch extends BatchEntry {
  shardId: number;
  lsn: number;
}

/** Runs a read against the store's current database (waiting while it is being reopened). */
export type WithKv = <T>(fn: (kv: Kv) => Promise<T>) => Promise<T>;

const READ_HIGH_WATER_MARK_BYTES = 1024 * 1024;

/** Batches from..to (already clamped to the log's readable range) of one log, at most `maxBatches` and about `maxBytes`. */
export async function readRange(kv: Kv, shardId: number, log: LogState, from: number, to: number, maxBatches: number, maxBytes: number): Promise<StoredBatch[]> {
  const it = kv.iterator({
    gte: dataKey(shardId, from),
    lte: dataKey(shardId, to),
    limit: maxBatches,
    highWaterMarkBytes: Math.min(maxBytes, READ_HIGH_WATER_MARK_BYTES),
  });
  const out: StoredBatch[] = [];
  let bytes = 0;
  // Every LSN from the trim point to the tail holds a batch (one writer assigns them in order and
  // a crash only loses a suffix), so a hole means LevelDB lost data, e.g. a damaged WAL record
  // that recovery skipped: say so instead of skipping it (test/reliability, storage faults).
  // The tail itself may lie above LevelDB's last batch when the tail marker vouches for more.
  let expected = from;
  try {
    while (out.length < maxBatches && bytes < maxBytes) {
      const rows = await nextRows(it, maxBatches - out.length, shardId);
      if (rows.length === 0) {
        if (expected <= to) checkMissing(shardId, log, expected, to);
        break;
      }
      for (const [key, value] of rows) {
        const { lsn } = decodeDataKey(key);
        if (lsn !== expected) checkMissing(shardId, log, expected, lsn - 1);
        const entry = decodeEntry(value, `${shardId}-${lsn}`);
        out.push({ shardId, lsn, ...entry });
        bytes += value.length;
        expected = lsn + 1;
      }
    }
  } finally {
    await it.close();
  }
  return out;
}

async function nextRows(it: ReturnType<Kv['iterator']>, size: number, shardId: number): Promise<Array<[Buffer, Buffer]>> {
  try {
    return await it.nextv(size);
  } catch (err) {
    const corrupt = (err as { code?: string }).code === 'LEVEL_CORRUPTION';
    throw new StoreError(corrupt ? 'STORE_CORRUPTION' : 'STORE_IO', `cannot read shard ${shardId}: ${(err as Error).message}`, { cause: err });
  }
}

/** Batches first..last are absent: fine if a trim removed them meanwhile, data loss otherwise. */
function checkMissing(shardId: number, log: LogState, first: number, last: number): void {
  if (last <= log.trimPoint) return;
  throw new StoreError('STORE_CORRUPTION', `batches ${first}..${last} of shard ${shardId} are missing from the data directory`);
}

/** First LSN whose store time is >= timeMs; tail + 1 if there is none yet. */
export async function findLsnByTime(shardId: number, log: LogState, timeMs: number, withKv: WithKv): Promise<number> {
  const segIndex = firstSegmentAtOrAfter(log.segments, timeMs);
  if (segIndex < 0) return log.tail + 1;
  const seg = log.segments[segIndex]!;
  let lo = Math.max(seg.firstLsn, log.trimPoint + 1);
  let hi = Math.min(seg.lastLsn, log.tail);
  let answer: number | undefined;
  while (lo <= hi) {
    const mid = lo + Math.floor((hi - lo) / 2);
    const top = hi;
    const [row] = await withKv((kv) => readAll(kv, { gte: dataKey(shardId, mid), lte: dataKey(shardId, top), limit: 1 }));
    if (!row) {
      hi = mid - 1;
      continue;
    }
    const { lsn } = decodeDataKey(row[0]);
    if (entryTimeMs(row[1]) >= timeMs) {
      answer = lsn;
      hi = mid - 1;
    } else {
      lo = lsn + 1;
    }
  }
  return answer ?? Math.min(seg.lastLsn + 1, log.tail + 1);
}
