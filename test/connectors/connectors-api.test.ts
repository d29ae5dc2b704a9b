/**
 * The connector RPCs against a real server: upstream's statuses, reply
 * fields and error codes, pause/resume keeping the offset, restart resuming
 * where it stopped, and the hstream mirror sink into a second server.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectFailure, status } from '../helpers/expect.js';
import { batch } from '../helpers/records.js';
import { eventually, startTestServer, tempDir, type TestServer } from '../helpers/server.js';
import { createStream } from '../helpers/streams.js';
import { createSubscription, TestConsumer } from '../integration/subscriptions.helpers.js';

interface ConnectorMsg {
  name: string;
  type: string;
  target: string;
  status: string;
  config: string;
  taskId: string;
  node: string;
  dockerStatus: string;
  image: string;
  creationTime: { seconds: string };
  offsets: unknown[];
}

describe('connector RPCs', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
    await createStream(s.client, 'events', 2);
  });
  afterAll(async () => s.destroy());

  const create = (name: string, config: Record<string, unknown>, target = 'blackhole', type = 'sink') =>
    s.client.unary<ConnectorMsg>('CreateConnector', { name, type, target, config: JSON.stringify(config) });

  it('creates a sink that runs, and shows it as upstream does', async () => {
    const c = await create('bh1', { stream: 'events', zeta: 1, alpha: 'x' });
    expect(c).toMatchObject({ name: 'bh1', type: 'SINK', target: 'blackhole', status: 'RUNNING' });
    expect(c.taskId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(c.node).toBe(`127.0.0.1:${s.server.port}`);
    // keys sorted, compact: what upstream's encoder prints
    expect(c.config).toBe('{"alpha":"x","stream":"events","zeta":1}');
    expect(Number(c.creationTime.seconds)).toBeGreaterThan(1_600_000_000);
    const got = await s.client.unary<ConnectorMsg>('GetConnector', { name: 'bh1' });
    expect(got).toMatchObject({ name: 'bh1', status: 'RUNNING', taskId: c.taskId });
    const { connectors } = await s.client.unary<{ connectors: ConnectorMsg[] }>('ListConnectors', {});
    expect(connectors.map((x) => x.name)).toContain('bh1');
    // the connector's own subscription is not a user's
    const { subscription } = await s.client.unary<{ subscription: Array<{ subscriptionId: string }> }>('ListSubscriptions', {});
    expect(subscription.filter((x) => x.subscriptionId.startsWith('__'))).toEqual([]);
  });

  it('answers upstream error codes for bad requests', async () => {
    await expectFailure(create('1bad', { stream: 'events' }), status.INVALID_ARGUMENT, 603);
    await expectFailure(create('bh1', { stream: 'events' }), status.ALREADY_EXISTS, 601);
    await expectFailure(create('c2', { stream: 'events' }, 'blackhole', 'sideways'), status.INVALID_ARGUMENT, 602);
    const unknown = await expectFailure(create('c2', { stream: 'events' }, 'oracle'), status.UNIMPLEMENTED, 605);
    expect(unknown.body?.extra).toBe('oracle');
    await expectFailure(s.client.unary('GetConnector', { name: 'nope' }), status.NOT_FOUND, 600);
    await expectFailure(s.client.unary('PauseConnector', { name: 'nope' }), status.NOT_FOUND, 600);
    await expectFailure(s.client.unary('GetConnectorLogs', { name: 'nope', begin: 1, count: 1 }), status.NOT_FOUND, 600);
    // deleting what does not exist succeeds, as upstream
    await s.client.unary('DeleteConnector', { name: 'nope' });
  });

  it('refuses a bad config with ConnectorCheckFailed naming the key, and creates nothing', async () => {
    const missing = await expectFailure(create('c3', { stream: 'events' }, 'hstream'), status.FAILED_PRECONDITION, 604);
    expect(missing.body?.extra).toMatchObject({ crtResult: false, crtType: 'CONFIG', crtDetail: expect.stringContaining('serviceUrl') });
    const wrongType = await expectFailure(create('c3', { stream: 'events', 'task.batch.maxRecords': 'many' }), status.FAILED_PRECONDITION, 604);
    expect(wrongType.body?.extra).toMatchObject({ crtDetail: expect.stringContaining('task.batch.maxRecords') });
    const notJson = await expectFailure(s.client.unary('CreateConnector', { name: 'c3', type: 'SINK', target: 'blackhole', config: '{oops' }), status.FAILED_PRECONDITION, 604);
    expect(notJson.body?.extra).toMatchObject({ crtDetail: expect.stringContaining('not JSON') });
    const noStream = await expectFailure(create('c3', { stream: 'ghost' }), status.FAILED_PRECONDITION, 604);
    expect(noStream.body?.extra).toMatchObject({ crtDetail: expect.stringContaining('ghost') });
    const unreachable = await expectFailure(create('c3', { stream: 'events', serviceUrl: 'hstream://127.0.0.1:1' }, 'hstream'), status.FAILED_PRECONDITION, 604);
    expect(unreachable.body?.extra).toMatchObject({ crtType: 'CONNECTION' });
    await expectFailure(s.client.unary('GetConnector', { name: 'c3' }), status.NOT_FOUND, 600);
    const { connectors } = await s.client.unary<{ connectors: ConnectorMsg[] }>('ListConnectors', {});
    expect(connectors.map((x) => x.name)).not.toContain('c3');
  });

  it('returns each type spec as JSON Schema', async () => {
    const { spec } = await s.client.unary<{ spec: string }>('GetConnectorSpec', { type: 'SINK', target: 'hstream' });
    const schema = JSON.parse(spec) as { $schema: string; required: string[]; properties: Record<string, unknown> };
    expect(schema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(schema.required).toEqual(['stream', 'serviceUrl']);
    expect(Object.keys(schema.properties)).toContain('task.reader.fromOffset');
    await expectFailure(s.client.unary('GetConnectorSpec', { type: 'SINK', target: 'nope' }), status.UNIMPLEMENTED, 605);
    await expectFailure(s.client.unary('GetConnectorSpec', { type: 'X', target: 'hstream' }), status.INVALID_ARGUMENT, 602);
  });

  it('pauses to STOPPED, resumes to RUNNING, logs what it did, and deletes', async () => {
    await create('bh2', { stream: 'events' });
    await s.client.unary('PauseConnector', { name: 'bh2' });
    expect((await s.client.unary<ConnectorMsg>('GetConnector', { name: 'bh2' })).status).toBe('STOPPED');
    // pausing again does nothing
    await s.client.unary('PauseConnector', { name: 'bh2' });
    await s.client.unary('ResumeConnector', { name: 'bh2' });
    expect((await s.client.unary<ConnectorMsg>('GetConnector', { name: 'bh2' })).status).toBe('RUNNING');
    const { logs } = await s.client.unary<{ logs: string }>('GetConnectorLogs', { name: 'bh2', begin: 1, count: 100 });
    expect(logs.split('\n').filter(Boolean).length).toBeGreaterThanOrEqual(3);
    expect(logs).toMatch(/task stopped/);
    const second = await s.client.unary<{ logs: string }>('GetConnectorLogs', { name: 'bh2', begin: 2, count: 1 });
    expect(second.logs.split('\n')).toEqual([logs.split('\n')[1], '']);
    expect((await s.client.unary<{ logs: string }>('GetConnectorLogs', { name: 'bh2', begin: 0, count: 5 })).logs).toBe('');
    await s.client.unary('DeleteConnector', { name: 'bh2' });
    await expectFailure(s.client.unary('GetConnector', { name: 'bh2' }), status.NOT_FOUND, 600);
  });
});

describe('hstream mirror sink', () => {
  let source: TestServer;
  let target: TestServer;
  const dir = tempDir();
  beforeAll(async () => {
    source = await startTestServer({ dataDir: `${dir}/source` });
    target = await startTestServer({ dataDir: `${dir}/target` });
  });
  afterAll(async () => {
    await source.destroy();
    await target.destroy();
  });

  it('mirrors 100k records over 4 shards while appends continue: same records per key, same order', { timeout: 180_000 }, async () => {
    const shards = await createStream(source.client, 'telemetry', 4);
    const keys = Array.from({ length: 64 }, (_, i) => `device-${i}`);
    const BATCHES = 1000;
    const PER_BATCH = 100;
    const seq = new Map<string, number>();
    // A batch holds records of one key, sent to the shard the client would route that key to.
    const { rangeIndexForKey } = await import('../../src/core/shards.js');
    const { shards: ranges } = await source.client.unary<{ shards: Array<{ startHashRangeKey: string; endHashRangeKey: string }> }>('ListShards', { streamName: 'telemetry' });
    const bigRanges = ranges.map((r) => ({ start: BigInt(r.startHashRangeKey), end: BigInt(r.endHashRangeKey) }));
    const appendSome = async (from: number, to: number) => {
      for (let b = from; b < to; b++) {
        const key = keys[b % keys.length]!;
        const records = Array.from({ length: PER_BATCH }, () => {
          const n = (seq.get(key) ?? 0) + 1;
          seq.set(key, n);
          return { key, payload: `${key}:${n}` };
        });
        await source.client.unary('Append', { streamName: 'telemetry', shardId: shards[rangeIndexForKey(bigRanges, key)], records: batch(records, b % 3 === 0 ? 'Gzip' : 'None') });
      }
    };
    await appendSome(0, BATCHES / 2);
    await source.client.unary('CreateConnector', {
      name: 'mirror',
      type: 'SINK',
      target: 'hstream',
      config: JSON.stringify({ stream: 'telemetry', serviceUrl: target.server.url }),
    });
    await appendSome(BATCHES / 2, BATCHES);

    // The target stream was created shaped as the source.
    const created = await eventually(async () => {
      const { streams } = await target.client.unary<{ streams: Array<{ streamName: string; shardCount: number }> }>('ListStreams', {});
      return streams.find((x) => x.streamName === 'telemetry');
    }, 60_000);
    expect(created.shardCount).toBe(4);
    await createSubscription(target.client, 'check', 'telemetry');
    const consumer = new TestConsumer(target.client, 'check', 'c1');
    await consumer.untilDistinct(BATCHES * PER_BATCH, 150_000);
    const perKey = new Map<string, number[]>();
    for (const d of consumer.deliveries) {
      for (const p of d.payloads) {
        const [key, n] = p.split(':');
        let list = perKey.get(key!);
        if (!list) perKey.set(key!, (list = []));
        list.push(Number(n));
      }
    }
    for (const key of keys) {
      const got = perKey.get(key) ?? [];
      // each key's records arrive once each, in the order appended (no redelivery happened here)
      expect(got.length, key).toBe(seq.get(key));
      expect(got.every((n, i) => n === i + 1), key).toBe(true);
    }
    await consumer.close();
    const view = await source.client.unary<ConnectorMsg>('GetConnector', { name: 'mirror' });
    expect(view.status).toBe('RUNNING');
  });
});

describe('hstream sql with connectors', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
    await createStream(s.client, 'events', 1);
  });
  afterAll(async () => s.destroy());

  it('prints upstream tables, Done., and a refused config as a sentence', async () => {
    const { cliFor, oneErrorLine } = await import('../cli/cli-harness.js');
    const cli = cliFor(s.server.url);
    const created = await cli(['sql', '-e', `CREATE SINK CONNECTOR bh TO blackhole WITH ("stream" = 'events');`]);
    expect(created.stdout).toBe(['+------+---------+', '| Name | Status  |', '+------+---------+', '| bh   | RUNNING |', '+------+---------+', ''].join('\n'));
    expect((await cli(['sql', '-e', 'PAUSE CONNECTOR bh;'])).stdout).toBe('Done.\n');
    expect((await cli(['sql', '-e', 'SHOW CONNECTORS;'])).stdout).toContain('| bh   | STOPPED |');
    const refused = await cli(['sql', '-e', `CREATE SINK CONNECTOR m TO hstream WITH ("stream" = 'events');`]);
    expect(oneErrorLine(refused)).toBe('Error: ConnectorCheckFailed: invalid config: missing required key "serviceUrl"');
    const dup = await cli(['sql', '-e', `CREATE SINK CONNECTOR bh TO blackhole WITH ("stream" = 'events');`]);
    expect(oneErrorLine(dup)).toBe('Error: ConnectorExists: bh');
    expect((await cli(['sql', '-e', 'DROP CONNECTOR bh;'])).stdout).toBe('Done.\n');
    expect((await cli(['sql', '-e', 'SHOW CONNECTORS;'])).stdout).toBe(['+------+--------+', '| Name | Status |', '+------+--------+', ''].join('\n'));
  });
});
