/**
 * The console's HTTP API without a browser: the token and Origin rules,
 * input checks (4xx with one JSON error shape), security headers, push
 * query cleanup when the client disconnects, and HTTPS with --enable-tls.
 */
import { readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeStruct } from '../../src/struct.js';
import { makeCerts } from '../helpers/certs.js';
import { batch } from '../helpers/records.js';
import { eventually, startTestServer, type TestServer } from '../helpers/server.js';
import { createStream } from '../helpers/streams.js';

const TOKEN = 'console-test-token-0123';

describe('console API', () => {
  let t: TestServer;
  let base: string;
  const call = (path: string, init: RequestInit & { token?: string | null; origin?: string } = {}) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (init.token !== null) headers.authorization = `Bearer ${init.token ?? TOKEN}`;
    if (init.origin) headers.origin = init.origin;
    return fetch(base + path, { ...init, headers });
  };
  const names = async () => {
    const { streams } = await t.client.unary<{ streams: Array<{ streamName: string }> }>('ListStreams', {});
    const { queries } = await t.client.unary<{ queries: Array<{ id: string }> }>('ListQueries', {});
    const { subscription } = await t.client.unary<{ subscription: Array<{ subscriptionId: string }> }>('ListSubscriptions', {});
    return [...streams.map((s) => s.streamName), ...queries.map((q) => q.id), ...subscription.map((s) => s.subscriptionId)];
  };

  beforeAll(async () => {
    t = await startTestServer({ httpPort: 0, httpToken: TOKEN });
    base = `http://127.0.0.1:${t.server.httpPort}`;
  });
  afterAll(() => t.destroy());

  it('needs the bearer token on every route but /healthz; the console files load without it', async () => {
    expect((await call('/healthz', { token: null })).status).toBe(200);
    // the same routes by other spellings the router accepts
    for (const path of ['/v1/streams', '/v1/overview', '/v1/samples', '/v1/subscriptions', '/metrics', '//v1/streams', '/v1//streams/', '/metrics/', '//metrics']) {
      const res = await call(path, { token: null });
      expect(res.status, path).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await res.json()).toMatchObject({ error: expect.stringContaining('Authorization') });
      expect((await call(path, { token: 'not-the-token' })).status, path).toBe(401);
      expect((await call(path)).status, path).toBe(200);
    }
    const page = await call('/', { token: null });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script type="importmap">');
    expect((await call('/console/app.js', { token: null })).status).toBe(200);
    // the refused request changed nothing
    expect((await call('/v1/streams', { method: 'POST', token: null, body: JSON.stringify({ stream_name: 'no_token' }) })).status).toBe(401);
    expect(await names()).not.toContain('no_token');
  });

  it('refuses state changes from another origin, and allows them from its own', async () => {
    const evil = await call('/v1/streams', { method: 'POST', origin: 'http://evil.example', body: JSON.stringify({ stream_name: 'cross' }) });
    expect(evil.status).toBe(403);
    expect(await names()).not.toContain('cross');
    const sqlEvil = await call('/v1/sql', { method: 'POST', origin: 'http://localhost:1', body: JSON.stringify({ sql: 'CREATE STREAM cross2;' }) });
    expect(sqlEvil.status).toBe(403);
    expect(await names()).not.toContain('cross2');
    const own = await call('/v1/streams', { method: 'POST', origin: base, body: JSON.stringify({ stream_name: 'same_origin' }) });
    expect(own.status).toBe(201);
    expect((await call('/v1/streams/same_origin?force=true', { method: 'DELETE', origin: 'http://evil.example' })).status).toBe(403);
    expect(await names()).toContain('same_origin');
    // reading from another origin is the browser's business (CORS): no CORS headers are sent
    const read = await call('/v1/streams', { origin: 'http://evil.example' });
    expect(read.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('sends a CSP that allows only its own scripts, and nosniff, on pages and errors', async () => {
    for (const path of ['/', '/v1/nothing-here']) {
      const res = await call(path);
      expect(res.headers.get('content-security-policy')).toMatch(/script-src 'self' 'sha256-[A-Za-z0-9+/=]+'/);
      expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
  });

  it('answers bad input with a 4xx JSON error and a SQL error with its position', async () => {
    await createStream(t.client, 'api_src');
    const cases: Array<[string, RequestInit, number]> = [
      ['/v1/streams/api_src/shards/1/records', {}, 404],
      ['/v1/streams/no_such/shards', {}, 404],
      ['/v1/streams/api_src/shards/x/records?limit=0', {}, 404],
      ['/v1/subscriptions/no_such', {}, 404],
      ['/v1/subscriptions/bad name', {}, 400],
      ['/v1/queries/no_such', {}, 404],
      ['/v1/views/no_such', {}, 404],
      ['/v1/connectors/no_such', {}, 404],
      ['/v1/connectors/x/logs?begin=-1', {}, 400],
      ['/v1/sql', { method: 'POST', body: '{}' }, 400],
      ['/v1/sql', { method: 'POST', body: JSON.stringify({ sql: 42 }) }, 400],
      ['/v1/sql', { method: 'POST', body: JSON.stringify({ sql: 'SELECT * FROM api_src EMIT CHANGES;' }) }, 400],
      ['/v1/sql/push', { method: 'POST', body: JSON.stringify({ sql: 'SHOW STREAMS;' }) }, 400],
      ['/v1/streams/api_src?force=maybe', { method: 'DELETE' }, 400],
    ];
    const { shards } = await t.client.unary<{ shards: Array<{ shardId: string }> }>('ListShards', { streamName: 'api_src' });
    const shard = shards[0]!.shardId;
    // an empty shard has no tail
    expect(await (await call('/v1/streams/api_src/shards')).json()).toMatchObject([{ shard_id: shard, tail_batch_id: null, head_batch_id: null }]);
    cases.push([`/v1/streams/api_src/shards/${shard}/records?limit=100000`, {}, 400]);
    cases.push([`/v1/streams/api_src/shards/${shard}/records?from=yesterday`, {}, 400]);
    for (const [path, init, status] of cases) {
      const res = await call(path, init);
      expect(res.status, `${init.method ?? 'GET'} ${path}`).toBe(status);
      const body = (await res.json()) as { error: unknown };
      expect(typeof body.error, path).toBe('string');
    }
    const bad = await call('/v1/sql', { method: 'POST', body: JSON.stringify({ sql: 'SELECT *\nFROM api_src WHER x = 1;' }) });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ position: { line: 2, column: expect.any(Number) } });
  });

  it('browses records page by page from EARLIEST, a record id, a time and LATEST; RAW as text and hex', async () => {
    const [shard] = await createStream(t.client, 'browse_src');
    const append = async (body: Record<string, unknown>) => {
      const res = await call('/v1/streams/browse_src', { method: 'POST', body: JSON.stringify(body) });
      expect(res.status).toBe(200);
      return (await res.json()) as { batch_id: string };
    };
    const first = await append({ type: 'RAW', data: 'héllo\u0001', key: 'raw-key' });
    const ids = [first.batch_id];
    for (let i = 1; i < 5; i++) {
      // apart in time, so a time offset names one record
      await sleep(10);
      ids.push((await append({ data: { i } })).batch_id);
    }
    type Page = { records: Array<{ record_id: string; key: string; type: string; text?: string; hex?: string; json?: unknown; time_ms: number }>; next: string };
    const page = async (query: string) => (await (await call(`/v1/streams/browse_src/shards/${shard}/records?${query}`)).json()) as Page;

    const p1 = await page('from=earliest&limit=2');
    expect(p1.records.map((r) => r.record_id)).toEqual([`${shard}-${ids[0]}-0`, `${shard}-${ids[1]}-0`]);
    expect(p1.records[0]).toMatchObject({ type: 'RAW', key: 'raw-key', text: 'héllo\u0001', hex: Buffer.from('héllo\u0001').toString('hex') });
    const p2 = await page(`from=${p1.next}&limit=2`);
    expect(p2.records.map((r) => r.json)).toEqual([{ i: 2 }, { i: 3 }]);
    expect((await page(`from=${shard}-${ids[3]}-0&limit=10`)).records.map((r) => r.json)).toEqual([{ i: 3 }, { i: 4 }]);
    expect((await page('from=latest&limit=1')).records.map((r) => r.json)).toEqual([{ i: 4 }]);
    const byTime = await page(`from=time:${p2.records[0]!.time_ms}&limit=10`);
    expect(byTime.records[0]!.json).toEqual({ i: 2 });
    // past the tail: an empty page that points at the same place
    const end = await page(`from=${(await page('from=latest&limit=1')).next}`);
    expect(end.records).toEqual([]);
  });

  it('runs a statement as hstream sql does, and reads a view as a table', async () => {
    const [shard] = await createStream(t.client, 'view_src');
    const run = async (sql: string) => {
      const res = await call('/v1/sql', { method: 'POST', body: JSON.stringify({ sql }) });
      expect(res.status, sql).toBe(200);
      return (await res.json()) as { statement: string; rows: Array<Record<string, unknown>> };
    };
    expect((await run('SHOW STREAMS;')).rows.map((r) => r.streamName)).toContain('view_src');
    const created = await run('CREATE VIEW counts AS SELECT k, COUNT(*) AS n FROM view_src GROUP BY k;');
    expect(created.statement).toBe('createView');
    await t.client.unary('Append', { streamName: 'view_src', shardId: shard, records: batch([{ flag: 'JSON', payload: encodeStruct({ k: 'a' }) }, { flag: 'JSON', payload: encodeStruct({ k: 'a' }) }]) });
    const rows = await eventually(async () => {
      const res = await call('/v1/views/counts');
      const body = (await res.json()) as { rows: Array<{ k: string; n: number }> };
      return body.rows?.[0]?.n === 2 ? body.rows : undefined;
    });
    expect(rows).toEqual([{ k: 'a', n: 2 }]);
    const query = ((await (await call('/v1/queries')).json()) as Array<{ query_id: string; result_name: string }>).find((q) => q.result_name === 'counts')!;
    const detail = (await (await call(`/v1/queries/${query.query_id}`)).json()) as { plan: string; status: string };
    expect(detail.status).toBe('RUNNING');
    expect(detail.plan).toMatch(/^(?!\(no plan)[\s\S]*view_src/);
    expect((await call(`/v1/queries/${query.query_id}/terminate`, { method: 'POST' })).status).toBe(200);
    expect(((await (await call(`/v1/queries/${query.query_id}`)).json()) as { status: string }).status).toBe('TERMINATED');
  });

  it('a push query whose client disconnects leaves no temporary stream, query or subscription', async () => {
    const [shard] = await createStream(t.client, 'push_api');
    const before = await names();
    const controller = new AbortController();
    const res = await call('/v1/sql/push', { method: 'POST', body: JSON.stringify({ sql: 'SELECT * FROM push_api EMIT CHANGES;' }), signal: controller.signal });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    const until = async (pattern: RegExp) => {
      while (!pattern.test(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${pattern}: ${text}`);
        text += value;
      }
    };
    await until(/event: started/);
    expect((await names()).filter((n) => n.startsWith('console_generated_'))).toHaveLength(3);
    await t.client.unary('Append', { streamName: 'push_api', shardId: shard, records: batch([{ flag: 'JSON', payload: encodeStruct({ v: '<b>x</b>' }) }]) });
    await until(/event: rows\ndata: \[\{"v":"<b>x<\/b>"\}\]/);
    controller.abort();
    const after = await eventually(async () => {
      const now = await names();
      return now.some((n) => n.startsWith('console_generated_')) ? undefined : now;
    }, 15_000);
    expect(after.sort()).toEqual(before.sort());
  });
});

describe('console push query at shutdown', () => {
  it('is cleaned up before the store closes: a restarted server has no temporary objects', async () => {
    const first = await startTestServer({ httpPort: 0 });
    await createStream(first.client, 'shutdown_src');
    const res = await fetch(`http://127.0.0.1:${first.server.httpPort}/v1/sql/push`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ sql: 'SELECT * FROM shutdown_src EMIT CHANGES;' }),
    });
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!text.includes('event: started')) text += (await reader.read()).value ?? '';
    await first.stop();
    const again = await startTestServer({ dataDir: first.dataDir });
    try {
      const { streams } = await again.client.unary<{ streams: Array<{ streamName: string }> }>('ListStreams', {});
      const { queries } = await again.client.unary<{ queries: Array<{ id: string }> }>('ListQueries', {});
      const { subscription } = await again.client.unary<{ subscription: Array<{ subscriptionId: string }> }>('ListSubscriptions', {});
      expect(streams.map((s) => s.streamName)).toEqual(['shutdown_src']);
      expect(queries).toEqual([]);
      expect(subscription).toEqual([]);
    } finally {
      await again.destroy();
    }
  });
});

describe('console over HTTPS with --enable-tls', () => {
  const certs = makeCerts();
  let t: TestServer;
  beforeAll(async () => {
    t = await startTestServer({ httpPort: 0, enableTls: true, tlsCertPath: certs.serverCert, tlsKeyPath: certs.serverKey });
  });
  afterAll(async () => {
    await t.destroy();
    rmSync(certs.dir, { recursive: true, force: true });
  });

  it('serves the console and the API with the gRPC certificate', async () => {
    const get = (path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = httpsRequest({ host: '127.0.0.1', port: t.server.httpPort, path, ca: readFileSync(certs.ca), servername: 'localhost' }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => (body += c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
    expect((await get('/healthz')).status).toBe(200);
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(page.body).toContain('/console/app.js');
    expect(JSON.parse((await get('/v1/overview')).body)).toMatchObject({ tls: true });
  });
});
