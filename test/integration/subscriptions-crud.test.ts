/**
 * Subscription metadata RPCs and the StreamingFetch handshake: create / get
 * / list / check / delete, consumers, and every error with its JSON code.
 */
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, startTestServer, type TestServer } from '../helpers/server.js';
import {
  appendBatches,
  committedOffsets,
  createStream,
  createSubscription,
  failure,
  TestConsumer,
} from './subscriptions.helpers.js';

let t: TestServer;

beforeAll(async () => {
  t = await startTestServer();
});

afterAll(async () => {
  await t.destroy();
});

describe('CreateSubscription', () => {
  it('returns the request with creationTime set, and Get/List/Check see it', async () => {
    const shards = await createStream(t.client, 'crud_a', 2);
    const before = Date.now();
    const created = await createSubscription(t.client, 'crud_sub_a', 'crud_a', { ackTimeoutSeconds: 7, maxUnackedRecords: 123, offset: 'LATEST' });
    expect(created).toMatchObject({
      subscriptionId: 'crud_sub_a',
      streamName: 'crud_a',
      ackTimeoutSeconds: 7,
      maxUnackedRecords: 123,
      offset: 'LATEST',
    });
    const seconds = Number((created.creationTime as { seconds: string }).seconds);
    expect(seconds).toBeGreaterThanOrEqual(Math.floor(before / 1000));
    expect(seconds).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));

    const got = await t.client.unary<{ subscription: Record<string, unknown>; offsets: Array<{ shardId: string; batchId: string }> }>(
      'GetSubscription',
      { id: 'crud_sub_a' },
    );
    expect(got.subscription).toEqual(created);
    // every shard of the stream, committed LSN 0 when nothing was committed
    expect(got.offsets.map((o) => o.shardId).sort()).toEqual([...shards].sort());
    expect(got.offsets.every((o) => o.batchId === '0')).toBe(true);

    const list = await t.client.unary<{ subscription: Array<Record<string, unknown>> }>('ListSubscriptions');
    expect(list.subscription).toContainEqual(created);
    expect(await t.client.unary('CheckSubscriptionExist', { subscriptionId: 'crud_sub_a' })).toEqual({ exists: true });
    expect(await t.client.unary('CheckSubscriptionExist', { subscriptionId: 'crud_nope' })).toEqual({ exists: false });
  });

  it('the stream must exist (FAILED_PRECONDITION 302), checked before the duplicate id (301)', async () => {
    await createStream(t.client, 'crud_b');
    await createSubscription(t.client, 'crud_sub_b', 'crud_b');
    const missing = await failure(createSubscription(t.client, 'crud_sub_b', 'crud_no_such_stream'));
    expect(missing).toMatchObject({ code: grpc.status.FAILED_PRECONDITION, error: 302 });
    const dup = await failure(createSubscription(t.client, 'crud_sub_b', 'crud_b'));
    expect(dup).toMatchObject({ code: grpc.status.ALREADY_EXISTS, error: 301, extra: 'crud_sub_b' });
  });

  it('refuses invalid names (304 for the subscription, 204 for the stream) and unknown offsets (303)', async () => {
    await createStream(t.client, 'crud_c');
    expect(await failure(createSubscription(t.client, '1bad', 'crud_c'))).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, error: 304 });
    expect(await failure(createSubscription(t.client, '', 'crud_c'))).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, error: 304 });
    expect(await failure(createSubscription(t.client, 'crud_sub_c', 'bad name'))).toMatchObject({ code: grpc.status.INVALID_ARGUMENT, error: 204 });
    expect(await failure(createSubscription(t.client, 'crud_sub_c', 'crud_c', { offset: 7 }))).toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      error: 303,
    });
    expect(await t.client.unary('CheckSubscriptionExist', { subscriptionId: 'crud_sub_c' })).toEqual({ exists: false });
  });

  it('LATEST starts after the tail at creation, even before any consumer connects', async () => {
    const [shard] = await createStream(t.client, 'crud_latest');
    await appendBatches(t.client, 'crud_latest', shard!, 3, 1, { prefix: 'old' });
    await createSubscription(t.client, 'crud_sub_latest', 'crud_latest', { offset: 'LATEST' });
    const fresh = await appendBatches(t.client, 'crud_latest', shard!, 2, 1, { prefix: 'new' });
    const c = new TestConsumer(t.client, 'crud_sub_latest', 'c1');
    await c.untilDistinct(2);
    expect([...c.counts.keys()]).toEqual(fresh);
    expect(c.deliveries.flatMap((d) => d.payloads)).toEqual(['new0-0', 'new1-0']);
    expect((await c.close()).code).toBe(grpc.status.OK);
  });
});

