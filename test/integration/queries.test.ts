import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Compression, decodeRecords } from '../../src/records.js';
import { decodeStruct } from '../../src/struct.js';
import { expectFailure, status } from '../helpers/expect.js';
import { eventually, startTestServer, tempDir, type TestServer } from '../helpers/server.js';
import { readStreamRecords, type Received } from '../helpers/streams.js';

interface StructValue {
  fields: Record<string, { numberValue?: number; stringValue?: string; boolValue?: boolean; nullValue?: unknown }>;
}
const plain = (s: StructValue) =>
  Object.fromEntries(Object.entries(s.fields).map(([k, v]) => [k, v.numberValue ?? v.stringValue ?? v.boolValue ?? null]));

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.destroy());

const sql = (text: string) => t.client.unary<{ result_set: StructValue[] }>('ExecuteQuery', { stmt_text: text }).then((r) => r.result_set.map(plain));
const createQuery = (text: string, queryName = '') =>
  t.client.unary<{ id: string; status: string; sources: string[]; resultName: string; type: string; queryText: string }>('CreateQuery', { sql: text, queryName });

async function streamRows(client: TestServer['client'], stream: string): Promise<Array<Record<string, unknown>>> {
  return (await readStreamRecords(client, stream)).map((rec) => decodeStruct(rec.payload));
}

const viewRows = (view: string, where = '') =>
  t.client.unary<{ results: StructValue[] }>('ExecuteViewQuery', { sql: `SELECT * FROM ${view}${where};` }).then((r) => r.results.map(plain));

