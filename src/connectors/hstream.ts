/**
 * The `hstream` sink (ours): mirrors a stream into another HStreamApi
 * endpoint — a real HStreamDB cluster or another hstreamlite — with the
 * same keys, payloads and compression. It is how a user moves to a cluster:
 * mirror, let it catch up, switch the clients' URL.
 *
 * A source batch whose shard's key range falls inside one target shard is
 * forwarded as stored (compressed or not); otherwise its records are routed
 * one by one by their partition key's hash, as clients route them. Appends
 * to one target shard go one at a time, in order, so per-key order holds;
 * different target shards are written in parallel.
 */
import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { HStreamClient } from '../client.js';
import { hashPartitionKey } from '../core/shards.js';
import { Compression, encodeRecords, type HStreamRecord } from '../records.js';
import { CheckFailure, type ConnectorConfig, type SinkBatch, type SinkContext, type SinkDriver, type SinkWriter } from './driver.js';

/** Uncompressed batches for one target shard are merged into appends of about this size. */
const MERGE_BYTES = 1 << 20;
const CALL_DEADLINE_MS = 30_000;

interface TargetShard {
  shardId: string;
  start: bigint;
  end: bigint;
}

interface Target {
  url: URL;
  stream: string;
}

function target(config: ConnectorConfig): Target {
  const url = new URL(String(config['serviceUrl']));
  const stream = typeof config['targetStream'] === 'string' && config['targetStream'] !== '' ? config['targetStream'] : String(config['stream']);
  return { url, stream };
}

function connect(config: ConnectorConfig): HStreamClient {
  const { url } = target(config);
  const host = url.hostname.includes(':') ? `[${url.hostname}]` : url.hostname;
  const address = `${host}:${url.port || '6570'}`;
  if (url.protocol === 'hstream:') return new HStreamClient(address);
  const read = (key: string) => (typeof config[key] === 'string' && config[key] !== '' ? readFileSync(config[key] as string) : null);
  return new HStreamClient(address, grpc.credentials.createSsl(read('tlsCaPath'), read('tlsKeyPath'), read('tlsCertPath')));
}

/** Reads the target's shards; creates the stream, shaped as the source, when it is missing. */
async function targetShards(client: HStreamClient, config: ConnectorConfig, ctx: SinkContext, create: boolean): Promise<TargetShard[]> {
  const { stream } = target(config);
  const list = async () =>
    (await client.unary<{ shards: Array<{ shardId: string; startHashRangeKey: string; endHashRangeKey: string }> }>('ListShards', { streamName: stream }, { deadlineMs: CALL_DEADLINE_MS })).shards;
  // ListShards of a missing stream is a plain-text error whose status differs between servers: ask ListStreams.
  const { streams } = await client.unary<{ streams: Array<{ streamName: string }> }>('ListStreams', {}, { deadlineMs: CALL_DEADLINE_MS });
  if (!streams.some((s) => s.streamName === stream)) {
    if (!create) return [];
    const source = ctx.source;
    await client
      .unary(
        'CreateStream',
        { streamName: stream, replicationFactor: source?.replicationFactor ?? 1, backlogDuration: source?.backlogDuration ?? 0, shardCount: source?.shards.length ?? 1 },
        { deadlineMs: CALL_DEADLINE_MS },
      )
      .catch((e: grpc.ServiceError) => {
        // Another writer may have created it meanwhile.
        if (e.code !== grpc.status.ALREADY_EXISTS) throw e;
      });
    ctx.log.info({ stream }, 'target stream created');
  }
  const shards = await list();
  return shards.map((s) => ({ shardId: String(s.shardId), start: BigInt(s.startHashRangeKey), end: BigInt(s.endHashRangeKey) }));
}

interface Append {
  compression: number;
  batchSize: number;
  payloads: Buffer[];
  bytes: number;
}

class MirrorWriter implements SinkWriter {
  readonly #sourceRange = new Map<number, { start: bigint; end: bigint }>();

  constructor(
    private readonly client: HStreamClient,
    private readonly stream: string,
    private readonly shards: TargetShard[],
    ctx: SinkContext,
  ) {
    for (const s of ctx.source?.shards ?? []) this.#sourceRange.set(s.shardId, { start: BigInt(s.startHashRangeKey), end: BigInt(s.endHashRangeKey) });
  }