describe('Get / List / Delete', () => {
  it('unknown subscriptions answer NOT_FOUND 300', async () => {
    for (const [rpc, req] of [
      ['GetSubscription', { id: 'crud_missing' }],
      ['DeleteSubscription', { subscriptionId: 'crud_missing' }],
      ['DeleteSubscription', { subscriptionId: 'crud_missing', force: true }],
      ['ListConsumers', { subscriptionId: 'crud_missing' }],
    ] as const) {
      expect(await failure(t.client.unary(rpc, req)), rpc).toMatchObject({ code: grpc.status.NOT_FOUND, error: 300 });
    }
  });

  it('ListSubscriptionsWithPrefix filters by id prefix; the prefix must be a valid name', async () => {
    await createStream(t.client, 'crud_p');
    for (const id of ['pfx_one', 'pfx_two', 'other_pfx']) await createSubscription(t.client, id, 'crud_p');
    const res = await t.client.unary<{ subscription: Array<{ subscriptionId: string }> }>('ListSubscriptionsWithPrefix', { prefix: 'pfx_' });
    expect(res.subscription.map((s) => s.subscriptionId).sort()).toEqual(['pfx_one', 'pfx_two']);
    expect(await failure(t.client.unary('ListSubscriptionsWithPrefix', { prefix: '_x' }))).toMatchObject({
      code: grpc.status.INVALID_ARGUMENT,
      error: 304,
    });
  });

  it('a stream with subscriptions is not deleted without force (FAILED_PRECONDITION 202)', async () => {
    await createStream(t.client, 'crud_d');
    await createSubscription(t.client, 'crud_sub_d', 'crud_d');
    expect(await failure(t.client.unary('DeleteStream', { streamName: 'crud_d' }))).toMatchObject({
      code: grpc.status.FAILED_PRECONDITION,
      error: 202,
    });
    await t.client.unary('DeleteSubscription', { subscriptionId: 'crud_sub_d' });
    await t.client.unary('DeleteStream', { streamName: 'crud_d' });
  });

  it('delete without force is refused while consumers are attached (305); after they leave it succeeds', async () => {
    await createStream(t.client, 'crud_e');
    await createSubscription(t.client, 'crud_sub_e', 'crud_e');
    const c = new TestConsumer(t.client, 'crud_sub_e', 'c1');
    await eventually(async () => (await t.client.unary<{ consumers: unknown[] }>('ListConsumers', { subscriptionId: 'crud_sub_e' })).consumers.length === 1);
    expect(await failure(t.client.unary('DeleteSubscription', { subscriptionId: 'crud_sub_e' }))).toMatchObject({
      code: grpc.status.FAILED_PRECONDITION,
      error: 305,
    });
    // half-close: the server ends the call OK and the consumer is gone at once
    expect((await c.close()).code).toBe(grpc.status.OK);
    expect((await t.client.unary<{ consumers: unknown[] }>('ListConsumers', { subscriptionId: 'crud_sub_e' })).consumers).toEqual([]);
    await t.client.unary('DeleteSubscription', { subscriptionId: 'crud_sub_e' });
    expect(await t.client.unary('CheckSubscriptionExist', { subscriptionId: 'crud_sub_e' })).toEqual({ exists: false });
  });

  it('force delete ends every attached StreamingFetch with ABORTED, then removes the subscription', async () => {
    const [shard] = await createStream(t.client, 'crud_f');
    await createSubscription(t.client, 'crud_sub_f', 'crud_f');
    await appendBatches(t.client, 'crud_f', shard!, 2);
    const busy = new TestConsumer(t.client, 'crud_sub_f', 'busy', { ack: 'none' });
    const idle = new TestConsumer(t.client, 'crud_sub_f', 'idle');
    await busy.untilDistinct(2);
    await eventually(async () => (await t.client.unary<{ consumers: unknown[] }>('ListConsumers', { subscriptionId: 'crud_sub_f' })).consumers.length === 2);
    await t.client.unary('DeleteSubscription', { subscriptionId: 'crud_sub_f', force: true });
    for (const c of [busy, idle]) {
      const end = await c.ended;
      expect(end.code).toBe(grpc.status.ABORTED);
      expect(JSON.parse(end.details)).toMatchObject({ error: 0 });
    }
    expect(await t.client.unary('CheckSubscriptionExist', { subscriptionId: 'crud_sub_f' })).toEqual({ exists: false });
    expect(await failure(t.client.unary('GetSubscription', { id: 'crud_sub_f' }))).toMatchObject({ code: grpc.status.NOT_FOUND, error: 300 });
  });

  it('a subscription re-created with the same id is independent (fresh offsets)', async () => {
    const [shard] = await createStream(t.client, 'crud_g');
    const ids = await appendBatches(t.client, 'crud_g', shard!, 5);
    await createSubscription(t.client, 'crud_sub_g', 'crud_g');
    const first = new TestConsumer(t.client, 'crud_sub_g', 'c');
    await first.untilDistinct(5);
    await eventually(async () => (await committedOffsets(t.client, 'crud_sub_g'))[shard!] === ids[4]!.split('-')[1]);
    await first.close();
    await t.client.unary('DeleteSubscription', { subscriptionId: 'crud_sub_g' });
    await createSubscription(t.client, 'crud_sub_g', 'crud_g');
    expect((await committedOffsets(t.client, 'crud_sub_g'))[shard!]).toBe('0');
    const second = new TestConsumer(t.client, 'crud_sub_g', 'c');
    await second.untilDistinct(5);
    expect([...second.counts.keys()]).toEqual(ids);
    await second.close();
  });
});

