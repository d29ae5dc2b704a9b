/**
 * T1 (test/reliability/README.md): kill -9 during sustained concurrent
 * appends of random-sized batches, many cycles on one data directory.
 *
 * Promises checked after every restart, against the cumulative ledger:
 * every acknowledged batch is stored whole, once, at its RecordId (P1, P4);
 * a batch in flight at the kill is all there or absent, and once seen it
 * stays (P2); RecordIds increase in read order, producers' batches keep
 * their order, there are no holes except trims, and no RecordId is ever
 * handed out twice (P3); streams and shards survive (P7).
 *
 * A second run does the same over 2,000 one-shard streams (issue 16): the
 * appends spread over all of them, so every kill leaves many shards with a
 * recent tail for recovery's single scan to find, and every stream must be
 * listed again with its shard after each restart.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { HStreamClient } from '../../src/client.js';
import { Checker, describeReport, readShard, type Anomaly, type ShardRead, type TrimState, type VerifyReport } from './checker.js';
import { FIRST_LSN } from '../../storage/index.js';
import { Ledger } from './ledger.js';
import { LONG, PROFILE, SEED, TIMEOUT_MS } from './profile.js';
import { writeFigures } from './report.js';
import { Rng } from './rng.js';
import { launch, median, percentile, ServerProcess } from './server-process.js';
import { appendBatch, inParallel, mergeStats, mixedShape, newLaneStats, ownConnection, runLane, shardsOf, sleep, statusName, type Target } from './workload.js';
import { tempDir } from '../helpers/server.js';

const DATA_STREAMS = [
  { name: 'rel_s1', shards: 2 },
  { name: 'rel_s2', shards: 2 },
  { name: 'rel_s3', shards: 2 },
  { name: 'rel_one', shards: 1 },
];
const TRIM_STREAM = 'rel_trim';
const CONNECTIONS = 4;
const LANES_PER_CONNECTION = 2;
const APPEND_DEADLINE_MS = 2000;
const TRIM_PRODUCER = 1000;

const MANY_STREAMS = 2_000;
/** CreateStream / ListShards calls in flight while the 2,000 streams are made */
const SETUP_INFLIGHT = 16;
/** ReadShardStream calls in flight while a restart is verified */
const VERIFY_INFLIGHT = 8;

const roots: Array<{ root: string; keep: boolean }> = [];
afterAll(() => {
  for (const r of roots) {
    if (r.keep) console.log(`kill9: data dir and ledger kept for inspection in ${r.root}`);
    else rmSync(r.root, { recursive: true, force: true });
  }
});

interface Variant {
  /** figures file name and log prefix */
  scenario: string;
  streams: Array<{ name: string; shards: number }>;
  cycles: number;
}

const many: Array<{ name: string; shards: number }> = Array.from({ length: MANY_STREAMS }, (_, i) => ({ name: `rel_many_${String(i).padStart(4, '0')}`, shards: 1 }));

interface MetaLedger {
  /** streams whose CreateStream was acknowledged and that were never asked to be deleted */
  live: Set<string>;
  /** streams whose DeleteStream was acknowledged */
  deleted: Set<string>;
}

describe('T1: kill -9 during sustained appends', () => {
  it(`keeps every acknowledged batch whole, once, in order, at its RecordId over ${PROFILE.kill9Cycles} kill -9 cycles`, { timeout: TIMEOUT_MS }, async () => {
    await killNineCycles({ scenario: 'kill9', streams: DATA_STREAMS, cycles: PROFILE.kill9Cycles });
  });

  it(`keeps every acknowledged batch and every stream over ${PROFILE.kill9ManyStreamsCycles} kill -9 cycles with appends spread over ${MANY_STREAMS} streams`, { timeout: TIMEOUT_MS }, async () => {
    await killNineCycles({ scenario: 'kill9-many-streams', streams: many, cycles: PROFILE.kill9ManyStreamsCycles });
  });
});

