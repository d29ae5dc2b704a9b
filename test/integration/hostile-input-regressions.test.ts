/**
 * Regressions found by the hostile-input scenario of test/reliability: each
 * case is a request that used to take the server (or a client connection)
 * down, pinned here so it runs with every `npm test`.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectFailure, status } from '../helpers/expect.js';
import { batch, rawRecords } from '../helpers/records.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { createStream } from '../helpers/streams.js';

let t: TestServer;
let shardId: string;
beforeAll(async () => {
  t = await startTestServer();
  [shardId] = (await createStream(t.client, 'hostile', 1)) as [string];
});
afterAll(() => t.destroy());

const DEADLINE = { deadlineMs: 5_000 };

describe('Append batchSize is bounded by what the payload can hold', () => {
  it('refuses a 2-byte payload claiming 2^32-1 records at once, and keeps serving (it used to build 4 billion RecordIds and die of OOM)', async () => {
    const started = Date.now();
    const f = await expectFailure(
      t.client.unary('Append', { streamName: 'hostile', shardId, records: { compressionType: 'None', batchSize: 4294967295, payload: Buffer.from('xx') } }, DEADLINE),
      status.INVALID_ARGUMENT,
    );
    expect(f.body?.message).toBe('InvalidBatchSize');
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(await t.client.unary('Echo', { msg: 'alive' }, DEADLINE)).toEqual({ msg: 'alive' });
  });

  it('bounds compressed batches by the largest uncompressed batch (max record size / 2)', async () => {
    const tiny = gzipSync(Buffer.alloc(0));
    await expectFailure(
      t.client.unary('Append', { streamName: 'hostile', shardId, records: { compressionType: 'Gzip', batchSize: 1024 * 1024 / 2 + 1, payload: tiny } }, DEADLINE),
      status.INVALID_ARGUMENT,
    );
  });

  it('still accepts honest batches, including large compressed ones', async () => {
    const honest = batch(rawRecords(5000, ''), 'Zstd');
    const res = await t.client.unary<{ recordIds: unknown[] }>('Append', { streamName: 'hostile', shardId, records: honest }, DEADLINE);
    expect(res.recordIds).toHaveLength(5000);
  });
});
