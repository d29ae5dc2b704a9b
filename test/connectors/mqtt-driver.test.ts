/**
 * The mqtt driver alone against a real Mosquitto: the broker sends no more
 * unacked QoS 1 messages than our Receive Maximum (what bounds memory
 * while appends are slow), and a message not acked comes back on the next
 * connection of the same session.
 */
import pino from 'pino';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mqttSource } from '../../src/connectors/mqtt.js';
import type { SourceContext, SourceMessage, SourceReader } from '../../src/connectors/source-driver.js';
import { mosquittoUnavailable, startMosquitto, type TestMosquitto } from '../helpers/mosquitto.js';
import { eventually } from '../helpers/server.js';
import { publishAll, publisher } from './mqtt-fixtures.js';

interface Opened {
  reader: SourceReader;
  received: SourceMessage[];
  states: string[];
}

describe.skipIf(mosquittoUnavailable)('mqtt driver', () => {
  let broker: TestMosquitto;
  let pub: MqttClient;
  const readers: SourceReader[] = [];

  beforeAll(async () => {
    broker = await startMosquitto();
    pub = await publisher(broker.url);
  }, 120_000);
  afterAll(async () => {
    for (const r of readers) await r.close();
    await pub?.endAsync(true);
    await broker?.stop();
  });

  const open = async (name: string, config: Record<string, unknown>): Promise<Opened> => {
    const received: SourceMessage[] = [];
    const states: string[] = [];
    const ctx: SourceContext = {
      name,
      log: pino({ level: 'silent' }),
      signal: new AbortController().signal,
      emit: (m) => received.push(m),
      skipped: (reason) => states.push(`skipped: ${reason}`),
      failing: (error) => states.push(`failing: ${error}`),
      connected: (detail) => states.push(detail),
    };
    const reader = await mqttSource.open({ host: broker.host, port: broker.port, ...config }, ctx);
    readers.push(reader);
    await eventually(() => (states.some((s) => s.startsWith('subscribed to')) ? true : undefined), 30_000);
    return { reader, received, states };
  };

  const text = (m: SourceMessage) => m.record.payload.toString();

  it('holds at most maxInflight unacked messages; acking lets the next ones come', async () => {
    const { received } = await open('window', { topic: 'window/t', maxInflight: 10 });
    await publishAll(pub, 'window/t', Array.from({ length: 50 }, (_, i) => String(i)));
    await eventually(() => (received.length >= 10 ? true : undefined), 30_000);
    // the broker waits for our PUBACKs: nothing more arrives meanwhile
    await new Promise((r) => setTimeout(r, 500));
    expect(received.map(text)).toEqual(Array.from({ length: 10 }, (_, i) => String(i)));
    for (const m of received.slice(0, 10)) m.ack();
    await eventually(() => (received.length >= 20 ? true : undefined), 30_000);
    for (;;) {
      const unacked = received.length;
      for (const m of received) m.ack();
      if (unacked === 50) break;
      await eventually(() => (received.length > unacked ? true : undefined), 30_000);
    }
    expect(received.map(text)).toEqual(Array.from({ length: 50 }, (_, i) => String(i)));
  });

  it('gets an unacked message again on the next connection of its session; acked ones not', async () => {
    const first = await open('again', { topic: 'again/t' });
    await publishAll(pub, 'again/t', ['a', 'b', 'c']);
    await eventually(() => (first.received.length >= 3 ? true : undefined), 30_000);
    first.received[0]!.ack();
    first.received[2]!.ack();
    await first.reader.close();

    const second = await open('again', { topic: 'again/t' });
    expect(second.states).toContain('subscribed to again/t at QoS 1 (session resumed)');
    await eventually(() => (second.received.length >= 1 ? true : undefined), 30_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(second.received.map(text)).toEqual(['b']);
  });
});
