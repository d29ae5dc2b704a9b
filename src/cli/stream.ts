/**
 * `hstream stream …`: create, list, describe, delete, list-shard, append,
 * read-stream and read-shard, with upstream's flags, defaults and output.
 */
import { createInterface } from 'node:readline';
import * as grpc from '@grpc/grpc-js';
import { hashPartitionKey } from '../core/shards.js';
import { Compression, compress, compressionName, encodeRecords, type CompressionName, type HStreamRecord } from '../records.js';
import { CliError, intOption, stringOption, UsageError, type CommandSpec, type GroupSpec, type Invocation } from './args.js';
import { describeFailure, type Connection } from './connection.js';
import type { CliContext } from './context.js';
import { renderTable } from './format.js';
import { formatReceivedRecord, lineToRecord, newReaderId, parseOffset, type ReceivedRecordMsg } from './records.js';

interface StreamMsg {
  streamName: string;
  replicationFactor: number;
  backlogDuration: number;
  shardCount: number;
}

interface ShardMsg {
  streamName: string;
  shardId: string;
  startHashRangeKey: string;
  endHashRangeKey: string;
}

const STREAM_NAME = { metavar: 'STREAM_NAME', help: 'The name of the stream' };

export function renderStreams(streams: StreamMsg[]): string {
  return renderTable(
    ['Stream Name', 'Replica', 'Retention Time', 'Shard Count'],
    streams.map((s) => [s.streamName, String(s.replicationFactor), `${s.backlogDuration} seconds`, String(s.shardCount)]),
  );
}

export function renderShards(shards: ShardMsg[]): string {
  return renderTable(
    ['Stream Name', 'Shard ID', 'Start Key', 'End Key'],
    shards.map((s) => [s.streamName, s.shardId, s.startHashRangeKey, s.endHashRangeKey]),
  );
}

const UINT32_MAX = 4_294_967_295;

const create: CommandSpec<CliContext> = {
  name: 'create',
  summary: 'Create a stream',
  args: [STREAM_NAME],
  options: [
    { long: 'replication-factor', short: 'r', type: 'string', metavar: 'INT', help: 'The replication factor for the stream', defaultText: '1' },
    {
      long: 'backlog-duration',
      short: 'b',
      type: 'string',
      metavar: 'INT',
      help: 'The backlog duration of records in stream in seconds, default is 7 days',
      defaultText: '604800',
    },
    { long: 'shards', short: 's', type: 'string', metavar: 'INT', help: 'The number of shards the stream should have', defaultText: '1' },
  ],
  async run({ args, options, ctx, io }) {
    const where = 'hstream stream create';
    const request = {
      streamName: args[0]!,
      replicationFactor: intOption(options, 'replication-factor', 1, 0, UINT32_MAX, where),
      backlogDuration: intOption(options, 'backlog-duration', 604800, 0, UINT32_MAX, where),
      shardCount: intOption(options, 'shards', 1, 0, UINT32_MAX, where),
    };
    const stream = await ctx.connection().unary<StreamMsg>('CreateStream', request);
    io.stdout.write(renderStreams([stream]));
  },
};

const list: CommandSpec<CliContext> = {
  name: 'list',
  summary: 'Get all streams',
  args: [],
  options: [],
  async run({ ctx, io }) {
    const { streams } = await ctx.connection().unary<{ streams: StreamMsg[] }>('ListStreams', {});
    io.stdout.write(renderStreams(streams));
  },
};

const describe: CommandSpec<CliContext> = {
  name: 'describe',
  summary: 'Get the details of a stream',
  args: [STREAM_NAME],
  options: [],
  async run({ args, ctx, io }) {
    const { stream } = await ctx.connection().unary<{ stream: StreamMsg | null }>('GetStream', { name: args[0]! });
    io.stdout.write(renderStreams(stream ? [stream] : []));
  },
};