  async write(batches: readonly SinkBatch[]): Promise<void> {
    const plan = new Map<string, Append[]>();
    const add = (shardId: string, compression: number, batchSize: number, payload: Buffer) => {
      let appends = plan.get(shardId);
      if (!appends) plan.set(shardId, (appends = []));
      const last = appends.at(-1);
      // Encoded BatchHStreamRecords are a repeated field: uncompressed ones concatenate into one valid batch.
      if (last && compression === Compression.None && last.compression === Compression.None && last.bytes + payload.length <= MERGE_BYTES) {
        last.payloads.push(payload);
        last.batchSize += batchSize;
        last.bytes += payload.length;
      } else {
        appends.push({ compression, batchSize, payloads: [payload], bytes: payload.length });
      }
    };
    for (const batch of batches) {
      const whole = batch.raw ? this.#shardHolding(batch.shardId) : undefined;
      if (whole && batch.raw) {
        add(whole, batch.raw.compression, batch.raw.batchSize, batch.raw.payload);
        continue;
      }
      const groups = new Map<string, HStreamRecord[]>();
      for (const { record } of batch.records) {
        const shardId = this.#shardOfKey(record.header.key);
        let group = groups.get(shardId);
        if (!group) groups.set(shardId, (group = []));
        group.push(record);
      }
      for (const [shardId, records] of groups) add(shardId, Compression.None, records.length, encodeRecords(records));
    }
    await Promise.all(
      [...plan].map(async ([shardId, appends]) => {
        for (const a of appends) {
          await this.client.unary(
            'Append',
            {
              streamName: this.stream,
              shardId,
              records: { compressionType: a.compression, batchSize: a.batchSize, payload: a.payloads.length === 1 ? a.payloads[0] : Buffer.concat(a.payloads) },
            },
            { deadlineMs: CALL_DEADLINE_MS },
          );
        }
      }),
    );
  }

  /** The target shard whose range holds all of a source shard's keys, if one does. */
  #shardHolding(sourceShardId: number): string | undefined {
    const range = this.#sourceRange.get(sourceShardId);
    if (!range) return undefined;
    return this.shards.find((t) => t.start <= range.start && range.end <= t.end)?.shardId;
  }

  #shardOfKey(key: string): string {
    const hash = hashPartitionKey(key);
    return (this.shards.find((t) => t.start <= hash && hash <= t.end) ?? this.shards[0]!).shardId;
  }

  async close(): Promise<void> {
    this.client.close();
  }
}

export const hstreamSink: SinkDriver = {
  target: 'hstream',
  spec: {
    title: 'sink-hstream',
    description: 'mirrors a stream into another HStreamDB (or hstreamlite) endpoint: same keys, payloads and compression',
    properties: {
      serviceUrl: {
        type: 'string',
        pattern: '^hstreams?://[^/]+$',
        description: 'the target, as clients write it: hstream://host:port, or hstreams://host:port for TLS',
      },
      targetStream: { type: 'string', description: 'stream on the target (default: the same name); created shaped as the source when missing' },
      tlsCaPath: { type: 'string', description: 'CA bundle that signed the target server certificate (hstreams://)' },
      tlsCertPath: { type: 'string', description: 'client certificate, when the target requires one' },
      tlsKeyPath: { type: 'string', description: 'key of the client certificate' },
    },
    required: ['serviceUrl'],
    'ui:order': ['serviceUrl', 'targetStream', 'tlsCaPath', 'tlsCertPath', 'tlsKeyPath'],
  },
  secretKeys: [],

  async check(config, ctx) {
    let client: HStreamClient;
    try {
      client = connect(config);
    } catch (err) {
      throw new CheckFailure('CONFIG', 'invalid config', `cannot use the TLS files: ${(err as Error).message}`);
    }
    try {
      await client.unary('Echo', { msg: 'hstreamlite connector check' }, { deadlineMs: 10_000 });
      await targetShards(client, config, ctx, false);
    } catch (err) {
      const e = err as grpc.ServiceError;
      throw new CheckFailure('CONNECTION', 'get connector failed', `cannot reach ${String(config['serviceUrl'])}: ${e.details || e.message}`);
    } finally {
      client.close();
    }
  },

  async open(config, ctx) {
    const client = connect(config);
    try {
      const shards = await targetShards(client, config, ctx, true);
      return new MirrorWriter(client, target(config).stream, shards, ctx);
    } catch (err) {
      client.close();
      throw err;
    }
  },
};