describe('StreamingFetch handshake and consumers', () => {
  it('an unknown subscription ends the call with NOT_FOUND 300', async () => {
    const c = new TestConsumer(t.client, 'crud_nobody', 'c');
    const end = await c.ended;
    expect(end.code).toBe(grpc.status.NOT_FOUND);
    expect(JSON.parse(end.details)).toMatchObject({ error: 300 });
  });

  it('a duplicate consumer name on one subscription is ALREADY_EXISTS (code 0); on another subscription it is fine', async () => {
    await createStream(t.client, 'crud_h');
    await createSubscription(t.client, 'crud_sub_h1', 'crud_h');
    await createSubscription(t.client, 'crud_sub_h2', 'crud_h');
    const a = new TestConsumer(t.client, 'crud_sub_h1', 'same');
    await eventually(async () => (await t.client.unary<{ consumers: unknown[] }>('ListConsumers', { subscriptionId: 'crud_sub_h1' })).consumers.length === 1);
    const dup = new TestConsumer(t.client, 'crud_sub_h1', 'same');
    const end = await dup.ended;
    expect(end.code).toBe(grpc.status.ALREADY_EXISTS);
    expect(JSON.parse(end.details)).toMatchObject({ error: 0 });
    const other = new TestConsumer(t.client, 'crud_sub_h2', 'same');
    await eventually(async () => (await t.client.unary<{ consumers: unknown[] }>('ListConsumers', { subscriptionId: 'crud_sub_h2' })).consumers.length === 1);
    expect((await a.close()).code).toBe(grpc.status.OK);
    expect((await other.close()).code).toBe(grpc.status.OK);
  });

  it('ListConsumers reports name, uri (peer or x-forwarded-for) and userAgent (proxy-agent or user-agent)', async () => {
    await createStream(t.client, 'crud_i');
    await createSubscription(t.client, 'crud_sub_i', 'crud_i');
    expect(await t.client.unary('ListConsumers', { subscriptionId: 'crud_sub_i' })).toEqual({ consumers: [] });
    const md = new grpc.Metadata();
    md.add('x-forwarded-for', '10.1.2.3');
    md.add('x-forwarded-for', '10.9.9.9');
    md.add('proxy-agent', 'the-proxy/1.0');
    const proxied = new TestConsumer(t.client, 'crud_sub_i', 'proxied', { metadata: md });
    const direct = new TestConsumer(t.client, 'crud_sub_i', 'direct');
    const list = await eventually(async () => {
      const res = await t.client.unary<{ consumers: Array<{ name: string; uri: string; userAgent: string }> }>('ListConsumers', {
        subscriptionId: 'crud_sub_i',
      });
      return res.consumers.length === 2 ? res.consumers : undefined;
    });
    const byName = Object.fromEntries(list.map((c) => [c.name, c]));
    expect(byName.proxied).toEqual({ name: 'proxied', uri: '10.1.2.3', userAgent: 'the-proxy/1.0' });
    expect(byName.direct!.uri).toContain('127.0.0.1');
    expect(byName.direct!.userAgent).toMatch(/grpc-node-js/);
    // a cancelled call removes its consumer at once
    direct.cancel();
    await eventually(async () => {
      const res = await t.client.unary<{ consumers: Array<{ name: string }> }>('ListConsumers', { subscriptionId: 'crud_sub_i' });
      return res.consumers.length === 1 && res.consumers[0]!.name === 'proxied';
    });
    await proxied.close();
  });
});
