/**
 * A connector across its target going away and the server restarting:
 * FAILED with the error while the target is down, retried with backoff,
 * RUNNING again by itself once it is back, every record delivered; a
 * paused connector stays paused across a restart.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { batch } from '../helpers/records.js';
import { eventually, startTestServer, tempDir, type TestServer } from '../helpers/server.js';
import { createStream } from '../helpers/streams.js';
import { createSubscription, TestConsumer } from '../integration/subscriptions.helpers.js';

interface ConnectorMsg {
  status: string;
  dockerStatus: string;
}

describe('connector lifecycle', () => {
  const dir = tempDir();
  const servers: TestServer[] = [];
  const start = async (name: string, port?: number) => {
    const s = await startTestServer({ dataDir: `${dir}/${name}`, ...(port ? { port } : {}) });
    servers.push(s);
    return s;
  };
  afterAll(async () => {
    for (const s of servers) await s.destroy();
  });

  const append = async (s: TestServer, from: number, n: number) => {
    const records = Array.from({ length: n }, (_, i) => ({ key: 'k', payload: `r${from + i}` }));
    for (let i = 0; i < records.length; i += 100) {
      await s.client.unary('Append', { streamName: 'src', shardId: (await shardOf(s)), records: batch(records.slice(i, i + 100)) });
    }
  };
  const shardOf = async (s: TestServer) =>
    (await s.client.unary<{ shards: Array<{ shardId: string }> }>('ListShards', { streamName: 'src' })).shards[0]!.shardId;
  const get = (s: TestServer, name: string) => s.client.unary<ConnectorMsg>('GetConnector', { name });

  it('retries a target that is down, survives a restart, and delivers everything once it is back', { timeout: 180_000 }, async () => {
    let source = await start('source');
    let target = await start('target');
    const targetPort = target.server.port;
    await createStream(source.client, 'src', 1);
    const connector = (name: string, target: string, extra: Record<string, unknown> = {}) =>
      source.client.unary('CreateConnector', { name, type: 'SINK', target, config: JSON.stringify({ stream: 'src', ...extra }) });
    await connector('mirror', 'hstream', { serviceUrl: target.server.url });
    await connector('idle', 'blackhole');
    await source.client.unary('PauseConnector', { name: 'idle' });
    await append(source, 0, 1000);

    await createSubscription(target.client, 'check', 'src');
    let consumer = new TestConsumer(target.client, 'check', 'c1');
    await consumer.untilDistinct(1000, 60_000);
    await consumer.close();

    // The target goes away: the connector shows it and keeps every record for later.
    await target.stop();
    await append(source, 1000, 1000);
    const failing = await eventually(async () => {
      const c = await get(source, 'mirror');
      return c.status === 'FAILED' ? c : undefined;
    }, 60_000);
    expect(failing.dockerStatus).toMatch(/^retrying \(attempt \d+\): /);
    const { logs } = await source.client.unary<{ logs: string }>('GetConnectorLogs', { name: 'mirror', begin: 1, count: 1000 });
    expect(logs).toMatch(/WARN write failed \(attempt 1\), retrying in 1000 ms/);

    // The source restarts while the target is still down: the paused one stays paused.
    await source.stop();
    source = await start('source');
    expect((await get(source, 'idle')).status).toBe('STOPPED');
    await append(source, 2000, 500);

    // The target is back on the same address: the connector recovers by itself.
    target = await start('target', targetPort);
    await eventually(async () => ((await get(source, 'mirror')).status === 'RUNNING' ? true : undefined), 90_000, 200);
    const first = consumer.deliveries.flatMap((d) => d.payloads);
    // the subscription goes on after the 1,000 the first consumer acked
    consumer = new TestConsumer(target.client, 'check', 'c2');
    await consumer.untilDistinct(1500, 60_000);
    const seen = new Set([...first, ...consumer.deliveries.flatMap((d) => d.payloads)]);
    for (let i = 0; i < 2500; i++) expect(seen.has(`r${i}`), `r${i}`).toBe(true);
    await consumer.close();
    const metrics = await source.client.unary<{ connectors: Array<{ name: string; status: string }> }>('ListConnectors', {});
    expect(metrics.connectors.map((c) => [c.name, c.status])).toEqual([
      ['mirror', 'RUNNING'],
      ['idle', 'STOPPED'],
    ]);
  });
});
