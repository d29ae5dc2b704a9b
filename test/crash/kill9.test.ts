/**
 * kill -9 during sustained concurrent appends: every acknowledged record is
 * present exactly once, in order, at the RecordId it was given; a batch in
 * flight at the kill is all there or not at all; RecordIds are never reused.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { HStreamClient } from '../../src/client.js';
import { Compression, decodeRecords } from '../../src/records.js';
import { batch } from '../helpers/records.js';
import { spawnServer, tempDir, type ServerProcess } from '../helpers/server.js';

const CYCLES = Number(process.env.KILL9_CYCLES ?? 3);
const IN_FLIGHT = 8;

interface Sent {
  shardId: string;
  payloads: string[];
  /** batchId when acknowledged; undefined while in flight or when the outcome is unknown */
  batchId?: string;
}

const dataDir = tempDir('hstreamlite-kill9-');
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

async function readShard(client: HStreamClient, shardId: string): Promise<Array<{ batchId: string; payloads: string[] }>> {
  const msgs = await client.collect<{ receivedRecords: Array<{ recordIds: Array<{ batchId: string }>; record: { compressionType: string; payload: Buffer } }> }>(
    'ReadShardStream',
    { readerId: 'check', shardId, from: { specialOffset: 'EARLIEST' }, until: { specialOffset: 'LATEST' } },
  );
  return msgs.flatMap((m) =>
    m.receivedRecords.map((r) => ({
      batchId: r.recordIds[0]!.batchId,
      payloads: decodeRecords(Compression[r.record.compressionType as 'None'], Buffer.from(r.record.payload)).map((x) => x.payload.toString('latin1')),
    })),
  );
}

describe('kill -9 during appends', () => {
  it(`loses no acknowledged record, duplicates none and reuses no RecordId over ${CYCLES} crash cycles`, async () => {
    const sent: Sent[] = [];
    let seq = 0;
    let shards: string[] = [];
    let highestAcked = new Map<string, number>();

    for (let cycle = 0; cycle < CYCLES; cycle++) {
      const server: ServerProcess = await spawnServer(['--data-dir', dataDir]);
      const client = new HStreamClient(server.address);
      if (cycle === 0) {
        await client.unary('CreateStream', { streamName: 'crash', replicationFactor: 1, shardCount: 2 });
      }
      shards = (await client.unary<{ shards: Array<{ shardId: string }> }>('ListShards', { streamName: 'crash' })).shards.map((s) => s.shardId);

      // Everything acknowledged before this cycle must still be there, exactly.
      await verify(client, shards, sent);

      // New RecordIds are above every earlier acknowledged one: none is reused after a crash.
      const floor = new Map(highestAcked);
      let stop = false;
      const worker = async () => {
        while (!stop) {
          const shardId = shards[seq % shards.length]!;
          const n = 1 + Math.floor(Math.random() * 40);
          const entry: Sent = { shardId, payloads: Array.from({ length: n }, () => `${seq++}:${randomBytes(8 + Math.floor(Math.random() * 512)).toString('latin1')}`) };
          sent.push(entry);
          let res: { recordIds: Array<{ batchId: string }> };
          try {
            res = await client.unary('Append', {
              streamName: 'crash',
              shardId,
              records: batch(entry.payloads.map((p) => ({ payload: Buffer.from(p, 'latin1') })), Math.random() < 0.5 ? 'None' : 'Gzip'),
            });
          } catch {
            return; // the server died under us: this batch's outcome is unknown
          }
          entry.batchId = res.recordIds[0]!.batchId;
          expect(res.recordIds).toHaveLength(n);
          expect(Number(entry.batchId)).toBeGreaterThan(floor.get(shardId) ?? 0);
        }
      };
      const workers = Array.from({ length: IN_FLIGHT }, worker);
      await new Promise((r) => setTimeout(r, 300 + Math.random() * 700));
      server.child.kill('SIGKILL');
      stop = true;
      await Promise.all(workers);
      await server.exited;
      client.close();
      highestAcked = new Map();
      for (const s of sent) if (s.batchId) highestAcked.set(s.shardId, Math.max(highestAcked.get(s.shardId) ?? 0, Number(s.batchId)));
      expect(sent.some((s) => s.batchId)).toBe(true);
    }

    const server = await spawnServer(['--data-dir', dataDir]);
    const client = new HStreamClient(server.address);
    try {
      await verify(client, shards, sent);
    } finally {
      client.close();
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });
});

async function verify(client: HStreamClient, shards: string[], sent: Sent[]): Promise<void> {
  const bySignature = new Map(sent.map((s) => [s.payloads[0]!, s]));
  const seen = new Set<string>();
  for (const shardId of shards) {
    const stored = await readShard(client, shardId);
    const ids = stored.map((b) => Number(b.batchId));
    expect(ids, 'batches are read in increasing RecordId order').toEqual([...ids].sort((a, b) => a - b));
    for (const b of stored) {
      const origin = bySignature.get(b.payloads[0]!);
      expect(origin, 'every stored batch was sent by us').toBeDefined();
      // all-or-nothing: a stored batch holds exactly the records that were sent in it
      expect(b.payloads).toEqual(origin!.payloads);
      expect(origin!.shardId).toBe(shardId);
      if (origin!.batchId !== undefined) expect(b.batchId, 'an acknowledged batch sits at the RecordId it was given').toBe(origin!.batchId);
      else origin!.batchId = b.batchId; // an in-flight batch that made it: from now on it must stay
      for (const p of b.payloads) {
        expect(seen.has(p), 'no record is stored twice').toBe(false);
        seen.add(p);
      }
    }
  }
  const lost = sent.filter((s) => s.batchId !== undefined && !seen.has(s.payloads[0]!));
  expect(lost, 'acknowledged batches missing after restart').toEqual([]);
}