describe('continuous queries over gRPC', () => {
  it('filters telemetry into a new stream (quick start: humidity > 70)', async () => {
    await sql('CREATE STREAM demo;');
    const q = await createQuery('CREATE STREAM demo_hot AS SELECT * FROM demo WHERE humidity > 70;', 'q_demo');
    expect(q).toMatchObject({ id: 'q_demo', status: 'TASK_RUNNING', sources: ['demo'], resultName: 'demo_hot', type: 'CreateStreamAs' });
    await sql('INSERT INTO demo (temperature, humidity) VALUES (22, 80);');
    await sql('INSERT INTO demo (temperature, humidity) VALUES (15, 20);');
    await sql(`INSERT INTO demo VALUES '{"temperature": 31, "humidity": 76}'::JSONB;`);
    await eventually(async () => (await streamRows(t.client, 'demo_hot')).length === 2);
    expect(await streamRows(t.client, 'demo_hot')).toEqual([
      { temperature: 22, humidity: 80 },
      { temperature: 31, humidity: 76 },
    ]);
  });

  it('keeps a GROUP BY view that pull queries read (SQL guide: MAX(length) per product)', async () => {
    await sql('CREATE STREAM visit;');
    const q = await createQuery('CREATE VIEW visit_max AS SELECT product, MAX(length) AS max_len, COUNT(*) AS visits FROM visit GROUP BY product;', 'q_visit');
    expect(q.type).toBe('CreateViewAs');
    for (const [product, length] of [['phone', 3], ['laptop', 12], ['phone', 9], ['phone', 4]] as const) {
      await sql(`INSERT INTO visit (product, length) VALUES ('${product}', ${length});`);
    }
    await eventually(async () => (await viewRows('visit_max')).reduce((n, r) => n + Number(r.visits), 0) === 4);
    expect((await viewRows('visit_max')).sort((a, b) => String(a.product).localeCompare(String(b.product)))).toEqual([
      { product: 'laptop', max_len: 12, visits: 1 },
      { product: 'phone', max_len: 9, visits: 3 },
    ]);
    expect(await viewRows('visit_max', ' WHERE visits > 1')).toEqual([{ product: 'phone', max_len: 9, visits: 3 }]);
    const { views } = await t.client.unary<{ views: Array<{ viewId: string; queryName: string; schema: string[] }> }>('ListViews');
    expect(views).toContainEqual(expect.objectContaining({ viewId: 'visit_max', queryName: 'q_visit' }));
    expect(await t.client.unary('ParseSql', { sql: 'SELECT * FROM visit_max;' })).toMatchObject({ evqSql: { view: 'visit_max' } });
  });

  it('runs a push query the way the CLI does: temporary CREATE STREAM AS + subscription + StreamingFetch', async () => {
    await sql('CREATE STREAM readings;');
    await createQuery('CREATE STREAM push_tmp AS SELECT device, temp * 2 AS doubled FROM readings WHERE temp > 0 EMIT CHANGES;', 'push_q');
    await t.client.unary('CreateSubscription', { subscriptionId: 'push_sub', streamName: 'push_tmp', ackTimeoutSeconds: 60, maxUnackedRecords: 100, offset: 'EARLIEST' });
    const call = t.client.bidi<unknown, { receivedRecords: Received }>('StreamingFetch');
    const rows: Array<Record<string, unknown>> = [];
    call.on('data', (m) => {
      const r = m.receivedRecords;
      rows.push(...decodeRecords(Compression[r.record.compressionType as 'None'], Buffer.from(r.record.payload)).map((x) => decodeStruct(x.payload)));
      call.write({ subscriptionId: 'push_sub', consumerName: 'cli', ackIds: r.recordIds });
    });
    call.on('error', () => undefined);
    call.write({ subscriptionId: 'push_sub', consumerName: 'cli', ackIds: [] });
    await sql(`INSERT INTO readings (device, temp) VALUES ('a', 21);`);
    await sql(`INSERT INTO readings (device, temp) VALUES ('b', -3);`);
    await sql(`INSERT INTO readings (device, temp) VALUES ('c', 5);`);
    await eventually(() => rows.length === 2);
    expect(rows).toEqual([
      { device: 'a', doubled: 42 },
      { device: 'c', doubled: 10 },
    ]);
    call.end();
    await t.client.unary('DeleteSubscription', { subscriptionId: 'push_sub', force: true });
    await t.client.unary('TerminateQuery', { queryId: 'push_q' });
    await t.client.unary('DeleteQuery', { id: 'push_q' });
    await t.client.unary('DeleteStream', { streamName: 'push_tmp', force: true });
  });

  it('lists, gets, terminates, resumes and deletes queries with upstream status codes', async () => {
    await sql('CREATE STREAM life_src;');
    await createQuery('CREATE STREAM life_out AS SELECT * FROM life_src;', 'q_life');
    const { queries } = await t.client.unary<{ queries: Array<{ id: string }> }>('ListQueries');
    expect(queries.map((q) => q.id)).toContain('q_life');
    expect(await t.client.unary('GetQuery', { id: 'q_life' })).toMatchObject({ id: 'q_life', status: 'TASK_RUNNING', queryText: 'CREATE STREAM life_out AS SELECT * FROM life_src;' });
    await expectFailure(t.client.unary('DeleteQuery', { id: 'q_life' }), status.FAILED_PRECONDITION, 407);
    await t.client.unary('TerminateQuery', { queryId: 'q_life' });
    expect(await t.client.unary('GetQuery', { id: 'q_life' })).toMatchObject({ status: 'TASK_TERMINATED' });
    await expectFailure(t.client.unary('TerminateQuery', { queryId: 'q_life' }), status.FAILED_PRECONDITION, 408);
    await t.client.unary('ResumeQuery', { id: 'q_life' });
    expect(await t.client.unary('GetQuery', { id: 'q_life' })).toMatchObject({ status: 'TASK_RUNNING' });
    await t.client.unary('TerminateQuery', { queryId: 'q_life' });
    await t.client.unary('DeleteQuery', { id: 'q_life' });
    await expectFailure(t.client.unary('GetQuery', { id: 'q_life' }), status.NOT_FOUND, 400);
    await expectFailure(t.client.unary('TerminateQuery', { queryId: 'nope' }), status.NOT_FOUND, 400);
  });

  it('refuses bad queries with the right codes, and invalid SQL with its line and column', async () => {
    const bad = await expectFailure(createQuery('CREATE STREAM x AS SELECT FROM;'), status.INVALID_ARGUMENT, 402);
    expect(String(bad.body!.extra)).toMatch(/line 1, column \d+/);
    await expectFailure(createQuery(''), status.INVALID_ARGUMENT, 402);
    await expectFailure(createQuery('CREATE STREAM x AS SELECT * FROM no_such_stream;'), status.NOT_FOUND, 200);
    await sql('CREATE STREAM err_src;');
    await createQuery('CREATE STREAM err_out AS SELECT * FROM err_src;', 'q_err');
    await expectFailure(createQuery('CREATE STREAM err_out2 AS SELECT * FROM err_src;', 'q_err'), status.ALREADY_EXISTS, 401);
    await expectFailure(createQuery('CREATE STREAM err_out AS SELECT * FROM err_src;'), status.ALREADY_EXISTS, 201);
    await expectFailure(sql('SELECT * FROM err_src EMIT CHANGES;'), status.INVALID_ARGUMENT, 402);
    await expectFailure(t.client.unary('GetView', { viewId: 'nope' }), status.NOT_FOUND, 400);
  });

  it('executes any non-push statement through ExecuteQuery: EXPLAIN, SHOW, DROP', async () => {
    const [plan] = await sql('EXPLAIN SELECT * FROM demo WHERE humidity > 70 EMIT CHANGES;');
    expect(String(plan!.explain)).toContain('demo');
    expect((await sql('SHOW STREAMS;')).map((r) => r.streamName)).toContain('demo');
    expect((await sql('SHOW QUERIES;')).map((r) => r.queryId)).toContain('q_demo');
    await sql('CREATE STREAM to_drop;');
    await sql('DROP STREAM to_drop;');
    await sql('DROP STREAM to_drop IF EXISTS;');
    await expectFailure(sql('DROP STREAM to_drop;'), status.NOT_FOUND, 200);
  });

  it('reports running queries in /metrics-facing counts', () => {
    expect(t.server.context.queries.runningCount()).toBeGreaterThan(0);
  });
});

