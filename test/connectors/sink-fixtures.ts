/** Records, batches and a context for driving sink drivers directly in tests, and a sink task around a test's own driver. */
import pino from 'pino';
import { CheckFailure, UnmappableRecord, type SinkBatch, type SinkContext, type SinkDriver, type SinkRecord } from '../../src/connectors/driver.js';
import { SinkTask, type SinkTaskDeps } from '../../src/connectors/sink-task.js';
import { TaskLog } from '../../src/connectors/task-log.js';
import type { SubscriptionManager } from '../../src/core/subscriptions/manager.js';

let nextIndex = 0;

/** A JSON record with a fresh id; pass a string to send that exact payload text. */
export function rec(payload: unknown, flag: 'JSON' | 'RAW' = 'JSON'): SinkRecord {
  const index = nextIndex++;
  const text = typeof payload === 'string' ? payload : JSON.stringify(payload);
  return { id: `0-1-${index}`, shardId: 0, record: { header: { flag, attributes: {}, key: 'k' }, payload: Buffer.from(text) } };
}

export function batch(...records: SinkRecord[]): SinkBatch {
  return { shardId: 0, timeMs: Date.now(), records, raw: { compression: 0, payload: Buffer.alloc(0), batchSize: records.length, timeMs: Date.now() } };
}

export function sinkContext(): SinkContext {
  return { log: pino({ level: 'silent' }), signal: new AbortController().signal, pathRoot: '/nonexistent', maxHeldRecords: 10_000, durable: () => undefined };
}

/** The error a promise rejects with (fails the test if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection, got success');
}

export async function checkFailure(p: Promise<unknown>): Promise<CheckFailure> {
  const err = await rejection(p);
  if (!(err instanceof CheckFailure)) throw new Error(`expected CheckFailure, got ${String(err)}`);
  return err;
}

export async function unmappable(p: Promise<unknown>): Promise<UnmappableRecord> {
  const err = await rejection(p);
  if (!(err instanceof UnmappableRecord)) throw new Error(`expected UnmappableRecord, got ${String(err)}`);
  return err;
}

/**
 * A sink task writing stream `s`, read through subscription `sub`, with `driver`: one record per
 * write unless `options` say otherwise. `states` collects the kinds of state it reports.
 */
export function startSinkTask(
  subscriptions: SubscriptionManager,
  driver: SinkDriver,
  options: Partial<SinkTaskDeps['options']> = {},
): { task: SinkTask; states: string[] } {
  const log = pino({ level: 'silent' });
  const states: string[] = [];
  const task = new SinkTask({
    driver,
    config: { stream: 's' },
    options: { stream: 's', fromOffset: 'EARLIEST', skipUnmappable: false, maxRetries: -1, maxBatchRecords: 1, ...options },
    subscriptions,
    subscriptionId: 'sub',
    log: new TaskLog(log, (t) => t),
    pino: log,
    counters: { records: 0, bytes: 0, batches: 0, errors: 0, skipped: 0, rejected: 0 },
    pathRoot: '/nonexistent',
    maxHeldRecords: 1000,
    source: () => undefined,
    onState: (state) => states.push(state.kind),
  });
  return { task, states };
}
