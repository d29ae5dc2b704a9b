/**
 * The sink runtime with two writes in flight when the subscription
 * redelivers batches whose writes are still in flight (a target slower than
 * the ack timeout): a copy must not be written after newer records of the
 * same key. Real server and subscription; the target is a table in memory
 * whose writes land when called and are confirmed when the test says so.
 */
import { expect, it } from 'vitest';
import type { SinkBatch, SinkDriver, SinkWriter } from '../../src/connectors/driver.js';
import { batch } from '../helpers/records.js';
import { eventually, startTestServer } from '../helpers/server.js';
import { startSinkTask } from './sink-fixtures.js';

interface Row {
  id: number;
  v: string;
}

it('a redelivered copy of a write in flight is not written after the newer records of its key', { timeout: 60_000 }, async () => {
  const s = await startTestServer();
  try {
    await s.client.unary('CreateStream', { streamName: 's', replicationFactor: 1, shardCount: 1 });
    const { shards } = await s.client.unary<{ shards: Array<{ shardId: string }> }>('ListShards', { streamName: 's' });
    const subscriptions = s.server.context.subscriptions;
    await subscriptions.create({ subscriptionId: 'sub', streamName: 's', ackTimeoutSeconds: 1, maxUnackedRecords: 1000, offset: 'EARLIEST' });
    const append = (row: Row) => s.client.unary('Append', { streamName: 's', shardId: shards[0]!.shardId, records: batch([{ flag: 'JSON', payload: JSON.stringify(row) }]) });

    const table = new Map<number, string>();
    const writes: string[] = [];
    const confirm: Array<() => void> = [];
    const driver: SinkDriver = {
      target: 'memory',
      spec: {},
      secretKeys: [],
      readsJson: true,
      writesInFlight: 2,
      check: async () => {},
      open: async (): Promise<SinkWriter> => ({
        write: async (batches: readonly SinkBatch[]) => {
          const rows = batches.flatMap((b) => b.records.map((r) => JSON.parse(r.record.payload.toString()) as Row));
          writes.push(rows.map((r) => r.v).join('+'));
          for (const r of rows) table.set(r.id, r.v);
          // the first two writes are confirmed only when the test says so
          if (writes.length <= 2) await new Promise<void>((resolve) => confirm.push(resolve));
        },
        close: async () => {},
      }),
    };
    const { task } = startSinkTask(subscriptions, driver, { maxBatchRecords: 3 });
    try {
      await append({ id: 2, v: 'z' });
      await eventually(() => writes.length === 1);
      await append({ id: 1, v: 'x' });
      await eventually(() => writes.length === 2);
      await append({ id: 1, v: 'y' });
      // past the 1 s ack timeout: z and x, still in flight, are delivered again behind y
      await new Promise((r) => setTimeout(r, 1_500));
      confirm[0]!();
      await eventually(() => writes.length >= 3);
      confirm[1]!();
      await eventually(() => subscriptions.get('sub')!.unackedRecords === 0, 20_000);
      expect(table.get(1)).toBe('y');
      expect(writes.filter((w) => w.includes('x'))).toEqual(['x']);
    } finally {
      // a write still waiting for its confirmation would hold the stop
      for (const release of confirm) release();
      await task.stop();
    }
  } finally {
    await s.destroy();
  }
});