const remove: CommandSpec<CliContext> = {
  name: 'delete',
  summary: 'Delete a stream',
  args: [{ metavar: 'STREAM_NAME', help: 'The name of the stream to delete' }],
  options: [{ long: 'force', short: 'f', type: 'boolean', help: 'Whether to enable force deletion' }],
  async run({ args, options, ctx, io }) {
    await ctx.connection().unary('DeleteStream', { streamName: args[0]!, force: options['force'] === true, ignoreNonExist: false });
    io.stdout.write('Done.\n');
  },
};

const listShard: CommandSpec<CliContext> = {
  name: 'list-shard',
  summary: 'List shards of specific stream',
  args: [{ metavar: 'STREAM_NAME', help: 'The name of the stream to be queried' }],
  options: [],
  async run({ args, ctx, io }) {
    const { shards } = await ctx.connection().unary<{ shards: ShardMsg[] }>('ListShards', { streamName: args[0]! });
    io.stdout.write(renderShards(shards));
  },
};

// ---------------------------------------------------------------------------
// append

/** A batch is sent when it reaches either bound, when input pauses, or at the end of input. */
const MAX_BATCH_RECORDS = 500;
const MAX_BATCH_BYTES = 512 * 1024;
const IDLE_FLUSH_MS = 20;

interface ShardRange {
  shardId: string;
  start: bigint;
  end: bigint;
}

/** Sends batches one at a time, in input order, retrying UNAVAILABLE/RESOURCE_EXHAUSTED like upstream's `retry`. */
class BatchAppender {
  private readonly pending = new Map<string, { records: HStreamRecord[]; bytes: number }>();
  private chain: Promise<void> = Promise.resolve();
  failure: CliError | undefined;
  appended = 0;

  constructor(
    private readonly conn: Connection,
    private readonly streamName: string,
    private readonly compression: number,
    private readonly retryLimit: number,
    private readonly retryIntervalMs: number,
  ) {}

  /** Queues a record; resolves once a full batch it completed has been sent. */
  async add(shardId: string, record: HStreamRecord): Promise<void> {
    let batch = this.pending.get(shardId);
    if (!batch) this.pending.set(shardId, (batch = { records: [], bytes: 0 }));
    batch.records.push(record);
    batch.bytes += record.payload.length + record.header.key.length + 16;
    if (batch.records.length >= MAX_BATCH_RECORDS || batch.bytes >= MAX_BATCH_BYTES) {
      this.flushShard(shardId);
      await this.chain;
    }
  }

  /** Sends whatever is queued; resolves when everything sent so far is acknowledged. */
  async flush(): Promise<void> {
    for (const shardId of [...this.pending.keys()]) this.flushShard(shardId);
    await this.chain;
  }

  private flushShard(shardId: string): void {
    const batch = this.pending.get(shardId);
    this.pending.delete(shardId);
    if (!batch || batch.records.length === 0) return;
    this.chain = this.chain.then(() => this.send(shardId, batch.records));
  }

  private async send(shardId: string, records: HStreamRecord[]): Promise<void> {
    if (this.failure) return;
    const request = {
      streamName: this.streamName,
      shardId,
      records: {
        compressionType: compressionName(this.compression),
        batchSize: records.length,
        payload: compress(this.compression, encodeRecords(records)),
      },
    };
    for (let attempt = 0; ; attempt++) {
      try {
        await this.conn.unary('Append', request);
        this.appended += records.length;
        return;
      } catch (err) {
        const code = (err as CliError).cause && ((err as CliError).cause as { code?: number }).code;
        const retriable = code === grpc.status.UNAVAILABLE || code === grpc.status.RESOURCE_EXHAUSTED;
        if (retriable && attempt < this.retryLimit) {
          await new Promise((r) => setTimeout(r, this.retryIntervalMs));
          continue;
        }
        this.failure = err instanceof CliError ? err : new CliError(String(err));
        return;
      }
    }
  }
}

function shardForKey(ranges: ShardRange[], key: string): string | undefined {
  const hash = hashPartitionKey(key);
  return ranges.find((r) => r.start <= hash && hash <= r.end)?.shardId;
}

