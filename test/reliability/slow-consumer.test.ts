/**
 * T6b (test/reliability/README.md), slow consumers: a backlog 4–16 times the
 * memory bound, one consumer on StreamingFetch that takes one message every
 * READ_EVERY_MS (it pauses its call, so the server meets real HTTP/2
 * back-pressure) and acks every RecordId, and one consumer on another
 * subscription that is connected but never reads. The server must read the
 * log only as fast as they take it (P9): its anonymous resident memory grows
 * by less than a stated bound from what it was before they attached, and
 * plateaus, the transport (not only the unacked
 * budget) holds delivery back, the slow consumer gets every record in order,
 * and Echo is answered meanwhile.
 *
 * Anonymous, not total RSS: LevelDB mmaps its table files, so every page a
 * consumer has read stays resident as file-backed memory (page cache the
 * kernel reclaims under pressure), and total RSS grows by the bytes read
 * from the log. Both are reported.
 */
import { rmSync } from 'node:fs';
import type * as grpc from '@grpc/grpc-js';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import type { HStreamClient } from '../../src/client.js';
import { tempDir } from '../helpers/server.js';
import type { RecordIdMsg } from '../helpers/streams.js';
import { Checker, describeReport, type ShardRead } from './checker.js';
import { encodeRecordPayload, Ledger } from './ledger.js';
import { PROFILE, SEED, TIMEOUT_MS } from './profile.js';
import { mib, writeFigures } from './report.js';
import { Rng } from './rng.js';
import { launch, median, percentile, type ServerProcess } from './server-process.js';
import { ownConnection, runLane, sleep, shardsOf, statusName, mergeStats, newLaneStats } from './workload.js';

const RECORD_BYTES = 1024;
const BATCH = 100;
const PREFILL_LANES = 4;
const READ_EVERY_MS = 100;
/** Messages the stalled consumer must get, in order, once it finally reads. */
const STALLED_CHECK_MESSAGES = 10;
const SUBSCRIPTION = { ackTimeoutSeconds: 60, maxUnackedRecords: 10_000, offset: 'EARLIEST' };

const dataDir = tempDir('hstreamlite-rel-slow-');
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

interface FetchRequest {
  subscriptionId: string;
  consumerName: string;
  ackIds: RecordIdMsg[];
}
interface FetchResponse {
  receivedRecords: { recordIds: RecordIdMsg[]; record: { compressionType: string; batchSize: number; payload: Buffer } | null } | null;
}

/**
 * One StreamingFetch consumer on its own connection. It reads only when told
 * to: until then grpc-js buffers 16 messages and stops reading the HTTP/2
 * stream, whose flow-control window then fills and holds the server back.
 */
class FetchConsumer {
  readonly client: HStreamClient;
  readonly call: grpc.ClientDuplexStream<FetchRequest, FetchResponse>;
  messages = 0;
  records = 0;
  readonly problems: string[] = [];
  /** how the call ended, if it did before close() */
  error: grpc.ServiceError | undefined;
  private closed = false;
  private expectedLsn: number;

  constructor(
    address: string,
    private readonly subscriptionId: string,
    private readonly consumerName: string,
    private readonly shardId: string,
    firstLsn: number,
    private readonly checker: Checker,
  ) {
    this.expectedLsn = firstLsn;
    this.client = ownConnection(address);
    this.call = this.client.bidi<FetchRequest, FetchResponse>('StreamingFetch');
    this.call.on('error', (err: grpc.ServiceError) => {
      if (!this.closed) this.error = err;
    });
    this.call.write({ subscriptionId, consumerName, ackIds: [] });
    this.call.pause();
    // grpc-js pauses the HTTP/2 stream only once it has handed a message up;
    // before the first read it buffers everything (the server would see a fast reader).
    this.call.read(0);
  }

  /** From now on takes one message every `everyMs` (`limit` in all), checks it and acks every RecordId in it. */
  readEvery(everyMs: number, limit = Infinity): void {
    this.call.on('data', (msg: FetchResponse) => {
      this.call.pause();
      this.take(msg);
      if (this.messages < limit) setTimeout(() => this.call.resume(), everyMs).unref();
    });
    this.call.resume();
  }

