/** SIGTERM during appends: every acknowledged record is there after restart, and the process exits 0. */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { HStreamClient } from '../../src/client.js';
import { Compression, decodeRecords } from '../../src/records.js';
import { batch } from '../helpers/records.js';
import { spawnServer, tempDir } from '../helpers/server.js';

const dataDir = tempDir('hstreamlite-sigterm-');
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('graceful shutdown', () => {
  it('loses nothing acknowledged when SIGTERM arrives during concurrent appends', async () => {
    let server = await spawnServer(['--data-dir', dataDir]);
    let client = new HStreamClient(server.address);
    await client.unary('CreateStream', { streamName: 'term', replicationFactor: 1, shardCount: 1 });
    const [{ shardId }] = (await client.unary<{ shards: Array<{ shardId: string }> }>('ListShards', { streamName: 'term' })).shards as [{ shardId: string }];
    const acked = new Set<string>();
    let stop = false;
    let n = 0;
    const worker = async () => {
      while (!stop) {
        const payload = `rec-${n++}`;
        try {
          await client.unary('Append', { streamName: 'term', shardId, records: batch([{ payload }]) });
          acked.add(payload);
        } catch {
          return;
        }
      }
    };
    const workers = Array.from({ length: 8 }, worker);
    await new Promise((r) => setTimeout(r, 400));
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    stop = true;
    await Promise.all(workers);
    client.close();
    expect(acked.size).toBeGreaterThan(0);

    server = await spawnServer(['--data-dir', dataDir]);
    client = new HStreamClient(server.address);
    const msgs = await client.collect<{ receivedRecords: Array<{ record: { payload: Buffer } }> }>('ReadShardStream', {
      readerId: 'c',
      shardId,
      from: { specialOffset: 'EARLIEST' },
      until: { specialOffset: 'LATEST' },
    });
    const stored = new Set(
      msgs.flatMap((m) => m.receivedRecords).flatMap((r) => decodeRecords(Compression.None, Buffer.from(r.record.payload)).map((x) => x.payload.toString())),
    );
    for (const p of acked) expect(stored.has(p), `${p} was acknowledged`).toBe(true);
    client.close();
    server.child.kill('SIGTERM');
    await server.exited;
  });
});
