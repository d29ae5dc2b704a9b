/**
 * Process lifecycle: cold start of a server process to its first successful
 * Echo, idle RSS, and restart time with a large store (prefill, SIGTERM,
 * start again, first Echo). The baseline is a bare grpc-js server process
 * (spawn to first successful call, and its idle RSS), measured interleaved.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { HStreamClient } from '../src/client.js';
import { createStream, prefill, startBaseline, startHStream, stopBaseline, stopHStream, CALL_DEADLINE_MS } from './clients.js';
import { median, rssMb, type Rep } from './harness.js';
import { batchPool } from './payload.js';
import { compared, type Scenario } from './scenario.js';

export const START_BASELINE_NAME = 'baseline/grpc-server/cold-to-first-call';
export const RSS_BASELINE_NAME = 'baseline/grpc-server/idle-rss';
/** How long a process sits idle after its first call before its RSS is read. */
const IDLE_MS = 1_000;
const FULL_RESTART_RECORDS = 1_000_000;
const QUICK_RESTART_RECORDS = 200_000;

async function tailBatchId(client: HStreamClient, streamName: string, shardId: string): Promise<string> {
  const res = await client.unary<{ tailRecordId: { batchId: string } | null }>('GetTailRecordId', { streamName, shardId }, { deadlineMs: CALL_DEADLINE_MS });
  return res.tailRecordId?.batchId ?? '';
}

const reps = (n: number) => Math.max(3, n);

export const lifecycleScenarios: Scenario[] = [
  {
    id: 'start/cold',
    title: 'cold start (spawn → first Echo) and idle RSS of a server with an empty data dir, vs a bare grpc-js server process',
    modes: ['quick', 'full'],
    timeoutMs: { quick: 60_000, full: 90_000 },
    async run(ctx, scope) {
      // one untimed start of each: page cache and compile cache, not JIT (every start is a new process)
      const warm = await startHStream(scope, { dataDir: scope.tempDir() });
      await stopHStream(scope, warm);
      await stopBaseline(scope, await startBaseline(scope));
      const ours = { start: [] as Rep[], rss: [] as Rep[] };
      const base = { start: [] as Rep[], rss: [] as Rep[] };
      for (let i = 0; i < reps(ctx.timing.reps); i++) {
        const order = i % 2 === 0 ? ['base', 'ours'] : ['ours', 'base'];
        for (const which of order) {
          if (which === 'ours') {
            const dir = scope.tempDir();
            const server = await startHStream(scope, { dataDir: dir });
            await sleep(IDLE_MS);
            ours.rss.push({ value: rssMb(server.child.pid) });
            ours.start.push({ value: server.startMs });
            await stopHStream(scope, server);
            scope.removeDir(dir);
          } else {
            const b = await startBaseline(scope);
            await sleep(IDLE_MS);
            base.rss.push({ value: rssMb(b.child.pid) });
            base.start.push({ value: b.startMs });
            await stopBaseline(scope, b);
          }
        }
      }
      ctx.baselines.add(START_BASELINE_NAME, 'ms', 'lower', base.start);
      ctx.baselines.add(RSS_BASELINE_NAME, 'MB', 'lower', base.rss, { idleMs: IDLE_MS });
      return [
        compared('start/cold-to-first-echo', 'ms', 'lower', ours.start, { name: START_BASELINE_NAME, reps: base.start }),
        compared('start/idle-rss', 'MB', 'lower', ours.rss, { name: RSS_BASELINE_NAME, reps: base.rss }, { idleMs: IDLE_MS }),
      ];
    },
  },
  {
    id: 'restart/stored',
    title: `restart with ${FULL_RESTART_RECORDS} records stored (quick: ${QUICK_RESTART_RECORDS}): SIGTERM, start, first Echo`,
    modes: ['quick', 'full'],
    timeoutMs: { quick: 120_000, full: 400_000 },
    async run(ctx, scope) {
      const records = ctx.mode === 'quick' ? QUICK_RESTART_RECORDS : FULL_RESTART_RECORDS;
      const dir = scope.tempDir();
      let server = await startHStream(scope, { dataDir: dir });
      const streamName = 'bench_restart';
      const shardId = await createStream(server.client, streamName);
      ctx.progress(`  prefilling ${records} records`);
      await prefill(server.client, streamName, shardId, batchPool(100), records, 300_000);
      const tail = await tailBatchId(server.client, streamName, shardId);
      // one untimed restart so every timed one starts from the same (warm page cache) state
      await stopHStream(scope, server);
      server = await startHStream(scope, { dataDir: dir });
      const restart: Rep[] = [];
      const shutdown: number[] = [];
      const rss: number[] = [];
      const empty: number[] = [];
      const base: Rep[] = [];
      for (let i = 0; i < reps(ctx.timing.reps); i++) {
        shutdown.push(await stopHStream(scope, server));
        server = await startHStream(scope, { dataDir: dir });
        restart.push({ value: server.startMs });
        const after = await tailBatchId(server.client, streamName, shardId);
        if (after !== tail) throw new Error(`after restart the tail is ${after}, before it was ${tail}`);
        rss.push(rssMb(server.child.pid));
        const b = await startBaseline(scope);
        base.push({ value: b.startMs });
        await stopBaseline(scope, b);
        const emptyDir = scope.tempDir();
        const e = await startHStream(scope, { dataDir: emptyDir });
        empty.push(e.startMs);
        await stopHStream(scope, e);
        scope.removeDir(emptyDir);
      }
      await stopHStream(scope, server);
      ctx.baselines.add(START_BASELINE_NAME, 'ms', 'lower', base);
      const extra: Record<string, number | string> = {
        records,
        shutdownMs: Math.round(median(shutdown)),
        emptyStoreStartMs: Math.round(median(empty)),
        rssAfterRestartMb: Math.round(median(rss) * 10) / 10,
      };
      if (records !== FULL_RESTART_RECORDS) extra.note = `quick mode: ${records} records instead of ${FULL_RESTART_RECORDS}`;
      return [compared(`restart/records=${records}/to-first-echo`, 'ms', 'lower', restart, { name: START_BASELINE_NAME, reps: base }, extra)];
    },
  },
];
