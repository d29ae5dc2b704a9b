/**
 * The `mqtt` source: subscribes to topic filters on an MQTT broker and
 * turns each message into one record (message-record.ts says how).
 *
 * It connects with MQTT 5 (or 3.1.1 when `protocolVersion` is 4), a
 * persistent session (clean start off; with MQTT 5 a session expiry) and
 * a client id derived from the connector name, so the
 * broker keeps queueing QoS 1 messages while the connector is paused,
 * restarting or the server is down. A QoS 1 message is PUBACKed only after
 * the runtime appended it: mqtt.js acks a message when its handleMessage
 * callback returns, and handles one message at a time until then, which
 * would allow one append per message. So handleMessage hands the message
 * on and ends with a "deferred" error (the library then sends no PUBACK and
 * goes on to the next message), and the PUBACK is sent when the runtime
 * acks (read from mqtt 5.16's handlers/publish.js; the driver and kill -9
 * tests fail if a later version acks otherwise). The Receive Maximum we announce bounds the QoS 1 messages the
 * broker sends us unacked, and a byte cap on what we hold unacked (QoS 0
 * included) stops reading the connection until appends catch up: together
 * they bound our memory.
 */
import { readFile } from 'node:fs/promises';
import type { IClientOptions, IPublishPacket, MqttClient } from 'mqtt';
import { lazyRequire } from '../lazy-require.js';
import { CheckFailure, type ConnectorConfig } from './driver.js';
import { messageRecord, recordKeyRule } from './message-record.js';
import type { SourceContext, SourceDriver, SourceReader } from './source-driver.js';
import { numberOption } from './spec.js';
import { topicFilterProblem } from './topic-filter.js';

const loadMqtt = lazyRequire<typeof import('mqtt')>('mqtt');
const DEFAULT_INFLIGHT = 1000;
const DEFAULT_INFLIGHT_BYTES = 64 * 1024 * 1024;
const DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;
const DEFAULT_SESSION_EXPIRY_SECONDS = 7 * 24 * 3600;
const RECONNECT_MS = 1000;
const CONNECT_TIMEOUT_MS = 10_000;
const CLOSE_TIMEOUT_MS = 2000;
const FORGET_TIMEOUT_MS = 5000;

/** What handleMessage ends with so that mqtt.js does not PUBACK: the runtime acks later. */
const DEFERRED = new Error('ack deferred until appended');

export const mqttSource: SourceDriver = {
  target: 'mqtt',
  spec: {
    title: 'source-mqtt',
    description: 'subscribes to MQTT topic filters (MQTT 5 or 3.1.1, QoS 0 or 1, persistent session) and appends each message to the stream as one record',
    properties: {
      host: { type: 'string', minLength: 1, description: 'broker host name or address' },
      port: { type: 'integer', minimum: 1, maximum: 65535, default: 1883, description: 'broker port' },
      topic: {
        description: 'one topic filter or a list of them; + and # wildcards allowed',
        oneOf: [
          { type: 'string', minLength: 1 },
          { type: 'array', minItems: 1, maxItems: 100, items: { type: 'string', minLength: 1 } },
        ],
      },
      protocolVersion: {
        type: 'integer',
        enum: [4, 5],
        default: 5,
        description: 'MQTT protocol: 5, or 4 for a broker that speaks only MQTT 3.1.1 (the broker then keeps the session as its own settings say, and bounds unacked messages with its own in-flight limit)',
      },
      qos: { type: 'integer', enum: [0, 1], default: 1, description: 'subscription QoS: 1 acks each message after it is appended (nothing lost), 0 is at most once' },
      clientId: { type: 'string', minLength: 1, maxLength: 65535, description: 'MQTT client id; defaults to "hstreamlite-<connector name>" so the session survives restarts' },
      username: { type: 'string', description: 'broker user name' },
      password: { type: 'string', description: 'broker password', 'ui:type': 'secret' },
      tls: { type: 'boolean', default: false, description: 'connect with TLS (mqtts)' },
      'tls.ca': { type: 'string', minLength: 1, description: 'file with the CA certificate(s) the broker certificate must chain to (default: the system CAs)' },
      'tls.cert': { type: 'string', minLength: 1, description: 'file with our client certificate, for brokers that require one' },
      'tls.key': { type: 'string', minLength: 1, description: 'file with the client certificate key' },
      key: {
        type: 'string',
        pattern: '^(topic|\\$(\\.[^.]+)+)$',
        description: 'record key: "topic" for the MQTT topic, "$.field" (or "$.a.b") for a field of a JSON object payload; unset: no key',
      },
      maxPayloadBytes: {
        type: 'integer',
        minimum: 1,
        maximum: 64 * 1024 * 1024,
        default: DEFAULT_MAX_PAYLOAD_BYTES,
        description: 'larger messages are counted, logged, acked and skipped (the server record size limit applies too)',
      },
      maxInflight: {
        type: 'integer',
        minimum: 1,
        maximum: 65535,
        default: DEFAULT_INFLIGHT,
        description: 'QoS 1 messages the broker may send before we ack (our Receive Maximum): bounds memory',
      },
      maxInflightBytes: {
        type: 'integer',
        minimum: 1024,
        maximum: 1024 * 1024 * 1024,
        default: DEFAULT_INFLIGHT_BYTES,
        description: 'payload bytes received and not yet appended, at most (plus one message): past it we stop reading the connection until appends catch up; bounds memory for QoS 0 too',
      },
      sessionExpirySeconds: {
        type: 'integer',
        minimum: 0,
        maximum: 4294967295,
        default: DEFAULT_SESSION_EXPIRY_SECONDS,
        description: 'how long the broker keeps our session (and queues messages) while we are disconnected',
      },
    },
    required: ['host', 'topic'],
    dependentRequired: { 'tls.key': ['tls.cert'], 'tls.cert': ['tls.key'] },
    'ui:order': ['host', 'port', 'protocolVersion', 'topic', 'qos', 'key', 'clientId', 'username', 'password', 'tls', 'tls.ca', 'tls.cert', 'tls.key', 'maxPayloadBytes', 'maxInflight', 'maxInflightBytes', 'sessionExpirySeconds'],
  },
  secretKeys: ['password'],
  async check(config) {
    for (const filter of topicsOf(config)) {
      const problem = topicFilterProblem(filter);
      if (problem) throw new CheckFailure('CONFIG', 'invalid config', `"topic" ${JSON.stringify(filter)}: ${problem}`);
    }
    await tlsOptions(config);
  },
  async open(config, ctx) {
    return MqttReader.open(config, ctx);
  },
  forget: forgetSession,
  // the broker session keeps every filter ever subscribed: a new set of filters needs a new session
  forgetOnChange: ['topic', 'clientId', 'host', 'port'],
};

