/**
 * B7: subscription delivery. A backlog of 200k records in 100-record
 * batches, one consumer on StreamingFetch acking every RecordId as it
 * arrives (maxUnackedRecords 10k), from EARLIEST until the whole backlog has
 * arrived; once with the batches in the tail cache (a consumer following
 * the producer), once read from LevelDB (the cache off). Baseline: the bare grpc-js server stream sending the same records
 * as ~100 KiB messages. Skipped while the server answers StreamingFetch /
 * CreateSubscription with UNIMPLEMENTED.
 */
import { performance } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import type { HStreamClient } from '../src/client.js';
import { baselineStream, CALL_DEADLINE_MS, createStream, prefill, startBaseline, startHStream } from './clients.js';
import { paired, warmUp, withCpu, type Rep } from './harness.js';
import { batchPool } from './payload.js';
import { STREAM_BASELINE_NAME, timedRecords } from './read.js';
import { compared, SkipScenario, type Scenario } from './scenario.js';

const BACKLOG = 200_000;
const BATCH = 100;
const MAX_UNACKED = 10_000;

interface RecordIdMessage {
  shardId: string;
  batchId: string;
  batchIndex: number;
}
interface FetchResponse {
  receivedRecords: { recordIds: RecordIdMessage[] } | null;
}
interface FetchRequest {
  subscriptionId: string;
  consumerName: string;
  ackIds: RecordIdMessage[];
}

let subscriptionSeq = 0;

/**
 * One consumer on a fresh subscription from EARLIEST, acking every id, until
 * `records` arrived or `stopAfterMs` passed. Resolves with the count.
 */
export async function consume(client: HStreamClient, streamName: string, records: number, stopAfterMs = CALL_DEADLINE_MS): Promise<number> {
  const subscriptionId = `bench_sub_${process.pid}_${++subscriptionSeq}`;
  await client.unary(
    'CreateSubscription',
    { subscriptionId, streamName, ackTimeoutSeconds: 60, maxUnackedRecords: MAX_UNACKED, offset: 'EARLIEST' },
    { deadlineMs: CALL_DEADLINE_MS },
  );
  const call = client.bidi<FetchRequest, FetchResponse>('StreamingFetch');
  const consumerName = 'bench_consumer';
  let received = 0;
  try {
    await new Promise<void>((res, rej) => {
      const deadline = performance.now() + stopAfterMs;
      const timer = setTimeout(() => (stopAfterMs < CALL_DEADLINE_MS ? res() : rej(new Error('StreamingFetch did not deliver the backlog in time'))), stopAfterMs);
      call.on('data', (msg: FetchResponse) => {
        const ids = msg.receivedRecords?.recordIds ?? [];
        received += ids.length;
        call.write({ subscriptionId, consumerName, ackIds: ids });
        if (received >= records || performance.now() > deadline) {
          clearTimeout(timer);
          res();
        }
      });
      call.on('error', (err: grpc.ServiceError) => {
        clearTimeout(timer);
        if (err.code === grpc.status.CANCELLED) res();
        else rej(err);
      });
      call.on('end', () => {
        clearTimeout(timer);
        res();
      });
      call.write({ subscriptionId, consumerName, ackIds: [] });
    });
  } finally {
    call.on('error', () => undefined); // the cancel below surfaces as CANCELLED
    call.cancel();
    await client.unary('DeleteSubscription', { subscriptionId, force: true }, { deadlineMs: CALL_DEADLINE_MS }).catch(() => undefined);
  }
  return received;
}

/** Where the consumer's batches come from: the tail cache (the default), or LevelDB with the cache off. */
const SOURCES = [
  { id: 'delivery/StreamingFetch', figure: 'ack-every-id', args: [] as string[], what: 'served from the tail cache' },
  { id: 'delivery/StreamingFetch/from-leveldb', figure: 'ack-every-id/tail-cache-off', args: ['--tail-cache-bytes', '0'], what: 'read from LevelDB (--tail-cache-bytes 0)' },
];

export const deliveryScenarios: Scenario[] = SOURCES.map(
  (source): Scenario => ({
    id: source.id,
    title: `StreamingFetch of a ${BACKLOG}-record backlog (${BATCH}-record batches) ${source.what}, 1 consumer acking every RecordId, vs bare grpc server stream`,
    modes: ['quick', 'full'],
    timeoutMs: { quick: 120_000, full: 180_000 },
    async run(ctx, scope) {
      const server = await startHStream(scope, { dataDir: scope.tempDir(), args: source.args });
      const streamName = 'bench_delivery';
      await createStream(server.client, streamName);
      try {
        await server.client.unary('CreateSubscription', { subscriptionId: 'bench_probe', streamName, offset: 'EARLIEST' }, { deadlineMs: CALL_DEADLINE_MS });
        await server.client.unary('DeleteSubscription', { subscriptionId: 'bench_probe', force: true }, { deadlineMs: CALL_DEADLINE_MS });
      } catch (err) {
        if ((err as grpc.ServiceError).code === grpc.status.UNIMPLEMENTED) throw new SkipScenario('subscriptions are not implemented by this build');
        throw err;
      }
      const pool = batchPool(BATCH);
      const shardId = (await server.client.unary<{ shards: Array<{ shardId: string }> }>('ListShards', { streamName })).shards[0]!.shardId;
      ctx.progress(`  prefilling ${BACKLOG} records`);
      await prefill(server.client, streamName, shardId, pool, BACKLOG, 120_000);
      const base = await startBaseline(scope);
      const messageBytes = pool.payloads[0]!.length;
      const deliver = () =>
        withCpu(server.child.pid, BACKLOG, async (): Promise<Rep> => {
          const t0 = performance.now();
          const n = await consume(server.client, streamName, BACKLOG);
          if (n < BACKLOG) throw new Error(`StreamingFetch delivered ${n} of ${BACKLOG} records`);
          return { value: (n * 1000) / (performance.now() - t0) };
        });
      const stream = () =>
        withCpu(base.child.pid, BACKLOG, () =>
          timedRecords(async () => BATCH * (await baselineStream(base.client, BACKLOG / BATCH, messageBytes)), BACKLOG, 'baseline stream'),
        );
      const measured = await paired(
        {
          warmUp: async () => {
            await consume(server.client, streamName, BACKLOG, Math.max(1_000, ctx.timing.warmUpMs));
          },
          rep: deliver,
        },
        { warmUp: () => warmUp(stream, ctx.timing.warmUpMs), rep: stream },
        ctx.timing.reps,
      );
      ctx.baselines.add(STREAM_BASELINE_NAME, 'rec/s', 'higher', measured.baseline, { messageBytes });
      return [
        compared(`delivery/StreamingFetch/backlog=${BACKLOG}/${source.figure}`, 'rec/s', 'higher', measured.subject, {
          name: STREAM_BASELINE_NAME,
          reps: measured.baseline,
        }, { maxUnackedRecords: MAX_UNACKED }),
      ];
    },
  }),
);
