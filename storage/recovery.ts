/**
 * Recovery: the logs' in-memory state rebuilt from what the database holds,
 * at open and after a reopen, finishing trims and deletes a crash cut short.
 */
import { entryTimeMs } from './codec.js';
import { dataKey, decodeDataKey, shardEndKey } from './keys.js';
import type { Kv } from './kv.js';
import { LOG_META_PACKING, LSN_BASE, NEVER_WRITTEN, type LogMeta, type LogState } from './log-state.js';
import type { StoreLogger } from './logger.js';
import type { MetaSnapshot } from './meta-snapshot.js';
import { listMeta, scanMetaValues } from './meta-store.js';
import { SEGMENTS_PREFIX, type Segment } from './segment.js';

/** First key after every data key. */
const DATA_END = Buffer.of(0x65);

/**
 * What a clean shutdown left (see clean-shutdown.ts): the tail marker holds every shard's tail,
 * `times` their batches' store times; `check` are the shards whose batches are in LevelDB's
 * write-ahead log, the only ones whose newest batches LevelDB may have lost since.
 */
export interface KnownTails {
  times: ReadonlyMap<number, number>;
  check: ReadonlySet<number>;
}

/**
 * Rebuilds each log's state from `kv`: its tail is the last key in its range, or what `vouched`
 * (acknowledged tails: the tail marker at open, the in-memory tails at a reopen) says if that
 * is more. Batches between are acknowledged data that LevelDB lost (a damaged write-ahead log
 * record at its end leaves no hole to see): they read as missing, and their LSNs are not reused.
 */
export async function loadLogs(
  kv: Kv,
  vouched: ReadonlyMap<number, number>,
  logger: StoreLogger,
  known?: KnownTails,
  /** the metadata a clean shutdown left, read instead of LevelDB's (see meta-snapshot.ts) */
  snapshot?: MetaSnapshot,
): Promise<{ logs: Map<number, LogState>; lossReported: boolean }> {
  const logs = new Map<number, LogState>();
  let lossReported = false;
  // Two ordered scans and one jump per shard with data, however many logs there are: a seek and
  // an iterator per shard made start-up grow with the number of streams (20k streams: 6.4 s).
  // After a clean shutdown, no jump at all but for the shards the write-ahead log names.
  const segmentsOf = await allSegments(kv, snapshot);
  const lastOf = known ? await knownLastBatches(kv, vouched, known) : await lastBatches(kv);
  const records = await logRecords(kv, snapshot);
  for (let i = 0; i < records.shardIds.length; i++) {
    const shardId = records.shardIds[i]!;
    const trimPoint = records.trimPoints[i]!;
    const segments = segmentsOf.get(shardId);
    const last = lastOf.get(shardId);
    const lastLsn = last ? last.lsn : LSN_BASE;
    let tail = Math.max(lastLsn, trimPoint, LSN_BASE);
    const acknowledged = vouched.get(shardId) ?? LSN_BASE;
    if (acknowledged > tail) {
      logger.error(
        { shardId, firstLost: tail + 1, lastLost: acknowledged, batches: acknowledged - tail },
        `acknowledged batches ${tail + 1}..${acknowledged} of shard ${shardId} are missing from the data directory ` +
          `(LevelDB recovered its log only up to ${tail}): reads of them fail with data loss, new appends continue at ${acknowledged + 1}`,
      );
      tail = acknowledged;
      lossReported = true;
    }
    const lastTimeMs = last ? last.timeMs : 0;
    const open = segments?.[segments.length - 1];
    if (open && last && lastLsn >= open.firstLsn) {
      // Its stored end is where it was opened (or sealed): the log's last batch is its real end.
      // LSNs are dense, so the batch count is exact; its byte size is not, so it takes no more batches.
      open.lastLsn = lastLsn;
      open.lastTimeMs = lastTimeMs;
      open.batches = lastLsn - open.firstLsn + 1;
    }
    // (a trim point above LSN_BASE would make the tail so too)
    const neverWritten = tail === LSN_BASE && segments === undefined;
    logs.set(
      shardId,
      neverWritten ? NEVER_WRITTEN : { trimPoint, tail, assigned: tail, lastTimeMs, segments: segments ?? [], openSegmentSealed: open !== undefined },
    );
    // A trim is recorded before its data is cleared; finish one a crash interrupted (a clean
    // shutdown waits for clearing to finish: only shards written since can need it then).
    const unsure = !known || known.check.has(shardId);
    if (unsure && trimPoint > LSN_BASE && last) await kv.clear({ gte: dataKey(shardId, 0), lte: dataKey(shardId, trimPoint) });
  }
  // Data of logs whose metadata is gone: a delete interrupted by a crash.
  for (const shardId of lastOf.keys()) {
    if (!logs.has(shardId)) await kv.clear({ gte: dataKey(shardId, 0), lt: shardEndKey(shardId) });
  }
  return { logs, lossReported };
}

