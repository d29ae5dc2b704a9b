/**
 * Subscriptions across restarts: metadata and committed offsets survive; a
 * clean shutdown persists every commit (no acked record comes back); after
 * kill -9 delivery resumes from the last persisted commit (≤ ~1 s old), so
 * every record is delivered at least once.
 *
 * The kill -9 case runs the built server (`npm run build`; `npm test` builds first).
 */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { HStreamClient } from '../../src/client.js';
import { spawnServer, startTestServer, tempDir } from '../helpers/server.js';
import { appendBatches, committedOffsets, createStream, createSubscription, TestConsumer } from './subscriptions.helpers.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});
function freshDir(): string {
  const dir = tempDir('hstreamlite-subs-');
  dirs.push(dir);
  return dir;
}

const lsnOf = (id: string) => id.split('-')[1]!;
const shardOf = (id: string) => id.split('-')[0]!;

describe('restart', () => {
  it('after a clean shutdown in the middle of consumption, no acked record is delivered again', async () => {
    const dataDir = freshDir();
    let t = await startTestServer({ dataDir });
    const shards = await createStream(t.client, 'du_a', 2);
    await createSubscription(t.client, 'du_sub_a', 'du_a', { ackTimeoutSeconds: 60, maxUnackedRecords: 500 });
    const ids: string[] = [];
    for (const shard of shards) ids.push(...(await appendBatches(t.client, 'du_a', shard, 100, 5)));
    // Ack the first 60 batches of each shard, hold the rest unacked.
    const ackUpTo: Record<string, string> = {};
    for (const shard of shards) ackUpTo[shard] = lsnOf(ids.filter((id) => shardOf(id) === shard)[60 * 5 - 1]!);
    const acked = new Set(ids.filter((id) => Number(lsnOf(id)) <= Number(ackUpTo[shardOf(id)])));
    const c1 = new TestConsumer(t.client, 'du_sub_a', 'c1', { ack: (id) => acked.has(id) });
    await c1.untilDistinct(ids.length);
    // Once the server has applied every ack (in memory), stop right away, inside the checkpoint interval.
    const deadline = Date.now() + 5000;
    for (;;) {
      const offsets = await committedOffsets(t.client, 'du_sub_a');
      if (shards.every((s) => offsets[s] === ackUpTo[s])) break;
      if (Date.now() > deadline) throw new Error(`acks not applied: ${JSON.stringify(offsets)}`);
    }
    const subsBefore = await t.client.unary('ListSubscriptions');
    const offsetsBefore = await committedOffsets(t.client, 'du_sub_a');
    await t.stop();

    t = await startTestServer({ dataDir });
    expect(await t.client.unary('ListSubscriptions')).toEqual(subsBefore);
    expect(await committedOffsets(t.client, 'du_sub_a')).toEqual(offsetsBefore);
    const c2 = new TestConsumer(t.client, 'du_sub_a', 'c2');
    await c2.untilDistinct(ids.length - acked.size);
    const redelivered = [...c2.counts.keys()].filter((id) => acked.has(id));
    expect(redelivered).toEqual([]);
    expect(new Set(c2.counts.keys())).toEqual(new Set(ids.filter((id) => !acked.has(id))));
    await c2.close();
    await t.stop();
  });

  it('offsets committed during a run are persisted within about a second without a shutdown', async () => {
    const dataDir = freshDir();
    const t = await startTestServer({ dataDir });
    const [shard] = await createStream(t.client, 'du_b');
    await createSubscription(t.client, 'du_sub_b', 'du_b');
    const ids = await appendBatches(t.client, 'du_b', shard!, 10);
    const c = new TestConsumer(t.client, 'du_sub_b', 'c');
    await c.untilDistinct(10);
    const started = Date.now();
    // Read the stored checkpoint straight from the metadata: it must catch up with the last ack.
    const meta = t.server.context.store.meta;
    for (;;) {
      const saved = await meta.get<number>(`ckpt/du_sub_b/${shard}`);
      if (String(saved) === lsnOf(ids[9]!)) break;
      expect(Date.now() - started).toBeLessThan(1500);
      await new Promise((r) => setTimeout(r, 50));
    }
    await c.close();
    await t.destroy();
  });
});

describe('kill -9', () => {
  it('delivery resumes from the last persisted commit: every record at least once, old acks stay acked', async () => {
    const dataDir = freshDir();
    let server = await spawnServer(['--data-dir', dataDir]);
    let client = new HStreamClient(server.address);
    try {
      const shards = await createStream(client, 'du_k', 2);
      await createSubscription(client, 'du_sub_k', 'du_k', { ackTimeoutSeconds: 60 });
      const ids: string[] = [];
      for (const shard of shards) ids.push(...(await appendBatches(client, 'du_k', shard, 50, 4)));
      // The first consumer acks the first 102 records of each shard: 25 whole batches and half of the 26th.
      const perShard = (s: string) => ids.filter((id) => shardOf(id) === s);
      const acked = new Set(shards.flatMap((s) => perShard(s).slice(0, 102)));
      const committed = new Set(shards.flatMap((s) => perShard(s).slice(0, 100)));
      const c1 = new TestConsumer(client, 'du_sub_k', 'c1', { ack: (id) => acked.has(id) });
      await c1.untilDistinct(ids.length);
      const target = Object.fromEntries(shards.map((s) => [s, lsnOf(perShard(s)[99]!)]));
      const deadline = Date.now() + 5000;
      for (;;) {
        const offsets = await committedOffsets(client, 'du_sub_k');
        if (shards.every((s) => offsets[s] === target[s])) break;
        if (Date.now() > deadline) throw new Error('acks not applied');
      }
      // Acks older than the checkpoint interval (≤ 1 s) must survive the crash.
      await new Promise((r) => setTimeout(r, 1200));
      server.child.kill('SIGKILL');
      await server.exited;
      client.close();

      server = await spawnServer(['--data-dir', dataDir]);
      client = new HStreamClient(server.address);
      const c2 = new TestConsumer(client, 'du_sub_k', 'c2');
      const rest = ids.filter((id) => !committed.has(id));
      await c2.until(() => rest.every((id) => c2.counts.has(id)), 10_000, 'every record after the commit point');
      // committed acks survived; the partly acked batch came back whole
      expect([...c2.counts.keys()].filter((id) => committed.has(id))).toEqual([]);
      expect(new Set(c2.counts.keys())).toEqual(new Set(rest));
      expect(new Set([...c1.counts.keys(), ...c2.counts.keys()])).toEqual(new Set(ids));
      await c2.close();
    } finally {
      client.close();
      server.child.kill('SIGKILL');
      await server.exited;
    }
  });
});
