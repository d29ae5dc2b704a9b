/**
 * End-to-end latency (issue 16): a producer appends 1 KiB records at a fixed
 * rate (open loop, 5k rec/s, whatever is due every tick in one Append, as a
 * batching client does) and a subscription consumer reads the send time out
 * of each record as it arrives:
 *
 * - append → consumer, against the bare grpc-js unary round trip of the same
 *   records at the same pace (the transport's floor);
 * - append → continuous query (`WHERE` filter) → sink stream → consumer,
 *   against the same JSON records appended and consumed without the query;
 *   and the sustained rate through the query: 100-record batches, 8 in
 *   flight, until every passing record reached the consumer, against the same
 *   load consumed straight from the source stream.
 *
 * Each latency rep also says how long this process and the server were
 * paused by garbage collection meanwhile (the server's from its /metrics):
 * a record arriving during a pause waits it out, so those figures tell the
 * runtime's share of a p99 from the path's.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { observeGcPauses } from '../src/core/gc-pauses.js';
import { encodeStruct, decodeStruct } from '../src/struct.js';
import { encodeRecords, type HStreamRecord } from '../src/records.js';
import { baselineAppend, CALL_DEADLINE_MS, createStream, startBaseline, startHStream, stopBaseline, stopHStream, type HStreamTarget } from './clients.js';
import { attachConsumer, createSubscription, type Consumer } from './consumer.js';
import { freePort } from './db-process.js';
import { closedLoop, paired, percentile, withTimeout, type Measure, type Rep, type Scope } from './harness.js';
import { batchPayload, RECORD_BYTES } from './payload.js';
import { compared, type Scenario } from './scenario.js';

const RATE = 5_000;
const TICK_MS = 2;
/** an open-loop producer that falls this far behind stops issuing until calls return */
const MAX_INFLIGHT_CALLS = 256;
/**
 * After a long stall of the bench process the records due at once would make
 * an Append over the server's 1 MiB batch limit (refused, and the rep lost):
 * the rest goes out on the next ticks.
 */
const MAX_RECORDS_PER_CALL = 500;
const THROUGHPUT_BATCH = 100;
const THROUGHPUT_INFLIGHT = 8;
const FILTER_SQL = 'CREATE STREAM lat_sink AS SELECT * FROM lat_src WHERE keep = 1;';
/** ~1 KiB of JSON per record once encoded as a Struct */
const PAD = 'x'.repeat(RECORD_BYTES - 40);

type Send = (count: number, sentAt: number, seq: number) => Promise<unknown>;

/**
 * Paces `send` at RATE records/s for `ms`; resolves with how many records it
 * sent once every call returned. Replies are dropped as they come, as a
 * producer does: keeping every call's promise (and its RecordIds) until the
 * end of the rep made the bench process promote them and run a full GC
 * about every 1.5 s, each one a stall in the figure it measures.
 */
async function paced(send: Send, ms: number): Promise<number> {
  const start = performance.now();
  const end = start + ms;
  let sent = 0;
  let inflight = 0;
  let failure: unknown;
  const done = () => void inflight--;
  const failed = (err: unknown) => {
    failure ??= err;
    inflight--;
  };
  for (let now = start; now < end && failure === undefined; now = performance.now()) {
    const due = Math.min(MAX_RECORDS_PER_CALL, Math.floor(((now - start) * RATE) / 1000) - sent);
    if (due > 0 && inflight < MAX_INFLIGHT_CALLS) {
      inflight++;
      const seq = sent;
      sent += due;
      send(due, now, seq).then(done, failed);
    }
    await sleep(TICK_MS / 2);
  }
  while (inflight > 0) await sleep(TICK_MS / 2);
  if (failure !== undefined) throw failure;
  return sent;
}

const round1 = (x: number) => Math.round(x * 10) / 10;

/**
 * Runs a rep and adds the GC pauses of this (the load client's) process
 * during it: a pause here delays every record arriving meanwhile just as a
 * server pause does, so the row says how much of its p99 the client caused.
 */