const append: CommandSpec<CliContext> = {
  name: 'append',
  summary: 'Append records read from standard input (one record per line) into a stream',
  args: [{ metavar: 'STREAM_NAME', help: 'The stream you want to write to' }],
  options: [
    { long: 'key', short: 'k', type: 'string', metavar: 'KEY', help: 'Partition key of the records', defaultText: '""' },
    { long: 'raw', type: 'boolean', help: 'Write every line as a RAW record, even when it is a JSON object' },
    { long: 'separator', type: 'string', metavar: 'String', help: 'Separator of key, e.g. key1@value (off unless given)' },
    { long: 'compression', type: 'string', metavar: 'none|gzip|zstd', help: 'Compression of each batch', defaultText: 'none' },
    { long: 'retry-interval', type: 'string', metavar: 'INT', help: 'Interval to retry request to server', defaultText: '5' },
    { long: 'retry-limit', type: 'string', metavar: 'INT', help: 'Maximum number of retries allowed', defaultText: '3' },
  ],
  async run({ args, options, ctx, io }: Invocation<CliContext>) {
    const where = 'hstream stream append';
    const streamName = args[0]!;
    const compressionText = (stringOption(options, 'compression') ?? 'none').toLowerCase();
    const compressionKey = (compressionText.charAt(0).toUpperCase() + compressionText.slice(1)) as CompressionName;
    if (!(compressionKey in Compression)) throw new UsageError(`invalid value for --compression: '${compressionText}' (expected none, gzip or zstd)`, where);
    const separator = stringOption(options, 'separator');
    if (separator === '') throw new UsageError('--separator must not be empty', where);
    const lineOptions = { key: stringOption(options, 'key') ?? '', raw: options['raw'] === true, separator };

    const conn = ctx.connection();
    const { shards } = await conn.unary<{ shards: ShardMsg[] }>('ListShards', { streamName });
    const ranges: ShardRange[] = shards.map((s) => ({ shardId: s.shardId, start: BigInt(s.startHashRangeKey), end: BigInt(s.endHashRangeKey) }));
    const appender = new BatchAppender(
      conn,
      streamName,
      Compression[compressionKey],
      intOption(options, 'retry-limit', 3, 0, 1000, where),
      intOption(options, 'retry-interval', 5, 0, 3600, where) * 1000,
    );

    const interactive = io.stdin.isTTY === true;
    const lines = createInterface({ input: io.stdin, crlfDelay: Infinity, terminal: false });
    const prompt = () => interactive && io.stdout.write('> ');
    let idle: NodeJS.Timeout | undefined;
    prompt();
    try {
      for await (const line of lines) {
        if (idle) clearTimeout(idle);
        const record = lineToRecord(line, lineOptions);
        if (record) {
          const shardId = shardForKey(ranges, record.header.key);
          if (shardId === undefined) throw new CliError(`Failed to calculate shardId with stream: ${streamName}, partition key: ${record.header.key}`);
          await appender.add(shardId, record);
          if (interactive) {
            await appender.flush();
            if (!appender.failure) io.stdout.write('Done.\n');
          } else {
            idle = setTimeout(() => void appender.flush(), IDLE_FLUSH_MS);
          }
        }
        if (appender.failure) break;
        prompt();
      }
      if (idle) clearTimeout(idle);
      await appender.flush();
    } finally {
      if (idle) clearTimeout(idle);
      lines.close();
    }
    if (appender.failure) {
      const before = appender.appended > 0 ? ` (${appender.appended} records were appended before the failure)` : '';
      throw new CliError(appender.failure.message + before);
    }
    if (!interactive) io.stdout.write(`Done. ${appender.appended} record${appender.appended === 1 ? '' : 's'} appended.\n`);
  },
};

// ---------------------------------------------------------------------------
// read-stream / read-shard

