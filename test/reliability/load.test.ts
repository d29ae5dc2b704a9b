/**
 * T6 (test/reliability/README.md), bounded: many concurrent clients, each on
 * its own HTTP/2 connection, appending and reading back for a fixed time.
 * Every acknowledgement is checked (its RecordIds, then the batch read back
 * byte-exact, then the whole store against the ledger at the end), and the
 * server's resident memory, sampled from /proc, stays under a stated bound (P9).
 */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import type { HStreamClient } from '../../src/client.js';
import { tempDir } from '../helpers/server.js';
import { Checker, describeReport, readShard, type StoredView } from './checker.js';
import { Ledger, type LedgerBatch } from './ledger.js';
import { PROFILE, SEED, TIMEOUT_MS } from './profile.js';
import { mib, writeFigures } from './report.js';
import { Rng } from './rng.js';
import { launch, median, percentile } from './server-process.js';
import { appendBatch, ownConnection, shardsOf, sleep, statusName, type Target } from './workload.js';

const SHARDS = 8;
const READ_BACK_EVERY = 5;

const dataDir = tempDir('hstreamlite-rel-load-');
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** Reads exactly one batch back by its RecordId. */
async function readBack(client: HStreamClient, batch: LedgerBatch): Promise<StoredView[]> {
  const at = { recordOffset: { shardId: batch.shardId, batchId: String(batch.lsn), batchIndex: 0 } };
  const msgs = await client.collect<{ receivedRecords: Array<{ recordIds: Array<{ batchId: string }>; record: { compressionType: string; batchSize: number; payload: Buffer } }> }>(
    'ReadShardStream',
    { readerId: 'load', shardId: batch.shardId, from: at, until: at },
  );
  return msgs.flatMap((m) => m.receivedRecords.map((r) => ({ lsn: Number(r.recordIds[0]!.batchId), batchSize: r.record.batchSize, compression: r.record.compressionType, payload: Buffer.from(r.record.payload) })));
}

describe('T6: many concurrent clients', () => {
  it(`${PROFILE.loadClients} clients on their own connections append and read back for ${PROFILE.loadSeconds} s: every ack verified, RSS under ${PROFILE.loadRssLimitMiB} MiB`, { timeout: TIMEOUT_MS }, async () => {
    const rng = new Rng(SEED).fork(6);
    const server = await launch({ args: ['--data-dir', dataDir] });
    onTestFinished(() => void server.kill9());
    const admin = ownConnection(server.address);
    await admin.unary('CreateStream', { streamName: 'load', replicationFactor: 1, shardCount: SHARDS }, { deadlineMs: 10_000 });
    const targets: Target[] = (await shardsOf(admin, 'load')).map((shardId) => ({ stream: 'load', shardId }));
    const ledger = new Ledger();
    const checker = new Checker(ledger);
    const rssBaseline = server.rssKiB()!;

    let rssPeak = rssBaseline;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        rssPeak = Math.max(rssPeak, server.rssKiB() ?? 0);
        await sleep(200);
      }
    })();

    const clients = Array.from({ length: PROFILE.loadClients }, () => ownConnection(server.address));
    // every channel connects before the clock starts
    await Promise.all(clients.map((c) => c.unary('Echo', { msg: 'hi' }, { deadlineMs: 30_000 })));
    const rssConnected = server.rssKiB()!;

    const latencies: number[] = [];
    const errors = new Map<string, number>();
    const readBackProblems: string[] = [];
    let readBacks = 0;
    const started = performance.now();
    const deadline = started + PROFILE.loadSeconds * 1000;
    await Promise.all(
      clients.map(async (client, i) => {
        const own = rng.fork(i);
        for (let n = 0; performance.now() < deadline; n++) {
          const r = await appendBatch(client, ledger, checker, own, {
            target: own.pick(targets),
            producer: i + 1,
            shape: { count: own.int(1, 10), filler: [1000, 1024], compression: 'None' },
            phase: 0,
            deadlineMs: 10_000,
          });
          if (!r.ok) {
            errors.set(statusName(r.code), (errors.get(statusName(r.code)) ?? 0) + 1);
            continue;
          }
          latencies.push(r.latencyMs);
          if (n % READ_BACK_EVERY === 0) {
            readBacks++;
            try {
              const got = await readBack(client, r.batch);
              const report = new Checker(ledger).verify([{ shardId: r.batch.shardId, batches: got }], { shards: [], partial: true });
              if (got.length !== 1 || got[0]!.lsn !== r.batch.lsn || report.anomalies.length > 0) {
                readBackProblems.push(`batch ${r.batch.id} at ${r.batch.shardId}/${r.batch.lsn}: read ${got.length} batches ${describeReport(report)}`);
              }
            } catch (err) {
              readBackProblems.push(`batch ${r.batch.id}: read failed: ${(err as Error).message}`);
            }
          }
        }
      }),
    );
    const elapsedS = (performance.now() - started) / 1000;
    sampling = false;
    await sampler;
    const rssEnd = server.rssKiB();
    for (const c of clients) c.close();

    const final = checker.verify(
      await Promise.all(targets.map((t) => readShard(admin, t.shardId))),
      { shards: targets.map((t) => t.shardId) },
    );
    admin.close();
    const exit = await server.stop();
    const counts = ledger.counts();
    writeFigures('load', {
      seed: SEED,
      clients: PROFILE.loadClients,
      seconds: Math.round(elapsedS * 10) / 10,
      appendsOk: counts.ok.batches,
      recordsAcknowledged: counts.ok.records,
      recordsPerSecond: Math.round(counts.ok.records / elapsedS),
      appendErrors: Object.fromEntries(errors),
      appendLatencyMs: { p50: Math.round(median(latencies)), p99: Math.round(percentile(latencies, 99)), max: Math.round(Math.max(...latencies)) },
      readBacks,
      readBackProblems: readBackProblems.length,
      finalCheck: describeReport(final),
      rssBaseline: mib(rssBaseline),
      rssWithClientsConnected: mib(rssConnected),
      rssPeak: mib(rssPeak),
      rssEnd: mib(rssEnd),
      rssBound: `${PROFILE.loadRssLimitMiB} MiB`,
      cleanExit: exit.code === 0,
    });
    expect(errors.size, `append errors: ${JSON.stringify(Object.fromEntries(errors))}`).toBe(0);
    expect(readBackProblems.slice(0, 10)).toEqual([]);
    expect(final.anomalies, describeReport(final)).toEqual([]);
    expect(final.okBatchesFound).toBe(counts.ok.batches);
    expect(rssPeak / 1024, 'peak server RSS, MiB').toBeLessThan(PROFILE.loadRssLimitMiB);
    expect(exit).toEqual({ code: 0, signal: null });
  });
});
