/** The log store's contract, run against both backends (LevelDB on disk and in memory). */
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { FIRST_LSN, LogStore, LSN_BASE, StoreError } from '../../../storage/index.js';
import { dataKey, shardEndKey } from '../../../storage/keys.js';
import { openKv, readAll } from '../../../storage/kv.js';
import { tempDir } from '../../helpers/server.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const backends = [
  ['leveldb', () => {
    const d = tempDir();
    dirs.push(d);
    return d;
  }],
  ['memory', () => undefined],
] as const;

const entry = (text: string, batchSize = 1) => ({ compression: 0, batchSize, payload: Buffer.from(text) });

describe.each(backends)('LogStore on %s', (_name, location) => {
  const open = (loc: string | undefined, segment = { maxBytes: 1 << 20, maxAgeMs: 3_600_000 }) =>
    LogStore.open({ location: loc, sync: false, segment, maxQueuedBytes: 1 << 20 });

  it('assigns consecutive LSNs from 2^32+1 and reads them back in order', async () => {
    const store = await open(location());
    await store.createLogs([7], []);
    const results = await Promise.all(['a', 'b', 'c'].map((t) => store.append(7, entry(t))));
    expect(results.map((r) => r.lsn)).toEqual([FIRST_LSN, FIRST_LSN + 1, FIRST_LSN + 2]);
    const read = await store.read(7, 0, Infinity, 100, 1 << 20);
    expect(read.map((b) => b.payload.toString())).toEqual(['a', 'b', 'c']);
    expect(store.tail(7)).toBe(FIRST_LSN + 2);
    await store.close();
  });

  it('bounds reads by batch count and bytes, but always returns at least one batch', async () => {
    const store = await open(location());
    await store.createLogs([1], []);
    for (let i = 0; i < 10; i++) await store.append(1, entry('x'.repeat(100)));
    expect(await store.read(1, 0, Infinity, 3, 1 << 20)).toHaveLength(3);
    expect((await store.read(1, 0, Infinity, 100, 1)).length).toBeGreaterThanOrEqual(1);
    await store.close();
  });

  it('rolls segments by size and finds the first batch at or after a time', async () => {
    const store = await open(location(), { maxBytes: 64, maxAgeMs: 3_600_000 });
    await store.createLogs([2], []);
    const times: number[] = [];
    for (let i = 0; i < 8; i++) {
      times.push((await store.append(2, entry(`payload-${i}-`.padEnd(40, '.')))).timeMs);
      await new Promise((r) => setTimeout(r, 3));
    }
    expect(store.segments(2).length).toBeGreaterThan(1);
    expect(await store.findLsnByTime(2, times[5]!)).toBe(FIRST_LSN + 5);
    expect(await store.findLsnByTime(2, 0)).toBe(FIRST_LSN);
    expect(await store.findLsnByTime(2, times[7]! + 1000)).toBe(FIRST_LSN + 8);
    await store.close();
  });

  it('trims a prefix, expires whole old segments, and keeps the tail', async () => {
    const store = await open(location(), { maxBytes: 64, maxAgeMs: 3_600_000 });
    await store.createLogs([3], []);
    for (let i = 0; i < 6; i++) await store.append(3, entry(`e${i}`.padEnd(40, '.')));
    await store.trim(3, FIRST_LSN + 1);
    expect((await store.read(3, 0, Infinity, 100, 1 << 20)).map((b) => b.lsn)[0]).toBe(FIRST_LSN + 2);
    await store.expire(3, Date.now() + 1000);
    expect(await store.read(3, 0, Infinity, 100, 1 << 20)).toEqual([]);
    expect(store.tail(3)).toBe(FIRST_LSN + 5);
    expect((await store.append(3, entry('next'))).lsn).toBe(FIRST_LSN + 6);
    await store.close();
  });

  it('wakes a waiter when data arrives and times out otherwise', async () => {
    const store = await open(location());
    await store.createLogs([4], []);
    expect(await store.waitForAppend(4, LSN_BASE, 20)).toBe(false);
    const waiting = store.waitForAppend(4, LSN_BASE, 5000);
    await store.append(4, entry('x'));
    expect(await waiting).toBe(true);
    await store.close();
  });

  it('keeps logs nothing was written to apart: writing, waiting on or trimming one changes no other', async () => {
    const loc = location();
    let store = await open(loc);
    await store.createLogs([11, 12, 13], []);
    if (loc !== undefined) {
      // recovered never-written logs, not only created ones
      await store.close();
      store = await open(loc);
    }
    const waited = store.waitForAppend(13, LSN_BASE, 60_000);
    await store.append(12, entry('first'));
    expect(store.tail(12)).toBe(FIRST_LSN);
    expect([store.tail(11), store.tail(13)]).toEqual([LSN_BASE, LSN_BASE]);
    expect([store.segments(11), store.segments(13)]).toEqual([[], []]);
    await store.append(13, entry('woke'));
    expect(await waited).toBe(true);
    expect(await store.trim(11, FIRST_LSN + 5)).toBe(LSN_BASE);
    expect(store.head(11)).toBe(FIRST_LSN);
    await store.append(11, entry('later'));
    expect((await store.read(11, 0, Infinity, 10, 1 << 20)).map((b) => b.payload.toString())).toEqual(['later']);
    expect([store.tail(11), store.tail(12), store.tail(13)]).toEqual([FIRST_LSN, FIRST_LSN, FIRST_LSN]);
    expect([11, 12, 13].map((id) => store.segments(id).length)).toEqual([1, 1, 1]);
    await store.close();
  });

  it('refuses appends to unknown or deleted logs and after close', async () => {
    const store = await open(location());
    await store.createLogs([5], []);
    await expect(store.append(6, entry('x'))).rejects.toMatchObject({ code: 'STORE_SHARD_NOT_FOUND' });
    await store.deleteLogs([5], []);
    await expect(store.append(5, entry('x'))).rejects.toBeInstanceOf(StoreError);
    await store.close();
    await expect(store.append(5, entry('x'))).rejects.toMatchObject({ code: 'STORE_CLOSED' });
  });

  it('finishes queued appends before close resolves', async () => {
    const store = await open(location());
    await store.createLogs([8], []);
    const pending = Array.from({ length: 50 }, (_, i) => store.append(8, entry(`p${i}`)));
    await store.close();
    const results = await Promise.allSettled(pending);
    expect(results.every((r) => r.status === 'fulfilled')).toBe(true);
  });
});