async function withClientGc(rep: () => Promise<Rep>): Promise<Rep> {
  const pauses: number[] = [];
  let majors = 0;
  const stop = observeGcPauses({
    recordGcPause: (kind, ms) => {
      pauses.push(ms);
      if (kind === 'major') majors++;
    },
  });
  try {
    const measured = await rep();
    const gc = {
      clientGcPauseMs: round1(pauses.reduce((a, b) => a + b, 0)),
      clientGcMaxPauseMs: round1(Math.max(0, ...pauses)),
      clientGcPausesOver5Ms: pauses.filter((d) => d > 5).length,
      clientMajorGcs: majors,
    };
    return { ...measured, extra: { ...measured.extra, ...gc } };
  } finally {
    stop();
  }
}

/** The server's GC pauses so far, from `hstream_gc_pause_seconds` on its /metrics: total ms, and how many took over 5 ms. */
async function serverGcPauses(httpPort: number): Promise<{ ms: number; over5Ms: number }> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/metrics`);
  if (!res.ok) throw new Error(`GET /metrics answered ${res.status}`);
  const text = await res.text();
  const sum = (re: RegExp) => [...text.matchAll(re)].reduce((a, m) => a + Number(m[1]), 0);
  return {
    ms: sum(/^hstream_gc_pause_seconds_sum\{kind="[^"]+"\} (\S+)$/gm) * 1000,
    over5Ms: sum(/^hstream_gc_pause_seconds_count\{kind="[^"]+"\} (\d+)$/gm) - sum(/^hstream_gc_pause_seconds_bucket\{kind="[^"]+",le="0\.005"\} (\d+)$/gm),
  };
}

/** Runs a rep and adds the server's GC pauses during it, as withClientGc does for this process. */
async function withServerGc(httpPort: number, rep: () => Promise<Rep>): Promise<Rep> {
  const before = await serverGcPauses(httpPort);
  const measured = await rep();
  const after = await serverGcPauses(httpPort);
  return { ...measured, extra: { ...measured.extra, serverGcPauseMs: round1(after.ms - before.ms), serverGcPausesOver5Ms: after.over5Ms - before.over5Ms } };
}

/** Our server with its HTTP port open, for the GC pauses on its /metrics. */
async function startObservedHStream(scope: Scope): Promise<{ server: HStreamTarget; httpPort: number }> {
  const httpPort = await freePort();
  const server = await startHStream(scope, { dataDir: scope.tempDir(), args: ['--http-port', String(httpPort)] });
  return { server, httpPort };
}

/** Latencies of the records one rep expects, filled by the consumer's callback. */
class Arrivals {
  latencies: number[] = [];
  constructor(private readonly sentAt: (r: HStreamRecord) => number | undefined) {}
  onRecords = (records: HStreamRecord[], arrivedMs: number): void => {
    for (const r of records) {
      const t = this.sentAt(r);
      if (t !== undefined) this.latencies.push(arrivedMs - t);
    }
  };
  async until(expected: number, consumer: Consumer): Promise<void> {
    const deadline = performance.now() + CALL_DEADLINE_MS;
    while (this.latencies.length < expected) {
      const failed = consumer.failure();
      if (failed) throw failed;
      if (performance.now() > deadline) throw new Error(`only ${this.latencies.length} of ${expected} records reached the consumer`);
      await sleep(5);
    }
  }
  rep(records: number, ms: number): Rep {
    const rep: Rep = { value: percentile(this.latencies, 99), p50Ms: percentile(this.latencies, 50), p99Ms: percentile(this.latencies, 99), extra: { recPerSec: Math.round((records * 1000) / ms) } };
    this.latencies = [];
    return rep;
  }
}

const rawSentAt = (r: HStreamRecord) => r.payload.readDoubleLE(0);
const jsonSentAt = (r: HStreamRecord) => {
  const row = decodeStruct(r.payload);
  // ts 0: a record of the throughput run, not timed
  return row['keep'] === 1 && typeof row['ts'] === 'number' && row['ts'] > 0 ? row['ts'] : undefined;
};

const template = randomBytes(RECORD_BYTES);
function rawRecord(sentAt: number): Buffer {
  const b = Buffer.from(template);
  b.writeDoubleLE(sentAt, 0);
  return b;
}
function jsonRecord(sentAt: number, seq: number): HStreamRecord {
  return { header: { flag: 'JSON', attributes: {}, key: '' }, payload: encodeStruct({ ts: sentAt, seq, keep: seq % 2, pad: PAD }) };
}

function appendRecords(server: HStreamTarget, streamName: string, shardId: string, payload: Buffer, batchSize: number): Promise<unknown> {
  return server.client.unary(
    'Append',
    { streamName, shardId, records: { compressionType: 'None', batchSize, payload } },
    { deadlineMs: CALL_DEADLINE_MS },
  );
}

/** One paced rep through our server: append to `streamName`, wait until the consumer saw `expected(sent)` records. */
function pacedThrough(
  server: HStreamTarget,
  httpPort: number,
  stream: { name: string; shardId: string },
  encode: (count: number, sentAt: number, seq: number) => Buffer,
  arrivals: Arrivals,
  consumer: Consumer,
  expected: (sent: number) => number,
  repMs: number,
): Measure {
  const send: Send = (count, sentAt, seq) => appendRecords(server, stream.name, stream.shardId, encode(count, sentAt, seq), count);
  const rep = async (ms: number) => {
    const sent = await paced(send, ms);
    await arrivals.until(expected(sent), consumer);
    return arrivals.rep(sent, ms);
  };
  return { warmUp: async () => void (await rep(1_000)), rep: () => withServerGc(httpPort, () => withClientGc(() => rep(repMs))) };
}

const rawBatch = (count: number, sentAt: number) => batchPayload(Array.from({ length: count }, () => rawRecord(sentAt)));
const jsonBatch = (count: number, sentAt: number, seq: number) => encodeRecords(Array.from({ length: count }, (_, i) => jsonRecord(sentAt, seq + i)));
const half = (sent: number) => Math.floor(sent / 2);

export const latencyScenarios: Scenario[] = [
  {
    id: 'latency/append-to-consumer',
    title: `append → subscription consumer, 1 KiB records at ${RATE} rec/s, vs the bare grpc unary round trip at the same pace`,
    modes: ['quick', 'full'],
    timeoutMs: { quick: 120_000, full: 180_000 },
    async run(ctx, scope) {
      const { server, httpPort } = await startObservedHStream(scope);
      const shardId = await createStream(server.client, 'lat_raw');
      await createSubscription(server.client, 'lat_raw_sub', 'lat_raw');
      const arrivals = new Arrivals(rawSentAt);
      const consumer = attachConsumer(server.client, 'lat_raw_sub', arrivals.onRecords);
      const base = await startBaseline(scope);
      const baseLatencies: number[] = [];
      const baseRep = async (ms: number): Promise<Rep> => {
        const sent = await paced(async (count, sentAt) => {
          await baselineAppend(base.client, Array.from({ length: count }, () => rawRecord(sentAt)));
          const now = performance.now();
          for (let i = 0; i < count; i++) baseLatencies.push(now - sentAt);
        }, ms);
        const rep: Rep = { value: percentile(baseLatencies, 99), p50Ms: percentile(baseLatencies, 50), p99Ms: percentile(baseLatencies, 99), extra: { recPerSec: Math.round((sent * 1000) / ms) } };
        baseLatencies.length = 0;
        return rep;
      };
      const measured = await paired(
        pacedThrough(server, httpPort, { name: 'lat_raw', shardId }, rawBatch, arrivals, consumer, (sent) => sent, ctx.timing.repMs),
        { warmUp: async () => void (await baseRep(1_000)), rep: () => withClientGc(() => baseRep(ctx.timing.repMs)) },
        ctx.timing.reps,
      );
      consumer.cancel();
      await stopBaseline(scope, base);
      await stopHStream(scope, server);
      const baselineName = `baseline/grpc-unary/round-trip/1KiB-records-at-${RATE}-per-s/p99`;
      ctx.baselines.add(baselineName, 'ms', 'lower', measured.baseline);
      return [
        compared(`latency/append-to-consumer/1KiB-at-${RATE}-per-s/p99`, 'ms', 'lower', measured.subject, { name: baselineName, reps: measured.baseline }, {
          tickMs: TICK_MS,
          note: 'value = p99 of send → consumer arrival per record; records due every tick go in one Append',
        }),
      ];
    },
  },
  {
    id: 'latency/append-query-consumer',
    title: `append → continuous query (WHERE) → sink stream → consumer at ${RATE} rec/s, and the sustained rate through the query, vs the same without the query`,
    modes: ['quick', 'full'],
    timeoutMs: { quick: 180_000, full: 240_000 },
    async run(ctx, scope) {
      const { server, httpPort } = await startObservedHStream(scope);
      const direct = { name: 'lat_direct', shardId: await createStream(server.client, 'lat_direct') };
      const source = { name: 'lat_src', shardId: await createStream(server.client, 'lat_src') };
      await server.client.unary('CreateQuery', { sql: FILTER_SQL, queryName: 'lat_filter' }, { deadlineMs: CALL_DEADLINE_MS });
      await createSubscription(server.client, 'lat_direct_sub', 'lat_direct');
      await createSubscription(server.client, 'lat_sink_sub', 'lat_sink');
      const directArrivals = new Arrivals(jsonSentAt);
      const sinkArrivals = new Arrivals(jsonSentAt);
      const directConsumer = attachConsumer(server.client, 'lat_direct_sub', directArrivals.onRecords);
      const sinkConsumer = attachConsumer(server.client, 'lat_sink_sub', sinkArrivals.onRecords);

      const latency = await paired(
        pacedThrough(server, httpPort, source, jsonBatch, sinkArrivals, sinkConsumer, half, ctx.timing.repMs),
        pacedThrough(server, httpPort, direct, jsonBatch, directArrivals, directConsumer, half, ctx.timing.repMs),
        ctx.timing.reps,
      );

      // sustained rate: closed-loop appends, timed until the last passing record arrived
      const pool = Array.from({ length: 4 }, (_, b) => jsonBatch(THROUGHPUT_BATCH, 0, b * THROUGHPUT_BATCH));
      const through = (stream: { name: string; shardId: string }, consumer: Consumer, passing: (issued: number) => number): Measure => {
        let next = 0;
        const call = async () => {
          await appendRecords(server, stream.name, stream.shardId, pool[next++ % pool.length]!, THROUGHPUT_BATCH);
          return THROUGHPUT_BATCH;
        };
        const rep = async (ms: number): Promise<Rep> => {
          const before = consumer.received();
          const t0 = performance.now();
          await closedLoop(call, THROUGHPUT_INFLIGHT, ms);
          // every call counts, the window's stragglers too (closedLoop waited for them)
          const issued = next * THROUGHPUT_BATCH;
          await withTimeout('the query backlog', CALL_DEADLINE_MS, (async () => {
            while (consumer.received() - before < passing(issued)) {
              const failed = consumer.failure();
              if (failed) throw failed;
              await sleep(2);
            }
          })());
          next = 0;
          return { value: (issued * 1000) / (performance.now() - t0) };
        };
        return { warmUp: async () => void (await rep(1_000)), rep: () => rep(ctx.timing.repMs) };
      };
      const rate = await paired(through(source, sinkConsumer, half), through(direct, directConsumer, (issued) => issued), ctx.timing.reps);
      directConsumer.cancel();
      sinkConsumer.cancel();
      await stopHStream(scope, server);

      const latencyBase = `baseline/hstreamlite/append-to-consumer/json-1KiB-at-${RATE}-per-s/p99`;
      const rateBase = `baseline/hstreamlite/append-to-consumer/json-100x1KiB/inflight=${THROUGHPUT_INFLIGHT}`;
      ctx.baselines.add(latencyBase, 'ms', 'lower', latency.baseline);
      ctx.baselines.add(rateBase, 'rec/s', 'higher', rate.baseline);
      return [
        compared(`latency/append-query-consumer/1KiB-at-${RATE}-per-s/p99`, 'ms', 'lower', latency.subject, { name: latencyBase, reps: latency.baseline }, {
          sql: FILTER_SQL,
          note: 'value = p99 of send → sink consumer arrival for the records the filter passes (half)',
        }),
        compared(`throughput/append-query-consumer/json-100x1KiB/inflight=${THROUGHPUT_INFLIGHT}`, 'rec/s', 'higher', rate.subject, { name: rateBase, reps: rate.baseline }, {
          sql: FILTER_SQL,
          note: 'input records/s, timed until every passing record reached the sink consumer',
        }),
      ];
    },
  },
];
