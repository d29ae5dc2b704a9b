/**
 * The parquet sink end to end against the library it writes with, measured
 * in the same run, reps interleaved: records/s of ~90-byte JSON rows of six
 * columns (a sensor reading) from a stream into Parquet files (10,000 rows a
 * file), against hyparquet-writer in this process turning the same JSON
 * texts into the same files (parse, columns, encode, write, fsync, rename).
 * Each sink rep: the stream is filled first (untimed); the time runs from
 * CreateConnector until the connector reports every record delivered, which
 * it does only once their files are in place. DuckDB counts the rows after.
 * Both report CPU ms per 10,000 rows (the server's all threads; the
 * baseline's process), which holds when other load moves the rates.
 */
import { mkdirSync, openSync, closeSync, fsyncSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DuckDBInstance } from '@duckdb/node-api';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { encodeRecords } from '../src/records.js';
import { CALL_DEADLINE_MS, createStream, startHStream, type HStreamTarget } from './clients.js';
import { untilDelivered } from './connectors.js';
import { processCpuMs, type Rep } from './harness.js';
import { compared, type Scenario } from './scenario.js';

const BASELINE = 'baseline/hyparquet-writer/json-to-parquet-file=10000rows';
const ROWS_PER_FILE = 10_000;

function readingText(i: number): string {
  return JSON.stringify({ ts: 1_796_000_000_000 + i, device: `sensor-${i % 64}`, temp: 15 + (i % 200) / 10, hum: 30 + (i % 61) / 2, ok: i % 5 !== 0, seq: i });
}

async function sinkRep(source: HStreamTarget, root: string, i: number, records: number): Promise<Rep> {
  const name = i < 0 ? 'warm' : String(i);
  const stream = `bench_lake_${name}`;
  const shardId = await createStream(source.client, stream);
  for (let from = 0; from < records; from += 100) {
    const batch = Array.from({ length: Math.min(100, records - from) }, (_, k) => ({
      header: { flag: 'JSON' as const, attributes: {}, key: '' },
      payload: Buffer.from(readingText(from + k)),
    }));
    await source.client.unary('Append', { streamName: stream, shardId, records: { compressionType: 'None', batchSize: batch.length, payload: encodeRecords(batch) } }, { deadlineMs: CALL_DEADLINE_MS });
  }
  const t0 = performance.now();
  const cpu0 = processCpuMs(source.child.pid);
  const config = { stream, path: stream, 'roll.records': ROWS_PER_FILE };
  await source.client.unary('CreateConnector', { name: `lake_${name}`, type: 'SINK', target: 'parquet', config: JSON.stringify(config) }, { deadlineMs: CALL_DEADLINE_MS });
  await untilDelivered(source.client, `lake_${name}`, records, 120_000);
  const value = records / ((performance.now() - t0) / 1000);
  // all of the server's threads (the Parquet encoder's too): what the rows cost whatever else runs on the machine
  const cpuMs = processCpuMs(source.child.pid) - cpu0;
  await source.client.unary('DeleteConnector', { name: `lake_${name}` }, { deadlineMs: CALL_DEADLINE_MS });
  await expectRows(join(root, stream), records);
  return { value, extra: { cpuMsPer10kRows: perTenK(cpuMs, records) } };
}

/** The same rows straight through the library: what the sink could reach with no server around it. */
function baselineRep(dir: string, records: number): Rep {
  mkdirSync(dir, { recursive: true });
  const texts = Array.from({ length: records }, (_, i) => readingText(i));
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  for (let from = 0; from < records; from += ROWS_PER_FILE) {
    const rows = texts.slice(from, from + ROWS_PER_FILE).map((t) => JSON.parse(t) as Record<string, number | string | boolean>);
    const column = (name: string, type: 'DOUBLE' | 'STRING' | 'BOOLEAN') => ({ name, type, data: rows.map((r) => r[name] ?? null) });
    const bytes = parquetWriteBuffer({
      columnData: [column('ts', 'DOUBLE'), column('device', 'STRING'), column('temp', 'DOUBLE'), column('hum', 'DOUBLE'), column('ok', 'BOOLEAN'), column('seq', 'DOUBLE')],
    });
    const temp = join(dir, `.${from}.parquet.tmp`);
    writeFileSync(temp, new Uint8Array(bytes));
    const fd = openSync(temp, 'r+');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(temp, join(dir, `${from}.parquet`));
  }
  const cpu = process.cpuUsage(cpu0);
  return { value: records / ((performance.now() - t0) / 1000), extra: { cpuMsPer10kRows: perTenK((cpu.user + cpu.system) / 1000, records) } };
}

function perTenK(ms: number, records: number): number {
  return Math.round((ms / records) * 10_000 * 10) / 10;
}

async function expectRows(dir: string, records: number): Promise<void> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  try {
    const rows = (await conn.runAndReadAll(`SELECT count(*)::INTEGER AS n FROM read_parquet('${dir.replace(/'/g, "''")}/**/*.parquet')`)).getRowObjectsJson();
    if (rows[0]?.['n'] !== records) throw new Error(`DuckDB reads ${String(rows[0]?.['n'])} rows in ${dir}, expected ${records}`);
  } finally {
    conn.closeSync();
    db.closeSync();
  }
}

export const lakeScenarios: Scenario[] = [
  {
    id: 'connector/parquet',
    title: 'parquet sink: 6-column JSON rows/s into Parquet files (read back by DuckDB), vs hyparquet-writer writing the same rows directly',
    modes: ['quick', 'full'],
    timeoutMs: { quick: 240_000, full: 480_000 },
    async run(ctx, scope) {
      const records = ctx.mode === 'quick' ? 100_000 : 300_000;
      const dataDir = scope.tempDir();
      const root = join(dataDir, 'lake');
      const source = await startHStream(scope, { dataDir });
      const baseDir = (i: number) => join(scope.tempDir(), `direct_${i}`);
      baselineRep(baseDir(-1), 20_000);
      await sinkRep(source, root, -1, 20_000);
      const sink: Rep[] = [];
      const base: Rep[] = [];
      for (let i = 0; i < ctx.timing.reps; i++) {
        ctx.progress(`connector/parquet rep ${i + 1}`);
        if (i % 2 === 0) {
          base.push(baselineRep(baseDir(i), records));
          sink.push(await sinkRep(source, root, i, records));
        } else {
          sink.push(await sinkRep(source, root, i, records));
          base.push(baselineRep(baseDir(i), records));
        }
      }
      ctx.baselines.add(BASELINE, 'rec/s', 'higher', base);
      return [compared(`connector/parquet/records=${records}x6col-json`, 'rec/s', 'higher', sink, { name: BASELINE, reps: base })];
    },
  },
];
