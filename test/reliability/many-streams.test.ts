/**
 * Start-up and memory with many streams (issue 16): 10k one-shard streams in
 * the short form, 100k in the long one, each holding a small batch whose
 * bytes name its stream. After a SIGTERM restart and after a kill -9
 * restart, every stream is listed with its one shard and every acknowledged
 * record reads back byte-exact at its RecordId (P1, P7).
 *
 * Start-up time and resident memory are reported, not asserted as timings:
 * the only bounds are generous ones a per-stream cost of the old kind (tens
 * of KB of statistics or an iterator per stream) would break, namely anonymous
 * RSS after the restart under a fixed allowance plus STREAM_ALLOWANCE_KIB per stream.
 */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it, onTestFinished } from 'vitest';
import type { HStreamClient } from '../../src/client.js';
import { decodeRecords, compressionCode } from '../../src/records.js';
import { batch } from '../helpers/records.js';
import { tempDir } from '../helpers/server.js';
import { readShard } from './checker.js';
import { LONG, TIMEOUT_MS } from './profile.js';
import { mib, writeFigures } from './report.js';
import { launch, type ServerProcess } from './server-process.js';
import { inParallel, ownConnection, shardsOf, sleep } from './workload.js';

const STREAMS = Number(process.env.RELIABILITY_MANY_STREAMS ?? (LONG ? 100_000 : 10_000));
const INFLIGHT = 16;
const RECORDS_PER_STREAM = 3;
/** the server's own needs with an empty store, with room for a loaded machine's GC timing */
const FIXED_ALLOWANCE_MIB = 256;
/** per stream: the target is 0.7 KiB; the old statistics alone were 40 KiB per active stream */
const STREAM_ALLOWANCE_KIB = 8;
/** how long the server sits after its first answer before memory is read */
const SETTLE_MS = 1_000;

const dataDir = tempDir('hstreamlite-rel-many-streams-');
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const nameOf = (i: number) => `many_${String(i).padStart(6, '0')}`;
const recordOf = (i: number, r: number) => `${nameOf(i)}#${r}`;

interface Acked {
  shardId: string;
  lsn: string;
}

/** Every stream listed, each with the shard it was created with; every record at its RecordId. */
async function verify(client: HStreamClient, acked: Acked[]): Promise<string[]> {
  const problems: string[] = [];
  const { streams } = await client.unary<{ streams: Array<{ streamName: string }> }>('ListStreams', {}, { deadlineMs: 120_000 });
  const listed = new Set(streams.map((s) => s.streamName));
  for (let i = 0; i < STREAMS; i++) if (!listed.has(nameOf(i))) problems.push(`stream ${nameOf(i)} is not listed`);
  await inParallel(STREAMS, INFLIGHT, async (i) => {
    const shards = await shardsOf(client, nameOf(i));
    if (shards.length !== 1 || shards[0] !== acked[i]!.shardId) problems.push(`${nameOf(i)} has shards ${shards.join(',')}, expected ${acked[i]!.shardId}`);
    const read = await readShard(client, acked[i]!.shardId, { timeoutMs: 60_000 });
    if (read.error) return void problems.push(`${nameOf(i)}: read ended with ${read.error.code} ${read.error.details}`);
    const payloads = read.batches.flatMap((b) => decodeRecords(compressionCode(b.compression), b.payload).map((r) => r.payload.toString()));
    const expected = Array.from({ length: RECORDS_PER_STREAM }, (_, r) => recordOf(i, r));
    if (read.batches.length !== 1 || String(read.batches[0]!.lsn) !== acked[i]!.lsn || JSON.stringify(payloads) !== JSON.stringify(expected)) {
      problems.push(`${nameOf(i)}: read ${JSON.stringify(payloads)} at ${read.batches.map((b) => b.lsn).join(',')}, acked ${JSON.stringify(expected)} at ${acked[i]!.lsn}`);
    }
  });
  return problems;
}

async function settledMemory(server: ServerProcess): Promise<{ rss: number; anon: number; file: number }> {
  await sleep(SETTLE_MS);
  const m = server.memoryKiB();
  if (!m) throw new Error(`server gone: ${server.describe()}`);
  return m;
}

describe('many streams: start-up and memory', () => {
  it(`${STREAMS} streams with a batch each survive a SIGTERM restart and a kill -9 restart, all listed and read back; memory per stream bounded`, { timeout: TIMEOUT_MS }, async () => {
    const first = await launch({ args: ['--data-dir', dataDir] });
    onTestFinished(() => void first.kill9());
    const emptyMemory = await settledMemory(first);
    let client = ownConnection(first.address);
    const acked: Acked[] = new Array(STREAMS);
    const created = performance.now();
    await inParallel(STREAMS, INFLIGHT, async (i) => {
      await client.unary('CreateStream', { streamName: nameOf(i), replicationFactor: 1, shardCount: 1 }, { deadlineMs: 60_000 });
    });
    const createMs = performance.now() - created;
    await inParallel(STREAMS, INFLIGHT, async (i) => {
      const [shardId] = await shardsOf(client, nameOf(i));
      const records = Array.from({ length: RECORDS_PER_STREAM }, (_, r) => ({ payload: recordOf(i, r) }));
      const res = await client.unary<{ recordIds: Array<{ batchId: string }> }>('Append', { streamName: nameOf(i), shardId, records: batch(records) }, { deadlineMs: 60_000 });
      acked[i] = { shardId: shardId!, lsn: res.recordIds[0]!.batchId };
    });
    client.close();
    expect((await first.stop(120_000)).code, first.describe()).toBe(0);

    // SIGTERM restart
    const second = await launch({ args: ['--data-dir', dataDir], timeoutMs: 300_000 });
    onTestFinished(() => void second.kill9());
    const restartMs = second.startMs;
    const restartMemory = await settledMemory(second);
    client = ownConnection(second.address);
    const afterClean = await verify(client, acked);
    client.close();
    await second.kill9();

    // kill -9 restart (after reads only: nothing new to lose, but recovery runs without a clean close)
    const third = await launch({ args: ['--data-dir', dataDir], timeoutMs: 300_000 });
    onTestFinished(() => void third.kill9());
    const crashRestartMs = third.startMs;
    client = ownConnection(third.address);
    const afterCrash = await verify(client, acked);
    client.close();
    expect((await third.stop(120_000)).code, third.describe()).toBe(0);

    const anonLimitKiB = FIXED_ALLOWANCE_MIB * 1024 + STREAM_ALLOWANCE_KIB * STREAMS;
    writeFigures('many-streams', {
      streams: STREAMS,
      createPerSec: Math.round((STREAMS * 1000) / createMs),
      restartToListeningMs: Math.round(restartMs),
      killRestartToListeningMs: Math.round(crashRestartMs),
      emptyRss: mib(emptyMemory.rss),
      emptyAnonRss: mib(emptyMemory.anon),
      rssAfterRestart: mib(restartMemory.rss),
      anonRssAfterRestart: mib(restartMemory.anon),
      anonKiBPerStreamAboveEmpty: Math.round(((restartMemory.anon - emptyMemory.anon) / STREAMS) * 100) / 100,
      anonRssLimit: mib(anonLimitKiB),
      problems: afterClean.length + afterCrash.length,
    });
    expect(afterClean.slice(0, 10), 'after the SIGTERM restart').toEqual([]);
    expect(afterCrash.slice(0, 10), 'after the kill -9 restart').toEqual([]);
    expect(restartMemory.anon, `anonymous RSS after the restart (KiB) with ${STREAMS} streams`).toBeLessThan(anonLimitKiB);
  });
});
