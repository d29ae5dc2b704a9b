/** A publisher, a connector and a reader of the stream, for the MQTT source tests. */
import mqtt, { type MqttClient } from 'mqtt';
import type { HStreamClient } from '../../src/client.js';
import type { HStreamRecord } from '../../src/records.js';
import { decodeStruct, type JsonObject } from '../../src/struct.js';
import { readStreamRecords } from '../helpers/streams.js';

/** A record as the stream holds it: JSON records decoded, RAW ones as bytes. */
export interface StoredRecord {
  flag: 'JSON' | 'RAW';
  key: string;
  attributes: Record<string, string>;
  json?: JsonObject;
  raw?: Buffer;
}

/** Every record of the stream, in stream order per shard. */
export async function readStream(client: HStreamClient, stream: string): Promise<StoredRecord[]> {
  return (await readStreamRecords(client, stream)).map(stored);
}

function stored(r: HStreamRecord): StoredRecord {
  const base = { flag: r.header.flag, key: r.header.key, attributes: r.header.attributes };
  return r.header.flag === 'JSON' ? { ...base, json: decodeStruct(r.payload) } : { ...base, raw: r.payload };
}

/** A QoS 1 publisher (MQTT 5): every publish resolves once the broker PUBACKed it. */
export async function publisher(url: string): Promise<MqttClient> {
  return mqtt.connectAsync(url, { protocolVersion: 5, clientId: `pub-${Math.random().toString(16).slice(2)}`, reconnectPeriod: 200 });
}

export async function publishAll(pub: MqttClient, topic: string, payloads: ReadonlyArray<string | Buffer>): Promise<void> {
  await Promise.all(payloads.map((p) => pub.publishAsync(topic, p, { qos: 1 })));
}

export function createConnector(client: HStreamClient, name: string, config: Record<string, unknown>): Promise<unknown> {
  return client.unary('CreateConnector', { name, type: 'SOURCE', target: 'mqtt', config: JSON.stringify(config) });
}

export interface ConnectorMsg {
  status: string;
  dockerStatus: string;
  config: string;
}

export const getConnector = (client: HStreamClient, name: string) => client.unary<ConnectorMsg>('GetConnector', { name });

export async function connectorLogs(client: HStreamClient, name: string): Promise<string> {
  return (await client.unary<{ logs: string }>('GetConnectorLogs', { name, begin: 1, count: 1000 })).logs;
}
