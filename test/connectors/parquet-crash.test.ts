/**
 * The parquet sink's exactly-once promise against `kill -9`: the server
 * process is killed while the sink has files open and others being put in
 * place, then started again; DuckDB must read every appended row exactly
 * once, and no file it finds may be partial.
 */
import { readdirSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HStreamClient } from '../../src/client.js';
import { duckdbRows, sqlString } from '../helpers/duckdb.js';
import { batch } from '../helpers/records.js';
import { eventually, spawnServer, tempDir, type ServerProcess } from '../helpers/server.js';
import { createStream } from '../helpers/streams.js';

describe('parquet sink after kill -9', () => {
  const dataDir = tempDir();
  const root = tempDir('hstreamlite-lake-');
  let server: ServerProcess;
  let client: HStreamClient;

  const start = async () => {
    server = await spawnServer(['--data-dir', dataDir, '--connector-path-root', root]);
    client = new HStreamClient(server.address);
  };
  const kill = async () => {
    client.close();
    server.child.kill('SIGKILL');
    await server.exited;
  };

  beforeAll(start);
  afterAll(async () => {
    await kill();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(root, { recursive: true, force: true });
  });

  it('has every row once and no partial file after the sink is killed mid-file', { timeout: 90_000 }, async () => {
    const shards = await createStream(client, 'readings', 2);
    await client.unary('CreateConnector', {
      name: 'lake',
      type: 'sink',
      target: 'parquet',
      config: JSON.stringify({ stream: 'readings', path: 'readings', 'roll.records': 70, 'roll.seconds': 2 }),
    });
    let seq = 0;
    /** the offset the connector shows per shard once it committed everything appended */
    const lastOffsets = new Map<string, string>();
    const appendRound = async () => {
      for (const shardId of shards) {
        const rows = Array.from({ length: 30 }, () => ({ seq: seq++, temp: 0.5 }));
        const { recordIds } = await client.unary<{ recordIds: Array<{ batchId: string }> }>('Append', {
          streamName: 'readings',
          shardId,
          records: batch(rows.map((r) => ({ flag: 'JSON' as const, payload: JSON.stringify(r) }))),
        });
        lastOffsets.set(shardId, `${shardId}-${recordIds[0]!.batchId}-0`);
      }
    };
    const dir = `${root}/readings`;
    const parquetFiles = () => (readdirSync(dir, { recursive: true }) as string[]).filter((f) => f.endsWith('.parquet'));
    for (let i = 0; i < 4; i++) await appendRound();
    // files being written while more come: the kill lands with some in place and others open
    await eventually(() => parquetFiles().length > 0, 20_000, 20);
    for (let i = 0; i < 4; i++) await appendRound();
    await kill();
    await start();
    await appendRound();
    const totals = () => duckdbRows(`SELECT count(*)::INTEGER AS n, count(DISTINCT seq)::INTEGER AS d, sum(temp)::DOUBLE AS t FROM read_parquet(${sqlString(`${dir}/**/*.parquet`)})`);
    await eventually(async () => ((await totals().catch(() => undefined))?.[0]?.n as number) >= seq, 60_000, 200);
    // The replay is over once every shard's commit is at its last batch; a duplicate would be in by then.
    await eventually(async () => {
      const c = await client.unary<{ offsets: Array<{ fields: { offset: { stringValue: string } } }> }>('GetConnector', { name: 'lake' });
      const committed = c.offsets.map((o) => o.fields.offset.stringValue).sort();
      return JSON.stringify(committed) === JSON.stringify([...lastOffsets.values()].sort());
    }, 20_000, 100);
    expect((await totals())[0]).toEqual({ n: seq, d: seq, t: seq * 0.5 });
  });
});
