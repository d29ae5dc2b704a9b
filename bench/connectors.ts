/**
 * Sink connectors end to end, each against a baseline measured in the same
 * run, reps interleaved:
 * - the hstream mirror: records/s from a source server into a second
 *   server, against our own Append of the same records into that server
 *   (100×1 KiB per call, 16 calls in flight: what a fast client gets).
 * - the postgresql sink: records/s of 1 KiB JSON rows upserted into a real
 *   PostgreSQL (Debian's, started by the bench on a free port), against a
 *   bare `pg` loop upserting the same rows in the same batches (1,000 rows
 *   per multi-row INSERT … ON CONFLICT, one transaction each). `extra` adds
 *   the same loop with ten prepared 100-row upserts per transaction (what
 *   the sink sends), and the CPU per 1k rows of PostgreSQL and of the writer
 *   (our server, or the bench process for the bare loops).
 * Each rep: the source stream is filled first (untimed); the mirror's time
 * runs from CreateConnector until the connector reports every record
 * delivered. The postgresql row is the sink's rate from its first confirmed
 * batch to the last (the baseline's clock also starts on an open
 * connection); `fromCreateRecPerS` is the same rep timed from CreateConnector.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import type { HStreamClient } from '../src/client.js';
import { encodeRecords } from '../src/records.js';
import { CALL_DEADLINE_MS, createStream, prefill, startHStream, type HStreamTarget } from './clients.js';
import { median, processCpuMs, type Rep } from './harness.js';
import { batchPool } from './payload.js';
import { startDelayProxy } from './delay-proxy.js';
import { postgresUnavailable, startPostgres, type TestPostgres } from './postgres.js';
import { compared, interleaved, SkipScenario, type Scenario } from './scenario.js';

const PG_BASELINE = 'baseline/pg/multi-row-upsert-batch=1000x1KiB';
const PG_ROWS_PER_STATEMENT = 1000;
const MIRROR_BASELINE = 'baseline/hstreamlite/append-batch=100x1KiB/inflight=16';
/** each way, through bench/delay-proxy.ts: a database on another host */
const REMOTE_DELAY_MS = 1;
const PG_REMOTE_BASELINE = `baseline/pg/pipelined-prepared-upsert-batch=1000x1KiB/delay=${REMOTE_DELAY_MS}ms`;

/** Records the connector says it delivered (GetStats connStat, as upstream's). */
export async function delivered(client: HStreamClient, connector: string): Promise<number> {
  const res = await client.unary<{ statsValues: Array<{ statValues: Record<string, string> }> }>(
    'GetStats',
    { stats: [{ connStat: 'DeliveredInRecords' }] },
    { deadlineMs: CALL_DEADLINE_MS },
  );
  return Number(res.statsValues[0]?.statValues[connector] ?? 0);
}

export async function untilDelivered(client: HStreamClient, connector: string, records: number, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while ((await delivered(client, connector)) < records) {
    if (performance.now() > deadline) throw new Error(`connector ${connector} delivered ${await delivered(client, connector)} of ${records} records within ${timeoutMs} ms`);
    await sleep(10);
  }
}

async function mirrorRep(source: HStreamTarget, target: HStreamTarget, i: number, records: number): Promise<Rep> {
  const pool = batchPool(100);
  const stream = `bench_mirror_${i}`;
  const shardId = await createStream(source.client, stream);
  await prefill(source.client, stream, shardId, pool, records, 120_000);
  const t0 = performance.now();
  await source.client.unary(
    'CreateConnector',
    { name: `mirror_${i}`, type: 'SINK', target: 'hstream', config: JSON.stringify({ stream, serviceUrl: `hstream://${target.child.address}` }) },
    { deadlineMs: CALL_DEADLINE_MS },
  );
  await untilDelivered(source.client, `mirror_${i}`, records, 120_000);
  const s = (performance.now() - t0) / 1000;
  await source.client.unary('DeleteConnector', { name: `mirror_${i}` }, { deadlineMs: CALL_DEADLINE_MS });
  return { value: records / s };
}