  private take(msg: FetchResponse): void {
    this.messages++;
    const received = msg.receivedRecords;
    if (!received?.record) {
      this.problems.push(`message ${this.messages} carries no record`);
      return;
    }
    const { recordIds, record } = received;
    const lsn = Number(recordIds[0]?.batchId);
    this.records += recordIds.length;
    const idsOk = recordIds.length === record.batchSize && recordIds.every((id, i) => id.shardId === this.shardId && Number(id.batchId) === lsn && id.batchIndex === i);
    if (!idsOk) this.problems.push(`message ${this.messages}: RecordIds ${JSON.stringify(recordIds.slice(0, 2))}… (${recordIds.length}) for ${record.batchSize} records of shard ${this.shardId}`);
    if (lsn !== this.expectedLsn) this.problems.push(`message ${this.messages}: LSN ${lsn} delivered, expected ${this.expectedLsn}`);
    this.expectedLsn = lsn + 1;
    // The read "ends" after this batch: the ledger's later batches are not looked for yet.
    const read: ShardRead = {
      shardId: this.shardId,
      batches: [{ lsn, batchSize: record.batchSize, compression: record.compressionType, payload: Buffer.from(record.payload) }],
      error: { code: -1, details: 'delivery goes on' },
    };
    const report = this.checker.verify([read], { shards: [this.shardId], partial: true, fromLsn: new Map([[this.shardId, lsn]]) });
    if (report.anomalies.length > 0 || report.okBatchesFound !== 1) this.problems.push(`message ${this.messages}: ${describeReport(report)}`);
    this.call.write({ subscriptionId: this.subscriptionId, consumerName: this.consumerName, ackIds: recordIds });
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.call.removeAllListeners('data');
    this.call.cancel();
    this.client.close();
  }
}

type Memory = NonNullable<ReturnType<ServerProcess['memoryKiB']>>;

interface Sample {
  atS: number;
  memory: Memory;
  slowMessages: number;
  /** delivered records not acked yet, per subscription (/metrics) */
  unacked: Map<string, number>;
}

/** The HTTP port the server bound (`--http-port 0`), from its "serving" log line. */
async function httpPortOf(server: ServerProcess): Promise<number> {
  for (let waited = 0; waited < 10_000; waited += 100) {
    const port = /"httpPort":(\d+)/.exec(server.stderr())?.[1];
    if (port) return Number(port);
    await sleep(100);
  }
  throw new Error(`no httpPort in the server's log\n${server.describe()}`);
}

