/**
 * Stream fields are checked in the core, whatever the transport, and the
 * retention sweep never acts on a cut-off that is not a number: a stream
 * whose retention was NaN once lost every batch, the open segment included.
 */
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LogStore } from '../../storage/index.js';
import { IdAllocator } from '../../src/core/ids.js';
import { StatsRegistry } from '../../src/core/stats.js';
import { StreamCatalog } from '../../src/core/streams.js';
import { HStreamError } from '../../src/errors.js';
import { batch, rawRecords } from '../helpers/records.js';

const logged: Array<Record<string, unknown>> = [];
const log = pino({ level: 'error' }, { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) });
let store: LogStore;
let catalog: StreamCatalog;

beforeEach(async () => {
  logged.length = 0;
  store = await LogStore.open({ location: undefined, sync: false, segment: { maxBytes: 1 << 20, maxAgeMs: 3_600_000 }, maxQueuedBytes: 1 << 24 });
  catalog = new StreamCatalog(store, await IdAllocator.load(store.meta), new StatsRegistry(), log);
});

afterEach(async () => {
  await store.close();
});

async function appendTo(shardId: number, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    const b = batch(rawRecords(1, `r${i}-`));
    await catalog.append(shardId, { compression: 0, batchSize: b.batchSize, payload: b.payload });
  }
}

const stored = async (shardId: number) => (await store.read(shardId, 0, Number.MAX_SAFE_INTEGER, 1000, 1 << 24)).length;

describe('stream fields and retention', () => {
  it.each([
    ['backlogDuration NaN', { backlogDuration: Number.NaN }],
    ['backlogDuration -1', { backlogDuration: -1 }],
    ['backlogDuration 0.5', { backlogDuration: 0.5 }],
    ['backlogDuration Infinity', { backlogDuration: Number.POSITIVE_INFINITY }],
    ['shardCount 1.5', { shardCount: 1.5 }],
    ['shardCount NaN', { shardCount: Number.NaN }],
    ['replicationFactor NaN', { replicationFactor: Number.NaN }],
  ])('create refuses %s with INVALID_ARGUMENT and stores nothing', async (_what, fields) => {
    const err = await catalog.create({ name: 's', replicationFactor: 1, backlogDuration: 0, shardCount: 1, ...fields }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HStreamError);
    expect((err as HStreamError).kind).toBe('invalid_argument');
    expect(catalog.list()).toEqual([]);
    expect(await store.meta.list('stream/')).toEqual([]);
  });

  it('a stream whose stored retention is not a number keeps all its data through the sweep, and says so once', async () => {
    const stream = await catalog.create({ name: 's', replicationFactor: 1, backlogDuration: 60, shardCount: 1 });
    const shardId = stream.shards[0]!.shardId;
    await appendTo(shardId, 3);
    // what an older version stored for `"backlog_duration": "x"` (create returns a description: change the catalogue's own)
    const own = catalog.get('s');
    own.backlogDuration = Number.NaN;
    const farFuture = Date.now() + 10 * 365 * 86_400_000;
    await catalog.sweepRetention(farFuture);
    await catalog.sweepRetention(farFuture);
    expect(await stored(shardId)).toBe(3);
    expect(logged.filter((l) => String(l.msg).startsWith('retention skipped'))).toHaveLength(1);
    // a valid retention still expires
    own.backlogDuration = 60;
    await catalog.sweepRetention(farFuture);
    expect(await stored(shardId)).toBe(0);
  });

  it('the store refuses a cut-off time or a trim point that is not a number, and keeps the data', async () => {
    const stream = await catalog.create({ name: 's', replicationFactor: 1, backlogDuration: 0, shardCount: 1 });
    const shardId = stream.shards[0]!.shardId;
    await appendTo(shardId, 2);
    await expect(store.expire(shardId, Number.NaN)).rejects.toThrow(/cut-off time is NaN/);
    await expect(store.trim(shardId, Number.NaN)).rejects.toThrow(/trim point is NaN/);
    expect(await stored(shardId)).toBe(2);
  });
});
