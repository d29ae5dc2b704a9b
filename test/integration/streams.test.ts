import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectFailure, status } from '../helpers/expect.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

interface StreamMsg {
  streamName: string;
  replicationFactor: number;
  backlogDuration: number;
  shardCount: number;
  creationTime: { seconds: string } | null;
}

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.destroy());

const create = (streamName: string, extra: Partial<StreamMsg> = {}) =>
  t.client.unary<StreamMsg>('CreateStream', { streamName, replicationFactor: 1, shardCount: 1, ...extra });

describe('CreateStream / GetStream / ListStreams', () => {
  it('returns the request with creationTime set, and lists it with the same fields', async () => {
    const before = Math.floor(Date.now() / 1000);
    const created = await create('orders', { replicationFactor: 3, shardCount: 4, backlogDuration: 0 });
    expect(created).toMatchObject({ streamName: 'orders', replicationFactor: 3, shardCount: 4, backlogDuration: 0 });
    expect(Number(created.creationTime!.seconds)).toBeGreaterThanOrEqual(before);
    const { streams } = await t.client.unary<{ streams: StreamMsg[] }>('ListStreams');
    expect(streams.find((s) => s.streamName === 'orders')).toEqual(created);
    const got = await t.client.unary<{ stream: StreamMsg }>('GetStream', { name: 'orders' });
    expect(got.stream).toEqual(created);
  });

  it('refuses a second stream with the same name (ALREADY_EXISTS 201)', async () => {
    await create('dup');
    const f = await expectFailure(create('dup'), status.ALREADY_EXISTS, 201);
    expect(f.body).toEqual({ error: 201, message: 'StreamExists', extra: 'dup' });
  });

  it('lets exactly one of several concurrent creates of one name win', async () => {
    const results = await Promise.allSettled([create('race'), create('race'), create('race')]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  it.each([
    ['replication factor 0', { replicationFactor: 0 }, 203],
    ['shard count 0', { shardCount: 0 }, 205],
    ['shard count -1', { shardCount: -1 }, 205],
    ['shard count 1025', { shardCount: 1025 }, 205],
  ])('refuses %s with INVALID_ARGUMENT', async (_what, extra, code) => {
    await expectFailure(create('bad_params', extra), status.INVALID_ARGUMENT, code);
  });

  it('accepts the largest uint32 backlog and reports it back', async () => {
    await expect(create('long_backlog', { backlogDuration: 0xffff_ffff })).resolves.toMatchObject({ backlogDuration: 0xffff_ffff });
  });

  it.each([
    ['empty', ''],
    ['a digit first', '1abc'],
    ['an illegal character', 'a.b'],
    ['a space', 'a b'],
    ['256 characters', 'a'.repeat(256)],
    ['an underscore first', '_abc'],
  ])('refuses a name with %s (INVALID_ARGUMENT 204)', async (_what, name) => {
    await expectFailure(create(name), status.INVALID_ARGUMENT, 204);
  });

  it.each([['a'.repeat(255)], ['温度'], ['Ünïcode-name_1'], ['x-y_z']])('accepts the valid name %s', async (name) => {
    await expect(create(name)).resolves.toMatchObject({ streamName: name });
  });

  it('GetStream of a missing stream is NOT_FOUND 200', async () => {
    await expectFailure(t.client.unary('GetStream', { name: 'nope' }), status.NOT_FOUND, 200);
  });

  it('ListStreamsWithPrefix filters by prefix and refuses an empty prefix', async () => {
    await create('px_one');
    await create('px_two');
    await create('other_px');
    const { streams } = await t.client.unary<{ streams: StreamMsg[] }>('ListStreamsWithPrefix', { prefix: 'px_' });
    expect(streams.map((s) => s.streamName).sort()).toEqual(['px_one', 'px_two']);
    await expectFailure(t.client.unary('ListStreamsWithPrefix', { prefix: '' }), status.INVALID_ARGUMENT, 204);
  });
});

describe('ListStreams after changes', () => {
  const listed = async (rpc = 'ListStreams', request: Record<string, unknown> = {}) =>
    (await t.client.unary<{ streams: StreamMsg[] }>(rpc, request)).streams.map((s) => s.streamName);

  it('a listing shows every create and delete made since the previous listing, in creation order', async () => {
    await create('chg_a');
    const first = await listed();
    expect(first).toContain('chg_a');
    await create('chg_b');
    await t.client.unary('DeleteStream', { streamName: 'chg_a' });
    const second = await listed();
    expect(second).not.toContain('chg_a');
    expect(second.at(-1)).toBe('chg_b');
    expect(second.filter((n) => !first.includes(n))).toEqual(['chg_b']);
    await create('chg_a');
    expect((await listed()).slice(-2)).toEqual(['chg_b', 'chg_a']);
  });

  it('a force-deleted stream with a subscription is no longer listed, and a new one of its name is', async () => {
    await create('chg_sub');
    await t.client.unary('CreateSubscription', { subscriptionId: 'chg_sub_s', streamName: 'chg_sub', ackTimeoutSeconds: 60, maxUnackedRecords: 100 });
    expect(await listed('ListStreamsWithPrefix', { prefix: 'chg_sub' })).toEqual(['chg_sub']);
    await t.client.unary('DeleteStream', { streamName: 'chg_sub', force: true });
    expect(await listed('ListStreamsWithPrefix', { prefix: 'chg_sub' })).toEqual([]);
    const again = await create('chg_sub', { shardCount: 2 });
    const { streams } = await t.client.unary<{ streams: StreamMsg[] }>('ListStreamsWithPrefix', { prefix: 'chg_sub' });
    expect(streams).toEqual([again]);
  });

  it('a prefix listing of streams created between others keeps creation order and every field', async () => {
    const made: StreamMsg[] = [];
    for (const [i, name] of ['mix_1', 'zz_mix_2', 'mix_3', 'mix_4', 'zz_mix_5', 'mix_6'].entries()) {
      made.push(await create(name, { shardCount: 1 + i, backlogDuration: 60 * i }));
    }
    const { streams } = await t.client.unary<{ streams: StreamMsg[] }>('ListStreamsWithPrefix', { prefix: 'mix_' });
    expect(streams).toEqual(made.filter((s) => s.streamName.startsWith('mix_')));
    expect(await listed('ListStreamsWithPrefix', { prefix: 'no_such_prefix' })).toEqual([]);
    const all = await t.client.unary<{ streams: StreamMsg[] }>('ListStreams');
    expect(all.streams.filter((s) => s.streamName.includes('mix_'))).toEqual(made);
  });
});

describe('DeleteStream', () => {
  it('deletes a stream; a missing one is NOT_FOUND 200 unless ignoreNonExist', async () => {
    await create('to_delete');
    await t.client.unary('DeleteStream', { streamName: 'to_delete' });
    await expectFailure(t.client.unary('GetStream', { name: 'to_delete' }), status.NOT_FOUND, 200);
    await expectFailure(t.client.unary('DeleteStream', { streamName: 'to_delete' }), status.NOT_FOUND, 200);
    await expectFailure(t.client.unary('DeleteStream', { streamName: 'to_delete', force: true }), status.NOT_FOUND, 200);
    await expect(t.client.unary('DeleteStream', { streamName: 'to_delete', ignoreNonExist: true })).resolves.toEqual({});
  });

  it('lets exactly one of several concurrent deletes win', async () => {
    await create('del_race');
    const results = await Promise.allSettled([
      t.client.unary('DeleteStream', { streamName: 'del_race' }),
      t.client.unary('DeleteStream', { streamName: 'del_race', force: true }),
      t.client.unary('DeleteStream', { streamName: 'del_race' }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  it('frees the name for a new stream with new shard ids', async () => {
    await create('reuse', { shardCount: 2 });
    const first = await t.client.unary<{ shards: Array<{ shardId: string }> }>('ListShards', { streamName: 'reuse' });
    await t.client.unary('DeleteStream', { streamName: 'reuse' });
    await create('reuse', { shardCount: 2 });
    const second = await t.client.unary<{ shards: Array<{ shardId: string }> }>('ListShards', { streamName: 'reuse' });
    const old = new Set(first.shards.map((s) => s.shardId));
    expect(second.shards.some((s) => old.has(s.shardId))).toBe(false);
  });
});

describe('ListShards', () => {
  it('splits the MD5 key space into inclusive decimal ranges, all active', async () => {
    await create('three', { shardCount: 3 });
    const { shards } = await t.client.unary<{
      shards: Array<{ streamName: string; shardId: string; startHashRangeKey: string; endHashRangeKey: string; epoch: string; isActive: boolean }>;
    }>('ListShards', { streamName: 'three' });
    expect(shards.map((s) => [s.startHashRangeKey, s.endHashRangeKey])).toEqual([
      ['0', '113427455640312821154458202477256070484'],
      ['113427455640312821154458202477256070485', '226854911280625642308916404954512140969'],
      ['226854911280625642308916404954512140970', '340282366920938463463374607431768211455'],
    ]);
    for (const s of shards) expect(s).toMatchObject({ streamName: 'three', isActive: true, epoch: '3' });
    expect(new Set(shards.map((s) => s.shardId)).size).toBe(3);
  });

  it('answers a missing stream with UNAVAILABLE and a plain-text message (not the JSON body)', async () => {
    await expectFailure(t.client.unary('ListShards', { streamName: 'ghost' }), status.UNAVAILABLE, null);
  });
});