/** Prints a stream of ReadStreamResponse/ReadShardStreamResponse; Ctrl-C ends it quietly. */
async function printReads(conn: Connection, rpc: 'ReadStream' | 'ReadShardStream', request: Record<string, unknown>, io: Invocation<CliContext>['io']) {
  const call = await conn.serverStream<{ receivedRecords: ReceivedRecordMsg[] }>(rpc, request);
  let interrupted = false;
  const onSigint = () => {
    interrupted = true;
    call.cancel();
  };
  process.once('SIGINT', onSigint);
  try {
    for await (const response of call) {
      const lines = response.receivedRecords.flatMap(formatReceivedRecord);
      if (lines.length > 0) io.stdout.write(lines.join('\n') + '\n');
    }
    io.stdout.write('Read Done.\n');
  } catch (err) {
    if (interrupted && (err as { code?: number }).code === grpc.status.CANCELLED) return;
    throw new CliError(describeFailure(err, conn.target.address), { cause: err });
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

const OFFSET_HELP = 'e.g. earliest, latest, 1684486287810';

const readStream: CommandSpec<CliContext> = {
  name: 'read-stream',
  summary: 'Read records from specific stream',
  args: [{ metavar: 'STREAM_NAME', help: 'The stream you want to read' }],
  options: [
    { long: 'from', type: 'string', metavar: '[EARLIEST|LATEST|TIMESTAMP]', help: `Read from offset, ${OFFSET_HELP}`, defaultText: 'earliest' },
    { long: 'until', type: 'string', metavar: '[EARLIEST|LATEST|TIMESTAMP]', help: `Read until offset, ${OFFSET_HELP}; without it, follow the stream` },
    { long: 'total', type: 'string', metavar: 'INT', help: 'Max total number of batches read by reader (0: no limit)', defaultText: '0' },
  ],
  async run({ args, options, ctx, io }) {
    const where = 'hstream stream read-stream';
    const from = parseOffset(stringOption(options, 'from') ?? 'earliest', 'from', false, where);
    const untilText = stringOption(options, 'until');
    const request: Record<string, unknown> = {
      readerId: newReaderId(),
      streamName: args[0]!,
      from,
      maxReadBatches: String(intOption(options, 'total', 0, 0, Number.MAX_SAFE_INTEGER, where)),
    };
    if (untilText !== undefined) request['until'] = parseOffset(untilText, 'until', false, where);
    await printReads(ctx.connection(), 'ReadStream', request, io);
  },
};

const readShard: CommandSpec<CliContext> = {
  name: 'read-shard',
  summary: 'Read records from specific shard',
  args: [{ metavar: 'SHARD_ID', help: 'The shard you want to read' }],
  options: [
    {
      long: 'from',
      type: 'string',
      metavar: '[EARLIEST|LATEST|RECORDID|TIMESTAMP]',
      help: 'Read from offset, e.g. earliest, latest, 1789764666323849-4294967385-0, 1684486287810',
      defaultText: 'earliest',
    },
    {
      long: 'until',
      type: 'string',
      metavar: '[EARLIEST|LATEST|RECORDID|TIMESTAMP]',
      help: 'Read until offset, e.g. earliest, latest, 1789764666323849-4294967385-0, 1684486287810; without it, follow the shard',
    },
    { long: 'total', type: 'string', metavar: 'INT', help: 'Max total number of batches read by reader (0: no limit)', defaultText: '0' },
  ],
  async run({ args, options, ctx, io }) {
    const where = 'hstream stream read-shard';
    if (!/^\d+$/.test(args[0]!)) throw new UsageError(`invalid SHARD_ID '${args[0]!}' (expected a number)`, where);
    const untilText = stringOption(options, 'until');
    const request: Record<string, unknown> = {
      readerId: newReaderId(),
      shardId: args[0]!,
      from: parseOffset(stringOption(options, 'from') ?? 'earliest', 'from', true, where),
      maxReadBatches: String(intOption(options, 'total', 0, 0, Number.MAX_SAFE_INTEGER, where)),
    };
    if (untilText !== undefined) request['until'] = parseOffset(untilText, 'until', true, where);
    await printReads(ctx.connection(), 'ReadShardStream', request, io);
  },
};

export const streamGroup: GroupSpec<CliContext> = {
  name: 'stream',
  summary: 'Manage Streams in HStreamDB',
  commands: [list, create, describe, remove, append, listShard, readShard, readStream],
};
