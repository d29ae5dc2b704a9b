/**
 * The mqtt driver alone against a real Mosquitto: the broker sends no more
 * unacked QoS 1 messages than our Receive Maximum (what bounds memory
 * while appends are slow), and a message not acked comes back on the next
 * connection of the same session; TLS with a client certificate.
 */
import { readFileSync, rmSync } from 'node:fs';
import mqtt, { type MqttClient } from 'mqtt';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mqttSource } from '../../src/connectors/mqtt.js';
import type { SourceContext, SourceMessage, SourceReader } from '../../src/connectors/source-driver.js';
import { makeCerts } from '../helpers/certs.js';
import { mosquittoUnavailable, startMosquitto, type TestMosquitto } from '../helpers/mosquitto.js';
import { eventually } from '../helpers/server.js';
import { publishAll, publisher } from './mqtt-fixtures.js';

interface Opened {
  reader: SourceReader;
  received: SourceMessage[];
  states: string[];
}

describe.skipIf(mosquittoUnavailable)('mqtt driver', { timeout: 90_000 }, () => {
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

  const open = async (name: string, config: Record<string, unknown>, on: TestMosquitto = broker): Promise<Opened> => {
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
    const reader = await mqttSource.open({ host: on.host, port: on.port, ...config }, ctx);
    readers.push(reader);
    await eventually(() => (states.some((s) => s.startsWith('subscribed to') || s.startsWith('failing')) ? true : undefined), 30_000);
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

  it('stops reading past maxInflightBytes, QoS 0 included, and goes on as acks come', async () => {
    const { received } = await open('bytes', { topic: 'bytes/t', qos: 0, maxInflightBytes: 10_000 });
    const qos0 = await publisher(broker.url);
    try {
      await Promise.all(Array.from({ length: 10 }, (_, i) => qos0.publishAsync('bytes/t', String(i).padEnd(4000, '.'), { qos: 0 })));
      // 3 × 4000 bytes pass the cap: the third is handed on, then reading stops
      await eventually(() => (received.length >= 3 ? true : undefined), 30_000);
      await new Promise((r) => setTimeout(r, 500));
      expect(received).toHaveLength(3);
      for (let acked = 0; received.length < 10; ) {
        const upTo = received.length;
        for (; acked < upTo; acked++) received[acked]!.ack();
        await eventually(() => (received.length > upTo ? true : undefined), 30_000);
      }
      expect(received.map((m) => text(m)[0])).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    } finally {
      await qos0.endAsync();
    }
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

  it('connects with TLS and a client certificate from files; without the certificate the broker refuses it', async () => {
    const certs = makeCerts();
    const tlsBroker = await startMosquitto({ tls: { ca: certs.ca, cert: certs.serverCert, key: certs.serverKey } });
    try {
      const ok = await open('tls', { topic: 'tls/t', tls: true, 'tls.ca': certs.ca, 'tls.cert': certs.clientCert, 'tls.key': certs.clientKey }, tlsBroker);
      expect(ok.states).toContain('subscribed to tls/t at QoS 1 (session new)');
      const tlsPub = await mqtt.connectAsync(tlsBroker.url, {
        protocolVersion: 5,
        ca: readFileSync(certs.ca),
        cert: readFileSync(certs.clientCert),
        key: readFileSync(certs.clientKey),
      });
      await publishAll(tlsPub, 'tls/t', ['over tls']);
      await tlsPub.endAsync();
      await eventually(() => (ok.received.length >= 1 ? true : undefined), 30_000);
      expect(ok.received.map(text)).toEqual(['over tls']);

      const refused = await open('no-cert', { topic: 'tls/t', tls: true, 'tls.ca': certs.ca }, tlsBroker);
      expect(refused.states[0]).toMatch(/^failing: 127\.0\.0\.1:\d+: /);
      expect(refused.received).toEqual([]);
    } finally {
      for (const r of readers.splice(0)) await r.close();
      await tlsBroker.stop();
      rmSync(certs.dir, { recursive: true, force: true });
    }
  });
});
