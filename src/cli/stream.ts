/**
 * `hstream stream …`: create, list, describe, delete, list-shard, append,
 * read-stream and read-shard, with upstream's flags, defaults and output.
 */
import { intOption, stringOption, UsageError, type CommandSpec, type GroupSpec } from './args.js';
import type { CliContext } from './context.js';
import { renderTable } from './format.js';
import { parseOffset, newReaderId } from './offsets.js';

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
  async run({ args, options, ctx, io }) {
    const where = 'hstream stream append';
    const compression = (stringOption(options, 'compression') ?? 'none').toLowerCase();
    if (compression !== 'none' && compression !== 'gzip' && compression !== 'zstd') {
      throw new UsageError(`invalid value for --compression: '${compression}' (expected none, gzip or zstd)`, where);
    }
    const separator = stringOption(options, 'separator');
    if (separator === '') throw new UsageError('--separator must not be empty', where);
    const opts = {
      key: stringOption(options, 'key') ?? '',
      raw: options['raw'] === true,
      separator,
      compression,
      retryLimit: intOption(options, 'retry-limit', 3, 0, 1000, where),
      retryIntervalMs: intOption(options, 'retry-interval', 5, 0, 3600, where) * 1000,
    } as const;
    const { appendLines } = await import('./stream-io.js');
    await appendLines(ctx.connection(), args[0]!, opts, io);
  },
};

// ---------------------------------------------------------------------------
// read-stream / read-shard

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
    const { printReads } = await import('./stream-io.js');
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
    const { printReads } = await import('./stream-io.js');
    await printReads(ctx.connection(), 'ReadShardStream', request, io);
  },
};

export const streamGroup: GroupSpec<CliContext> = {
  name: 'stream',
  summary: 'Manage Streams in HStreamDB',
  commands: [list, create, describe, remove, append, listShard, readShard, readStream],
};
