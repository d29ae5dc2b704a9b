/**
 * What idle costs: server CPU while 1,000 consumers are attached to 100
 * subscriptions and nothing is appended, against the same server process
 * with no consumer attached (measured interleaved, before and after
 * attaching). Deadlines are woken by one timer armed only when something is
 * outstanding, so the two should be the same.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { ClientDuplexStream } from '@grpc/grpc-js';
import { CALL_DEADLINE_MS, createStream, startHStream, stopHStream } from './clients.js';
import { processCpuMs, type Rep } from './harness.js';
import { compared, type Scenario } from './scenario.js';

const SUBSCRIPTIONS = 100;
const CONSUMERS_PER_SUBSCRIPTION = 10;
export const IDLE_BASELINE_NAME = 'baseline/hstreamlite/no-consumers-idle-cpu';

interface FetchRequest {
  subscriptionId: string;
  consumerName: string;
  ackIds: never[];
}

export async function cpuMsPerSecond(pid: number, ms: number): Promise<Rep> {
  const before = processCpuMs(pid);
  await sleep(ms);
  return { value: ((processCpuMs(pid) - before) * 1000) / ms };
}

export const idleScenarios: Scenario[] = [
  {
    id: 'idle/consumers',
    title: `server CPU with ${SUBSCRIPTIONS * CONSUMERS_PER_SUBSCRIPTION} attached idle consumers, vs the same server with none`,
    modes: ['quick', 'full'],
    timeoutMs: { quick: 120_000, full: 180_000 },
    async run(ctx, scope) {
      const server = await startHStream(scope, { dataDir: scope.tempDir() });
      const { client, child } = server;
      await createStream(client, 'bench_idle');
      for (let s = 0; s < SUBSCRIPTIONS; s++) {
        await client.unary(
          'CreateSubscription',
          { subscriptionId: `bench_idle_${s}`, streamName: 'bench_idle', ackTimeoutSeconds: 60, maxUnackedRecords: 100, offset: 'LATEST' },
          { deadlineMs: CALL_DEADLINE_MS },
        );
      }
      const repMs = Math.max(3_000, ctx.timing.repMs);
      const idle: Rep[] = [];
      const attached: Rep[] = [];
      for (let i = 0; i < Math.max(3, ctx.timing.reps); i++) {
        await sleep(500);
        idle.push(await cpuMsPerSecond(child.pid, repMs));
        const calls: Array<ClientDuplexStream<FetchRequest, unknown>> = [];
        for (let s = 0; s < SUBSCRIPTIONS; s++) {
          for (let c = 0; c < CONSUMERS_PER_SUBSCRIPTION; c++) {
            const call = client.bidi<FetchRequest, unknown>('StreamingFetch');
            call.on('error', () => undefined);
            call.write({ subscriptionId: `bench_idle_${s}`, consumerName: `c${c}`, ackIds: [] });
            calls.push(call);
          }
        }
        // let the attaches settle before measuring
        await sleep(1_000);
        attached.push(await cpuMsPerSecond(child.pid, repMs));
        for (const call of calls) call.cancel();
        await sleep(500);
      }
      await stopHStream(scope, server);
      ctx.baselines.add(IDLE_BASELINE_NAME, 'cpu-ms/s', 'lower', idle);
      return [
        compared(`idle/consumers=${SUBSCRIPTIONS * CONSUMERS_PER_SUBSCRIPTION}/server-cpu`, 'cpu-ms/s', 'lower', attached, { name: IDLE_BASELINE_NAME, reps: idle }, { repMs }),
      ];
    },
  },
];
