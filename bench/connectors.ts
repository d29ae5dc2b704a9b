/**
 * Sink connectors end to end, each against a baseline measured in the same
 * run, reps interleaved:
 * - the hstream mirror: records/s from a source server into a second
 *   server, against our own Append of the same records into that server
 *   (100×1 KiB per call, 16 calls in flight: what a fast client gets).
 * Each rep: the source stream is filled first (untimed); the time runs from
 * CreateConnector until the connector reports every record delivered.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { HStreamClient } from '../src/client.js';
import { CALL_DEADLINE_MS, createStream, prefill, startHStream, type HStreamTarget } from './clients.js';
import type { Rep } from './harness.js';
import { batchPool } from './payload.js';
import { compared, type Scenario } from './scenario.js';

const MIRROR_BASELINE = 'baseline/hstreamlite/append-batch=100x1KiB/inflight=16';

/** Records the connector says it delivered (GetStats connStat, as upstream's). */
export async function delivered(client: HStreamClient, connector: string): Promise<number> {
  const res = await client.unary<{ statsValues: Array<{ statValues: Record<string, string> }> }>(
    'GetStats',
    { stats: [{ connStat: 'DeliveredInRecords' }] },
    { deadlineMs: CALL_DEADLINE_MS },
  );
  return Number(res.statsValues[0]?.statValues[connector] ?? 0);
}

export async function untilDelivered(client: HStreamClient, connector: string, records: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while ((await delivered(client, connector)) < records) {
    if (performance.now() > deadline) throw new Error(`connector ${connector} delivered ${await delivered(client, connector)} of ${records} records within ${timeoutMs} ms`);
    await sleep(10);
  }
}

async function mirrorRep(source: HStreamTarget, target: HStreamTarget, i: number, records: number): Promise<Rep> {
  const pool = batchPool(100);
  const stream = `bench_mirror_${i}`;
  const shardId = await createStream(source.client, stream);
  await prefill(source.client, stream, shardId, pool, records, 120_000);
  const t0 = performance.now();
  await source.client.unary(
    'CreateConnector',
    { name: `mirror_${i}`, type: 'SINK', target: 'hstream', config: JSON.stringify({ stream, serviceUrl: `hstream://${target.child.address}` }) },
    { deadlineMs: CALL_DEADLINE_MS },
  );
  await untilDelivered(source.client, `mirror_${i}`, records, 120_000);
  const s = (performance.now() - t0) / 1000;
  await source.client.unary('DeleteConnector', { name: `mirror_${i}` }, { deadlineMs: CALL_DEADLINE_MS });
  return { value: records / s };
}

async function appendRep(target: HStreamTarget, i: number, records: number): Promise<Rep> {
  const pool = batchPool(100);
  const stream = `bench_append_${i}`;
  const shardId = await createStream(target.client, stream);
  const t0 = performance.now();
  await prefill(target.client, stream, shardId, pool, records, 120_000);
  return { value: records / ((performance.now() - t0) / 1000) };
}

export const connectorScenarios: Scenario[] = [
  {
    id: 'connector/mirror',
    title: 'hstream mirror sink: records/s into a second server, vs our own Append of the same records there',
    modes: ['quick', 'full'],
    timeoutMs: { quick: 240_000, full: 480_000 },
    async run(ctx, scope) {
      const records = ctx.mode === 'quick' ? 50_000 : 200_000;
      const source = await startHStream(scope, { dataDir: scope.tempDir() });
      const target = await startHStream(scope, { dataDir: scope.tempDir() });
      // warm both servers' paths once
      await appendRep(target, -1, 10_000);
      await mirrorRep(source, target, -1, 10_000);
      const mirror: Rep[] = [];
      const base: Rep[] = [];
      for (let i = 0; i < ctx.timing.reps; i++) {
        ctx.progress(`connector/mirror rep ${i + 1}`);
        if (i % 2 === 0) {
          base.push(await appendRep(target, i, records));
          mirror.push(await mirrorRep(source, target, i, records));
        } else {
          mirror.push(await mirrorRep(source, target, i, records));
          base.push(await appendRep(target, i, records));
        }
      }
      ctx.baselines.add(MIRROR_BASELINE, 'rec/s', 'higher', base);
      return [compared(`connector/mirror/records=${records}x1KiB`, 'rec/s', 'higher', mirror, { name: MIRROR_BASELINE, reps: base })];
    },
  },
];
