/**
 * B1–B4: Append throughput and per-call latency against a real server
 * process, 1 KiB random records, one stream with one shard, N calls in
 * flight on one connection, with and without --fsync. Two baselines at the
 * same batch size and inflight, measured interleaved with it: a bare
 * grpc-js unary call carrying the same records (ack only; the row's ratio),
 * and the same call that first writes its bytes to classic-level as one value
 * (sync as our --fsync): storage's floor, reported as `ratioToStorageFloor`.
 */
import { appendCall, baselineUnaryLoad, createStream, startBaseline, startHStream } from './clients.js';
import { closedLoop, interleaved, loopRecords, summarize, withCpu, type Mode, type Rep } from './harness.js';
import { batchPool, RECORD_BYTES } from './payload.js';
import { compared, type Scenario } from './scenario.js';

interface Shape {
  batch: number;
  inflight: number;
  fsync: boolean;
}

const QUICK: Shape[] = [
  { batch: 100, inflight: 1, fsync: false },
  { batch: 100, inflight: 32, fsync: false },
  { batch: 100, inflight: 1, fsync: true },
  { batch: 100, inflight: 32, fsync: true },
  { batch: 1, inflight: 1, fsync: false },
];

const FULL: Shape[] = [1, 100, 1000].flatMap((batch) =>
  [1, 8, 32].flatMap((inflight) => [false, true].map((fsync) => ({ batch, inflight, fsync }))),
);

export function unaryBaselineName(batch: number, inflight: number): string {
  return `baseline/grpc-unary/batch=${batch}x1KiB/inflight=${inflight}`;
}

function storageFloorName(batch: number, inflight: number, fsync: boolean): string {
  return `baseline/grpc-unary+level-write/batch=${batch}x1KiB/inflight=${inflight}/sync=${fsync ? 'on' : 'off'}`;
}

function appendScenario(shape: Shape): Scenario {
  const { batch, inflight, fsync } = shape;
  const id = `append/batch=${batch}x1KiB/inflight=${inflight}/fsync=${fsync ? 'on' : 'off'}`;
  const inQuick = QUICK.some((q) => q.batch === batch && q.inflight === inflight && q.fsync === fsync);
  const modes: Mode[] = inQuick ? ['quick', 'full'] : ['full'];
  return {
    id,
    title: `Append ${batch}×1 KiB per call, ${inflight} in flight, ${fsync ? '--fsync' : 'no fsync'}, vs bare grpc unary`,
    modes,
    timeoutMs: { quick: 60_000, full: 120_000 },
    async run(ctx, scope) {
      const { warmUpMs, repMs, reps } = ctx.timing;
      const pool = batchPool(batch);
      const server = await startHStream(scope, { dataDir: scope.tempDir(), fsync });
      const base = await startBaseline(scope);
      const storing = await startBaseline(scope, { dataDir: scope.tempDir(), sync: fsync });
      const streamName = 'bench_append';
      const shardId = await createStream(server.client, streamName);
      const call = appendCall(server.client, streamName, shardId, pool);
      const measured = await interleaved(
        {
          warmUp: async () => {
            await closedLoop(call, inflight, warmUpMs);
          },
          rep: () => withCpu(server.child.pid, loopRecords(repMs), () => closedLoop(call, inflight, repMs)),
        },
        [
          baselineUnaryLoad(base.client, base.child.pid, pool, inflight, warmUpMs, repMs),
          baselineUnaryLoad(storing.client, storing.child.pid, pool, inflight, warmUpMs, repMs),
        ],
        reps,
      );
      const [bare, stored] = measured.baselines as [Rep[], Rep[]];
      const baselineName = unaryBaselineName(batch, inflight);
      ctx.baselines.add(baselineName, 'rec/s', 'higher', bare);
      const floor = ctx.baselines.add(storageFloorName(batch, inflight, fsync), 'rec/s', 'higher', stored).value;
      const s = summarize(measured.subject);
      const row = compared(id, 'rec/s', 'higher', measured.subject, { name: baselineName, reps: bare }, {
        mbPerSec: Math.round((s.value * RECORD_BYTES) / 1e4) / 100,
        storageFloor: Math.round(floor),
        ratioToStorageFloor: Math.round((s.value / floor) * 100) / 100,
      });
      if (row.baselineValue) row.extra = { ...row.extra, storageFloorToBare: Math.round((floor / row.baselineValue) * 100) / 100 };
      return [row];
    },
  };
}

export const appendScenarios: Scenario[] = FULL.map(appendScenario).sort(
  // quick shapes first, in QUICK's order, so a partial run answers the headline questions
  (a, b) => quickIndex(a.id) - quickIndex(b.id),
);

function quickIndex(id: string): number {
  const i = QUICK.findIndex((q) => id === `append/batch=${q.batch}x1KiB/inflight=${q.inflight}/fsync=${q.fsync ? 'on' : 'off'}`);
  return i < 0 ? QUICK.length : i;
}