async function appendRep(target: HStreamTarget, i: number, records: number): Promise<Rep> {
  const pool = batchPool(100);
  const stream = `bench_append_${i}`;
  const shardId = await createStream(target.client, stream);
  const t0 = performance.now();
  await prefill(target.client, stream, shardId, pool, records, 120_000);
  return { value: records / ((performance.now() - t0) / 1000) };
}

/** 1 KiB JSON rows {"id":n,"body":"…"}. */
function jsonRow(id: number): { id: number; body: string } {
  return { id, body: `row ${id} `.padEnd(1000, 'x') };
}

/** ms of CPU per 1000 records, two decimals */
function perK(ms: number, records: number): number {
  return Math.round((ms / (records / 1000)) * 100) / 100;
}

/** Rows per statement of the prepared bare loop: what the sink sends (src/connectors/postgresql.ts). */
const PG_PREPARED_ROWS = 100;

/**
 * The bare loop: 1,000 rows per transaction, as one multi-row upsert (`multi`, the
 * issue's baseline), as ten 100-row upserts of one prepared statement awaited one by
 * one (`prepared`), or as the same prepared upserts written with BEGIN and COMMIT
 * without waiting for each answer on a pipelining connection (`pipelined`, the way
 * the sink sends them). The last two are in `extra`, so the ratio to the strongest
 * bare loop is there too.
 */
type PgLoopShape = 'multi' | 'prepared' | 'pipelined';

/** `port`: where the loop connects (a delay proxy), PostgreSQL's own by default; `tag` keeps its tables apart. */
async function pgBaselineRep(db: TestPostgres, i: number, records: number, shape: PgLoopShape = 'multi', port = db.port, tag = ''): Promise<Rep> {
  const prepared = shape !== 'multi';
  const table = `base_${tag}${shape === 'multi' ? '' : shape.slice(0, 4)}${i < 0 ? 'warm' : i}`;
  await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, body text)`);
  const client = new pg.Client({ host: db.host, port, user: db.user, password: db.password, database: db.database, pipeline: shape === 'pipelined' });
  await client.connect();
  try {
    const t0 = performance.now();
    const pg0 = db.cpuMs();
    const client0 = process.cpuUsage();
    for (let from = 0; from < records; from += PG_ROWS_PER_STATEMENT) {
      const rows = Array.from({ length: Math.min(PG_ROWS_PER_STATEMENT, records - from) }, (_, k) => jsonRow(from + k));
      const sent: Promise<unknown>[] = [client.query('BEGIN')];
      for (let at = 0; at < rows.length; at += prepared ? PG_PREPARED_ROWS : rows.length) {
        const part = rows.slice(at, prepared ? at + PG_PREPARED_ROWS : rows.length);
        const params = part.flatMap((r) => [r.id, r.body]);
        const values = part.map((_, k) => `($${2 * k + 1}, $${2 * k + 2})`).join(', ');
        const text = `INSERT INTO ${table} (id, body) VALUES ${values} ON CONFLICT (id) DO UPDATE SET body = EXCLUDED.body`;
        sent.push(prepared && part.length === PG_PREPARED_ROWS ? client.query({ name: `upsert_${table}`, text, values: params }) : client.query(text, params));
        // unpipelined loops wait for each answer before sending the next statement
        if (shape !== 'pipelined') await sent[sent.length - 1];
      }
      sent.push(client.query('COMMIT'));
      await Promise.all(sent);
    }
    const clientCpu = process.cpuUsage(client0);
    return {
      value: records / ((performance.now() - t0) / 1000),
      extra: { pgCpuMsPer1kRec: perK(db.cpuMs() - pg0, records), clientCpuMsPer1kRec: perK((clientCpu.user + clientCpu.system) / 1000, records) },
    };
  } finally {
    await client.end();
  }
}

async function pgSinkRep(db: TestPostgres, source: HStreamTarget, i: number, records: number, port = db.port, tag = ''): Promise<Rep> {
  const name = `${tag}${i < 0 ? 'warm' : String(i)}`;
  const table = `sink_${name}`;
  const stream = `bench_pg_${name}`;
  await db.query(`CREATE TABLE ${table} (id int PRIMARY KEY, body text)`);
  const shardId = await createStream(source.client, stream);
  for (let from = 0; from < records; from += 100) {
    const batch = Array.from({ length: Math.min(100, records - from) }, (_, k) => ({
      header: { flag: 'JSON' as const, attributes: {}, key: '' },
      payload: Buffer.from(JSON.stringify(jsonRow(from + k))),
    }));
    await source.client.unary('Append', { streamName: stream, shardId, records: { compressionType: 'None', batchSize: batch.length, payload: encodeRecords(batch) } }, { deadlineMs: CALL_DEADLINE_MS });
  }
  const t0 = performance.now();
  const config = { stream, host: db.host, port, user: db.user, password: db.password, database: db.database, table };
  await source.client.unary('CreateConnector', { name: `pg_${name}`, type: 'SINK', target: 'postgresql', config: JSON.stringify(config) }, { deadlineMs: CALL_DEADLINE_MS });
  const { firstAt, firstCount } = await firstDelivery(source.client, `pg_${name}`, 120_000);
  // CPU from the first confirmed batch on, like the rate: our server is the baseline loop's client here
  const pg0 = db.cpuMs();
  const server0 = processCpuMs(source.child.pid);
  await untilDelivered(source.client, `pg_${name}`, records, 120_000);
  const end = performance.now();
  const cpu = { pg: db.cpuMs() - pg0, server: processCpuMs(source.child.pid) - server0 };
  // The baseline's clock starts on an open connection; the sink's steady-state rate is timed the same
  // way, from its first confirmed batch. The rate including CreateConnector (config check, three
  // connections, subscription) is kept beside it.
  const value = firstCount < records ? (records - firstCount) / ((end - firstAt) / 1000) : records / ((end - t0) / 1000);
  await source.client.unary('DeleteConnector', { name: `pg_${name}` }, { deadlineMs: CALL_DEADLINE_MS });
  const [{ n }] = (await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`)) as [{ n: string }];
  if (Number(n) !== records) throw new Error(`the sink table holds ${n} rows, expected ${records}`);
  const steady = firstCount < records ? records - firstCount : records;
  return {
    value,
    extra: { fromCreateRecPerS: records / ((end - t0) / 1000), pgCpuMsPer1kRec: perK(cpu.pg, steady), serverCpuMsPer1kRec: perK(cpu.server, steady) },
  };
}

