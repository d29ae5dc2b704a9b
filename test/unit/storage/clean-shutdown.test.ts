/**
 * Start-up after a clean shutdown takes each shard's tail (and its batch's store time) from the
 * tail marker instead of reading every shard's newest batch, and checks against the data only the
 * shards LevelDB's write-ahead log names. These tests pin what that may never change: tails, LSNs
 * and times are what the data says; an older directory opens; a lagging marker is repaired.
 */
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { LogStore } from '../../../storage/index.js';
import { CLEAN_SHUTDOWN_FILE } from '../../../storage/clean-shutdown.js';
import type { Kv } from '../../../storage/kv.js';
import { TAIL_MARKER_FILE } from '../../../storage/tail-marker.js';
import { shardsInWriteAheadLog } from '../../../storage/wal-shards.js';
import { captureLog, entry, tempDirsPerTest } from './helpers.js';

const newDir = tempDirsPerTest();

/** Opens a store that counts the iterators it opens over data keys and the shards they jump to. */
async function open(location: string) {
  const { logger, lines } = captureLog();
  const reads = { data: 0, seeks: 0 };
  const wrapKv = (kv: Kv): Kv => ({
    batch: (ops, options) => kv.batch(ops, options),
    get: (key) => kv.get(key),
    iterator: (options) => {
      const from = options.gte ?? options.gt;
      if (!from || from[0] !== 0x64) return kv.iterator(options);
      reads.data++;
      const it = kv.iterator(options);
      return { nextv: (size) => it.nextv(size), seek: (target) => (reads.seeks++, it.seek(target)), close: () => it.close() };
    },
    clear: (range) => kv.clear(range),
    close: () => kv.close(),
  });
  const store = await LogStore.open({ location, sync: false, segment: { maxBytes: 1 << 20, maxAgeMs: 3_600_000 }, maxQueuedBytes: 1 << 22, logger, wrapKv });
  return { store, lines, reads };
}

const SHARDS = Array.from({ length: 30 }, (_, i) => 10 + i * 3);

/** Every shard's tail and the last segment's end (LSN and store time) as the store sees them. */
function snapshot(store: LogStore): Array<[number, number, number | undefined, number | undefined]> {
  return SHARDS.map((id) => {
    const seg = store.segments(id).at(-1);
    return [id, store.tail(id), seg?.lastLsn, seg?.lastTimeMs];
  });
}

async function filledStore(location: string) {
  const opened = await open(location);
  await opened.store.createLogs(SHARDS, []);
  // shard i holds i % 4 batches: some shards stay empty
  for (const [i, id] of SHARDS.entries()) for (let b = 0; b < i % 4; b++) await opened.store.append(id, entry(`${id}-${b}`));
  return opened;
}

describe('start-up after a clean shutdown', () => {
  it('reads the newest batch only of shards the write-ahead log names, and restores the same tails, segments and times', async () => {
    const location = newDir();
    let { store, reads, lines } = await filledStore(location);
    const before = snapshot(store);
    await store.close();
    expect(existsSync(join(location, CLEAN_SHUTDOWN_FILE))).toBe(true);

    // the appends are still in LevelDB's write-ahead log: their shards are checked against the data
    ({ store, reads, lines } = await open(location));
    expect(existsSync(join(location, CLEAN_SHUTDOWN_FILE)), 'the record is gone while the store is open').toBe(false);
    expect(snapshot(store)).toEqual(before);
    expect(reads.seeks).toBe(SHARDS.filter((_, i) => i % 4 > 0).length);
    await store.close();

    // nothing written since: no shard's data is read
    ({ store, reads, lines } = await open(location));
    expect(snapshot(store)).toEqual(before);
    expect(reads.data).toBe(0);
    expect(lines).toEqual([]);
    // shard 6 holds two batches
    const [id, tail, , timeMs] = before[6]!;
    const next = await store.append(id, entry('next'));
    expect(next.lsn).toBe(tail + 1);
    expect(next.timeMs).toBeGreaterThanOrEqual(timeMs!);
    expect((await store.read(id, 0, Infinity, 100, 1 << 20)).map((b) => b.payload.toString())).toEqual([`${id}-0`, `${id}-1`, 'next']);
    await store.close();
  });

  it('a directory from before (marker slots without times, no record) opens as before and needs no reads from the next start on', async () => {
    const location = newDir();
    let { store, reads } = await filledStore(location);
    const before = snapshot(store);
    await store.close();
    rmSync(join(location, CLEAN_SHUTDOWN_FILE));
    // what an older version wrote: bytes 24..31 of every slot zero
    const marker = readFileSync(join(location, TAIL_MARKER_FILE));
    for (let at = 0; at + 32 <= marker.length; at += 32) {
      if (marker.subarray(at, at + 32).every((b) => b === 0)) continue;
      marker.fill(0, at + 24, at + 32);
      marker.writeUInt32BE(crc32(marker.subarray(at + 4, at + 32)), at);
    }
    writeFileSync(join(location, TAIL_MARKER_FILE), marker);

    ({ store } = await open(location));
    expect(snapshot(store)).toEqual(before);
    await store.close();
    ({ store, reads } = await open(location));
    expect(snapshot(store)).toEqual(before);
    expect(reads.data).toBe(0);
    await store.close();
  });

  it('a marker that lags behind the data under a record that names it is repaired from the write-ahead log', async () => {
    const location = newDir();
    let { store, lines } = await filledStore(location);
    await store.close();
    ({ store } = await open(location));
    const id = SHARDS[7]!;
    copyFileSync(join(location, TAIL_MARKER_FILE), join(location, 'marker-then'));
    await store.append(id, entry('after the copy'));
    const tail = store.tail(id);
    await store.close();
    // the marker from before that append, and a record that vouches for it
    const then = readFileSync(join(location, 'marker-then'));
    writeFileSync(join(location, TAIL_MARKER_FILE), then);
    writeFileSync(join(location, CLEAN_SHUTDOWN_FILE), JSON.stringify({ version: 1, markerCrc32: crc32(then) }));

    ({ store, lines } = await open(location));
    expect(store.tail(id)).toBe(tail);
    expect((await store.append(id, entry('next'))).lsn).toBe(tail + 1);
    expect(lines.filter((l) => l.level !== 'info')).toEqual([]);
    await store.close();
  });

  it('a record that names another marker is ignored: every shard is read', async () => {
    const location = newDir();
    let { store, reads } = await filledStore(location);
    const before = snapshot(store);
    await store.close();
    writeFileSync(join(location, CLEAN_SHUTDOWN_FILE), JSON.stringify({ version: 1, markerCrc32: 12345 }));
    ({ store, reads } = await open(location));
    expect(snapshot(store)).toEqual(before);
    // one ordered scan over the data
    expect(reads.data).toBe(1);
    await store.close();
  });
});

describe("the write-ahead log's shards", () => {
  it('are the shards with batches written since the database opened, across records that span blocks', async () => {
    const location = newDir();
    const { store } = await open(location);
    const ids = [3, 500, 2 ** 40 + 7];
    await store.createLogs([...ids, 9], []);
    for (const id of ids) await store.append(id, { compression: 0, batchSize: 1, payload: Buffer.alloc(100_000, id % 251) });
    await store.close();
    expect(shardsInWriteAheadLog(location)).toEqual(new Set(ids));

    const wal = readdirSync(location).find((f) => /^\d+\.log$/.test(f))!;
    truncateSync(join(location, wal), statSync(join(location, wal)).size - 10);
    expect(shardsInWriteAheadLog(location), 'a torn record: not understood').toBeUndefined();
  });
});