/** Runs `variant.cycles` kill -9 cycles on a fresh data dir and checks every promise after each restart. */
async function killNineCycles(variant: Variant): Promise<void> {
  const root = tempDir(`hstreamlite-rel-${variant.scenario}-`);
  const dataDir = join(root, 'data');
  mkdirSync(dataDir);
  const kept = { root, keep: false };
  roots.push(kept);
  const rng = new Rng(SEED);
  console.log(`${variant.scenario}: seed ${SEED} (replay with RELIABILITY_SEED=${SEED}${LONG ? ' RELIABILITY_LONG=1' : ''}), ${variant.cycles} cycles, ${variant.streams.length} data streams, data in ${dataDir}`);
  const ledger = new Ledger(join(root, 'ledger.jsonl'));
  const checker = new Checker(ledger);
  const meta: MetaLedger = { live: new Set(), deleted: new Set() };
  const trims = new Map<string, TrimState>();
  let targets: Target[] = [];
  let trimTarget: Target | undefined;
  let allShards: string[] = [];

  const restartMs: number[] = [];
  const storedAtRestart: number[] = [];
  const verifyMs: number[] = [];
  const anomalies: Anomaly[] = [];
  const byKind = new Map<string, number>();
  const totals = newLaneStats();
  let recoveryKills = 0;
  let lastReport: VerifyReport | undefined;
  let recordsChecked = 0;
  let fullChecks = 0;

  // Long runs store millions of records: re-read everything every FULL_CHECK_EVERY cycles and at
  // the end, and in between only what the last cycle wrote (plus a margin below it).
  const FULL_CHECK_EVERY = LONG ? 10 : 1;
  const verify = async (client: HStreamClient, cycle: number, server: ServerProcess, full: boolean): Promise<void> => {
    const started = performance.now();
    await checkMetadata(client, meta, targets, trimTarget, checker);
    const fromLsn = new Map<string, number>();
    for (const shardId of allShards) {
      const floor = checker.floor(shardId);
      if (!full && floor !== undefined) fromLsn.set(shardId, Math.max(FIRST_LSN, floor - 50));
    }
    const reads: ShardRead[] = new Array(allShards.length);
    await inParallel(allShards.length, VERIFY_INFLIGHT, async (i) => {
      reads[i] = await readShard(client, allShards[i]!, { fromLsn: fromLsn.get(allShards[i]!) });
    });
    const report = checker.verify(reads, { shards: allShards, trims, fromLsn: full ? undefined : fromLsn });
    if (full) fullChecks++;
    verifyMs.push(performance.now() - started);
    lastReport = report;
    recordsChecked += report.recordsStored;
    for (const [k, n] of Object.entries(report.byKind)) byKind.set(k, (byKind.get(k) ?? 0) + n);
    anomalies.push(...report.anomalies);
    if (report.anomalies.length > 0) {
      kept.keep = true;
      ledger.flush();
      throw new Error(`cycle ${cycle}: ${describeReport(report)}\n${server.describe()}`);
    }
  };

  for (let cycle = 0; cycle <= variant.cycles; cycle++) {
    const final = cycle === variant.cycles;
    // Crash during recovery: kill a starting server at a random moment before (or just after) it listens.
    if (cycle > 0 && !final && rng.chance(0.1)) {
      const doomed = new ServerProcess({ args: ['--data-dir', dataDir] });
      await Promise.race([doomed.listening.catch(() => undefined), sleep(rng.int(0, 400))]);
      await doomed.kill9();
      recoveryKills++;
    }
    const server = await launch({ args: ['--data-dir', dataDir] });
    restartMs.push(server.startMs);
    storedAtRestart.push(storedRecords(ledger));
    const admin = ownConnection(server.address);
    try {
      if (cycle === 0) {
        const all = [...variant.streams, { name: TRIM_STREAM, shards: 1 }];
        await inParallel(all.length, SETUP_INFLIGHT, async (i) => {
          await admin.unary('CreateStream', { streamName: all[i]!.name, replicationFactor: 1, shardCount: all[i]!.shards }, { deadlineMs: 30_000 });
          meta.live.add(all[i]!.name);
        });
        const shards: string[][] = new Array(variant.streams.length);
        await inParallel(variant.streams.length, SETUP_INFLIGHT, async (i) => {
          shards[i] = await shardsOf(admin, variant.streams[i]!.name);
        });
        targets = variant.streams.flatMap((s, i) => shards[i]!.map((shardId) => ({ stream: s.name, shardId })));
        trimTarget = { stream: TRIM_STREAM, shardId: (await shardsOf(admin, TRIM_STREAM))[0]! };
        allShards = [...targets.map((t) => t.shardId), trimTarget.shardId];
        trims.set(trimTarget.shardId, { ok: 0, attempted: 0 });
      }
      await verify(admin, cycle, server, final || cycle % FULL_CHECK_EVERY === 0);
      if (final) break;

      let stopped = false;
      const stop = () => stopped;
      const clients = Array.from({ length: CONNECTIONS }, () => ownConnection(server.address));
      const lanes = [];
      for (let c = 0; c < CONNECTIONS; c++) {
        for (let l = 0; l < LANES_PER_CONNECTION; l++) {
          const producer = 1 + c * LANES_PER_CONNECTION + l;
          lanes.push(
            runLane({ client: clients[c]!, ledger, checker, rng: rng.fork(cycle * 100 + producer), producer, targets, shape: mixedShape, phase: cycle, deadlineMs: APPEND_DEADLINE_MS, stop }),
          );
        }
      }
      const side = [
        trimLane(clients[0]!, ledger, checker, rng.fork(cycle * 100 + 99), trimTarget!, trims.get(trimTarget!.shardId)!, cycle, stop),
        metadataLane(clients[1]!, meta, rng.fork(cycle * 100 + 98), cycle, stop),
      ];
      await sleep(rng.int(PROFILE.kill9WindowMs[0], PROFILE.kill9WindowMs[1]));
      stopped = true;
      await server.kill9();
      for (const stats of await Promise.all(lanes)) mergeStats(totals, stats);
      await Promise.all(side);
      for (const c of clients) c.close();
    } finally {
      admin.close();
      await server.kill9();
    }
    ledger.flush();
  }

  // A clean stop after all that: SIGTERM ends the process with status 0. (Echo first: see the
  // startup SIGTERM race below.)
  const last = await launch({ args: ['--data-dir', dataDir] });
  const echo = ownConnection(last.address);
  await echo.unary('Echo', { msg: 'bye' }, { deadlineMs: 10_000 });
  echo.close();
  const exit = await last.stop();
  expect(exit, last.describe()).toEqual({ code: 0, signal: null });

  const counts = ledger.counts();
  const nonOk = Object.fromEntries([...totals.codes].map(([c, n]) => [statusName(c), n]));
  writeFigures(variant.scenario, {
    seed: SEED,
    cycles: variant.cycles,
    dataStreams: variant.streams.length,
    recoveryKills,
    batchesSent: ledger.batches.length,
    acknowledged: `${counts.ok.batches} batches / ${counts.ok.records} records`,
    unknownOutcome: `${counts.info.batches} batches (present whole ${lastReport?.infoPresent ?? 0}, absent ${lastReport?.infoAbsent ?? 0})`,
    definitelyFailed: counts.fail.batches,
    nonOkAppends: nonOk,
    recordsStoredAtEnd: storedRecords(ledger),
    recordsCheckedOverAllCycles: recordsChecked,
    fullChecks,
    anomalies: Object.fromEntries(byKind),
    lost: byKind.get('lost') ?? 0,
    duplicated: byKind.get('duplicate') ?? 0,
    reordered: byKind.get('reorder') ?? 0,
    restartMsMedian: Math.round(median(restartMs)),
    restartMsP90: Math.round(percentile(restartMs, 90)),
    restartMsMax: Math.round(Math.max(...restartMs)),
    recordsStoredAtSlowestRestart: storedAtRestart[restartMs.indexOf(Math.max(...restartMs))],
    verifyMsMedian: Math.round(median(verifyMs)),
    appendLatencyMsP50: Math.round(percentile(totals.latenciesMs, 50)),
    appendLatencyMsP99: Math.round(percentile(totals.latenciesMs, 99)),
  });
  expect(anomalies).toEqual([]);
  expect(counts.ok.batches, 'the run acknowledged appends at all').toBeGreaterThan(variant.cycles);
}