describe('LogStore on disk across reopen', () => {
  it('recovers tails, trims and segments, and never reuses an LSN', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const opts = { location: dir, sync: false, segment: { maxBytes: 64, maxAgeMs: 3_600_000 }, maxQueuedBytes: 1 << 20 };
    let store = await LogStore.open(opts);
    await store.createLogs([9], []);
    for (let i = 0; i < 5; i++) await store.append(9, entry(`r${i}`.padEnd(40, '.')));
    await store.trim(9, FIRST_LSN + 4);
    await store.close();
    store = await LogStore.open(opts);
    expect(store.tail(9)).toBe(FIRST_LSN + 4);
    expect(await store.read(9, 0, Infinity, 100, 1 << 20)).toEqual([]);
    expect((await store.append(9, entry('again'))).lsn).toBe(FIRST_LSN + 5);
    await store.close();
  });

  it('rebuilds the open segment from the last batch after a restart, and seals it', async () => {
    const dir = tempDir();
    dirs.push(dir);
    // one big segment: its stored metadata is written when it opens, never per append
    const opts = { location: dir, sync: false, segment: { maxBytes: 1 << 20, maxAgeMs: 3_600_000 }, maxQueuedBytes: 1 << 20 };
    let store = await LogStore.open(opts);
    await store.createLogs([4], []);
    const times: number[] = [];
    for (let i = 0; i < 6; i++) {
      times.push((await store.append(4, entry(`b${i}`))).timeMs);
      await new Promise((r) => setTimeout(r, 3));
    }
    await store.close();
    store = await LogStore.open(opts);
    expect(store.segments(4)).toEqual([
      expect.objectContaining({ firstLsn: FIRST_LSN, lastLsn: FIRST_LSN + 5, lastTimeMs: times[5], batches: 6 }),
    ]);
    // time search reaches batches that were appended after the segment's metadata was written
    expect(await store.findLsnByTime(4, times[4]!)).toBe(FIRST_LSN + 4);
    expect((await store.append(4, entry('after'))).lsn).toBe(FIRST_LSN + 6);
    expect(store.segments(4).map((s) => [s.firstLsn, s.lastLsn])).toEqual([
      [FIRST_LSN, FIRST_LSN + 5],
      [FIRST_LSN + 6, FIRST_LSN + 6],
    ]);
    // retention by age still sees the old segment's real end
    await store.expire(4, times[5]! + 1);
    expect(store.head(4)).toBe(FIRST_LSN + 6);
    await store.close();
    store = await LogStore.open(opts);
    expect(store.segments(4).map((s) => [s.firstLsn, s.lastLsn])).toEqual([[FIRST_LSN + 6, FIRST_LSN + 6]]);
    await store.close();
  });

  it('refuses a data directory held by another open store (STORE_LOCKED)', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const opts = { location: dir, sync: false, segment: { maxBytes: 1 << 20, maxAgeMs: 1000 }, maxQueuedBytes: 1 << 20 };
    const store = await LogStore.open(opts);
    await expect(LogStore.open(opts)).rejects.toMatchObject({ code: 'STORE_LOCKED' });
    await store.close();
  });
});