/**
 * Every log's stored record (LogMeta), as two columns: collected as objects, 100k of them outlived
 * the read and were promoted, to stay as garbage until a full collection.
 */
async function logRecords(kv: Kv, snapshot: MetaSnapshot | undefined): Promise<{ shardIds: number[]; trimPoints: number[] }> {
  let records = { shardIds: [] as number[], trimPoints: [] as number[] };
  await scanMetaValues<LogMeta | [number, number]>(
    kv,
    'log/',
    () => {
      const shardIds: number[] = [];
      const trimPoints: number[] = [];
      records = { shardIds, trimPoints };
      return (record) => {
        const [shardId, trimPoint] = Array.isArray(record) ? record : [record.shardId, record.trimPoint];
        shardIds.push(shardId);
        trimPoints.push(trimPoint);
      };
    },
    snapshot,
    LOG_META_PACKING.format,
  );
  return records;
}

interface LastBatch {
  lsn: number;
  timeMs: number;
}

/**
 * Every shard's last batch as the tail marker says, read from the data only for the shards
 * `known.check` names and those whose slot records no time.
 */
async function knownLastBatches(kv: Kv, vouched: ReadonlyMap<number, number>, known: KnownTails): Promise<Map<number, LastBatch>> {
  const out = new Map<number, LastBatch>();
  const read = new Set(known.check);
  for (const [shardId, lsn] of vouched) {
    const timeMs = known.times.get(shardId);
    if (timeMs === undefined) read.add(shardId);
    else if (!read.has(shardId)) out.set(shardId, { lsn, timeMs });
  }
  if (read.size === 0) return out;
  // one iterator for all of them, highest shard first: an iterator per shard cost more than the
  // whole-store scan when the log named thousands of shards
  const it = kv.iterator({ gte: dataKey(0, 0), lt: DATA_END, reverse: true });
  try {
    for (const shardId of [...read].sort((x, y) => y - x)) {
      it.seek(shardEndKey(shardId));
      const [row] = await it.nextv(1);
      if (!row) break;
      const found = decodeDataKey(row[0]);
      if (found.shardId === shardId) out.set(shardId, { lsn: found.lsn, timeMs: entryTimeMs(row[1]) });
    }
  } finally {
    await it.close();
  }
  return out;
}

/** Every log's segments, oldest first, from one scan of the segment metadata. */
async function allSegments(kv: Kv, snapshot: MetaSnapshot | undefined): Promise<Map<number, Segment[]>> {
  const out = new Map<number, Segment[]>();
  for (const { path, value } of await listMeta<Segment>(kv, SEGMENTS_PREFIX, snapshot)) {
    const shardId = Number(path.slice(SEGMENTS_PREFIX.length, path.indexOf('/', SEGMENTS_PREFIX.length)));
    let list = out.get(shardId);
    if (!list) out.set(shardId, (list = []));
    // paths of one shard sort by their zero-padded first LSN
    list.push(value);
  }
  return out;
}

/**
 * The last stored batch of every shard that has data: one reverse iterator over
 * the data keys that, after each shard's last key, jumps below that shard's first.
 */
async function lastBatches(kv: Kv): Promise<Map<number, LastBatch>> {
  const out = new Map<number, LastBatch>();
  const it = kv.iterator({ gte: dataKey(0, 0), lt: DATA_END, reverse: true });
  try {
    for (;;) {
      const [row] = await it.nextv(1);
      if (!row) break;
      const { shardId, lsn } = decodeDataKey(row[0]);
      // only the time of the value: holding every shard's last value (100 KiB batches) held them all
      out.set(shardId, { lsn, timeMs: entryTimeMs(row[1]) });
      if (shardId === 0) break;
      // no batch has LSN 0: what comes next is the last key of a lower shard
      it.seek(dataKey(shardId, 0));
    }
  } finally {
    await it.close();
  }
  return out;
}