/** When the connector first reports delivered records, and how many it reported then. */
async function firstDelivery(client: HStreamClient, connector: string, timeoutMs: number): Promise<{ firstAt: number; firstCount: number }> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const count = await delivered(client, connector);
    if (count > 0) return { firstAt: performance.now(), firstCount: count };
    if (performance.now() > deadline) throw new Error(`connector ${connector} delivered nothing within ${timeoutMs} ms`);
    await sleep(5);
  }
}

export const connectorScenarios: Scenario[] = [
  {
    id: 'connector/postgresql',
    title: 'postgresql sink: 1 KiB JSON rows/s upserted into a real PostgreSQL, vs a bare pg multi-row upsert loop of the same rows',
    modes: ['quick', 'full'],
    timeoutMs: { quick: 300_000, full: 600_000 },
    async run(ctx, scope) {
      if (postgresUnavailable) throw new SkipScenario(`PostgreSQL is not installed here (${postgresUnavailable})`);
      const records = ctx.mode === 'quick' ? 30_000 : 100_000;
      const db = await startPostgres();
      try {
        const source = await startHStream(scope, { dataDir: scope.tempDir() });
        await pgBaselineRep(db, -1, 5_000);
        await pgBaselineRep(db, -1, 5_000, 'prepared');
        await pgBaselineRep(db, -1, 5_000, 'pipelined');
        await pgSinkRep(db, source, -1, 5_000);
        const preparedReps: Rep[] = [];
        const pipelinedReps: Rep[] = [];
        const { base, ours: sink } = await interleaved(ctx, 'connector/postgresql', (i) => pgBaselineRep(db, i, records), async (i) => {
          const rep = await pgSinkRep(db, source, i, records);
          preparedReps.push(await pgBaselineRep(db, i, records, 'prepared'));
          pipelinedReps.push(await pgBaselineRep(db, i, records, 'pipelined'));
          return rep;
        });
        ctx.baselines.add(PG_BASELINE, 'rec/s', 'higher', base);
        const prepared = median(preparedReps.map((r) => r.value));
        const pipelined = median(pipelinedReps.map((r) => r.value));
        return [compared(`connector/postgresql/records=${records}x1KiB-json`, 'rec/s', 'higher', sink, { name: PG_BASELINE, reps: base }, {
          barePrepared100RecPerS: Math.round(prepared),
          ratioToBarePrepared100: Math.round((median(sink.map((r) => r.value)) / prepared) * 100) / 100,
          barePrepared100PgCpuMsPer1kRec: median(preparedReps.map((r) => Number(r.extra?.pgCpuMsPer1kRec ?? 0))),
          barePrepared100ClientCpuMsPer1kRec: median(preparedReps.map((r) => Number(r.extra?.clientCpuMsPer1kRec ?? 0))),
          barePipelined100RecPerS: Math.round(pipelined),
          ratioToBarePipelined100: Math.round((median(sink.map((r) => r.value)) / pipelined) * 100) / 100,
          barePipelined100ClientCpuMsPer1kRec: median(pipelinedReps.map((r) => Number(r.extra?.clientCpuMsPer1kRec ?? 0))),
        })];
      } finally {
        await db.stop();
      }
    },
  },
  {
    id: 'connector/postgresql-remote',
    title: 'postgresql sink to a database ~1 ms away each way (a delaying proxy), vs the bare pipelined loop through the same proxy',
    modes: ['quick', 'full'],
    timeoutMs: { quick: 300_000, full: 600_000 },
    async run(ctx, scope) {
      if (postgresUnavailable) throw new SkipScenario(`PostgreSQL is not installed here (${postgresUnavailable})`);
      const records = ctx.mode === 'quick' ? 20_000 : 50_000;
      const db = await startPostgres();
      const proxy = await startDelayProxy(db.port, REMOTE_DELAY_MS);
      try {
        const source = await startHStream(scope, { dataDir: scope.tempDir() });
        await pgBaselineRep(db, -1, 5_000, 'pipelined', proxy.port, 'r');
        await pgSinkRep(db, source, -1, 5_000, proxy.port, 'r');
        const { base, ours } = await interleaved(
          ctx,
          'connector/postgresql-remote',
          (i) => pgBaselineRep(db, i, records, 'pipelined', proxy.port, 'r'),
          (i) => pgSinkRep(db, source, i, records, proxy.port, 'r'),
        );
        ctx.baselines.add(PG_REMOTE_BASELINE, 'rec/s', 'higher', base);
        return [compared(`connector/postgresql-remote/records=${records}x1KiB-json/delay=${REMOTE_DELAY_MS}ms`, 'rec/s', 'higher', ours, { name: PG_REMOTE_BASELINE, reps: base })];
      } finally {
        await proxy.close();
        await db.stop();
      }
    },
  },
  {
    id: 'connector/mirror',
    title: 'hstream mirror sink: records/s into a second server, vs our own Append of the same records there',
    modes: ['quick', 'full'],
    timeoutMs: { quick: 240_000, full: 480_000 },
    async run(ctx, scope) {
      const records = ctx.mode === 'quick' ? 50_000 : 200_000;
      const source = await startHStream(scope, { dataDir: scope.tempDir() });
      const target = await startHStream(scope, { dataDir: scope.tempDir() });
      // warm both servers' paths once
      await appendRep(target, -1, 10_000);
      await mirrorRep(source, target, -1, 10_000);
      const { base, ours: mirror } = await interleaved(ctx, 'connector/mirror', (i) => appendRep(target, i, records), (i) => mirrorRep(source, target, i, records));
      ctx.baselines.add(MIRROR_BASELINE, 'rec/s', 'higher', base);
      return [compared(`connector/mirror/records=${records}x1KiB`, 'rec/s', 'higher', mirror, { name: MIRROR_BASELINE, reps: base })];
    },
  },
];
