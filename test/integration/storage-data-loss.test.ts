/**
 * Regression found by the storage-fault scenario of test/reliability: a bit
 * flipped in LevelDB's WAL made recovery drop that write batch, and reads then
 * skipped the missing acknowledged batches without a word. A hole in a
 * shard's LSNs is now reported as STORE_CORRUPTION (DATA_LOSS on the wire).
 */
import { rmSync } from 'node:fs';
import { ClassicLevel } from 'classic-level';
import { afterAll, describe, expect, it } from 'vitest';
import { LogStore, isStoreError } from '../../storage/index.js';
import { dataKey } from '../../storage/keys.js';
import { expectFailure, status } from '../helpers/expect.js';
import { startTestServer, tempDir } from '../helpers/server.js';
import { batch, rawRecords } from '../helpers/records.js';
import { createStream } from '../helpers/streams.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const OPTIONS = { sync: false, segment: { maxBytes: 1 << 20, maxAgeMs: 3_600_000 }, maxQueuedBytes: 1 << 26 };

/** Opens the store's LevelDB directly and deletes one batch, as a damaged WAL record would. */
async function dropBatch(location: string, shardId: number, lsn: number): Promise<void> {
  const db = new ClassicLevel<Buffer, Buffer>(location, { keyEncoding: 'buffer', valueEncoding: 'buffer' });
  await db.open();
  await db.del(dataKey(shardId, lsn));
  await db.close();
}

describe('a hole in a shard log is data loss, not a skip', () => {
  it('LogStore.read throws STORE_CORRUPTION at a missing batch in the middle and at the end of the range', async () => {
    const location = tempDir();
    dirs.push(location);
    let store = await LogStore.open({ location, ...OPTIONS });
    await store.createLogs([7], []);
    const lsns: number[] = [];
    for (let i = 0; i < 5; i++) lsns.push((await store.append(7, { compression: 0, batchSize: 1, payload: Buffer.from(`b${i}`) })).lsn);
    await store.close();
    await dropBatch(location, 7, lsns[2]!);
    store = await LogStore.open({ location, ...OPTIONS });
    try {
      // up to the hole: fine
      expect((await store.read(7, lsns[0]!, lsns[1]!, 100, 1 << 20)).map((b) => b.lsn)).toEqual(lsns.slice(0, 2));
      const across = await store.read(7, lsns[0]!, lsns[4]!, 100, 1 << 20).catch((err: unknown) => err);
      expect(isStoreError(across, 'STORE_CORRUPTION'), String(across)).toBe(true);
      const atEnd = await store.read(7, lsns[2]!, lsns[2]!, 100, 1 << 20).catch((err: unknown) => err);
      expect(isStoreError(atEnd, 'STORE_CORRUPTION'), String(atEnd)).toBe(true);
      // a trimmed range is not a hole
      await store.trim(7, lsns[2]!);
      expect((await store.read(7, 1, lsns[4]!, 100, 1 << 20)).map((b) => b.lsn)).toEqual(lsns.slice(3));
    } finally {
      await store.close();
    }
  });

  it('ReadShardStream ends with DATA_LOSS instead of skipping an acknowledged batch', async () => {
    const dataDir = tempDir();
    dirs.push(dataDir);
    let t = await startTestServer({ dataDir });
    const [shardId] = (await createStream(t.client, 'holes', 1)) as [string];
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await t.client.unary<{ recordIds: Array<{ batchId: string }> }>('Append', { streamName: 'holes', shardId, records: batch(rawRecords(2, `${i}-`)) });
      ids.push(res.recordIds[0]!.batchId);
    }
    await t.stop();
    await dropBatch(dataDir, Number(shardId), Number(ids[1]));
    t = await startTestServer({ dataDir });
    try {
      await expectFailure(
        t.client.collect('ReadShardStream', { readerId: 'r', shardId, from: { specialOffset: 'EARLIEST' }, until: { specialOffset: 'LATEST' } }),
        status.DATA_LOSS,
      );
    } finally {
      await t.stop();
    }
  });
});
