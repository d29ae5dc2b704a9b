/**
 * The sink runtime at its edges: a PAUSE while a write settles, the stream
 * going away under writes in flight, and a driver that reports a failure the
 * runtime must not take at its word. Real server and subscription; the target
 * is a list in memory whose writes land when called and are confirmed when
 * the test says so.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import { RewriteNeeded, UnmappableRecord, type SinkBatch, type SinkDriver, type SinkWriter } from '../../src/connectors/driver.js';
import type { SinkTask, SinkTaskDeps } from '../../src/connectors/sink-task.js';
import { FIRST_LSN } from '../../storage/index.js';
import { batch } from '../helpers/records.js';
import { eventually, startTestServer, type TestServer } from '../helpers/server.js';
import { startSinkTask } from './sink-fixtures.js';

let s: TestServer;
let shardId: string;
beforeEach(async () => {
  s = await startTestServer();
  await s.client.unary('CreateStream', { streamName: 's', replicationFactor: 1, shardCount: 1 });
  const { shards } = await s.client.unary<{ shards: Array<{ shardId: string }> }>('ListShards', { streamName: 's' });
  shardId = shards[0]!.shardId;
  await s.server.context.subscriptions.create({ subscriptionId: 'sub', streamName: 's', ackTimeoutSeconds: 60, maxUnackedRecords: 1000, offset: 'EARLIEST' });
});
afterEach(async () => {
  await s.destroy();
});

/** One Append of one JSON record per value. */
async function appendEach(values: string[]): Promise<void> {
  for (const v of values) await s.client.unary('Append', { streamName: 's', shardId, records: batch([{ flag: 'JSON', payload: JSON.stringify({ v }) }]) });
}

/** What the target saw, in order: `write a+b`, `close`. */
interface Target {
  events: string[];
  /** confirms the oldest write still waiting */
  confirmNext(): void;
  driver: SinkDriver;
}

/** A target whose writes each wait for a confirmNext(), or that fails every write with `fail`. */
function target(options: { writesInFlight: number; fail?: () => Error }): Target {
  const events: string[] = [];
  const waiting: Array<() => void> = [];
  return {
    events,
    confirmNext: () => waiting.shift()?.(),
    driver: {
      target: 'memory',
      spec: {},
      secretKeys: [],
      readsJson: true,
      writesInFlight: options.writesInFlight,
      check: async () => {},
      open: async (): Promise<SinkWriter> => ({
        write: async (batches: readonly SinkBatch[]) => {
          events.push(`write ${batches.flatMap((b) => b.records.map((r) => (JSON.parse(r.record.payload.toString()) as { v: string }).v)).join('+')}`);
          // a turn of the event loop, as a real target takes: a runtime that retried without end would still let timers run
          await new Promise((r) => setImmediate(r));
          if (options.fail) throw options.fail();
          await new Promise<void>((resolve) => waiting.push(resolve));
        },
        close: async () => {
          events.push('close');
        },
      }),
    },
  };
}

function startTask(driver: SinkDriver, options: Partial<SinkTaskDeps['options']> = {}): { task: SinkTask; states: string[] } {
  return startSinkTask(s.server.context.subscriptions, driver, options);
}

it('a PAUSE while a write settles writes none of the records its group still had', { timeout: 60_000 }, async () => {
  // three records, one write each: the task holds all three while the first is written
  await appendEach(['a', 'b', 'c']);
  const t = target({ writesInFlight: 1 });
  const { task } = startTask(t.driver);
  await eventually(() => t.events.length === 1);
  const stopped = task.stop();
  t.confirmNext();
  await stopped;
  expect(t.events).toEqual(['write a', 'close']);
  // a, the first batch, was acknowledged and b was not: the next run starts at b
  expect(s.server.context.subscriptions.offsets('sub').map((o) => o.lsn)).toEqual([FIRST_LSN]);
});

it('closes its target only after the writes in flight settled when the stream is taken away', { timeout: 60_000 }, async () => {
  await appendEach(['a', 'b']);
  const t = target({ writesInFlight: 2 });
  const { task, states } = startTask(t.driver);
  await eventually(() => t.events.length === 2);
  // a force delete ends the subscription under the task: reading fails with both writes waiting
  await s.server.context.subscriptions.delete('sub', true);
  await eventually(() => states.includes('failed'));
  // nothing confirms the writes yet, so a close now would be one under a write in flight
  await new Promise((r) => setTimeout(r, 200));
  expect(t.events).toEqual(['write a', 'write b']);
  t.confirmNext();
  t.confirmNext();
  await task.stop();
  expect(t.events).toEqual(['write a', 'write b', 'close']);
});

it('takes a rewrite request from a write that was not sent ahead as a failure, with maxRetries', { timeout: 60_000 }, async () => {
  await appendEach(['a']);
  // one write in flight: no write is ever sent ahead of another
  const t = target({ writesInFlight: 1, fail: () => new RewriteNeeded() });
  const { task, states } = startTask(t.driver, { maxRetries: 0 });
  await eventually(() => states.includes('failed'));
  await task.stop();
  expect(t.events).toEqual(['write a', 'close']);
});

it('takes a record to skip that the write does not hold as a failure, with maxRetries', { timeout: 60_000 }, async () => {
  await appendEach(['a']);
  const t = target({ writesInFlight: 1, fail: () => new UnmappableRecord('no such column', 'not-a-record-of-this-write') });
  const { task, states } = startTask(t.driver, { maxRetries: 0, skipUnmappable: true });
  await eventually(() => states.includes('failed'));
  await task.stop();
  expect(t.events).toEqual(['write a', 'close']);
});
