/**
 * B10: ReadShardStream scan of a prefilled shard (EARLIEST..LATEST), one
 * full scan per repetition, against a bare grpc-js server stream sending the
 * same number of records as ~100 KiB messages (one stored batch each).
 */
import { performance } from 'node:perf_hooks';
import { baselineStream, createStream, prefill, scanShard, startBaseline, startHStream } from './clients.js';
import { paired, summarize, warmUp, withCpu, type Rep } from './harness.js';
import { batchPool, RECORD_BYTES } from './payload.js';
import { compared, type Scenario } from './scenario.js';

export const STREAM_BASELINE_NAME = 'baseline/grpc-server-stream/100x1KiB-per-message';
const BATCH = 100;

/** Times `run` (which returns a record count) and checks the count. */
export async function timedRecords(run: () => Promise<number>, expected: number, what: string): Promise<Rep> {
  const t0 = performance.now();
  const n = await run();
  const ms = performance.now() - t0;
  if (n !== expected) throw new Error(`${what} returned ${n} records, expected ${expected}`);
  return { value: (n * 1000) / ms };
}

export const readScenarios: Scenario[] = [
  {
    id: 'read/ReadShardStream/scan',
    title: 'ReadShardStream of a prefilled shard (100-record batches), full scan per rep, vs bare grpc server stream',
    modes: ['quick', 'full'],
    timeoutMs: { quick: 90_000, full: 180_000 },
    async run(ctx, scope) {
      const records = ctx.mode === 'quick' ? 100_000 : 300_000;
      const pool = batchPool(BATCH);
      const server = await startHStream(scope, { dataDir: scope.tempDir() });
      const base = await startBaseline(scope);
      const streamName = 'bench_read';
      const shardId = await createStream(server.client, streamName);
      ctx.progress(`  prefilling ${records} records`);
      await prefill(server.client, streamName, shardId, pool, records, 120_000);
      const messageBytes = pool.payloads[0]!.length;
      const scan = () => withCpu(server.child.pid, records, () => timedRecords(() => scanShard(server.client, streamName, shardId), records, 'ReadShardStream'));
      const stream = () =>
        withCpu(base.child.pid, records, () =>
          timedRecords(async () => BATCH * (await baselineStream(base.client, records / BATCH, messageBytes)), records, 'baseline stream'),
        );
      const measured = await paired(
        { warmUp: () => warmUp(scan, ctx.timing.warmUpMs), rep: scan },
        { warmUp: () => warmUp(stream, ctx.timing.warmUpMs), rep: stream },
        ctx.timing.reps,
      );
      ctx.baselines.add(STREAM_BASELINE_NAME, 'rec/s', 'higher', measured.baseline, { messageBytes });
      const s = summarize(measured.subject);
      return [
        compared(`read/ReadShardStream/scan/records=${records}`, 'rec/s', 'higher', measured.subject, {
          name: STREAM_BASELINE_NAME,
          reps: measured.baseline,
        }, { mbPerSec: Math.round((s.value * RECORD_BYTES) / 1e4) / 100 }),
      ];
    },
  },
];
