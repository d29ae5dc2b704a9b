/**
 * The parquet sink against a real server, read back by a real engine
 * (DuckDB): records → Hive-partitioned Parquet files whose count and sum
 * equal what was appended, schema evolution in `_schema.json`, records that
 * are not JSON objects in `_rejected/` with their ids and a metric, the jsonl
 * format, paths outside the root or unwritable refused with 604, and a
 * replay of records already in files adding no row.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliFor } from '../cli/cli-harness.js';
import { duckdbRows, sqlString } from '../helpers/duckdb.js';
import { expectFailure, status } from '../helpers/expect.js';
import { batch } from '../helpers/records.js';
import { eventually, startTestServer, tempDir, type TestServer } from '../helpers/server.js';
import { createStream } from '../helpers/streams.js';

interface ConnectorMsg {
  name: string;
  status: string;
  dockerStatus: string;
}

/** Every file under a directory, as paths relative to it. */
function filesUnder(dir: string): string[] {
  return (readdirSync(dir, { recursive: true, withFileTypes: true }) as Array<{ isFile(): boolean; parentPath: string; name: string }>)
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

describe('parquet sink', () => {
  let s: TestServer;
  let root: string;

  beforeAll(async () => {
    root = tempDir('hstreamlite-lake-');
    s = await startTestServer({ connectorPathRoot: root, httpPort: 0 });
  });
  afterAll(async () => s?.destroy());

  const create = (name: string, config: Record<string, unknown>) =>
    s.client.unary<ConnectorMsg>('CreateConnector', { name, type: 'sink', target: 'parquet', config: JSON.stringify(config) });
  /** Appends JSON texts (or raw payloads) to a shard and returns their record ids as the sink names them. */
  const append = async (stream: string, shardId: string, payloads: Array<string | object>, flag: 'JSON' | 'RAW' = 'JSON') => {
    const reply = await s.client.unary<{ recordIds: Array<{ shardId: string; batchId: string; batchIndex: number }> }>('Append', {
      streamName: stream,
      shardId,
      records: batch(payloads.map((p) => ({ flag, payload: typeof p === 'string' ? p : JSON.stringify(p) }))),
    });
    return reply.recordIds.map((r) => `${r.shardId}-${r.batchId}-${r.batchIndex}`);
  };
  const parquetTotals = async (dir: string) =>
    (await duckdbRows(`SELECT count(*)::INTEGER AS n, sum(temp)::DOUBLE AS total FROM read_parquet(${sqlString(`${dir}/**/*.parquet`)}, hive_partitioning = true)`))[0];

  it('writes JSON records into hour partitions that DuckDB reads back whole', { timeout: 60_000 }, async () => {
    const shards = await createStream(s.client, 'temps', 2);
    await create('lake1', { stream: 'temps', path: 'temp_hum', 'roll.records': 100, 'roll.seconds': 1 });
    let count = 0;
    let sum = 0;
    for (let round = 0; round < 5; round++) {
      for (const shard of shards) {
        const rows = Array.from({ length: 50 }, (_, i) => ({ device: `d${i % 7}`, temp: 20 + ((count + i) % 13) * 0.5, seq: count + i }));
        await append('temps', shard, rows);
        count += rows.length;
        sum += rows.reduce((n, r) => n + r.temp, 0);
      }
    }
    const dir = join(root, 'temp_hum');
    const totals = await eventually(async () => {
      const t = await parquetTotals(dir).catch(() => undefined);
      return t && t.n === count ? t : undefined;
    }, 30_000, 200);
    expect(totals.total).toBeCloseTo(sum, 6);
    // every file in a dt=/hour= directory, named by its shard and first and last record ids
    const files = filesUnder(dir).filter((f) => f.endsWith('.parquet'));
    expect(files.length).toBeGreaterThanOrEqual(2);
    for (const f of files) expect(f).toMatch(/^dt=\d{4}-\d\d-\d\d\/hour=\d\d\/(\d+)-\d+-\d+_\1-\d+-\d+\.parquet$/);
    // rolled by records: no file holds more than roll.records (the appends come 50 at a time)
    const perFile = await duckdbRows(`SELECT max(n)::INTEGER AS most FROM (SELECT count(*) AS n FROM read_parquet(${sqlString(`${dir}/**/*.parquet`)}, filename = true) GROUP BY filename)`);
    expect(perFile[0]!.most).toBeLessThanOrEqual(100);
    // the hive columns are the publish time's UTC hour
    const parts = await duckdbRows(`SELECT DISTINCT dt::VARCHAR AS dt, hour::INTEGER AS hour FROM read_parquet(${sqlString(`${dir}/**/*.parquet`)}, hive_partitioning = true)`);
    const now = new Date();
    for (const p of parts) expect(Math.abs(Date.parse(`${String(p.dt)}T${String(p.hour).padStart(2, '0')}:00:00Z`) - now.getTime())).toBeLessThan(2 * 3600_000);
    // no row twice, none lost
    const distinct = await duckdbRows(`SELECT count(DISTINCT seq)::INTEGER AS n FROM read_parquet(${sqlString(`${dir}/**/*.parquet`)})`);
    expect(distinct[0]!.n).toBe(count);
    // everything acknowledged once the files are in place
    await eventually(async () => (await s.client.unary<{ offsets: unknown[] }>('GetConnector', { name: 'lake1' })).offsets.length === 2, 10_000);
  });

  it('rolls files by records over the batches of one write: 300 records in batches of 50 make three files of 100', { timeout: 60_000 }, async () => {
    const [shard] = await createStream(s.client, 'counted', 1);
    // appended before the connector starts, so its first writes carry many batches at once
    for (let i = 0; i < 6; i++) await append('counted', shard!, Array.from({ length: 50 }, (_, j) => ({ temp: 1, seq: i * 50 + j })));
    await create('lake5', { stream: 'counted', path: 'counted', 'roll.records': 100, 'roll.seconds': 1800 });
    const dir = join(root, 'counted');
    const perFile = await eventually(async () => {
      const rows = await duckdbRows(`SELECT count(*)::INTEGER AS n FROM read_parquet(${sqlString(`${dir}/**/*.parquet`)}, filename = true) GROUP BY filename ORDER BY min(seq)`).catch(() => []);
      return rows.reduce((n, r) => n + (r.n as number), 0) === 300 ? rows.map((r) => r.n) : undefined;
    }, 20_000, 100);
    expect(perFile).toEqual([100, 100, 100]);
  });

  it('is created by the SQL statement of the issue through hstream sql', { timeout: 60_000 }, async () => {
    const [shard] = await createStream(s.client, 'temp_hum', 1);
    const cli = cliFor(`hstream://${s.server.address}`);
    const created = await cli(['sql', '-e', `CREATE SINK CONNECTOR sqllake TO parquet WITH ("stream" = 'temp_hum', "path" = 'sql/temp_hum', "partition" = 'hour', "roll.seconds" = 1, "afterRetention" = TRUE);`]);
    expect(created.stderr).toBe('');
    expect(created.stdout).toContain('| sqllake | RUNNING |');
    await append('temp_hum', shard!, [{ temp: 21.5 }, { temp: 22.5 }]);
    const totals = await eventually(async () => {
      const t = await parquetTotals(join(root, 'sql/temp_hum')).catch(() => undefined);
      return t?.n === 2 ? t : undefined;
    }, 20_000, 100);
    expect(totals.total).toBe(44);
  });

  it('keeps the inferred schema and its versions in _schema.json', { timeout: 60_000 }, async () => {
    const [shard] = await createStream(s.client, 'evolving', 1);
    await create('lake2', { stream: 'evolving', path: 'evolving', 'roll.records': 10, 'roll.seconds': 1 });
    const dir = join(root, 'evolving');
    const catalog = () => JSON.parse(readFileSync(join(dir, '_schema.json'), 'utf8')) as {
      current: { version: number; fields: Array<{ name: string; type: string }> };
      versions: Array<{ version: number; since: string; changes: Array<{ name: string; type: string; was?: string }> }>;
    };
    await append('evolving', shard!, Array.from({ length: 10 }, (_, i) => ({ temp: i, ok: true, tags: { a: i } })));
    await eventually(() => { try { return catalog().current.version === 1; } catch { return false; } }, 20_000, 100);
    await append('evolving', shard!, Array.from({ length: 10 }, (_, i) => ({ temp: i + 0.5, hum: 40 + i, ok: null })));
    await eventually(() => catalog().current.version === 2, 20_000, 100);
    await append('evolving', shard!, Array.from({ length: 10 }, (_, i) => ({ temp: `warm${i}`, hum: 50 })));
    await eventually(() => catalog().current.version === 3, 20_000, 100);
    const c = catalog();
    expect(c.current.fields).toEqual([
      { name: 'temp', type: 'STRING' },
      { name: 'ok', type: 'BOOLEAN' },
      { name: 'tags', type: 'JSON' },
      { name: 'hum', type: 'DOUBLE' },
    ]);
    expect(c.versions.map((v) => v.changes)).toEqual([
      [{ name: 'temp', type: 'DOUBLE' }, { name: 'ok', type: 'BOOLEAN' }, { name: 'tags', type: 'JSON' }],
      [{ name: 'hum', type: 'DOUBLE' }],
      [{ name: 'temp', type: 'STRING', was: 'DOUBLE' }],
    ]);
    // each version names the file that first has it (written just after the catalog)
    await eventually(() => c.versions.every((v) => filesUnder(dir).includes(v.since)), 20_000, 100);
    // all 30 rows readable across the versions; nested objects as JSON text
    const rows = await eventually(async () => {
      const r = await duckdbRows(`SELECT count(*)::INTEGER AS n, count(hum)::INTEGER AS hums, max(tags) AS tags FROM read_parquet(${sqlString(`${dir}/**/*.parquet`)}, union_by_name = true)`);
      return r[0]!.n === 30 ? r[0] : undefined;
    }, 20_000, 100);
    expect(rows).toEqual({ n: 30, hums: 20, tags: '{"a":9}' });
  });

  it('names in each schema version the first file that has it, when files sealed before the change are written after it', { timeout: 60_000 }, async () => {
    const [shard] = await createStream(s.client, 'sealed_first', 1);
    // appended before the connector starts, so one write seals the first two files and fills the third
    // (the new field) before any of them is written
    const ids = [
      ...(await append('sealed_first', shard!, Array.from({ length: 10 }, (_, i) => ({ temp: i })))),
      ...(await append('sealed_first', shard!, Array.from({ length: 10 }, (_, i) => ({ temp: 10 + i })))),
      ...(await append('sealed_first', shard!, Array.from({ length: 10 }, (_, i) => ({ temp: 20 + i, hum: i })))),
    ];
    await create('lake_sealed', { stream: 'sealed_first', path: 'sealed_first', 'roll.records': 10, 'roll.seconds': 1800 });
    const dir = join(root, 'sealed_first');
    const parquet = await eventually(() => {
      const files = filesUnder(dir).filter((f) => f.endsWith('.parquet'));
      return files.length === 3 ? files : undefined;
    }, 20_000, 100);
    const named = (first: number) => parquet.find((f) => f.endsWith(`/${ids[first]}_${ids[first + 9]}.parquet`));
    const catalog = JSON.parse(readFileSync(join(dir, '_schema.json'), 'utf8')) as { versions: Array<{ since: string; changes: unknown[] }> };
    expect(catalog.versions.map((v) => ({ since: v.since, changes: v.changes }))).toEqual([
      { since: named(0), changes: [{ name: 'temp', type: 'DOUBLE' }] },
      { since: named(20), changes: [{ name: 'hum', type: 'DOUBLE' }] },
    ]);
    // each file has the columns of its version
    const columns = async (file: string | undefined) => (await duckdbRows(`DESCRIBE SELECT * FROM read_parquet(${sqlString(join(dir, file!))}, hive_partitioning = false)`)).map((r) => r.column_name);
    expect(await columns(named(10))).toEqual(['temp']);
    expect(await columns(named(20))).toEqual(['temp', 'hum']);
  });

  it('puts records that are not JSON objects in _rejected/ with their ids, and counts them', { timeout: 60_000 }, async () => {
    const [shard] = await createStream(s.client, 'mixed', 1);
    await create('lake3', { stream: 'mixed', path: 'mixed', 'roll.seconds': 1 });
    const good = await append('mixed', shard!, [{ temp: 1 }, { temp: 2 }]);
    const raw = await append('mixed', shard!, ['not json', '{"temp": 3'], 'RAW');
    const scalar = await append('mixed', shard!, ['5', '[1,2]', '{"temp":4}']);
    const dir = join(root, 'mixed');
    const lines = await eventually(() => {
      // a file being written has a hidden temporary name until it is whole
      const files = filesUnder(dir).filter((f) => f.startsWith('_rejected/') && !/\/\.[^/]*$/.test(f));
      const all = files.flatMap((f) => readFileSync(join(dir, f), 'utf8').trim().split('\n'));
      return all.length === 4 ? { files, all: all.map((l) => JSON.parse(l) as { recordId: string; reason: string; payload: string }) } : undefined;
    }, 20_000, 100);
    for (const f of lines.files) expect(f).toMatch(/^_rejected\/dt=\d{4}-\d\d-\d\d\/hour=\d\d\/\d+-\d+-\d+_\d+-\d+-\d+\.jsonl$/);
    expect(lines.all).toEqual([
      { recordId: raw[0], reason: 'not JSON', payload: 'not json' },
      { recordId: raw[1], reason: 'not JSON', payload: '{"temp": 3' },
      { recordId: scalar[0], reason: 'not a JSON object', payload: '5' },
      { recordId: scalar[1], reason: 'not a JSON object', payload: '[1,2]' },
    ]);
    expect(good).toHaveLength(2);
    const totals = await eventually(async () => {
      const t = await parquetTotals(dir).catch(() => undefined);
      return t?.n === 3 ? t : undefined;
    }, 20_000, 100);
    expect(totals.total).toBe(7);
    const metrics = await (await fetch(`http://127.0.0.1:${s.server.httpPort}/metrics`)).text();
    expect(metrics).toMatch(/hstream_connector_rejected_records_total\{[^}]*connector="lake3"[^}]*\} 4\n/);
  });

  it('writes newline-delimited JSON with the same layout when "format" is "jsonl"', { timeout: 60_000 }, async () => {
    const [shard] = await createStream(s.client, 'lines', 1);
    await create('lake4', { stream: 'lines', path: 'lines', format: 'jsonl', partition: 'day', 'roll.seconds': 1 });
    await append('lines', shard!, ['{"a": 1,\n "b": "x"}', { a: 2 }]);
    await append('lines', shard!, [{ a: 3, c: [1] }]);
    const dir = join(root, 'lines');
    const files = await eventually(() => {
      const f = filesUnder(dir).filter((x) => x.endsWith('.jsonl'));
      const text = f.map((x) => readFileSync(join(dir, x), 'utf8')).join('');
      return text.split('\n').length === 4 ? f : undefined;
    }, 20_000, 100);
    for (const f of files) expect(f).toMatch(/^dt=\d{4}-\d\d-\d\d\/\d+-\d+-\d+_\d+-\d+-\d+\.jsonl$/);
    const text = files.map((x) => readFileSync(join(dir, x), 'utf8')).join('');
    expect(text).toBe('{"a":1,"b":"x"}\n{"a":2}\n{"a":3,"c":[1]}\n');
    expect(JSON.parse(readFileSync(join(dir, '_schema.json'), 'utf8')).current.fields).toEqual([
      { name: 'a', type: 'DOUBLE' },
      { name: 'b', type: 'STRING' },
      { name: 'c', type: 'JSON' },
    ]);
  });

  it('refuses a path outside the root or one it cannot write with 604 naming the key, and keeps serving', async () => {
    await createStream(s.client, 'refused', 1);
    const outside = tempDir('hstreamlite-outside-');
    symlinkSync(outside, join(root, 'escape'));
    writeFileSync(join(root, 'a-file'), 'x');
    const cases: Array<[string, RegExp]> = [
      ['/etc/lake', /"path" \/etc\/lake is outside .* the directory connectors may write under \(--connector-path-root\)/],
      ['../up', /"path" \.\.\/up is outside/],
      ['escape/data', /"path" escape\/data is outside/],
      ['a-file/data', /"path" a-file\/data cannot be written \(ENOTDIR\)/],
    ];
    // permissions stop everyone but root
    if (process.getuid?.() !== 0) {
      mkdirSync(join(root, 'locked'), { mode: 0o500 });
      cases.push(['locked/data', /"path" locked\/data cannot be written \(EACCES\)/]);
    }
    for (const [path, message] of cases) {
      const f = await expectFailure(create('bad', { stream: 'refused', path }), status.FAILED_PRECONDITION, 604);
      expect((f.body?.extra as { crtDetail: string }).crtDetail).toMatch(message);
    }
    expect(readdirSync(outside)).toEqual([]);
    const { connectors } = await s.client.unary<{ connectors: ConnectorMsg[] }>('ListConnectors', {});
    expect(connectors.map((c) => c.name)).not.toContain('bad');
  });

  it('keeps a file it cannot write, writes nothing newer meanwhile, and delivers every record once when it can', { timeout: 60_000 }, async () => {
    const [shard] = await createStream(s.client, 'blocked', 1);
    await create('lake_blocked', { stream: 'blocked', path: 'blocked', 'roll.records': 100, 'roll.seconds': 1 });
    const dir = join(root, 'blocked');
    // a file where the day's partition directory must go: every write fails (even as root) until it is gone
    const day = (offsetDays: number) => `dt=${new Date(Date.now() + offsetDays * 86_400_000).toISOString().slice(0, 10)}`;
    const blockers = [day(0), day(1)].map((d) => join(dir, d));
    for (const b of blockers) writeFileSync(b, 'in the way');
    let appended = 0;
    const more = async (n: number) => {
      await append('blocked', shard!, Array.from({ length: n }, (_, j) => ({ temp: 1, seq: appended + j })));
      appended += n;
    };
    for (let i = 0; i < 5; i++) await more(50);
    // the failed file blocks the records that come after it: their write is refused and retried
    const failing = await eventually(async () => {
      const c = await s.client.unary<ConnectorMsg>('GetConnector', { name: 'lake_blocked' });
      if (c.dockerStatus.startsWith('retrying')) return c;
      await more(10);
      return undefined;
    }, 30_000, 200);
    expect(failing.dockerStatus).toMatch(/ENOTDIR|EEXIST|not a directory|exists/i);
    expect(filesUnder(dir).filter((f) => f.endsWith('.parquet'))).toEqual([]);
    for (const b of blockers) rmSync(b);
    const rows = await eventually(async () => {
      const r = await duckdbRows(`SELECT count(*)::INTEGER AS n, count(DISTINCT seq)::INTEGER AS d FROM read_parquet(${sqlString(`${dir}/**/*.parquet`)})`).catch(() => []);
      return r[0]?.n === appended ? r[0] : undefined;
    }, 30_000, 200);
    expect(rows).toEqual({ n: appended, d: appended });
  });

  it('adds no row when records already in files are read again (a replay after a crash)', { timeout: 60_000 }, async () => {
    const [shard] = await createStream(s.client, 'replayed', 1);
    await create('first', { stream: 'replayed', path: 'replayed', 'roll.records': 40, 'roll.seconds': 1 });
    for (let i = 0; i < 5; i++) await append('replayed', shard!, Array.from({ length: 25 }, (_, j) => ({ temp: 1, seq: i * 25 + j })));
    const dir = join(root, 'replayed');
    await eventually(async () => (await parquetTotals(dir).catch(() => undefined))?.n === 125, 20_000, 100);
    await s.client.unary('DeleteConnector', { name: 'first' });
    const before = filesUnder(dir);
    // A new connector reads the stream from its start into the same directory: every record
    // comes again, with other roll boundaries (every 30 records), as after a crash before the commit.
    await create('again', { stream: 'replayed', path: 'replayed', 'roll.records': 30, 'roll.seconds': 1 });
    const last = (await append('replayed', shard!, Array.from({ length: 5 }, (_, j) => ({ temp: 1, seq: 125 + j })))).at(-1)!;
    // committed past the last record: the replay is over
    const [, lastBatch] = last.split('-');
    await eventually(async () => {
      const { offsets } = await s.client.unary<{ offsets: Array<{ fields: { offset: { stringValue: string } } }> }>('GetConnector', { name: 'again' });
      return offsets[0]?.fields.offset.stringValue === `${shard}-${lastBatch}-0`;
    }, 20_000, 100);
    const rows = await duckdbRows(`SELECT count(*)::INTEGER AS n, count(DISTINCT seq)::INTEGER AS d FROM read_parquet(${sqlString(`${dir}/**/*.parquet`)})`);
    expect(rows[0]).toEqual({ n: 130, d: 130 });
    const added = filesUnder(dir).filter((f) => !before.includes(f));
    expect(added).toHaveLength(1);
  });
});
