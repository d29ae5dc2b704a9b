/**
 * kill -9 of the server while a publisher publishes at QoS 1: after the
 * restart every message the broker accepted (the publisher got its PUBACK)
 * is in the stream. A message is appended twice only if it was appended
 * and its PUBACK had not reached the broker when the server died, so
 * duplicates are at most our in-flight window.
 */
import { rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { HStreamClient } from '../../src/client.js';
import { mosquittoUnavailable, startMosquitto, type TestMosquitto } from '../helpers/mosquitto.js';
import { eventually, spawnServer, tempDir, type ServerProcess } from '../helpers/server.js';
import { createStream } from '../helpers/streams.js';
import { connectorLogs, createConnector, publisher, readStream } from './mqtt-fixtures.js';

const MESSAGES = 4000;
const IN_FLIGHT = 200;

describe.skipIf(mosquittoUnavailable)('mqtt source across kill -9', () => {
  const dataDir = tempDir('hstreamlite-mqtt-crash-');
  let broker: TestMosquitto | undefined;
  let server: ServerProcess | undefined;
  let client: HStreamClient | undefined;
  afterAll(async () => {
    client?.close();
    server?.child.kill('SIGKILL');
    await server?.exited;
    await broker?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('has every message the broker accepted after a restart; duplicates only within the in-flight window', { timeout: 120_000 }, async () => {
    broker = await startMosquitto();
    server = await spawnServer(['--data-dir', dataDir]);
    client = new HStreamClient(server.address);
    await createStream(client, 'mq_crash', 2);
    await createConnector(client, 'crashy', {
      stream: 'mq_crash',
      host: broker.host,
      port: broker.port,
      topic: 'crash/#',
      key: 'topic',
      maxInflight: IN_FLIGHT,
      'batch.maxRecords': 50,
      'batch.maxDelayMs': 2,
    });
    const c = client;
    await eventually(async () => ((await connectorLogs(c, 'crashy')).includes('subscribed to') ? true : undefined), 30_000, 50);

    // Publish in a window of 50 in flight; remember what the broker acknowledged.
    const pub = await publisher(broker.url);
    const accepted = new Set<string>();
    let next = 0;
    const publishing = Promise.all(
      Array.from({ length: 50 }, async () => {
        while (next < MESSAGES) {
          const n = next++;
          try {
            await pub.publishAsync(`crash/${n % 7}`, JSON.stringify({ n }), { qos: 1 });
            accepted.add(String(n));
          } catch {
            // not acknowledged: not promised to anyone
          }
        }
      }),
    );

    // Kill the server while messages flow into it.
    await eventually(async () => ((await readStream(c, 'mq_crash')).length >= MESSAGES / 4 ? true : undefined), 60_000, 20);
    server.child.kill('SIGKILL');
    await server.exited;
    client.close();
    await publishing;
    await pub.endAsync();
    expect(accepted.size).toBe(MESSAGES);

    server = await spawnServer(['--data-dir', dataDir]);
    client = new HStreamClient(server.address);
    const after = client;
    const records = await eventually(async () => {
      const r = await readStream(after, 'mq_crash');
      return new Set(r.map((x) => String(x.json!['n']))).size >= MESSAGES ? r : undefined;
    }, 60_000, 200);
    const seen = records.map((r) => String(r.json!['n']));
    const seenSet = new Set(seen);
    const missing = [...accepted].filter((n) => !seenSet.has(n));
    expect(missing).toEqual([]);
    const duplicates = seen.length - seenSet.size;
    console.log(`mqtt kill -9: ${seen.length} records for ${MESSAGES} messages, ${duplicates} duplicates (window ${IN_FLIGHT})`);
    expect(duplicates).toBeLessThanOrEqual(IN_FLIGHT);
    for (const r of records) expect(r.key).toBe(r.json!['mqtt_topic']);
  });
});