describe('queries across a clean restart', () => {
  const dataDir = tempDir();
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('ends with the same aggregates as an uninterrupted run, counting no row twice', async () => {
    const values = Array.from({ length: 40 }, (_, i) => ({ k: `k${i % 4}`, v: i }));
    const expected = new Map<string, { total: number; n: number }>();
    for (const { k, v } of values) expected.set(k, { total: (expected.get(k)?.total ?? 0) + v, n: (expected.get(k)?.n ?? 0) + 1 });
    const run = async (server: TestServer, slice: typeof values) => {
      for (const { k, v } of slice) {
        await server.client.unary('ExecuteQuery', { stmt_text: `INSERT INTO rs_src (k, v) VALUES ('${k}', ${v});` });
      }
    };
    let s = await startTestServer({ dataDir });
    await s.client.unary('ExecuteQuery', { stmt_text: 'CREATE STREAM rs_src;' });
    await s.client.unary('CreateQuery', { sql: 'CREATE VIEW rs_view AS SELECT k, SUM(v) AS total, COUNT(*) AS n FROM rs_src GROUP BY k;', queryName: 'rs_q' });
    await run(s, values.slice(0, 25));
    const seen = async (srv: TestServer, n: number) =>
      eventually(async () => {
        const rows = (await srv.client.unary<{ results: StructValue[] }>('ExecuteViewQuery', { sql: 'SELECT * FROM rs_view;' })).results.map(plain);
        return rows.reduce((sum, r) => sum + Number(r.n), 0) === n ? rows : undefined;
      });
    await seen(s, 25);
    await s.stop();
    s = await startTestServer({ dataDir });
    await run(s, values.slice(25));
    const rows = await seen(s, 40);
    expect(new Map(rows.map((r) => [r.k as string, { total: Number(r.total), n: Number(r.n) }]))).toEqual(expected);
    await s.stop();
  });
});
