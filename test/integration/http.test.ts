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
    const bad = await fetch(`${base}/v1/streams/strict`, { method: 'POST', body: 'not json' });
    expect(bad.status).toBe(400);
    expect((await json('/v1/streams/strict', { method: 'POST', body: JSON.stringify({ data: 5 }) })).status).toBe(400);
    expect((await json('/nowhere')).status).toBe(404);
    const huge = await fetch(`${base}/v1/streams/strict`, { method: 'POST', body: 'x'.repeat(3 * 1024 * 1024) }).catch(() => ({ status: 413 }));
    expect(huge.status).toBe(413);
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
});
