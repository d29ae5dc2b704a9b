/**
 * The record-moving halves of `stream append` and `stream read-*`: batching
 * stdin lines into Append calls, and printing read streams. Loaded only by
 * those commands, since record encoding pulls in the proto and compressors.
 */
import { createInterface } from 'node:readline';
import * as grpc from '@grpc/grpc-js';
import { hashPartitionKey } from '../core/shards.js';
import { Compression, compress, compressionName, encodeRecords, type CompressionName, type HStreamRecord } from '../records.js';
import { CliError, type CliIO } from './args.js';
import { describeFailure, type Connection } from './connection.js';
import { formatReceivedRecord, lineToRecord, type LineToRecordOptions, type ReceivedRecordMsg } from './records.js';

/** A batch is sent when it reaches either bound, when input pauses, or at the end of input. */
export const MAX_BATCH_RECORDS = 500;
const MAX_BATCH_BYTES = 512 * 1024;
const IDLE_FLUSH_MS = 20;

interface ShardRange {
  shardId: string;
  start: bigint;
  end: bigint;
}

function failureCode(err: unknown): number | undefined {
  const cause = err instanceof CliError ? err.cause : err;
  const code = (cause as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
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

  /** Queues a record; when that completes a batch, resolves once the batch has been sent. */
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
        const code = failureCode(err);
        if ((code === grpc.status.UNAVAILABLE || code === grpc.status.RESOURCE_EXHAUSTED) && attempt < this.retryLimit) {
          await new Promise((r) => setTimeout(r, this.retryIntervalMs));
          continue;
        }
        this.failure = err instanceof CliError ? err : new CliError(String(err));
        return;
      }
    }
  }
}

export interface AppendOptions extends LineToRecordOptions {
  compression: 'none' | 'gzip' | 'zstd';
  retryLimit: number;
  retryIntervalMs: number;
}

/**
 * Appends stdin to the stream, one record per line. Piped input is batched;
 * a terminal gets upstream's `> ` prompt and one append (and `Done.`) per line.
 */
export async function appendLines(conn: Connection, streamName: string, opts: AppendOptions, io: CliIO): Promise<void> {
  const { shards } = await conn.unary<{ shards: Array<{ shardId: string; startHashRangeKey: string; endHashRangeKey: string }> }>('ListShards', {
    streamName,
  });
  const ranges: ShardRange[] = shards.map((s) => ({ shardId: s.shardId, start: BigInt(s.startHashRangeKey), end: BigInt(s.endHashRangeKey) }));
  const shardForKey = (key: string) => {
    const hash = hashPartitionKey(key);
    return ranges.find((r) => r.start <= hash && hash <= r.end)?.shardId;
  };
  const compressionKey = (opts.compression.charAt(0).toUpperCase() + opts.compression.slice(1)) as CompressionName;
  const appender = new BatchAppender(conn, streamName, Compression[compressionKey], opts.retryLimit, opts.retryIntervalMs);

  const interactive = io.stdin.isTTY === true;
  const lines = createInterface({ input: io.stdin, crlfDelay: Infinity, terminal: false });
  const prompt = () => interactive && io.stdout.write('> ');
  let idle: NodeJS.Timeout | undefined;
  prompt();
  try {
    for await (const line of lines) {
      if (idle) clearTimeout(idle);
      const record = lineToRecord(line, opts);
      if (record) {
        const shardId = shardForKey(record.header.key);
        if (shardId === undefined) {
          throw new CliError(`Failed to calculate shardId with stream: ${streamName}, partition key: ${record.header.key}`);
        }
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
}

/** Prints a ReadStream/ReadShardStream call as upstream does, then `Read Done.`; Ctrl-C ends it quietly. */
export async function printReads(conn: Connection, rpc: 'ReadStream' | 'ReadShardStream', request: Record<string, unknown>, io: CliIO): Promise<void> {
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
    if (interrupted && failureCode(err) === grpc.status.CANCELLED) return;
    throw new CliError(describeFailure(err, conn.target.address), { cause: err });
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}
