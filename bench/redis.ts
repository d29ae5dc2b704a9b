/**
 * A real peer: Redis 7 Streams, what users pick for "a light local stream
 * store". Debian's redis-server is started by the bench on a free loopback
 * port in a temp dir (as `nobody` when we are root), once with persistence
 * off and once with `appendonly yes, appendfsync everysec`, stopped after.
 * Measured interleaved with our rows (each round runs ours and both Redis
 * set-ups, the order rotating):
 *
 * - append: 100×1 KiB records per call, XADD pipelined 100 per round trip
 *   (one pipeline in flight and 32, on one connection) against our Append of
 *   one 100-record batch (1 and 32 in flight, one connection, no --fsync);
 * - delivery: a 200k-record backlog read by one acking consumer, XREADGROUP
 *   COUNT 1000 + XACK of every id against our StreamingFetch (a fresh
 *   subscription, every RecordId acked).
 *
 * The row's baseline is Redis without persistence (the faster of the two);
 * the appendfsync everysec figure and ratio are in `extra`.
 */
import type { ChildProcess } from 'node:child_process';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { appendCall, createStream, prefill, startHStream } from './clients.js';
import { dbTempDir, freePort, spawnAsDbUser, stopProcess, waitUntilReady } from './db-process.js';
import { consume } from './delivery.js';
import { adoptChild, closedLoop, interleaved, loopRecords, median, withCpu, type Measure, type Rep, type Scope } from './harness.js';
import { batchPool, type BatchPool } from './payload.js';
import { compared, SkipScenario, type BenchContext, type Result, type Scenario } from './scenario.js';
import { rmSync } from 'node:fs';

const BATCH = 100;
const BACKLOG = 200_000;
const READ_COUNT = 1_000;
/** Redis keeps streams in memory: the append key is trimmed (cheaply, whole nodes) so a run stays bounded */
const APPEND_MAXLEN = 200_000;
const KEY = 'bench_stream';

type Persistence = 'off' | 'everysec';

const PERSISTENCE_ARGS: Record<Persistence, string[]> = {
  off: ['--save', '', '--appendonly', 'no'],
  everysec: ['--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec'],
};

interface RedisPeer {
  pid: number;
  client: Redis;
  persistence: Persistence;
}

function redisUnavailable(): string | undefined {
  return spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0 ? undefined : 'redis-server not found (apt-get install redis-server): Redis peer rows skipped';
}

/** redis-server on a free loopback port in its own temp dir; stopped and removed when the scope closes. */
async function startRedis(scope: Scope, persistence: Persistence): Promise<RedisPeer> {
  const dir = dbTempDir('hstreamlite-bench-redis-');
  const port = await freePort();
  const logFile = join(dir, 'redis.log');
  const child: ChildProcess = spawnAsDbUser(
    ['redis-server', '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--daemonize', 'no', '--logfile', '', ...PERSISTENCE_ARGS[persistence]],
    dir,
    logFile,
  );
  adoptChild(child);
  const client = new Redis({ host: '127.0.0.1', port, lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: true });
  client.on('error', () => undefined); // the probe below reports failures
  scope.onClose(async () => {
    client.disconnect();
    await stopProcess(child, 'SIGTERM', 10_000);
    rmSync(dir, { recursive: true, force: true });
  });
  await waitUntilReady(`redis-server (${persistence})`, child, logFile, async () => {
    if (client.status !== 'ready') await client.connect().catch(async (err: unknown) => {
      client.disconnect();
      throw err;
    });
    await client.ping();
  }, 30_000);
  return { pid: child.pid!, client, persistence };
}

/** One pipeline of BATCH XADDs of the pool's next batch. */
function xaddCall(redis: Redis, pool: BatchPool): () => Promise<number> {
  return async () => {
    const pipeline = redis.pipeline();
    for (const record of pool.records[pool.next()]!) pipeline.xadd(KEY, 'MAXLEN', '~', APPEND_MAXLEN, '*', 'd', record);
    const replies = (await pipeline.exec()) ?? [];
    const failed = replies.find(([err]) => err);
    if (replies.length !== BATCH || failed) throw new Error(`XADD pipeline: ${failed?.[0]?.message ?? `${replies.length} replies`}`);
    return BATCH;
  };
}

function loadOf(call: () => Promise<number>, pid: number, inflight: number, ctx: BenchContext): Measure {
  return {
    warmUp: async () => void (await closedLoop(call, inflight, ctx.timing.warmUpMs)),
    rep: () => withCpu(pid, loopRecords(ctx.timing.repMs), () => closedLoop(call, inflight, ctx.timing.repMs)),
  };
}

let groupSeq = 0;

/** XREADGROUP COUNT 1000 from a new group at 0, XACK of every id (not awaited: it travels with the next read). */
async function redisConsume(redis: Redis, records: number): Promise<number> {
  const group = `g${++groupSeq}`;
  await redis.xgroup('CREATE', KEY, group, '0');
  let received = 0;
  const acks: Array<Promise<unknown>> = [];
  try {
    while (received < records) {
      // as Buffers, like our client's payloads: decoding 1 KiB of random bytes as UTF-8 strings would bill Redis for the client's work
      const reply = (await redis.xreadgroupBuffer('GROUP', group, 'c', 'COUNT', READ_COUNT, 'STREAMS', KEY, '>')) as Array<[Buffer, Array<[Buffer, Buffer[]]>]> | null;
      const entries = reply?.[0]?.[1] ?? [];
      if (entries.length === 0) throw new Error(`XREADGROUP returned nothing after ${received} of ${records} records`);
      received += entries.length;
      acks.push(redis.xack(KEY, group, ...entries.map(([id]) => id)));
    }
    await Promise.all(acks);
  } finally {
    await redis.xgroup('DESTROY', KEY, group);
  }
  return received;
}