/** Records the store holds by the ledger: acknowledged or seen batches (trimmed ones included). */
function storedRecords(ledger: Ledger): number {
  let n = 0;
  for (const b of ledger.batches) if (b.outcome === 'ok' || b.pinnedLsn !== undefined) n += b.count;
  return n;
}

/** Streams that were created (and not deleted) exist with the same shards; deleted ones stay deleted. */
async function checkMetadata(client: HStreamClient, meta: MetaLedger, targets: Target[], trimTarget: Target | undefined, checker: Checker): Promise<void> {
  const { streams } = await client.unary<{ streams: Array<{ streamName: string }> }>('ListStreams', {}, { deadlineMs: 10_000 });
  const names = new Set(streams.map((s) => s.streamName));
  for (const name of meta.live) {
    if (!names.has(name)) checker.raise({ kind: 'metadata-lost', detail: `stream ${name} was created (acknowledged) and is gone` });
  }
  for (const name of meta.deleted) {
    if (names.has(name)) checker.raise({ kind: 'metadata-lost', detail: `stream ${name} was deleted (acknowledged) and is back` });
  }
  const expected = new Map<string, string[]>();
  for (const t of [...targets, ...(trimTarget ? [trimTarget] : [])]) expected.set(t.stream, [...(expected.get(t.stream) ?? []), t.shardId]);
  for (const [stream, shardIds] of expected) {
    if (!names.has(stream)) continue;
    const now = await shardsOf(client, stream);
    if (JSON.stringify(now) !== JSON.stringify(shardIds)) {
      checker.raise({ kind: 'metadata-lost', detail: `stream ${stream} had shards ${shardIds.join(',')}, now ${now.join(',')}` });
    }
  }
  // keep the catalogue small: drop the scratch streams of earlier cycles once checked
  for (const name of names) {
    if (name.startsWith('rel_tmp_') && meta.live.has(name)) {
      await client.unary('DeleteStream', { streamName: name, ignoreNonExist: true, force: true }, { deadlineMs: 10_000 });
      meta.live.delete(name);
      meta.deleted.add(name);
    }
  }
}

