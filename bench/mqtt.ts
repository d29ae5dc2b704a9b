/**
 * The mqtt source end to end: records/s from 4 QoS 1 publishers through a
 * real Mosquitto (Debian's, started by the bench on a free port) into a
 * stream, against a baseline from the same run, reps interleaved: the same
 * messages published the same way into a bare `mqtt` subscriber (QoS 1,
 * the library's own acks), i.e. what the broker and client library give
 * without our appends. Time runs from the first publish until the last
 * message is appended (DeliveredInRecords) or received.
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import mqtt, { type MqttClient } from 'mqtt';
import { CALL_DEADLINE_MS, createStream, startHStream, type HStreamTarget } from './clients.js';
import { untilDelivered } from './connectors.js';
import type { Rep } from './harness.js';
import { mosquittoUnavailable, startMosquitto, type TestMosquitto } from './mosquitto.js';
import { compared, interleaved, SkipScenario, type Scenario } from './scenario.js';

const BASELINE = 'baseline/mqtt/bare-subscriber-qos1';
const PUBLISHERS = 4;
/** publishes a publisher keeps in flight (the broker's own limit may be lower) */
const PUBLISH_WINDOW = 64;

/** ~200-byte JSON telemetry, keyed by one of 16 devices. */
function message(n: number): string {
  return JSON.stringify({ device: `d${n % 16}`, n, temp: 20 + (n % 50) / 10, note: ''.padEnd(140, 'x') });
}

/**
 * Publishes `count` messages from PUBLISHERS clients at once, each keeping
 * PUBLISH_WINDOW in flight (Mosquitto lets a client have 20 unacked by default,
 * so one publisher alone would be the bottleneck).
 */
async function publishAll(url: string, topic: string, count: number): Promise<void> {
  const pubs = await Promise.all(
    Array.from({ length: PUBLISHERS }, (_, p) => mqtt.connectAsync(url, { protocolVersion: 5, clientId: `bench-pub-${p}-${topic.replace(/\W/g, '-')}` })),
  );
  try {
    let next = 0;
    await Promise.all(
      pubs.flatMap((pub) =>
        Array.from({ length: PUBLISH_WINDOW }, async () => {
          while (next < count) {
            const n = next++;
            await pub.publishAsync(topic, message(n), { qos: 1 });
          }
        }),
      ),
    );
  } finally {
    await Promise.all(pubs.map((p) => p.endAsync()));
  }
}

async function connectorRep(broker: TestMosquitto, server: HStreamTarget, i: number, count: number): Promise<Rep> {
  const name = `mqtt_${i < 0 ? 'warm' : i}`;
  const stream = `bench_${name}`;
  await createStream(server.client, stream);
  const config = { stream, host: broker.host, port: broker.port, topic: `bench/${name}/#`, key: '$.device' };
  await server.client.unary('CreateConnector', { name, type: 'SOURCE', target: 'mqtt', config: JSON.stringify(config) }, { deadlineMs: CALL_DEADLINE_MS });
  await untilSubscribed(server, name);
  const t0 = performance.now();
  await publishAll(broker.url, `bench/${name}/t`, count);
  await untilDelivered(server.client, name, count, 120_000);
  const value = count / ((performance.now() - t0) / 1000);
  await server.client.unary('DeleteConnector', { name }, { deadlineMs: CALL_DEADLINE_MS });
  return { value };
}

async function untilSubscribed(server: HStreamTarget, name: string): Promise<void> {
  const deadline = performance.now() + 30_000;
  for (;;) {
    const { logs } = await server.client.unary<{ logs: string }>('GetConnectorLogs', { name, begin: 1, count: 100 }, { deadlineMs: CALL_DEADLINE_MS });
    if (logs.includes('subscribed to')) return;
    if (performance.now() > deadline) throw new Error(`connector ${name} did not subscribe within 30 s:\n${logs}`);
    await sleep(20);
  }
}

async function baselineRep(broker: TestMosquitto, i: number, count: number): Promise<Rep> {
  const topic = `bench/base_${i < 0 ? 'warm' : i}/t`;
  const sub: MqttClient = await mqtt.connectAsync(broker.url, { protocolVersion: 5, clientId: `bench-sub-${i}` });
  try {
    let received = 0;
    let resolveAll: () => void = () => undefined;
    const all = new Promise<void>((resolve) => (resolveAll = resolve));
    sub.on('message', () => {
      received++;
      if (received === count) resolveAll();
    });
    await sub.subscribeAsync(topic, { qos: 1 });
    const t0 = performance.now();
    await publishAll(broker.url, topic, count);
    await all;
    return { value: count / ((performance.now() - t0) / 1000) };
  } finally {
    await sub.endAsync();
  }
}

export const mqttScenarios: Scenario[] = [
  {
    id: 'connector/mqtt',
    title: 'mqtt source: ~200-byte JSON messages/s from 4 QoS 1 publishers through Mosquitto into a stream, vs a bare QoS 1 mqtt subscriber of the same messages',
    modes: ['quick', 'full'],
    timeoutMs: { quick: 240_000, full: 480_000 },
    async run(ctx, scope) {
      if (mosquittoUnavailable) throw new SkipScenario(`Mosquitto is not installed here (${mosquittoUnavailable})`);
      const count = ctx.mode === 'quick' ? 20_000 : 100_000;
      const broker = await startMosquitto();
      try {
        const server = await startHStream(scope, { dataDir: scope.tempDir() });
        await baselineRep(broker, -1, 2_000);
        await connectorRep(broker, server, -1, 2_000);
        const { base, ours: source } = await interleaved(ctx, 'connector/mqtt', (i) => baselineRep(broker, i, count), (i) => connectorRep(broker, server, i, count));
        ctx.baselines.add(BASELINE, 'rec/s', 'higher', base);
        return [compared(`connector/mqtt/messages=${count}x200B-json`, 'rec/s', 'higher', source, { name: BASELINE, reps: base })];
      } finally {
        await broker.stop();
      }
    },
  },
];