function topicsOf(config: ConnectorConfig): string[] {
  const topic = config['topic'];
  return Array.isArray(topic) ? topic.map(String) : [String(topic)];
}

const str = (config: ConnectorConfig, key: string) => (typeof config[key] === 'string' ? config[key] : undefined);

/** The TLS files read; a file that cannot be read is a config error. */
async function tlsOptions(config: ConnectorConfig): Promise<Pick<IClientOptions, 'ca' | 'cert' | 'key'>> {
  const out: Pick<IClientOptions, 'ca' | 'cert' | 'key'> = {};
  for (const [key, option] of [['tls.ca', 'ca'], ['tls.cert', 'cert'], ['tls.key', 'key']] as const) {
    const path = str(config, key);
    if (!path) continue;
    try {
      out[option] = await readFile(path);
    } catch (err) {
      throw new CheckFailure('CONFIG', 'invalid config', `"${key}": cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  return out;
}

/** Where and as whom to connect: the options a reader and forget() share. */
async function connectOptions(config: ConnectorConfig, connectorName: string): Promise<IClientOptions> {
  const tls = await tlsOptions(config);
  const options: IClientOptions = {
    host: String(config['host']),
    port: numberOption(config, 'port', 1883),
    protocol: config['tls'] === true || Object.keys(tls).length > 0 ? 'mqtts' : 'mqtt',
    protocolVersion: mqttVersion(config),
    clientId: str(config, 'clientId') ?? defaultClientId(connectorName),
    connectTimeout: CONNECT_TIMEOUT_MS,
    ...tls,
  };
  const username = str(config, 'username');
  const password = str(config, 'password');
  if (username !== undefined) options.username = username;
  if (password !== undefined) options.password = password;
  return options;
}

/** Ends the session of a deleted connector: a clean start with no expiry replaces it, and the broker drops its queue. */
async function forgetSession(config: ConnectorConfig, connectorName: string): Promise<void> {
  const options: IClientOptions = {
    ...(await connectOptions(config, connectorName)),
    clean: true,
    ...(mqttVersion(config) === 5 ? { properties: { sessionExpiryInterval: 0 } } : {}),
    reconnectPeriod: 0,
    connectTimeout: FORGET_TIMEOUT_MS,
  };
  const client = loadMqtt().connect(options);
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error(`${options.host}:${options.port} did not answer within ${FORGET_TIMEOUT_MS / 1000} s`)), FORGET_TIMEOUT_MS);
      client.once('connect', () => resolve());
      client.once('error', reject);
    });
  } finally {
    clearTimeout(timer);
    await client.endAsync(!client.connected);
  }
}

function mqttVersion(config: ConnectorConfig): 4 | 5 {
  return config['protocolVersion'] === 4 ? 4 : 5;
}

/** The client id a connector uses when its config names none: stable across restarts, so is its session. */
export function defaultClientId(connectorName: string): string {
  return `hstreamlite-${connectorName}`;
}

class MqttReader implements SourceReader {
  /** bumped on every (re)connect: an ack for a message of an earlier connection is dropped (the broker sends it again) */
  #connection = 0;
  /** payload bytes handed on and not acked, on this connection */
  #unackedBytes = 0;
  /** mqtt.js's "next message" callback, held while we are over the byte cap */
  #held: (() => void) | undefined;

  private constructor(private readonly client: MqttClient) {}

  static async open(config: ConnectorConfig, ctx: SourceContext): Promise<MqttReader> {
    const qos = config['qos'] === 0 ? 0 : 1;
    const filters = topicsOf(config);
    const keyRule = recordKeyRule(str(config, 'key'));
    const maxPayloadBytes = numberOption(config, 'maxPayloadBytes', DEFAULT_MAX_PAYLOAD_BYTES);
    const maxUnackedBytes = numberOption(config, 'maxInflightBytes', DEFAULT_INFLIGHT_BYTES);
    const options: IClientOptions = {
      ...(await connectOptions(config, ctx.name)),
      clean: false,
      // MQTT 3.1.1 has no properties: the broker's own session expiry and in-flight limit apply, our byte cap still bounds memory
      ...(mqttVersion(config) === 5
        ? {
            properties: {
              sessionExpiryInterval: numberOption(config, 'sessionExpirySeconds', DEFAULT_SESSION_EXPIRY_SECONDS),
              receiveMaximum: numberOption(config, 'maxInflight', DEFAULT_INFLIGHT),
            },
          }
        : {}),
      reconnectPeriod: RECONNECT_MS,
      // we subscribe on every connect ourselves, to see the broker's answer
      resubscribe: false,
      manualConnect: true,
    };
    const client = loadMqtt().connect(options);
    const reader = new MqttReader(client);

    client.handleMessage = (packet: IPublishPacket, done: (err?: Error) => void) => {
      const connection = reader.#connection;
      const messageId = packet.qos === 0 ? undefined : packet.messageId;
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : Buffer.from(packet.payload.buffer, packet.payload.byteOffset, packet.payload.byteLength);
      const size = payload.length > maxPayloadBytes ? 0 : payload.length;
      let acked = false;
      const ack = () => {
        // an ack of an earlier connection is dropped: the broker sends that message again
        if (acked || connection !== reader.#connection) return;
        acked = true;
        reader.#unackedBytes -= size;
        if (messageId !== undefined && client.connected) reader.#puback(messageId);
        reader.#release(maxUnackedBytes);
      };
      if (size === 0 && payload.length > 0) {
        ctx.skipped(`${payload.length} bytes on topic ${packet.topic} is over maxPayloadBytes (${maxPayloadBytes})`);
        ack();
      } else {
        reader.#unackedBytes += size;
        ctx.emit({ record: messageRecord(packet.topic, payload, keyRule), ack });
      }
      // Ending with an error makes mqtt.js skip its own PUBACK; ours follows the append.
      const next = () => done(messageId === undefined ? undefined : DEFERRED);
      // Past the byte cap we stop reading the connection (QoS 0 included) until acks bring it down.
      if (reader.#unackedBytes > maxUnackedBytes) reader.#held = next;
      else next();
    };
    let up = false;
    client.on('close', () => {
      reader.#release(Infinity);
      // a lost connection says so once; the failed reconnects that follow report their own errors
      if (up) ctx.failing(`${options.host}:${options.port}: connection lost`);
      up = false;
    });
    client.on('connect', (connack) => {
      up = true;
      reader.#connection++;
      reader.#unackedBytes = 0;
      client.subscribe(filters, { qos }, (err, granted) => {
        if (err) return ctx.failing(`subscribing failed: ${err.message}`);
        const refused = (granted ?? []).filter((g) => g.qos !== 0 && g.qos !== 1 && g.qos !== 2);
        if (refused.length > 0) return ctx.failing(`the broker refused the subscription to ${refused.map((g) => `${g.topic} (reason ${g.qos})`).join(', ')}`);
        ctx.connected(`subscribed to ${filters.join(', ')} at QoS ${qos} (session ${connack.sessionPresent ? 'resumed' : 'new'})`);
      });
    });
    client.on('error', (err) => ctx.failing(`${options.host}:${options.port}: ${err.message}`));
    client.connect();
    return reader;
  }

  /** Lets mqtt.js go on reading once unacked bytes are within `max`. */
  #release(max: number): void {
    const held = this.#held;
    if (held && this.#unackedBytes <= max) {
      this.#held = undefined;
      held();
    }
  }

  #puback(messageId: number): void {
    // mqtt.js has no public call for a PUBACK outside handleMessage; this is the one it makes itself.
    (this.client as unknown as { _sendPacket(packet: { cmd: 'puback'; messageId: number; reasonCode: number }, cb: () => void): void })._sendPacket(
      { cmd: 'puback', messageId, reasonCode: 0 },
      () => undefined,
    );
  }

  async close(): Promise<void> {
    // A clean DISCONNECT after our last PUBACKs went out; forced when the broker does not answer.
    const ended = new Promise<void>((resolve) => this.client.end(false, {}, () => resolve()));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), CLOSE_TIMEOUT_MS)));
    if ((await Promise.race([ended, late])) === 'late') await new Promise<void>((resolve) => this.client.end(true, {}, () => resolve()));
    clearTimeout(timer);
  }
}
