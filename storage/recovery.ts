/**
 * Recovery: the logs' in-memory state rebuilt from what the database holds,
 * at open and after a reopen, finishing trims and deletes a crash cut short.
 */
import { entryTimeMs } from './codec.js';
import { dataKey, decodeDataKey, shardEndKey } from './keys.js';
import { readAll, type Kv } from './kv.js';
import { LSN_BASE, type LogMeta, type LogState } from './log-state.js';
import type { StoreLogger } from './logger.js';
import { listMeta } from './meta-store.js';
import { segmentPrefix, type Segment } from './segment.js';

/**
 * Rebuilds each log's state from `kv`: its tail is the last key in its range, or what `vouched`
 * (acknowledged tails: the tail marker at open, the in-memory tails at a reopen) says if that
 * is more. Batches between are acknowledged data that LevelDB lost (a damaged write-ahead log
 * record at its end leaves no hole to see): they read as missing, and their LSNs are not reused.
 */
export async function loadLogs(kv: Kv, vouched: ReadonlyMap<number, number>, logger: StoreLogger): Promise<Map<number, LogState>> {
  const logs = new Map<number, LogState>();
  for (const { value: meta } of await listMeta<LogMeta>(kv, 'log/')) {
    const segments = (await listMeta<Segment>(kv, segmentPrefix(meta.shardId))).map((row) => row.value);
    const [last] = await readAll(kv, {
      gte: dataKey(meta.shardId, 0),
      lt: shardEndKey(meta.shardId),
      reverse: true,
      limit: 1,
    });
    const lastLsn = last ? decodeDataKey(last[0]).lsn : LSN_BASE;
    let tail = Math.max(lastLsn, meta.trimPoint, LSN_BASE);
    const acknowledged = vouched.get(meta.shardId) ?? LSN_BASE;
    if (acknowledged > tail) {
      logger.error(
        { shardId: meta.shardId, firstLost: tail + 1, lastLost: acknowledged, batches: acknowledged - tail },
        `acknowledged batches ${tail + 1}..${acknowledged} of shard ${meta.shardId} are missing from the data directory ` +
          `(LevelDB recovered its log only up to ${tail}): reads of them fail with data loss, new appends continue at ${acknowledged + 1}`,
      );
      tail = acknowledged;
    }
    const lastTimeMs = last ? entryTimeMs(last[1]) : 0;
    const open = segments[segments.length - 1];
    if (open && last && lastLsn >= open.firstLsn) {
      // Its stored end is where it was opened (or sealed): the log's last batch is its real end.
      // LSNs are dense, so the batch count is exact; its byte size is not, so it takes no more batches.
      open.lastLsn = lastLsn;
      open.lastTimeMs = lastTimeMs;
      open.batches = lastLsn - open.firstLsn + 1;
    }
    logs.set(meta.shardId, { meta, tail, assigned: tail, lastTimeMs, segments, openSegmentSealed: open !== undefined, waiters: new Set() });
    // A trim is recorded before its data is cleared; finish one a crash interrupted.
    if (meta.trimPoint > LSN_BASE) await kv.clear({ gte: dataKey(meta.shardId, 0), lte: dataKey(meta.shardId, meta.trimPoint) });
  }
  await clearOrphanData(kv, logs);
  return logs;
}

/** Removes data of logs whose metadata is gone (a delete interrupted by a crash). */
async function clearOrphanData(kv: Kv, logs: ReadonlyMap<number, LogState>): Promise<void> {
  let from = dataKey(0, 0);
  for (;;) {
    const [first] = await readAll(kv, { gte: from, lt: Buffer.of(0x65), limit: 1 });
    if (!first) return;
    const { shardId } = decodeDataKey(first[0]);
    if (!logs.has(shardId)) await kv.clear({ gte: dataKey(shardId, 0), lt: shardEndKey(shardId) });
    from = dataKey(shardId + 1, 0);
  }
}