describe('LogStore recovery with many logs', () => {
  it('recovers every log from one scan: tails, empty logs, an interrupted trim, and data of a log whose metadata is gone', async () => {
    const dir = tempDir();
    dirs.push(dir);
    const open = () => LogStore.open({ location: dir, sync: false, segment: { maxBytes: 1 << 20, maxAgeMs: 3_600_000 }, maxQueuedBytes: 1 << 20 });
    let store = await open();
    const ids = Array.from({ length: 60 }, (_, i) => i * 7 + 1);
    await store.createLogs(ids, []);
    // log i holds i % 5 batches: some are empty
    for (const [i, id] of ids.entries()) for (let b = 0; b < i % 5; b++) await store.append(id, entry(`${id}-${b}`));
    const tails = new Map(ids.map((id) => [id, store.tail(id)]));
    // a crash after a trim's metadata was written but before its data was cleared
    const trimmed = ids[4]!;
    await store.meta.put(`log/${trimmed}`, { shardId: trimmed, trimPoint: FIRST_LSN + 1 });
    // a crash after a delete's metadata was written but before its data was cleared
    const orphan = ids[9]!;
    await store.meta.write([{ type: 'del', path: `log/${orphan}` }]);
    await store.close();

    store = await open();
    for (const id of ids) {
      if (id === orphan) {
        expect(store.hasLog(id)).toBe(false);
        continue;
      }
      expect(store.tail(id), `tail of ${id}`).toBe(tails.get(id));
    }
    expect(store.head(trimmed)).toBe(FIRST_LSN + 2);
    expect((await store.read(trimmed, 0, Infinity, 100, 1 << 20)).map((b) => b.payload.toString())).toEqual([`${trimmed}-2`, `${trimmed}-3`]);
    expect((await store.append(ids[3]!, entry('next'))).lsn).toBe(tails.get(ids[3]!)! + 1);
    await store.close();
    // in the database itself: no batch of the orphan left, the others' batches all there
    const kv = await openKv(dir);
    const keysOf = async (id: number) => (await readAll(kv, { gte: dataKey(id, 0), lt: shardEndKey(id), values: false })).length;
    expect(await keysOf(orphan)).toBe(0);
    expect(await keysOf(trimmed)).toBe(2);
    expect(await keysOf(ids[8]!)).toBe(3);
    await kv.close();
  });
});
