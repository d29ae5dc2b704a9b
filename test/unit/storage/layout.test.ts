/** Key layout: metadata sorts before the data, and data directories of layout 1 are upgraded at open. */
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { FIRST_LSN, LogStore, StoreError } from '../../../storage/index.js';
import { dataKey, LAYOUT1_META_PREFIX, META_PREFIX, metaKey } from '../../../storage/keys.js';
import { openKv, readAll } from '../../../storage/kv.js';
import { tempDir } from '../../helpers/server.js';
import { captureLog, entry } from './helpers.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const open = (location: string, logger = captureLog().logger) =>
  LogStore.open({ location, sync: false, segment: { maxBytes: 64, maxAgeMs: 3_600_000 }, maxQueuedBytes: 1 << 20, logger });

/** Every key of one prefix byte. */
async function keysWithPrefix(location: string, prefix: number): Promise<Buffer[]> {
  const kv = await openKv(location);
  try {
    return (await readAll(kv, { gte: Buffer.of(prefix), lt: Buffer.of(prefix + 1) })).map(([key]) => key);
  } finally {
    await kv.close();
  }
}

describe('key layout', () => {
  it('puts every metadata key before every data key', () => {
    const lastMeta = Buffer.concat([metaKey('subscription/zzzz'), Buffer.alloc(64, 0xff)]);
    expect(Buffer.compare(lastMeta, dataKey(0, 0))).toBeLessThan(0);
  });

  it('upgrades a layout-1 directory at open: logs, segments and metadata carry on, nothing is left under the old prefix', async () => {
    const location = tempDir();
    dirs.push(location);
    const first = await open(location);
    await first.createLogs([3], []);
    for (let i = 0; i < 6; i++) await first.append(3, entry(`batch-${i}-`.padEnd(40, '.')));
    await first.meta.put('stream/s', { name: 's', shards: [3] });
    const segments = first.segments(3).length;
    expect(segments).toBeGreaterThan(1);
    await first.close();

    // Rewrite the directory the way layout 1 stored it: metadata under 'm'.
    const kv = await openKv(location);
    const meta = await readAll(kv, { gte: Buffer.of(META_PREFIX), lt: Buffer.of(META_PREFIX + 1) });
    expect(meta.length).toBeGreaterThan(segments);
    await kv.batch(meta.flatMap(([key, value]) => [
      { type: 'del' as const, key },
      { type: 'put' as const, key: Buffer.concat([Buffer.of(LAYOUT1_META_PREFIX), key.subarray(1)]), value },
    ]));
    await kv.close();

    const log = captureLog();
    const store = await open(location, log.logger);
    expect(store.tail(3)).toBe(FIRST_LSN + 5);
    expect(store.segments(3)).toHaveLength(segments);
    expect(await store.meta.get('stream/s')).toEqual({ name: 's', shards: [3] });
    expect(await store.meta.get('format')).toEqual({ layout: 2 });
    expect((await store.read(3, 0, Infinity, 100, 1 << 20)).map((b) => b.payload.toString().slice(0, 7))).toEqual(
      ['batch-0', 'batch-1', 'batch-2', 'batch-3', 'batch-4', 'batch-5'],
    );
    expect((await store.append(3, entry('after'))).lsn).toBe(FIRST_LSN + 6);
    await store.close();
    expect(log.lines.some((l) => l.level === 'info' && /upgraded/.test(l.msg) && l.obj.keys === meta.length)).toBe(true);
    expect(await keysWithPrefix(location, LAYOUT1_META_PREFIX)).toEqual([]);
    const now = (await keysWithPrefix(location, META_PREFIX)).map((k) => k.toString('latin1'));
    for (const [key] of meta) expect(now).toContain(key.toString('latin1'));
  });

  it('refuses a directory written by a newer version, touching nothing', async () => {
    const location = tempDir();
    dirs.push(location);
    const first = await open(location);
    await first.createLogs([1], []);
    await first.append(1, entry('kept'));
    await first.meta.put('format', { layout: 3 });
    await first.close();

    const refused = await open(location).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).toBeInstanceOf(StoreError);
    expect(refused).toMatchObject({ code: 'STORE_INCOMPATIBLE', message: expect.stringMatching(/newer hstreamlite \(layout 3\)/) });

    // Still all there for the newer version.
    const kv = await openKv(location);
    const data = await readAll(kv, { gte: dataKey(1, 0), lt: dataKey(2, 0) });
    await kv.close();
    expect(data).toHaveLength(1);
  });
});