async function unackedRecords(httpPort: number): Promise<Map<string, number>> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/metrics`, { signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  return new Map([...text.matchAll(/^hstream_subscription_unacked_records\{subscription="([^"]+)"\} (\d+)$/gm)].map((m) => [m[1]!, Number(m[2])]));
}

function memoryOf(server: ServerProcess): Memory {
  const memory = server.memoryKiB();
  if (!memory) throw new Error(`server is gone: ${server.describe()}`);
  return memory;
}

const memoryFigure = (m: Memory | undefined) => (m ? `${mib(m.rss)} (anon ${mib(m.anon)}, file ${mib(m.file)})` : 'n/a');

describe('T6b: slow consumers', () => {
  it(`${PROFILE.slowBacklogMiB} MiB backlog, one consumer taking a message every ${READ_EVERY_MS} ms and one never reading, for ${PROFILE.slowSeconds} s: anonymous RSS grows less than ${PROFILE.slowRssGrowthMiB} MiB and stays flat`, { timeout: TIMEOUT_MS }, async () => {
    const rng = new Rng(SEED).fork(61);
    const server = await launch({ args: ['--data-dir', dataDir, '--http-port', '0'], logLevel: 'info' });
    onTestFinished(() => void server.kill9());
    const httpPort = await httpPortOf(server);
    const admin = ownConnection(server.address);
    await admin.unary('CreateStream', { streamName: 'slow', replicationFactor: 1, shardCount: 1 }, { deadlineMs: 10_000 });
    const [shardId] = await shardsOf(admin, 'slow');
    await admin.unary('Echo', { msg: 'warm' }, { deadlineMs: 10_000 });
    await sleep(1000);
    const idle = memoryOf(server);

    // Prefill: sequential producer lanes, 100 records of 1 KiB (random filler, uncompressed) per Append.
    const ledger = new Ledger();
    const checker = new Checker(ledger);
    const filler = RECORD_BYTES - encodeRecordPayload(0, 0, Buffer.alloc(0)).payload.length;
    const totalBatches = Math.ceil((PROFILE.slowBacklogMiB * 1024 * 1024) / (RECORD_BYTES * BATCH));
    let prefillPeakKiB = idle.rss;
    let prefilling = true;
    const prefillSampler = (async () => {
      for (; prefilling; await sleep(1000)) prefillPeakKiB = Math.max(prefillPeakKiB, server.rssKiB() ?? 0);
    })();
    const prefillStarted = performance.now();
    const lanes = await Promise.all(
      Array.from({ length: PREFILL_LANES }, (_, i) =>
        runLane({
          client: admin,
          ledger,
          checker,
          rng: rng.fork(i),
          producer: i + 1,
          targets: [{ stream: 'slow', shardId: shardId! }],
          shape: () => ({ count: BATCH, filler: [filler, filler], compression: 'None' }),
          phase: 0,
          deadlineMs: 60_000,
          stop: () => ledger.batches.length >= totalBatches,
        }),
      ),
    );
    const prefillS = (performance.now() - prefillStarted) / 1000;
    prefilling = false;
    await prefillSampler;
    const prefill = lanes.reduce(mergeStats, newLaneStats());
    expect(prefill.failed, `prefill append errors: ${[...prefill.codes].map(([c, n]) => `${statusName(c)}×${n}`).join(', ')}`).toBe(0);
    const firstLsn = Math.min(...ledger.batches.map((b) => b.lsn!));
    const afterPrefill = memoryOf(server);

    for (const id of ['slow-reader', 'never-reads']) {
      await admin.unary('CreateSubscription', { subscriptionId: id, streamName: 'slow', ...SUBSCRIPTION }, { deadlineMs: 10_000 });
    }
    const stalled = new FetchConsumer(server.address, 'never-reads', 'stalled', shardId!, firstLsn, checker);
    const slow = new FetchConsumer(server.address, 'slow-reader', 'slow', shardId!, firstLsn, checker);
    onTestFinished(() => {
      stalled.close();
      slow.close();
    });
    slow.readEvery(READ_EVERY_MS);

    // Once a second: memory, and an Echo that must be answered (its time is reported, not asserted).
    const samples: Sample[] = [];
    const echoMs: number[] = [];
    const echoFailures: string[] = [];
    const started = performance.now();
    const deadline = started + PROFILE.slowSeconds * 1000;
    while (performance.now() < deadline) {
      const tick = performance.now();
      try {
        await admin.unary('Echo', { msg: 'probe' }, { deadlineMs: 10_000 });
        echoMs.push(performance.now() - tick);
      } catch (err) {
        echoFailures.push(`${((tick - started) / 1000).toFixed(0)} s: ${(err as Error).message}`);
      }
      samples.push({ atS: (tick - started) / 1000, memory: memoryOf(server), slowMessages: slow.messages, unacked: await unackedRecords(httpPort) });
      await sleep(1000 - (performance.now() - tick));
    }
    const elapsedS = (performance.now() - started) / 1000;
    const end = memoryOf(server);

    // Now the stalled consumer reads: the first batches come, in order.
    const stalledBefore = stalled.messages;
    stalled.readEvery(0, STALLED_CHECK_MESSAGES);
    const stalledDeadline = performance.now() + 30_000;
    while (stalled.messages < STALLED_CHECK_MESSAGES && performance.now() < stalledDeadline && !stalled.error) await sleep(100);
    slow.close();
    stalled.close();
    admin.close();
    const exit = await server.stop();

    const half = samples.slice(0, Math.floor(samples.length / 2));
    const rest = samples.slice(half.length);
    const peakOf = (s: Sample[], key: keyof Memory) => Math.max(...s.map((x) => x.memory[key]));
    const anonPeakFirstHalf = peakOf(half, 'anon');
    const anonPeakSecondHalf = peakOf(rest, 'anon');
    const anonBound = afterPrefill.anon + PROFILE.slowRssGrowthMiB * 1024;
    const slowAtHalf = rest[0]?.slowMessages ?? 0;
    const unackedPeak = (id: string) => Math.max(...samples.map((x) => x.unacked.get(id) ?? NaN));
    writeFigures('slow-consumer', {
      seed: SEED,
      backlog: `${PROFILE.slowBacklogMiB} MiB: ${totalBatches} Appends of ${BATCH} records of ${RECORD_BYTES} B`,
      prefillSeconds: Math.round(prefillS * 10) / 10,
      seconds: Math.round(elapsedS * 10) / 10,
      rssIdle: memoryFigure(idle),
      rssPrefillPeak: mib(prefillPeakKiB),
      rssAfterPrefill: memoryFigure(afterPrefill),
      rssPeak: `${mib(peakOf(samples, 'rss'))} (anon ${mib(anonPeakFirstHalf)} in the first half, ${mib(anonPeakSecondHalf)} in the second; file ${mib(peakOf(samples, 'file'))})`,
      rssEnd: memoryFigure(end),
      anonBound: mib(anonBound),
      plateauMargin: `${PROFILE.slowPlateauMiB} MiB`,
      anonTrace: samples.filter((_, i) => i % 5 === 0).map((x) => `${x.atS.toFixed(0)}s:${(x.memory.anon / 1024).toFixed(0)}+${(x.memory.file / 1024).toFixed(0)}`).join(' '),
      slowMessages: slow.messages,
      slowRecordsDelivered: slow.records,
      slowMessagesFirstHalf: slowAtHalf,
      unackedPeak: { slow: unackedPeak('slow-reader'), stalled: unackedPeak('never-reads'), limit: SUBSCRIPTION.maxUnackedRecords },
      stalledMessagesWhileStalled: stalledBefore,
      stalledMessagesOnceReading: stalled.messages,
      echoMs: { p50: Math.round(median(echoMs)), p99: Math.round(percentile(echoMs, 99)), max: Math.round(Math.max(...echoMs)) },
      echoFailures: echoFailures.length,
      cleanExit: exit.code === 0,
    });
    expect(slow.error, 'slow consumer call').toBeUndefined();
    expect(stalled.error, 'stalled consumer call').toBeUndefined();
    expect(slow.problems.slice(0, 5)).toEqual([]);
    expect(stalled.problems.slice(0, 5)).toEqual([]);
    // progress in both halves: the test cannot pass by delivering nothing
    expect(slowAtHalf, 'messages the slow consumer took in the first half').toBeGreaterThan(0);
    expect(slow.messages, 'messages the slow consumer took by the end').toBeGreaterThan(slowAtHalf);
    expect(stalledBefore, 'messages the stalled consumer took before it read').toBe(0);
    expect(stalled.messages, 'messages the stalled consumer took once it read').toBe(STALLED_CHECK_MESSAGES);
    // the transport held the server back, not only the unacked budget
    expect(unackedPeak('slow-reader'), 'peak unacked records of the slow consumer').toBeLessThan(SUBSCRIPTION.maxUnackedRecords);
    expect(unackedPeak('never-reads'), 'peak unacked records of the stalled consumer').toBeLessThan(SUBSCRIPTION.maxUnackedRecords);
    expect(echoFailures.slice(0, 5)).toEqual([]);
    expect(Math.max(anonPeakFirstHalf, anonPeakSecondHalf) / 1024, 'peak anonymous RSS with slow consumers, MiB').toBeLessThan(anonBound / 1024);
    expect(anonPeakSecondHalf / 1024, 'peak anonymous RSS of the second half, MiB').toBeLessThanOrEqual((anonPeakFirstHalf + PROFILE.slowPlateauMiB * 1024) / 1024);
    expect(exit).toEqual({ code: 0, signal: null });
  });
});
