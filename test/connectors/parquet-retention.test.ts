/**
 * The retention hand-off: with "afterRetention" = true a stream's retention
 * drops only batches the parquet sink has written and committed, so expired
 * data leaves the server into the files instead of being lost; without it
 * retention drops what it always drops. Sweeps are run with a far-future
 * clock, so no test waits for time to pass.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { duckdbRows, sqlString } from '../helpers/duckdb.js';
import { batch } from '../helpers/records.js';
import { eventually, startTestServer, tempDir, type TestServer } from '../helpers/server.js';
import { createStream } from '../helpers/streams.js';

describe('parquet sink with afterRetention', () => {
  let s: TestServer;
  const root = tempDir('hstreamlite-lake-');
  beforeAll(async () => {
    // segments close after 1 s, so the appended batches are in closed (expirable) segments soon
    s = await startTestServer({ connectorPathRoot: root, segmentMaxAgeSeconds: 1 });
  });
  afterAll(async () => s?.destroy());

  const batchCount = async (shardId: string) =>
    (
      await s.client.collect<{ receivedRecords: unknown[] }>('ReadShardStream', {
        readerId: `r${Math.random()}`,
        shardId,
        from: { specialOffset: 'EARLIEST' },
        until: { specialOffset: 'LATEST' },
      })
    ).reduce((n, m) => n + m.receivedRecords.length, 0);
  const sweepFarAhead = () => s.server.context.streams.sweepRetention(Date.now() + 24 * 3600_000);
  const appendRows = async (stream: string, shardId: string) => {
    for (let i = 0; i < 3; i++) {
      await s.client.unary('Append', { streamName: stream, shardId, records: batch([{ flag: 'JSON', payload: JSON.stringify({ temp: i }) }]) });
    }
  };
  const sealSegments = async (stream: string, shardId: string) => {
    // one more append after the segment age closes the segment holding the three
    await new Promise((r) => setTimeout(r, 1100));
    await s.client.unary('Append', { streamName: stream, shardId, records: batch([{ flag: 'JSON', payload: JSON.stringify({ temp: 100 }) }]) });
  };

  it('keeps what the sink has not written, and lets it go once it is in the files', { timeout: 60_000 }, async () => {
    const [archived] = await createStream(s.client, 'archived', 1, { backlogDuration: 1 });
    const [plain] = await createStream(s.client, 'plain', 1, { backlogDuration: 1 });
    const create = (name: string, stream: string, afterRetention: boolean) =>
      s.client.unary('CreateConnector', {
        name,
        type: 'sink',
        target: 'parquet',
        config: JSON.stringify({ stream, path: stream, afterRetention, 'roll.seconds': 1 }),
      });
    await create('archiver', 'archived', true);
    await create('plainsink', 'plain', false);
    // paused: neither writes anything yet
    await s.client.unary('PauseConnector', { name: 'archiver' });
    await s.client.unary('PauseConnector', { name: 'plainsink' });
    await appendRows('archived', archived!);
    await appendRows('plain', plain!);
    await sealSegments('archived', archived!);
    await sealSegments('plain', plain!);
    await sweepFarAhead();
    expect(await batchCount(archived!)).toBe(4);
    expect(await batchCount(plain!)).toBeLessThan(4);

    await s.client.unary('ResumeConnector', { name: 'archiver' });
    const dir = `${root}/archived`;
    await eventually(async () => {
      const rows = await duckdbRows(`SELECT count(*)::INTEGER AS n FROM read_parquet(${sqlString(`${dir}/**/*.parquet`)})`).catch(() => undefined);
      return rows?.[0]?.n === 4;
    }, 20_000, 100);
    // written and committed: now retention may take them
    await eventually(async () => {
      await sweepFarAhead();
      return (await batchCount(archived!)) < 4;
    }, 20_000, 200);
  });
});
