/**
 * The metadata snapshot a clean shutdown leaves (meta-snapshot.ts) is read at the next start
 * instead of LevelDB's metadata records. It must never answer differently from LevelDB: what a
 * start reads from it equals what a start without it reads, and a snapshot that is stale,
 * damaged or not named by the clean-shutdown record is ignored.
 */
import { copyFileSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { FIRST_LSN, LogStore } from '../../../storage/index.js';
import { CLEAN_SHUTDOWN_FILE } from '../../../storage/clean-shutdown.js';
import type { Kv } from '../../../storage/kv.js';
import { META_SNAPSHOT_FILE } from '../../../storage/meta-snapshot.js';
import { captureLog, entry, tempDirsPerTest } from './helpers.js';

const newDir = tempDirsPerTest();

/** Opens a store that counts the iterators it opens over metadata keys ('M'). */
async function open(location: string) {
  const { logger, lines } = captureLog();
  const reads = { meta: 0 };
  const wrapKv = (kv: Kv): Kv => ({
    batch: (ops, options) => kv.batch(ops, options),
    get: (key) => kv.get(key),
    iterator: (options) => {
      if ((options.gte ?? options.gt)?.[0] === 0x4d) reads.meta++;
      return kv.iterator(options);
    },
    clear: (range) => kv.clear(range),
    close: () => kv.close(),
  });
  const store = await LogStore.open({ location, sync: false, segment: { maxBytes: 64, maxAgeMs: 3_600_000 }, maxQueuedBytes: 1 << 22, logger, wrapKv });
  return { store, lines, reads };
}

// not 'log/': the store keeps it packed (LOG_META_PACKING), and only its own start-up scans it
const PREFIXES = ['seg/', 'stream/', 'ckpt/', 'ckpt/a/', 'ckpt/b/', 'sub/', 'none/'];
const PATHS = ['ids/last', 'stream/2', 'stream/9', 'ckpt/a/1', 'nothing/here', 'format', 'cluster'];

/** Everything start-up may ask the metadata, as the store answers it. */
async function everything(store: LogStore) {
  const lists = await Promise.all(PREFIXES.map((p) => store.meta.list(p)));
  const values = await Promise.all(PREFIXES.map((p) => store.meta.values(p)));
  const gets = await Promise.all(PATHS.map((p) => store.meta.get(p)));
  // values() is list() without the paths, from either source
  expect(values).toEqual(lists.map((rows) => rows.map((row) => row.value)));
  return { lists, values, gets, tails: [1, 2, 3, 4].map((id) => (store.hasLog(id) ? [store.tail(id), store.head(id), store.segments(id)] : 'gone')) };
}

/** A store with logs, segments and metadata of several groups, some of it deleted again. */
async function filled(location: string) {
  const opened = await open(location);
  const { store } = opened;
  await store.createLogs([1, 2, 3, 4], [{ type: 'put', path: 'ids/last', value: 4 }]);
  for (const id of [1, 2, 3]) for (let i = 0; i < 3; i++) await store.append(id, entry(`${id}-${i}-${'x'.repeat(40)}`));
  // a trim point the next start must get from the log records
  await store.trim(2, FIRST_LSN + 1);
  await store.meta.write([
    ...[1, 2, 3, 9].map((id) => ({ type: 'put' as const, path: `stream/${id}`, value: { id, name: `s${id}`, shards: [{ shardId: id, note: 'ünïcödé "quoted"' }] } })),
    { type: 'put', path: 'ckpt/a/1', value: 7 },
    { type: 'put', path: 'ckpt/b/2', value: 8 },
    { type: 'put', path: 'sub/a', value: { subscriptionId: 'a' } },
    { type: 'put', path: 'cluster', value: 123 },
  ]);
  await store.meta.del('stream/1');
  await store.deleteLogs([4], [{ type: 'del', path: 'stream/3' }]);
  return opened;
}

/** What the store answers when it reads LevelDB (no snapshot: a start after a crash). */
async function fromLevelDb(location: string) {
  rmSync(join(location, META_SNAPSHOT_FILE), { force: true });
  const { store, reads } = await open(location);
  const seen = await everything(store);
  expect(reads.meta).toBeGreaterThan(0);
  await store.close();
  return seen;
}

describe('the metadata snapshot of a clean shutdown', () => {
  it('answers start-up exactly as LevelDB does, without a read of the metadata records', async () => {
    const location = newDir();
    let { store, reads, lines } = await filled(location);
    await store.close();
    expect(existsSync(join(location, META_SNAPSHOT_FILE))).toBe(true);
    // a start that reads LevelDB, and closes cleanly again: the next start has a snapshot of the same
    const before = await fromLevelDb(location);
    expect(JSON.parse(readFileSync(join(location, CLEAN_SHUTDOWN_FILE), 'utf8'))).toHaveProperty('metaSnapshotCrc32');

    ({ store, reads, lines } = await open(location));
    expect(existsSync(join(location, META_SNAPSHOT_FILE)), 'taken at open').toBe(false);
    expect(await everything(store)).toEqual(before);
    expect(reads.meta, 'every list came from the snapshot').toBe(0);
    expect(lines).toEqual([]);
    // a write ends it: LevelDB answers from then on, with the write
    await store.meta.put('stream/5', { id: 5 });
    expect((await store.meta.list('stream/')).map((r) => r.path)).toEqual(['stream/2', 'stream/5', 'stream/9']);
    expect(reads.meta).toBe(1);
    await store.close();

    const again = await fromLevelDb(location);
    expect(again.lists[PREFIXES.indexOf('stream/')]!.map((r) => r.path)).toEqual(['stream/2', 'stream/5', 'stream/9']);
  });

  it('is not used after start-up is over', async () => {
    const location = newDir();
    let { store, reads } = await filled(location);
    await store.close();
    ({ store, reads } = await open(location));
    store.startupDone();
    await store.meta.list('stream/');
    expect(reads.meta).toBe(1);
    await store.close();
  });

  it('hands out fresh objects: a caller changing what it got does not change what the next one gets', async () => {
    const location = newDir();
    let { store } = await filled(location);
    await store.close();
    ({ store } = await open(location));
    const [first] = await store.meta.list<{ name: string }>('stream/');
    first!.value.name = 'changed';
    expect((await store.meta.list<{ name: string }>('stream/'))[0]!.value.name).toBe('s2');
    await store.close();
  });

  it('a stale snapshot (from an earlier clean shutdown) is ignored', async () => {
    const location = newDir();
    let { store } = await filled(location);
    await store.close();
    copyFileSync(join(location, META_SNAPSHOT_FILE), join(location, 'old-snapshot'));
    ({ store } = await open(location));
    await store.meta.write([{ type: 'del', path: 'stream/2' }, { type: 'put', path: 'ckpt/a/1', value: 70 }]);
    await store.append(1, entry('more'));
    await store.close();
    const expected = await fromLevelDb(location);
    copyFileSync(join(location, 'old-snapshot'), join(location, META_SNAPSHOT_FILE));

    let reads;
    ({ store, reads } = await open(location));
    expect(await everything(store)).toEqual(expected);
    expect(reads.meta).toBeGreaterThan(0);
    await store.close();
  });

  it('a damaged snapshot is ignored, and so is one no clean-shutdown record names (a crash while shutting down)', async () => {
    const location = newDir();
    let { store } = await filled(location);
    await store.close();
    const truth = await fromLevelDb(location);
    // fromLevelDb closed cleanly: a fresh snapshot and record; damage one byte of the snapshot
    const file = readFileSync(join(location, META_SNAPSHOT_FILE));
    file[file.length - 5] ^= 0x01;
    writeFileSync(join(location, META_SNAPSHOT_FILE), file);
    let reads;
    ({ store, reads } = await open(location));
    expect(await everything(store)).toEqual(truth);
    expect(reads.meta).toBeGreaterThan(0);
    await store.close();

    rmSync(join(location, CLEAN_SHUTDOWN_FILE));
    ({ store, reads } = await open(location));
    expect(await everything(store)).toEqual(truth);
    expect(reads.meta).toBeGreaterThan(0);
    await store.close();
  });

  describe('a packed group', () => {
    type Stored = { id: number; name: string };
    /** packs all but stream 9, which stays as it is stored */
    const PAIRS = { format: 'pairs-1', pack: (v: Stored) => (v.id === 9 ? v : [v.id, v.name]) };

    async function scanned(store: LogStore, prefix = 'stream/') {
      const got: unknown[] = [];
      await store.meta.scan<Stored, [number, string]>(prefix, () => {
        got.length = 0;
        return (value) => got.push(value);
      });
      return got;
    }

    it('is scanned packed by the owner of the packing, and every other read of it goes to LevelDB', async () => {
      const location = newDir();
      let { store, reads } = await filled(location);
      store.meta.setPacking('stream/', PAIRS);
      await store.close();
      const truth = await fromLevelDb(location);
      const plain = truth.values[PREFIXES.indexOf('stream/')];

      // fromLevelDb closed without the packing: the snapshot has the group plain, and scan says so
      ({ store, reads } = await open(location));
      store.meta.setPacking('stream/', PAIRS);
      expect(await scanned(store)).toEqual(plain);
      expect(reads.meta).toBe(0);
      await store.close();

      ({ store, reads } = await open(location));
      store.meta.setPacking('stream/', PAIRS);
      expect(await scanned(store)).toEqual([[2, 's2'], plain![1]]);
      expect(reads.meta, 'scanned from the snapshot').toBe(0);
      expect(await everything(store)).toEqual(truth);
      expect(reads.meta, 'lists of the packed group read LevelDB').toBeGreaterThan(0);
      await store.close();

      // a reader of another format, or none, gets the plain values
      for (const packing of [{ ...PAIRS, format: 'pairs-2' }, undefined]) {
        ({ store, reads } = await open(location));
        if (packing) store.meta.setPacking('stream/', packing);
        expect(await scanned(store)).toEqual(plain);
        expect(reads.meta).toBe(1);
        store.meta.setPacking('stream/', PAIRS);
        await store.close();
      }
    });

    it('starts the scan over from LevelDB when the snapshot fails part way', async () => {
      const location = newDir();
      let { store } = await filled(location);
      store.meta.setPacking('stream/', PAIRS);
      await store.close();
      let reads;
      ({ store, reads } = await open(location));
      let begun = 0;
      const got: unknown[] = [];
      await store.meta.scan<Stored, [number, string]>('stream/', () => {
        begun++;
        const mine: unknown[] = [];
        got.push(mine);
        return (value) => {
          if (begun === 1) throw new Error('the snapshot fails here');
          mine.push(value);
        };
      });
      expect(begun).toBe(2);
      expect(reads.meta).toBe(1);
      expect(got[1]).toEqual([
        { id: 2, name: 's2', shards: [{ shardId: 2, note: 'ünïcödé "quoted"' }] },
        { id: 9, name: 's9', shards: [{ shardId: 9, note: 'ünïcödé "quoted"' }] },
      ]);
      await store.close();
    });

    it('refuses a packing for anything but one whole group', async () => {
      const { store } = await open(newDir());
      expect(() => store.meta.setPacking('stream', PAIRS)).toThrow(/not a metadata group/);
      expect(() => store.meta.setPacking('ckpt/a/', PAIRS)).toThrow(/not a metadata group/);
      await store.close();
    });
  });
});