/** Appends to the trim stream and trims it behind itself, so restarts meet recorded trim points. */
async function trimLane(client: HStreamClient, ledger: Ledger, checker: Checker, rng: Rng, target: Target, trim: TrimState, phase: number, stop: () => boolean): Promise<void> {
  const acked: number[] = [];
  while (!stop()) {
    const r = await appendBatch(client, ledger, checker, rng, {
      target,
      producer: TRIM_PRODUCER,
      shape: { count: rng.int(1, 20), filler: [8, 256], compression: 'None' },
      phase,
      deadlineMs: APPEND_DEADLINE_MS,
    });
    if (!r.ok) return;
    acked.push(r.batch.lsn!);
    if (acked.length >= 8 && rng.chance(0.2)) {
      const point = acked[acked.length - 5]!;
      trim.attempted = Math.max(trim.attempted, point);
      try {
        await client.unary(
          'TrimShard',
          { streamName: target.stream, shardId: target.shardId, trimPoint: { recordOffset: { shardId: target.shardId, batchId: String(point), batchIndex: 0 } } },
          { deadlineMs: APPEND_DEADLINE_MS },
        );
        trim.ok = Math.max(trim.ok, point);
      } catch {
        return;
      }
    }
  }
}

/** Creates and deletes scratch streams, so kills also land in the middle of metadata changes. */
async function metadataLane(client: HStreamClient, meta: MetaLedger, rng: Rng, cycle: number, stop: () => boolean): Promise<void> {
  for (let n = 0; !stop(); n++) {
    const name = `rel_tmp_${cycle}_${n}`;
    try {
      await client.unary('CreateStream', { streamName: name, replicationFactor: 1, shardCount: rng.int(1, 4) }, { deadlineMs: APPEND_DEADLINE_MS });
    } catch {
      return;
    }
    meta.live.add(name);
    if (rng.chance(0.5)) {
      meta.live.delete(name);
      try {
        await client.unary('DeleteStream', { streamName: name, ignoreNonExist: false, force: false }, { deadlineMs: APPEND_DEADLINE_MS });
      } catch {
        return;
      }
      meta.deleted.add(name);
    }
    await sleep(rng.int(5, 50));
  }
}
