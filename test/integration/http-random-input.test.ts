/**
 * Random input to every REST route, from a fixed seed: whatever arrives, the
 * answer is a 2xx or a 4xx in the one error shape (never a 5xx, never a
 * dropped connection), and every stream stored afterwards is a valid one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nameProblem } from '../../src/core/names.js';
import { rng } from '../helpers/rng.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

let t: TestServer;
let base: string;
beforeAll(async () => {
  t = await startTestServer({ httpPort: 0 });
  base = `http://127.0.0.1:${t.server.httpPort}`;
  for (const name of ['s1', 's2']) {
    await fetch(`${base}/v1/streams`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ stream_name: name, shard_count: 2 }) });
  }
});
afterAll(() => t.destroy());

const SEED = 20261204;
const REQUESTS = 1500;

function generator(random: () => number) {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const strings = ['', 's1', 's2', 'fresh', '1bad', 'a b', '%', '%E0%A4%A', '💥', 'x'.repeat(300), 'RAW', 'HRECORD', 'true', '{}', 'null'];
  const numbers = [0, 1, -1, 1.5, 2, 3, 1024, 1025, 2 ** 32, 2 ** 53 + 1, 1e308, -0, 604800];
  const keys = ['stream_name', 'replication_factor', 'backlog_duration', 'shard_count', 'key', 'type', 'data', 'extra'];
  const value = (depth: number): unknown => {
    switch (Math.floor(random() * (depth > 3 ? 5 : 8))) {
      case 0:
        return null;
      case 1:
        return random() < 0.5;
      case 2:
        return pick(numbers);
      case 3:
      case 4:
        return pick(strings);
      case 5:
        return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1));
      default: {
        const obj: Record<string, unknown> = {};
        for (let i = Math.floor(random() * 5); i > 0; i--) obj[pick(keys)] = value(depth + 1);
        return obj;
      }
    }
  };
  // as text: JSON.stringify of a deep value would overflow this test's own stack
  const deep = (n: number): string => {
    const kinds = Array.from({ length: n }, () => random() < 0.5);
    return kinds.map((obj) => (obj ? '{"a":' : '[')).join('') + '1' + kinds.reverse().map((obj) => (obj ? '}' : ']')).join('');
  };
  const body = (): string | undefined => {
    switch (Math.floor(random() * 8)) {
      case 0:
        return undefined;
      case 1:
        return pick(['', 'not json', '{', '[]', '"x"', '1', 'null', '{"a":']);
      case 2:
        return `{"stream_name":"deep","data":{"d":${deep(pick([10, 60, 5000]))}}}`;
      default: {
        const obj: Record<string, unknown> = {};
        for (let i = Math.floor(random() * 6); i > 0; i--) obj[pick(keys)] = value(0);
        if (random() < 0.5) obj.stream_name = pick(strings);
        return JSON.stringify(obj);
      }
    }
  };
  const path = (): string => {
    const name = encodeURIComponent(pick(strings)).replace(/%25/g, pick(['%25', '%']));
    return pick([
      '/v1/streams',
      '/v1/streams/',
      `/v1/streams/${name}`,
      `/v1/streams/${name}?force=${pick(['true', 'false', 'x', ''])}`,
      `/v1/streams/${name}/extra`,
      '/healthz',
      '/metrics',
      `/${name}`,
    ]);
  };
  const request = () => ({
    method: pick(['GET', 'POST', 'POST', 'POST', 'DELETE', 'PUT', 'PATCH', 'HEAD', 'OPTIONS']),
    path: path(),
    contentType: pick(['application/json', 'application/json', 'application/json; charset=utf-8', 'text/plain', undefined]),
    body: body(),
  });
  return request;
}

describe('random REST input', () => {
  it(`${REQUESTS} requests from seed ${SEED}: never a 5xx, errors in one shape, no invalid stream stored`, { timeout: 240_000 }, async () => {
    const next = generator(rng(SEED));
    const seen = new Map<number, number>();
    for (let i = 0; i < REQUESTS; i++) {
      const r = next();
      const what = `request ${i} (seed ${SEED}): ${r.method} ${r.path} ${r.contentType ?? '-'} ${(r.body ?? '').slice(0, 120)}`;
      const hasBody = r.body !== undefined && !['GET', 'HEAD'].includes(r.method);
      const res = await fetch(base + r.path, {
        method: r.method,
        headers: r.contentType && hasBody ? { 'content-type': r.contentType } : {},
        body: hasBody ? r.body : undefined,
      });
      const text = await res.text();
      seen.set(res.status, (seen.get(res.status) ?? 0) + 1);
      expect(res.status, `${what} → ${text.slice(0, 300)}`).toBeLessThan(500);
      if (res.status >= 400 && r.method !== 'HEAD') {
        const parsed = JSON.parse(text) as Record<string, unknown>;
        expect(Object.keys(parsed).sort(), what).toEqual(['code', 'error', 'extra']);
        expect(typeof parsed.error, what).toBe('string');
      }
    }
    // both successes and refusals happened: the generator reaches past the first check
    expect([...seen.keys()].filter((s) => s < 300).length, JSON.stringify([...seen])).toBeGreaterThanOrEqual(2);
    expect([...seen.keys()].filter((s) => s >= 400).length, JSON.stringify([...seen])).toBeGreaterThanOrEqual(5);
    for (const stream of t.server.context.streams.list()) {
      expect(nameProblem(stream.name), stream.name).toBeUndefined();
      expect(Number.isInteger(stream.replicationFactor) && stream.replicationFactor >= 1, JSON.stringify(stream)).toBe(true);
      expect(Number.isInteger(stream.backlogDuration) && stream.backlogDuration >= 0 && stream.backlogDuration < 2 ** 32, JSON.stringify(stream)).toBe(true);
      expect(Number.isInteger(stream.shardCount) && stream.shardCount >= 1 && stream.shardCount <= 1024, JSON.stringify(stream)).toBe(true);
      expect(t.server.context.streams.get(stream.name).shards).toHaveLength(stream.shardCount);
    }
    const health = await fetch(`${base}/healthz`);
    expect(health.status).toBe(200);
  });
});
