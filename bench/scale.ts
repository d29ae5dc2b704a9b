/**
 * Many streams in one process (issue 16): creating 100k one-shard streams
 * with 16 calls in flight, listing them, appends spread over 10k of them
 * from 100 clients, restart and idle RSS with them stored; and 1,000 idle
 * consumers on 1,000 subscriptions. Quick mode uses 10k streams (the rows
 * say so in `extra.note`).
 *
 * Baselines, each measured interleaved with its figure: a bare grpc-js unary
 * call (create), a bare server stream of the reply's bytes (list), the same
 * 100 clients on a single stream (spread appends), our own server on an empty
 * store (restart, idle RSS), and the same server with no consumer attached
 * (idle consumers).
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { HStreamClient } from '../src/client.js';
import { hstreamApiDefinition } from '../src/proto.js';
import {
  baselineEmptyCall,
  baselineStream,
  CALL_DEADLINE_MS,
  createStream,
  prefill,
  startBaseline,
  stopBaseline,
  startHStream,
  stopHStream,
  type HStreamTarget,
} from './clients.js';
import { attachConsumer, createSubscription, type Consumer } from './consumer.js';
import { anonRssMb, closedLoop, loopRecords, median, paired, processCpuMs, rssMb, withCpu, type Call, type Measure, type Rep, type Scope } from './harness.js';
import { cpuMsPerSecond } from './idle.js';
import { RawGrpcClient } from './raw-grpc.js';
import { APPEND_PATH, appendRequestCodec } from './baseline-proto.js';
import { batchPool, type BatchPool } from './payload.js';
import { compared, type Result, type Scenario } from './scenario.js';
import type { Mode } from './harness.js';

const FULL_STREAMS = 100_000;
const QUICK_STREAMS = 10_000;
const CREATE_INFLIGHT = 16;
const SPREAD_STREAMS = 10_000;
const SPREAD_CLIENTS = 100;
const FULL_RESTART_RECORDS = 1_000_000;
const QUICK_RESTART_RECORDS = 200_000;
const IDLE_CONSUMERS = 1_000;
/** how long a server sits idle after its first Echo (or after consumers attach) before RSS is read */
const IDLE_MS = 1_000;
/**
 * When idle RSS after a restart is read again: V8 keeps the young generation start-up grew and
 * start-up's garbage until its memory reducer runs, 20–35 s into an idle 100k-stream server here
 * (8–10 s into an empty one). Full mode only: it adds 45 s to every start of the restart rows.
 */
const SETTLED_MS = 45_000;

export const CREATE_BASELINE_NAME = `baseline/grpc-unary/empty/inflight=${CREATE_INFLIGHT}`;
const RAW_CREATE_BASELINE_NAME = `baseline/http2-unary/empty/inflight=${CREATE_INFLIGHT}`;
export const LIST_BASELINE_NAME = 'baseline/grpc-server-stream/list-reply-bytes';
export const EMPTY_START_NAME = 'baseline/hstreamlite/empty-store-to-first-echo';
export const EMPTY_RSS_NAME = 'baseline/hstreamlite/empty-store-idle-rss';
const EMPTY_SETTLED_RSS_NAME = 'baseline/hstreamlite/empty-store-idle-rss/settled';
const NO_CONSUMERS_CPU_NAME = 'baseline/hstreamlite/no-consumers-idle-cpu-percent';
const NO_CONSUMERS_RSS_NAME = 'baseline/hstreamlite/no-consumers-rss';

const streamName = (i: number) => `scale_${String(i).padStart(6, '0')}`;
const round = (x: number, digits = 1) => Math.round(x * 10 ** digits) / 10 ** digits;

/** Runs `count` calls, `inflight` at a time; resolves with the elapsed ms. */
async function inParallel(count: number, inflight: number, call: (i: number) => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: inflight }, async () => {
      while (next < count) await call(next++);
    }),
  );
  return performance.now() - t0;
}