function figure(reps: readonly Rep[]): number {
  return median(reps.map((r) => r.value));
}

function peerExtra(everysec: readonly Rep[], ours: readonly Rep[]): Record<string, number> {
  return {
    redisEverysec: Math.round(figure(everysec)),
    ratioToRedisEverysec: Math.round((figure(ours) / figure(everysec)) * 100) / 100,
  };
}

const baselineName = (what: string, persistence: Persistence) => `baseline/redis/${what}/persistence=${persistence === 'off' ? 'off' : 'aof-everysec'}`;

export const redisScenarios: Scenario[] = [
  {
    id: 'redis-peer/append',
    title: `Append of ${BATCH}×1 KiB (1 and 32 in flight) vs Redis XADD pipelined ${BATCH} (1 and 32 pipelines), persistence off and appendfsync everysec`,
    modes: ['quick', 'full'],
    timeoutMs: { quick: 120_000, full: 240_000 },
    async run(ctx, scope) {
      const why = redisUnavailable();
      if (why) throw new SkipScenario(why);
      const pool = batchPool(BATCH);
      const server = await startHStream(scope, { dataDir: scope.tempDir() });
      const shardId = await createStream(server.client, 'bench_redis_peer');
      const peers = [await startRedis(scope, 'off'), await startRedis(scope, 'everysec')];
      const rows: Result[] = [];
      for (const inflight of [1, 32]) {
        const ours = loadOf(appendCall(server.client, 'bench_redis_peer', shardId, pool), server.child.pid, inflight, ctx);
        const measured = await interleaved(ours, peers.map((p) => loadOf(xaddCall(p.client, pool), p.pid, inflight, ctx)), ctx.timing.reps);
        const [off, everysec] = measured.baselines as [Rep[], Rep[]];
        const what = `xadd-pipeline=${BATCH}x1KiB/inflight=${inflight}`;
        ctx.baselines.add(baselineName(what, 'off'), 'rec/s', 'higher', off);
        ctx.baselines.add(baselineName(what, 'everysec'), 'rec/s', 'higher', everysec);
        rows.push(
          compared(`redis-peer/append/batch=${BATCH}x1KiB/inflight=${inflight}`, 'rec/s', 'higher', measured.subject, { name: baselineName(what, 'off'), reps: off }, {
            ...peerExtra(everysec, measured.subject),
            note: 'ours without --fsync; Redis pipelines on one connection, MAXLEN ~ 200000',
          }),
        );
      }
      return rows;
    },
  },
  {
    id: 'redis-peer/delivery',
    title: `delivery of a ${BACKLOG}-record backlog to one acking consumer: StreamingFetch vs Redis XREADGROUP COUNT ${READ_COUNT} + XACK`,
    modes: ['quick', 'full'],
    timeoutMs: { quick: 180_000, full: 300_000 },
    async run(ctx, scope) {
      const why = redisUnavailable();
      if (why) throw new SkipScenario(why);
      const pool = batchPool(BATCH);
      const server = await startHStream(scope, { dataDir: scope.tempDir() });
      const streamName = 'bench_redis_delivery';
      const shardId = await createStream(server.client, streamName);
      ctx.progress(`  prefilling ${BACKLOG} records in each`);
      await prefill(server.client, streamName, shardId, pool, BACKLOG, 120_000);
      const peers = [await startRedis(scope, 'off'), await startRedis(scope, 'everysec')];
      for (const peer of peers) {
        const fill = async () => {
          const pipeline = peer.client.pipeline();
          for (const record of pool.records[pool.next()]!) pipeline.xadd(KEY, '*', 'd', record);
          await pipeline.exec();
          return BATCH;
        };
        let filled = 0;
        await Promise.all(Array.from({ length: 16 }, async () => {
          while (filled < BACKLOG) {
            filled += BATCH;
            await fill();
          }
        }));
        const length = await peer.client.xlen(KEY);
        if (length !== BACKLOG) throw new Error(`Redis (${peer.persistence}) holds ${length} of ${BACKLOG} records`);
      }
      const timed = (pid: number, run: () => Promise<number>) => () =>
        withCpu(pid, BACKLOG, async (): Promise<Rep> => {
          const t0 = performance.now();
          const n = await run();
          if (n < BACKLOG) throw new Error(`delivered ${n} of ${BACKLOG} records`);
          return { value: (n * 1000) / (performance.now() - t0) };
        });
      const measure = (rep: () => Promise<Rep>): Measure => ({ warmUp: async () => void (await rep()), rep });
      const measured = await interleaved(
        measure(timed(server.child.pid, () => consume(server.client, streamName, BACKLOG))),
        peers.map((p) => measure(timed(p.pid, () => redisConsume(p.client, BACKLOG)))),
        ctx.timing.reps,
      );
      const [off, everysec] = measured.baselines as [Rep[], Rep[]];
      const what = `xreadgroup-count=${READ_COUNT}+xack/backlog=${BACKLOG}`;
      ctx.baselines.add(baselineName(what, 'off'), 'rec/s', 'higher', off);
      ctx.baselines.add(baselineName(what, 'everysec'), 'rec/s', 'higher', everysec);
      return [
        compared(`redis-peer/delivery/StreamingFetch/backlog=${BACKLOG}/ack-every-id`, 'rec/s', 'higher', measured.subject, { name: baselineName(what, 'off'), reps: off }, {
          ...peerExtra(everysec, measured.subject),
          maxUnackedRecords: 10_000,
        }),
      ];
    },
  },
];
