/**
 * The mqtt source against a real Mosquitto: messages become records with
 * their topic and key, SQL filters on the topic, and QoS 1 messages are
 * not lost across a pause, a broker restart or a broker that is down;
 * hostile payloads become records or are skipped, never crash the server.
 */
import { readFileSync } from 'node:fs';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectFailure, status } from '../helpers/expect.js';
import { freePort, mosquittoUnavailable, startMosquitto, type TestMosquitto } from '../helpers/mosquitto.js';
import { eventually, startTestServer, type TestServer } from '../helpers/server.js';
import { createStream } from '../helpers/streams.js';
import { connectorLogs, createConnector, getConnector, publishAll, publisher, readStream, type StoredRecord } from './mqtt-fixtures.js';

const subscribed = (t: TestServer, name: string, times = 1) =>
  eventually(async () => ((await connectorLogs(t.client, name)).split('subscribed to').length - 1 >= times ? true : undefined), 30_000, 50);

const payloadsOf = (records: StoredRecord[]) => records.map((r) => (r.json ? String(r.json['n']) : r.raw!.toString()));

describe.skipIf(mosquittoUnavailable)('mqtt source', { timeout: 90_000 }, () => {
  let broker: TestMosquitto;
  let t: TestServer;
  let pub: MqttClient;

  beforeAll(async () => {
    broker = await startMosquitto();
    // a small record limit, so that a message can pass maxPayloadBytes and still be too large for the stream
    t = await startTestServer({ maxRecordSizeBytes: 100_000 });
    pub = await publisher(broker.url);
  }, 120_000);
  afterAll(async () => {
    await pub?.endAsync(true);
    await t?.destroy();
    await broker?.stop();
  });

  const base = (stream: string, topic: string | string[], extra: Record<string, unknown> = {}) => ({
    stream,
    host: broker.host,
    port: broker.port,
    topic,
    'batch.maxDelayMs': 5,
    ...extra,
  });

  it('appends JSON objects as JSON records and anything else as RAW, with the topic and the configured key', async () => {
    await createStream(t.client, 'mq_basic', 2);
    await createConnector(t.client, 'basic', base('mq_basic', ['sensors/+/temp', 'plain/#'], { key: '$.device' }));
    await subscribed(t, 'basic');
    await publishAll(pub, 'sensors/a/temp', [JSON.stringify({ device: 'a', temp: 21.5 })]);
    await publishAll(pub, 'sensors/b/temp', [JSON.stringify({ device: 'b', temp: 19, mqtt_topic: 'spoofed' })]);
    await publishAll(pub, 'plain/text', ['hello', '[1,2]', Buffer.from([0xff, 0xfe, 0x00])]);
    await publishAll(pub, 'other/topic', [JSON.stringify({ device: 'x' })]);

    const records = await eventually(async () => {
      const r = await readStream(t.client, 'mq_basic');
      return r.length >= 5 ? r : undefined;
    }, 30_000);
    expect(records).toHaveLength(5);
    const json = records.filter((r) => r.flag === 'JSON').sort((a, b) => a.key.localeCompare(b.key));
    expect(json).toEqual([
      { flag: 'JSON', key: 'a', attributes: { mqtt_topic: 'sensors/a/temp' }, json: { device: 'a', temp: 21.5, mqtt_topic: 'sensors/a/temp' } },
      { flag: 'JSON', key: 'b', attributes: { mqtt_topic: 'sensors/b/temp' }, json: { device: 'b', temp: 19, mqtt_topic: 'sensors/b/temp' } },
    ]);
    const raw = records.filter((r) => r.flag === 'RAW');
    expect(raw.map((r) => r.raw!.toString('hex'))).toEqual([Buffer.from('hello').toString('hex'), Buffer.from('[1,2]').toString('hex'), 'fffe00']);
    expect(raw.every((r) => r.key === '' && r.attributes['mqtt_topic'] === 'plain/text')).toBe(true);
    // GetStats counts what a source appended, as it counts what a sink wrote
    const stats = await t.client.unary<{ statsValues: Array<{ statValues: Record<string, string> }> }>('GetStats', { stats: [{ connStat: 'DeliveredInRecords' }] });
    expect(stats.statsValues[0]!.statValues['basic']).toBe('5');
  });

  it('keys records by topic, is created by SQL, and SQL filters on the topic field', async () => {
    await createStream(t.client, 'mq_sql');
    // through SQL, as a user would create it
    await t.client.unary('ExecuteQuery', {
      stmt_text: `CREATE SOURCE CONNECTOR by_topic FROM mqtt WITH ("stream" = 'mq_sql', "host" = '127.0.0.1', "port" = ${broker.port}, "topic" = 'site/#', "key" = 'topic', "batch.maxDelayMs" = 5);`,
    });
    await subscribed(t, 'by_topic');
    await t.client.unary('CreateQuery', { sql: "CREATE STREAM mq_hall AS SELECT * FROM mq_sql WHERE mqtt_topic = 'site/hall';", queryName: 'q_hall' });
    await publishAll(pub, 'site/hall', [1, 2, 3].map((n) => JSON.stringify({ n })));
    await publishAll(pub, 'site/roof', [4, 5].map((n) => JSON.stringify({ n })));

    const all = await eventually(async () => {
      const r = await readStream(t.client, 'mq_sql');
      return r.length >= 5 ? r : undefined;
    }, 30_000);
    expect(all.map((r) => r.key).sort()).toEqual(['site/hall', 'site/hall', 'site/hall', 'site/roof', 'site/roof']);
    const hall = await eventually(async () => {
      const r = await readStream(t.client, 'mq_hall');
      return r.length >= 3 ? r : undefined;
    }, 30_000);
    expect(hall.map((r) => r.json)).toEqual([1, 2, 3].map((n) => ({ n, mqtt_topic: 'site/hall' })));
  });

  it.each([
    { version: 5, name: 'pausing', level: 'p5' },
    { version: 4, name: 'v311', level: 'p2' },
  ])('loses nothing published while paused (MQTT protocolVersion $version): the broker keeps the session and we ack only what we appended', async ({ version, name, level }) => {
    const stream = `mq_pause_${name}`;
    await createStream(t.client, stream);
    await createConnector(t.client, name, base(stream, `pause/${name}`, { protocolVersion: version }));
    await subscribed(t, name);
    await publishAll(pub, `pause/${name}`, range(0, 200));
    await t.client.unary('PauseConnector', { name });
    expect((await getConnector(t.client, name)).status).toBe('STOPPED');
    await publishAll(pub, `pause/${name}`, range(200, 700));
    await t.client.unary('ResumeConnector', { name });
    const records = await eventually(async () => {
      const r = await readStream(t.client, stream);
      return new Set(payloadsOf(r)).size >= 700 ? r : undefined;
    }, 60_000);
    expect([...new Set(payloadsOf(records))].sort()).toEqual(range(0, 700).sort());
    expect(await connectorLogs(t.client, name)).toContain('(session resumed)');
    // the broker saw the protocol asked for (Mosquitto logs MQTT 3.1.1 as p2, MQTT 5 as p5) and a persistent session (c0)
    expect(readFileSync(broker.logFile, 'utf8')).toContain(`as hstreamlite-${name} (${level}, c0`);
  });

  it('loses nothing across broker restarts (also what was queued for it while paused), and shows FAILED with the error while the broker is down', async () => {
    await createStream(t.client, 'mq_restart');
    await createConnector(t.client, 'restarting', base('mq_restart', 'restart/t'));
    await subscribed(t, 'restarting');
    await publishAll(pub, 'restart/t', range(0, 300));
    await broker.stopServer();
    const failing = await eventually(async () => {
      const c = await getConnector(t.client, 'restarting');
      return c.status === 'FAILED' ? c : undefined;
    }, 30_000, 100);
    expect(failing.dockerStatus).toMatch(/^retrying \(attempt \d+\): .*127\.0\.0\.1/);
    // the server keeps serving meanwhile
    await t.client.unary('ListStreams', {});
    await broker.startServer();
    await subscribed(t, 'restarting', 2);
    expect((await getConnector(t.client, 'restarting')).status).toBe('RUNNING');
    await publishAll(pub, 'restart/t', range(300, 400));
    await eventually(async () => (new Set(payloadsOf(await readStream(t.client, 'mq_restart'))).size >= 400 ? true : undefined), 60_000);

    // Messages queued for the paused connector live only in the broker: they survive its restart.
    await t.client.unary('PauseConnector', { name: 'restarting' });
    await publishAll(pub, 'restart/t', range(400, 600));
    await broker.stopServer();
    await broker.startServer();
    await t.client.unary('ResumeConnector', { name: 'restarting' });
    const records = await eventually(async () => {
      const r = await readStream(t.client, 'mq_restart');
      return new Set(payloadsOf(r)).size >= 600 ? r : undefined;
    }, 60_000);
    expect([...new Set(payloadsOf(records))].sort()).toEqual(range(0, 600).sort());
  });

  it('follows a new topic after AlterConnectorConfig, no longer the old one', async () => {
    await createStream(t.client, 'mq_alter');
    await createConnector(t.client, 'altered', base('mq_alter', 'alter/a'));
    await subscribed(t, 'altered');
    await t.client.unary('AlterConnectorConfig', { name: 'altered', config: JSON.stringify({ topic: 'alter/b' }) });
    await subscribed(t, 'altered', 2);
    expect(await connectorLogs(t.client, 'altered')).toMatch(/subscribed to alter\/b at QoS 1 \(session new\)/);
    await publishAll(pub, 'alter/a', ['old']);
    await publishAll(pub, 'alter/b', ['new']);
    await eventually(async () => ((await readStream(t.client, 'mq_alter')).length >= 1 ? true : undefined), 30_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(payloadsOf(await readStream(t.client, 'mq_alter'))).toEqual(['new']);
  });

  it('retries appends while its stream is gone, acking nothing, and goes on once it is back', async () => {
    await createStream(t.client, 'mq_gone');
    await createConnector(t.client, 'orphan', base('mq_gone', 'gone/t'));
    await subscribed(t, 'orphan');
    await t.client.unary('DeleteStream', { streamName: 'mq_gone', ignoreNonExist: false, force: false });
    await publishAll(pub, 'gone/t', range(0, 20));
    const failing = await eventually(async () => {
      const c = await getConnector(t.client, 'orphan');
      return c.status === 'FAILED' ? c : undefined;
    }, 30_000, 50);
    expect(failing.dockerStatus).toMatch(/^retrying \(attempt \d+\): StreamNotFound/);
    await createStream(t.client, 'mq_gone');
    const records = await eventually(async () => {
      const r = await readStream(t.client, 'mq_gone');
      return r.length >= 20 ? r : undefined;
    }, 60_000, 100);
    expect(payloadsOf(records).sort()).toEqual(range(0, 20).sort());
    await eventually(async () => ((await getConnector(t.client, 'orphan')).status === 'RUNNING' ? true : undefined), 10_000);
  });

  it('ends its broker session when deleted: a new connector of the same name starts afresh', async () => {
    await createStream(t.client, 'mq_again');
    await createConnector(t.client, 'again', base('mq_again', 'again/t'));
    await subscribed(t, 'again');
    await t.client.unary('DeleteConnector', { name: 'again' });
    await publishAll(pub, 'again/t', range(0, 50));
    await createConnector(t.client, 'again', base('mq_again', 'again/t'));
    await subscribed(t, 'again');
    expect(await connectorLogs(t.client, 'again')).toContain('(session new)');
    await publishAll(pub, 'again/t', range(100, 105));
    const records = await eventually(async () => {
      const r = await readStream(t.client, 'mq_again');
      return r.length >= 5 ? r : undefined;
    }, 30_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(payloadsOf(await readStream(t.client, 'mq_again'))).toEqual(payloadsOf(records));
    expect(payloadsOf(records)).toEqual(range(100, 105));
  });

  it('skips messages over maxPayloadBytes or the record size limit (logged), stores deep JSON and invalid UTF-8 as RAW, and runs on a filter matching nothing', async () => {
    await createStream(t.client, 'mq_hostile');
    await createConnector(t.client, 'hostile', base('mq_hostile', 'hostile/#', { maxPayloadBytes: 200_000 }));
    await createConnector(t.client, 'nothing', base('mq_hostile', 'no/such/topic/+'));
    await subscribed(t, 'hostile');
    await subscribed(t, 'nothing');
    const deep = '{"a":'.repeat(5000) + '1' + '}'.repeat(5000);
    const deepButShallowEnough = JSON.stringify({ a: { b: { c: [1, [2, [3]]] } } });
    await publishAll(pub, 'hostile/big', ['x'.repeat(200_001), 'z'.repeat(150_000)]);
    await publishAll(pub, 'hostile/deep', [Buffer.from(deep)]);
    await publishAll(pub, 'hostile/utf8', [Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d])]);
    await publishAll(pub, 'hostile/ok', [deepButShallowEnough, 'y'.repeat(40_000)]);
    await publishAll(pub, 'hostile/empty', ['']);

    await eventually(async () => ((await readStream(t.client, 'mq_hostile')).length >= 5 ? true : undefined), 30_000);
    // nothing else arrives: the oversized one was acked and skipped, the other connector matched nothing
    await new Promise((r) => setTimeout(r, 300));
    const again = await readStream(t.client, 'mq_hostile');
    expect(again).toHaveLength(5);
    const byTopic = Object.fromEntries(again.map((r) => [r.attributes['mqtt_topic'] + (r.raw && r.raw.length === 40_000 ? '-big' : ''), r]));
    expect(byTopic['hostile/empty']).toMatchObject({ flag: 'RAW', raw: Buffer.alloc(0) });
    expect(byTopic['hostile/deep']).toMatchObject({ flag: 'RAW' });
    expect(byTopic['hostile/deep']!.raw!.toString()).toBe(deep);
    expect(byTopic['hostile/utf8']!.raw).toEqual(Buffer.from([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d]));
    expect(byTopic['hostile/ok']!.json).toEqual({ a: { b: { c: [1, [2, [3]]] } }, mqtt_topic: 'hostile/ok' });
    expect(byTopic['hostile/ok-big']!.flag).toBe('RAW');

    expect(await connectorLogs(t.client, 'hostile')).toMatch(/WARN message skipped: 200001 bytes on topic hostile\/big is over maxPayloadBytes \(200000\)/);
    expect(await connectorLogs(t.client, 'hostile')).toMatch(/WARN record skipped: larger than the server's record size limit \(1500\d\d bytes\)/);
    expect((await getConnector(t.client, 'nothing')).status).toBe('RUNNING');
    expect((await getConnector(t.client, 'hostile')).status).toBe('RUNNING');
  });

  it('is created while its broker is unreachable, shows FAILED with the error, and is deleted all the same', async () => {
    await createStream(t.client, 'mq_nowhere');
    const port = await freePort();
    await createConnector(t.client, 'nowhere', { ...base('mq_nowhere', 'x/#'), port });
    const failing = await eventually(async () => {
      const c = await getConnector(t.client, 'nowhere');
      return c.status === 'FAILED' ? c : undefined;
    }, 30_000, 50);
    expect(failing.dockerStatus).toMatch(new RegExp(`^retrying \\(attempt \\d+\\): 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
    expect(await connectorLogs(t.client, 'nowhere')).toMatch(/WARN source unreachable, retrying: .*ECONNREFUSED/);
    await t.client.unary('DeleteConnector', { name: 'nowhere' });
    await expectFailure(getConnector(t.client, 'nowhere'), status.NOT_FOUND, 600);
  });

  it('refuses bad configs with 604 and masks the password everywhere', async () => {
    await createStream(t.client, 'mq_cfg');
    const refused = async (config: Record<string, unknown>, detail: RegExp) => {
      const err = await expectFailure(createConnector(t.client, 'bad', config), status.FAILED_PRECONDITION, 604);
      expect((err.body?.extra as { crtDetail: string }).crtDetail).toMatch(detail);
    };
    await refused(base('mq_cfg', 'a/#/b'), /"#" must be a whole level and the last one/);
    await refused(base('mq_cfg', ['ok', 'a+/b']), /"\+" must be a whole level/);
    await refused(base('mq_cfg', 'a', { qos: 2 }), /"qos" must be one of 0, 1/);
    await refused(base('mq_cfg', 'a', { protocolVersion: 3 }), /"protocolVersion" must be one of 4, 5/);
    await refused(base('mq_cfg', 'a', { key: 'device' }), /"key" must match pattern/);
    await refused(base('no_such_stream', 'a'), /stream "no_such_stream" does not exist/);
    await refused(base('mq_cfg', 'a', { 'tls.ca': '/no/such/ca.pem' }), /"tls.ca": cannot read \/no\/such\/ca.pem: ENOENT/);

    const { spec } = await t.client.unary<{ spec: string }>('GetConnectorSpec', { type: 'SOURCE', target: 'mqtt' });
    const schema = JSON.parse(spec) as { required: string[]; properties: Record<string, { default?: unknown; 'ui:type'?: string }> };
    expect(schema.required).toEqual(['stream', 'host', 'topic']);
    expect(schema.properties['password']!['ui:type']).toBe('secret');
    expect(schema.properties['batch.maxRecords']!.default).toBe(500);
    await expectFailure(t.client.unary('GetConnectorSpec', { type: 'SOURCE', target: 'kafka' }), status.UNIMPLEMENTED, 605);

    await createConnector(t.client, 'secret', base('mq_cfg', 'secret/t', { username: 'u', password: 'hunter2-secret' }));
    // anonymous broker: a password is accepted and ignored; what matters is where it shows
    await subscribed(t, 'secret');
    const shown = await getConnector(t.client, 'secret');
    expect(shown.config).toContain('"password":"******"');
    expect(JSON.stringify(shown)).not.toContain('hunter2');
    expect(JSON.stringify(await t.client.unary('ListConnectors', {}))).not.toContain('hunter2');
    expect(await connectorLogs(t.client, 'secret')).not.toContain('hunter2');
    await t.client.unary('DeleteConnector', { name: 'secret' });
    expect((await t.client.unary<{ connectors: unknown[] }>('ListConnectors', {})).connectors.map((c) => (c as { name: string }).name)).not.toContain('secret');
  });
});

function range(from: number, to: number): string[] {
  return Array.from({ length: to - from }, (_, i) => String(from + i));
}