/** A client on its own HTTP/2 connection (grpc-js shares one per target otherwise). */
function ownConnection(address: string): HStreamClient {
  return new HStreamClient(address, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
}

/**
 * `clients.length` Appends in flight, each on the next client in turn (so
 * about one per connection), each to the stream `pick()` chooses.
 */
function appendLoad(clients: HStreamClient[], targets: Array<{ stream: string; shard: string }>, pool: BatchPool, pick: () => number, repMs: number): Measure {
  let turn = 0;
  const call = async (): Promise<number> => {
    const client = clients[turn++ % clients.length]!;
    const t = targets[pick()]!;
    const res = await client.unary<{ recordIds: unknown[] }>(
      'Append',
      { streamName: t.stream, shardId: t.shard, records: { compressionType: 'None', batchSize: pool.batchSize, payload: pool.payloads[pool.next()]! } },
      { deadlineMs: CALL_DEADLINE_MS },
    );
    if (res.recordIds.length !== pool.batchSize) throw new Error(`Append acked ${res.recordIds.length} of ${pool.batchSize} records`);
    return pool.batchSize;
  };
  return {
    warmUp: async () => {
      await closedLoop(call, clients.length, 1_000);
    },
    rep: () => closedLoop(call, clients.length, repMs),
  };
}

function noteFor(mode: Mode, streams: number, records: number): Record<string, string> {
  return mode === 'quick' ? { note: `quick mode: ${streams} streams and ${records} records instead of ${FULL_STREAMS} and ${FULL_RESTART_RECORDS}` } : {};
}

type Ctx = Parameters<Scenario['run']>[0];

/**
 * `streams` creates split over the reps (`create(name)` each), paired with reps of `empty` calls
 * to the bare server `basePid`, 16 in flight on both sides.
 */
async function pairedCreates(
  ctx: Ctx,
  streams: number,
  serverPid: number,
  create: (name: string) => Promise<unknown>,
  basePid: number,
  empty: Call,
): Promise<{ subject: Rep[]; baseline: Rep[] }> {
  const reps = Math.max(3, ctx.timing.reps);
  const perRep = Math.ceil(streams / reps);
  let created = 0;
  const measured = await paired(
    {
      warmUp: async () => undefined,
      rep: () => {
        const count = Math.min(perRep, streams - created);
        const first = created;
        created += count;
        // CPU per 1k creates on both sides: with the machine loaded, the rate alone says little
        return withCpu(serverPid, count, async () => {
          const ms = await inParallel(count, CREATE_INFLIGHT, (i) => create(streamName(first + i)));
          return { value: (count * 1000) / ms };
        });
      },
    },
    {
      warmUp: async () => {
        await closedLoop(empty, CREATE_INFLIGHT, ctx.timing.warmUpMs);
      },
      rep: () => withCpu(basePid, loopRecords(ctx.timing.repMs), () => closedLoop(empty, CREATE_INFLIGHT, ctx.timing.repMs)),
    },
    reps,
  );
  if (created !== streams) throw new Error(`created ${created} of ${streams} streams`);
  return measured;
}

const oneShard = (streamName: string) => ({ streamName, replicationFactor: 1, backlogDuration: 0, shardCount: 1 });

async function createRows(ctx: Ctx, scope: Scope, server: HStreamTarget, streams: number): Promise<Result> {
  const base = await startBaseline(scope);
  const measured = await pairedCreates(
    ctx,
    streams,
    server.child.pid,
    (name) => server.client.unary('CreateStream', oneShard(name), { deadlineMs: CALL_DEADLINE_MS }),
    base.child.pid,
    baselineEmptyCall(base.client),
  );
  ctx.baselines.add(CREATE_BASELINE_NAME, 'calls/s', 'higher', measured.baseline);
  return compared(`scale/create/streams=${streams}/inflight=${CREATE_INFLIGHT}`, 'streams/s', 'higher', measured.subject, {
    name: CREATE_BASELINE_NAME,
    reps: measured.baseline,
  });
}

/**
 * The create row again with a client that costs about half of grpc-js's CPU per call
 * (raw-grpc.ts), on a fresh store: with grpc-js the client used more CPU per create than the
 * server did, so on two cores the first row measures the client as much as the server. Its
 * baseline is the same client's empty unary call against the bare grpc-js server.
 */
async function rawCreateRow(ctx: Ctx, scope: Scope, streams: number, note: Record<string, string>): Promise<Result> {
  const server = await startHStream(scope, { dataDir: scope.tempDir() });
  const base = await startBaseline(scope);
  const ours = await RawGrpcClient.connect(server.child.address);
  const bare = await RawGrpcClient.connect(base.child.address);
  try {
    const create = hstreamApiDefinition().CreateStream!;
    const empty = appendRequestCodec.serialize({ records: [] });
    const measured = await pairedCreates(
      ctx,
      streams,
      server.child.pid,
      (name) => ours.unary(create.path, create.requestSerialize(oneShard(name)), CALL_DEADLINE_MS),
      base.child.pid,
      async () => {
        await bare.unary(APPEND_PATH, empty, CALL_DEADLINE_MS);
        return 1;
      },
    );
    const listed = await server.client.unary<{ streams: unknown[] }>('ListStreamsWithPrefix', { prefix: 'scale_' }, { deadlineMs: CALL_DEADLINE_MS });
    if (listed.streams.length !== streams) throw new Error(`${listed.streams.length} of ${streams} streams created are listed`);
    ctx.baselines.add(RAW_CREATE_BASELINE_NAME, 'calls/s', 'higher', measured.baseline);
    return compared(`scale/create/streams=${streams}/inflight=${CREATE_INFLIGHT}/client=http2`, 'streams/s', 'higher', measured.subject, {
      name: RAW_CREATE_BASELINE_NAME,
      reps: measured.baseline,
    }, note);
  } finally {
    ours.close();
    bare.close();
    await stopBaseline(scope, base);
    await stopHStream(scope, server);
  }
}

async function listRows(ctx: Ctx, scope: Scope, server: HStreamTarget, streams: number): Promise<Result[]> {
  const base = await startBaseline(scope);
  const bytesOnly = new grpc.Client(server.child.address, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': -1, 'grpc.use_local_subchannel_pool': 1 });
  const rows: Result[] = [];
  try {
    for (const [rpc, request] of [
      ['ListStreams', {}],
      ['ListStreamsWithPrefix', { prefix: 'scale_' }],
    ] as Array<[string, Record<string, unknown>]>) {
      const list = async (): Promise<Rep> => {
        const cpu0 = processCpuMs(server.child.pid);
        const t0 = performance.now();
        const res = await server.client.unary<{ streams: unknown[] }>(rpc, request, { deadlineMs: CALL_DEADLINE_MS });
        const ms = performance.now() - t0;
        if (res.streams.length !== streams) throw new Error(`${rpc} listed ${res.streams.length} of ${streams} streams`);
        // the server's share (10 ms clock ticks): the rest of the call is our client decoding every Stream message
        const serverCpuMs = processCpuMs(server.child.pid) - cpu0;
        const t1 = performance.now();
        await listBytes(bytesOnly, rpc, request);
        return { value: ms, extra: { serverCpuMs, bytesOnlyMs: round(performance.now() - t1) } };
      };
      // the reply's size, to send the same bytes through the bare server stream
      const replyBytes = (await listBytes(bytesOnly, rpc, request)).length;
      const stream = async (): Promise<Rep> => {
        const t0 = performance.now();
        await baselineStream(base.client, 1, replyBytes);
        return { value: performance.now() - t0 };
      };
      const measured = await paired(
        { warmUp: async () => void (await list()), rep: list },
        { warmUp: async () => void (await stream()), rep: stream },
        Math.max(5, ctx.timing.reps),
      );
      ctx.baselines.add(LIST_BASELINE_NAME, 'ms', 'lower', measured.baseline);
      rows.push(
        compared(`scale/${rpc}/streams=${streams}`, 'ms', 'lower', measured.subject, { name: LIST_BASELINE_NAME, reps: measured.baseline }, {
          replyBytes,
          measures: 'client-side time of one call with our client, decode of every Stream message into objects included; bytesOnlyMs: the same call left as bytes (server and transport); the baseline sends the same bytes as one message',
        }),
      );
    }
  } finally {
    bytesOnly.close();
  }
  return rows;
}

/** A listing call whose reply is left as bytes: the server's and the transport's part of the call. */
function listBytes(client: grpc.Client, rpc: string, request: Record<string, unknown>): Promise<Buffer> {
  const method = hstreamApiDefinition()[rpc]!;
  return new Promise<Buffer>((resolve, reject) => {
    client.makeUnaryRequest(method.path, method.requestSerialize, (b: Buffer) => b, request, { deadline: Date.now() + CALL_DEADLINE_MS }, (err, value) =>
      err || !value ? reject(err ?? new Error(`${rpc}: no reply`)) : resolve(value),
    );
  });
}

async function spreadRows(ctx: Ctx, server: HStreamTarget): Promise<{ row: Result; records: number }> {
  const pool = batchPool(100);
  const targets: Array<{ stream: string; shard: string }> = [];
  await inParallel(SPREAD_STREAMS, CREATE_INFLIGHT, async (i) => {
    const res = await server.client.unary<{ shards: Array<{ shardId: string }> }>('ListShards', { streamName: streamName(i) }, { deadlineMs: CALL_DEADLINE_MS });
    targets[i] = { stream: streamName(i), shard: res.shards[0]!.shardId };
  });
  const clients = Array.from({ length: SPREAD_CLIENTS }, () => ownConnection(server.child.address));
  try {
    let seed = 1;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % SPREAD_STREAMS;
    };
    const spread = appendLoad(clients, targets, pool, random, ctx.timing.repMs);
    const single = appendLoad(clients, targets, pool, () => 0, ctx.timing.repMs);
    const measured = await paired(spread, single, ctx.timing.reps);
    const name = `scale/append-spread/streams=${SPREAD_STREAMS}/clients=${SPREAD_CLIENTS}/batch=100x1KiB`;
    const baselineName = `baseline/hstreamlite/append-one-stream/clients=${SPREAD_CLIENTS}/batch=100x1KiB`;
    ctx.baselines.add(baselineName, 'rec/s', 'higher', measured.baseline);
    const records = [...measured.subject, ...measured.baseline].reduce((sum, r) => sum + (r.value * ctx.timing.repMs) / 1000, 0);
    return { row: compared(name, 'rec/s', 'higher', measured.subject, { name: baselineName, reps: measured.baseline }), records };
  } finally {
    for (const c of clients) c.close();
  }
}

async function restartRows(
  ctx: Ctx,
  scope: Scope,
  server: HStreamTarget,
  streams: number,
  /** streams beside the N measured ones (the top-up stream) */
  more: number,
  records: number,
): Promise<Result[]> {
  const reps = Math.max(3, ctx.timing.reps);
  const restart: Rep[] = [];
  const rss: Rep[] = [];
  const anon: number[] = [];
  const emptyAnon: number[] = [];
  const emptyStart: Rep[] = [];
  const emptyRss: Rep[] = [];
  const settled: Rep[] = [];
  const emptySettled: Rep[] = [];
  const readSettled = ctx.mode === 'full';
  for (let i = 0; i < reps; i++) {
    const order = i % 2 === 0 ? ['ours', 'empty'] : ['empty', 'ours'];
    for (const which of order) {
      if (which === 'ours') {
        await stopHStream(scope, server);
        const s = await startHStream(scope, { dataDir: server.dataDir });
        Object.assign(server, s);
        restart.push({ value: s.startMs });
        const listed = await s.client.unary<{ streams: unknown[] }>('ListStreamsWithPrefix', { prefix: 'scale_' }, { deadlineMs: CALL_DEADLINE_MS });
        if (listed.streams.length !== streams + more) throw new Error(`after restart ${listed.streams.length} of ${streams + more} streams are listed`);
        await sleep(IDLE_MS);
        rss.push({ value: rssMb(s.child.pid) });
        anon.push(anonRssMb(s.child.pid));
        if (readSettled) {
          await sleep(SETTLED_MS - IDLE_MS);
          settled.push({ value: rssMb(s.child.pid) });
        }
      } else {
        const dir = scope.tempDir();
        const e = await startHStream(scope, { dataDir: dir });
        emptyStart.push({ value: e.startMs });
        await sleep(IDLE_MS);
        emptyRss.push({ value: rssMb(e.child.pid) });
        emptyAnon.push(anonRssMb(e.child.pid));
        if (readSettled) {
          await sleep(SETTLED_MS - IDLE_MS);
          emptySettled.push({ value: rssMb(e.child.pid) });
        }
        await stopHStream(scope, e);
        scope.removeDir(dir);
      }
    }
  }
  ctx.baselines.add(EMPTY_START_NAME, 'ms', 'lower', emptyStart);
  ctx.baselines.add(EMPTY_RSS_NAME, 'MB', 'lower', emptyRss, { idleMs: IDLE_MS });
  if (readSettled) ctx.baselines.add(EMPTY_SETTLED_RSS_NAME, 'MB', 'lower', emptySettled, { idleMs: SETTLED_MS });
  const note = noteFor(ctx.mode, streams, records);
  const perStreamKb = ((median(rss.map((r) => r.value)) - median(emptyRss.map((r) => r.value))) * 1e3) / streams;
  return [
    compared(`scale/restart/streams=${streams}/records=${records}/to-first-echo`, 'ms', 'lower', restart, { name: EMPTY_START_NAME, reps: emptyStart }, note),
    compared(`scale/idle-rss/streams=${streams}/after-restart`, 'MB', 'lower', rss, { name: EMPTY_RSS_NAME, reps: emptyRss }, {
      ...note,
      idleMs: IDLE_MS,
      kbPerStreamAboveEmpty: round(perStreamKb, 2),
      anonRssMb: round(median(anon)),
      emptyStoreAnonRssMb: round(median(emptyAnon)),
      anonKbPerStreamAboveEmpty: round(((median(anon) - median(emptyAnon)) * 1e3) / streams, 2),
    }),
    ...(readSettled
      ? [
          compared(`scale/idle-rss/streams=${streams}/after-restart/settled`, 'MB', 'lower', settled, { name: EMPTY_SETTLED_RSS_NAME, reps: emptySettled }, {
            idleMs: SETTLED_MS,
            kbPerStreamAboveEmpty: round(((median(settled.map((r) => r.value)) - median(emptySettled.map((r) => r.value))) * 1e3) / streams, 2),
          }),
        ]
      : []),
  ];
}

/** CPU of the process as % of one core (cpu-ms per s / 10). */
async function cpuPercent(pid: number, ms: number): Promise<Rep> {
  return { value: (await cpuMsPerSecond(pid, ms)).value / 10 };
}

export const scaleScenarios: Scenario[] = [
  {
    id: 'scale/streams',
    title: `${FULL_STREAMS} one-shard streams (quick: ${QUICK_STREAMS}): create with ${CREATE_INFLIGHT} in flight, list, appends over ${SPREAD_STREAMS} from ${SPREAD_CLIENTS} clients, restart and idle RSS`,
    modes: ['quick', 'full'],
    timeoutMs: { quick: 240_000, full: 900_000 },
    async run(ctx, scope) {
      const streams = ctx.mode === 'quick' ? QUICK_STREAMS : FULL_STREAMS;
      const records = ctx.mode === 'quick' ? QUICK_RESTART_RECORDS : FULL_RESTART_RECORDS;
      const note = noteFor(ctx.mode, streams, records);
      const server = await startHStream(scope, { dataDir: scope.tempDir() });
      ctx.progress(`  creating ${streams} streams`);
      const create = await createRows(ctx, scope, server, streams);
      create.extra = { ...create.extra, ...note };
      ctx.progress('  listing');
      const list = (await listRows(ctx, scope, server, streams)).map((r) => ({ ...r, extra: { ...r.extra, ...note } }));
      ctx.progress(`  appends over ${SPREAD_STREAMS} streams`);
      const spread = await spreadRows(ctx, server);
      if (spread.records < records) {
        ctx.progress(`  topping up to ${records} records`);
        const shardId = await createStream(server.client, 'scale_fill');
        await prefill(server.client, 'scale_fill', shardId, batchPool(100), records - spread.records, 300_000);
      }
      ctx.progress('  restarts');
      const restart = await restartRows(ctx, scope, server, streams, spread.records < records ? 1 : 0, records);
      await stopHStream(scope, server);
      ctx.progress(`  creating ${streams} streams with a raw HTTP/2 client`);
      const rawCreate = await rawCreateRow(ctx, scope, streams, note);
      return [create, rawCreate, ...list, spread.row, ...restart];
    },
  },
  {
    id: 'scale/idle-consumers',
    title: `server CPU and RSS with ${IDLE_CONSUMERS} idle consumers on ${IDLE_CONSUMERS} subscriptions (one stream each), vs the same server with none`,
    modes: ['quick', 'full'],
    timeoutMs: { quick: 180_000, full: 240_000 },
    async run(ctx, scope) {
      const server = await startHStream(scope, { dataDir: scope.tempDir() });
      ctx.progress(`  ${IDLE_CONSUMERS} streams and subscriptions`);
      await inParallel(IDLE_CONSUMERS, CREATE_INFLIGHT, async (i) => {
        await server.client.unary('CreateStream', { streamName: streamName(i), replicationFactor: 1, backlogDuration: 0, shardCount: 1 }, { deadlineMs: CALL_DEADLINE_MS });
        await createSubscription(server.client, `scale_sub_${i}`, streamName(i), 100);
      });
      const repMs = Math.max(3_000, ctx.timing.repMs);
      const cpu = { idle: [] as Rep[], attached: [] as Rep[] };
      const rss = { idle: [] as Rep[], attached: [] as Rep[] };
      for (let i = 0; i < Math.max(3, ctx.timing.reps); i++) {
        await sleep(IDLE_MS);
        rss.idle.push({ value: rssMb(server.child.pid) });
        cpu.idle.push(await cpuPercent(server.child.pid, repMs));
        const consumers: Consumer[] = [];
        for (let c = 0; c < IDLE_CONSUMERS; c++) consumers.push(attachConsumer(server.client, `scale_sub_${c}`, undefined, `c${c}`));
        // every consumer attached (an Echo after the last write is served after it) and settled
        await server.client.unary('Echo', { msg: 'bench' }, { deadlineMs: CALL_DEADLINE_MS });
        await sleep(IDLE_MS);
        rss.attached.push({ value: rssMb(server.child.pid) });
        cpu.attached.push(await cpuPercent(server.child.pid, repMs));
        const failed = consumers.find((c) => c.failure());
        if (failed) throw new Error(`an idle consumer failed: ${failed.failure()!.message}`);
        for (const c of consumers) c.cancel();
      }
      await stopHStream(scope, server);
      ctx.baselines.add(NO_CONSUMERS_CPU_NAME, '% of a core', 'lower', cpu.idle);
      ctx.baselines.add(NO_CONSUMERS_RSS_NAME, 'MB', 'lower', rss.idle);
      const kbPerConsumer = ((median(rss.attached.map((r) => r.value)) - median(rss.idle.map((r) => r.value))) * 1e3) / IDLE_CONSUMERS;
      return [
        compared(`scale/idle-consumers=${IDLE_CONSUMERS}/server-cpu`, '% of a core', 'lower', cpu.attached, { name: NO_CONSUMERS_CPU_NAME, reps: cpu.idle }, { repMs }),
        compared(`scale/idle-consumers=${IDLE_CONSUMERS}/server-rss`, 'MB', 'lower', rss.attached, { name: NO_CONSUMERS_RSS_NAME, reps: rss.idle }, {
          kbPerConsumer: round(kbPerConsumer, 2),
        }),
      ];
    },
  },
];
