import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Compression, decodeRecords } from '../../src/records.js';
import { decodeStruct } from '../../src/struct.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { type Received } from '../helpers/streams.js';

let t: TestServer;
let base: string;
beforeAll(async () => {
  t = await startTestServer({ httpPort: 0 });
  base = `http://127.0.0.1:${t.server.httpPort}`;
});
afterAll(() => t.destroy());

const json = async (path: string, init?: RequestInit) => {
  const res = await fetch(base + path, { ...init, headers: { 'content-type': 'application/json' } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> | Array<Record<string, unknown>> };
};

/** fetch() sets Host itself; this sends the one given. */
function statusWithHost(path: string, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: t.server.httpPort, path, headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HTTP endpoints', () => {
  it('GET /healthz answers ok', async () => {
    expect(await json('/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
  });

  it('creates, lists, gets and deletes streams through /v1/streams', async () => {
    const created = await json('/v1/streams', { method: 'POST', body: JSON.stringify({ stream_name: 'web', shard_count: 2, backlog_duration: 60 }) });
    expect(created).toEqual({ status: 201, body: { stream_name: 'web', replication_factor: 1, backlog_duration: 60, shard_count: 2 } });
    expect((await json('/v1/streams')).body).toContainEqual(created.body);
    expect((await json('/v1/streams/web')).body).toEqual(created.body);
    expect((await json('/v1/streams', { method: 'POST', body: JSON.stringify({ stream_name: 'web' }) })).status).toBe(409);
    expect((await json('/v1/streams', { method: 'POST', body: JSON.stringify({ stream_name: '1bad' }) })).status).toBe(400);
    expect((await json('/v1/streams/web', { method: 'DELETE' })).status).toBe(200);
    expect((await json('/v1/streams/web')).status).toBe(404);
  });

  it('appends JSON (HRECORD) and RAW records that gRPC readers read back', async () => {
    await json('/v1/streams', { method: 'POST', body: JSON.stringify({ stream_name: 'temp_hum' }) });
    const a = await json('/v1/streams/temp_hum', { method: 'POST', body: JSON.stringify({ key: 'dev1', data: { temp: 27.5, hum: 41.8 } }) });
    expect(a.status).toBe(200);
    expect(a.body).toMatchObject({ batch_index: 0 });
    await json('/v1/streams/temp_hum', { method: 'POST', body: JSON.stringify({ type: 'RAW', data: 'hello' }) });
    const shardId = (a.body as { shard_id: string }).shard_id;
    const msgs = await t.client.collect<{ receivedRecords: Received[] }>('ReadShardStream', {
      readerId: 'h',
      shardId,
      from: { specialOffset: 'EARLIEST' },
      until: { specialOffset: 'LATEST' },
    });
    const records = msgs.flatMap((m) => m.receivedRecords).flatMap((r) => decodeRecords(Compression.None, Buffer.from(r.record.payload)));
    expect(records[0]!.header).toMatchObject({ flag: 'JSON', key: 'dev1' });
    expect(decodeStruct(records[0]!.payload)).toEqual({ temp: 27.5, hum: 41.8 });
    expect(records[1]!.header.flag).toBe('RAW');
    expect(records[1]!.payload.toString()).toBe('hello');
  });

  it('refuses bad bodies and unknown routes with clear errors', async () => {
    await json('/v1/streams', { method: 'POST', body: JSON.stringify({ stream_name: 'strict' }) });
    const bad = await fetch(`${base}/v1/streams/strict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'not json' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: 'the request body is not valid JSON', code: null, extra: null });
    expect((await json('/v1/streams/strict', { method: 'POST', body: JSON.stringify({ data: 5 }) })).status).toBe(400);
    expect((await json('/nowhere')).status).toBe(404);
    const huge = await fetch(`${base}/v1/streams/strict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(3 * 1024 * 1024) });
    expect(huge.status).toBe(413);
    expect(await huge.json()).toMatchObject({ error: 'the request body is over 2097152 bytes', code: null });
  });

  it('answers a wrong method 405 with Allow, OPTIONS with the methods, HEAD like GET without a body', async () => {
    const put = await fetch(`${base}/v1/streams`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, POST, HEAD, OPTIONS');
    expect(await put.json()).toMatchObject({ code: null, error: expect.stringContaining('PUT is not allowed') });
    const options = await fetch(`${base}/v1/streams/anything`, { method: 'OPTIONS' });
    expect(options.status).toBe(204);
    expect(options.headers.get('allow')).toBe('GET, DELETE, POST, HEAD, OPTIONS');
    const head = await fetch(`${base}/healthz`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('application/json');
    expect(await head.text()).toBe('');
    expect((await fetch(`${base}/nowhere`, { method: 'OPTIONS' })).status).toBe(404);
  });

  it('answers a malformed percent-escape 400 and a missing stream 404, in the one error shape', async () => {
    const bad = await fetch(`${base}/v1/streams/%E0%A4%A`);
    expect(bad.status).toBe(400);
    expect(await bad.json()).toEqual({ error: expect.stringContaining('percent-encoding'), code: null, extra: null });
    const missing = await fetch(`${base}/v1/streams/nothere`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toEqual({ error: 'StreamNotFound', code: 200, extra: 'nothere' });
  });

  it('refuses what a page on another origin could send: a non-JSON body (no preflight) and a cross-origin change', async () => {
    // the "simple request" a browser sends cross-origin without asking first
    const simple = await fetch(`${base}/v1/streams`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: JSON.stringify({ stream_name: 'csrf1' }) });
    expect(simple.status).toBe(415);
    const crossOrigin = await fetch(`${base}/v1/streams`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'http://evil.example' },
      body: JSON.stringify({ stream_name: 'csrf2' }),
    });
    expect(crossOrigin.status).toBe(403);
    const del = await fetch(`${base}/v1/streams/temp_hum`, { method: 'DELETE', headers: { origin: 'http://evil.example' } });
    expect(del.status).toBe(403);
    // a rebound DNS name pointing at 127.0.0.1: refused even for reads
    expect(await statusWithHost('/v1/streams', 'evil.example')).toBe(403);
    expect(await statusWithHost('/v1/streams', `localhost:${t.server.httpPort}`)).toBe(200);
    const names = ((await json('/v1/streams')).body as Array<{ stream_name: string }>).map((s) => s.stream_name);
    expect(names).not.toContain('csrf1');
    expect(names).not.toContain('csrf2');
    expect(names).toContain('temp_hum');
    // the same origin may change state
    const sameOrigin = await fetch(`${base}/v1/streams`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: base },
      body: JSON.stringify({ stream_name: 'same_origin' }),
    });
    expect(sameOrigin.status).toBe(201);
  });

  it('refuses stream fields that are not whole numbers in range, and stores nothing for them', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ backlog_duration: 'x' }, /backlog_duration must be a JSON number/],
      [{ backlog_duration: -1 }, /backlog duration must be a whole number/],
      [{ backlog_duration: 1.5 }, /backlog duration must be a whole number/],
      [{ backlog_duration: 2 ** 32 }, /backlog duration must be a whole number/],
      [{ shard_count: 1.5 }, /shard count must be a whole number from 1 to 1024, got 1.5/],
      [{ shard_count: 'x' }, /shard_count must be a JSON number/],
      [{ shard_count: 0 }, /shard count/],
      [{ shard_count: 1025 }, /shard count/],
      [{ replication_factor: 'x' }, /replication_factor must be a JSON number/],
      [{ replication_factor: 0 }, /replication factor must be a whole number greater than 0, got 0/],
      [{ replication_factor: 1e300 }, /replication factor/],
    ];
    for (const [fields, message] of cases) {
      const res = await json('/v1/streams', { method: 'POST', body: JSON.stringify({ stream_name: 'numbers', ...fields }) });
      expect(res.status, JSON.stringify(fields)).toBe(400);
      expect(JSON.stringify(res.body), JSON.stringify(fields)).toMatch(message);
    }
    expect((await json('/v1/streams/numbers')).status).toBe(404);
    const ok = await json('/v1/streams', { method: 'POST', body: JSON.stringify({ stream_name: 'numbers', backlog_duration: null, shard_count: 3 }) });
    expect(ok).toEqual({ status: 201, body: { stream_name: 'numbers', replication_factor: 1, backlog_duration: 0, shard_count: 3 } });
  });

  it('GET /metrics exposes per-stream appends, RPC latency and error counts in Prometheus text', async () => {
    await t.client.unary('GetStream', { name: 'missing' }).catch(() => undefined);
    await t.client.unary('Echo', { msg: 'x' });
    const res = await fetch(`${base}/metrics`);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toMatch(/^hstream_append_records_total\{stream="temp_hum"\} 2$/m);
    expect(text).toMatch(/^hstream_rpc_errors_total\{rpc="GetStream",code="5"\} 1$/m);
    expect(text).toMatch(/^hstream_rpc_duration_seconds_count\{rpc="Echo"\} 1$/m);
    expect(text).toMatch(/^hstream_queries_running 0$/m);
    expect(text).toContain('# TYPE hstream_rpc_duration_seconds histogram');
  });

  it('GET /metrics exposes the process garbage-collection pauses as a histogram by kind', async () => {
    const minorCount = async () => {
      const text = await (await fetch(`${base}/metrics`)).text();
      expect(text).toContain('# TYPE hstream_gc_pause_seconds histogram');
      const count = /^hstream_gc_pause_seconds_count\{kind="minor"\} (\d+)$/m.exec(text);
      return { text, count: count ? Number(count[1]) : 0 };
    };
    const before = (await minorCount()).count;
    // Short-lived garbage well past any young generation's size: scavenges must follow. The
    // observer hears of them a task later, so the count is read until it moved.
    let after = before;
    let text = '';
    for (let round = 0; round < 50 && after <= before; round++) {
      let keep = 0;
      for (let i = 0; i < 200_000; i++) keep += [i, { i }].length;
      expect(keep).toBe(400_000);
      ({ text, count: after } = await minorCount());
    }
    expect(after).toBeGreaterThan(before);
    const buckets = [...text.matchAll(/^hstream_gc_pause_seconds_bucket\{kind="minor",le="([^"]+)"\} (\d+)$/gm)];
    expect(buckets.at(-1)).toEqual(expect.arrayContaining(['+Inf', String(after)]));
    const counts = buckets.map((m) => Number(m[2]));
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(Number(/^hstream_gc_pause_seconds_sum\{kind="minor"\} (\S+)$/m.exec(text)?.[1])).toBeGreaterThan(0);
  });
});
