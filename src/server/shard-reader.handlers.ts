/**
 * Stateful readers (Create/Read/Delete/ListShardReaders) and the streaming
 * reads (ReadShardStream, ReadSingleShardStream, ReadStream,
 * ReadStreamByKey). Streaming reads send bounded chunks and wait for the
 * transport to drain, so a slow client holds the server back instead of
 * making it buffer.
 */
import type * as grpc from '@grpc/grpc-js';
import type { ServerContext } from '../context.js';
import { checkRange, resolveStart, resolveUntil, ShardCursor, UNBOUNDED, waitForAny, type Offset, type Until } from '../core/readers.js';
import type { StreamInfo } from '../core/streams.js';
import { ErrorCode, invalidArgument, notFound, shardNotFound } from '../errors.js';
import { decodeRecords } from '../records.js';
import { parseShardOffset, parseStreamOffset, toReceivedRecord } from './convert.js';
import type {
  CreateShardReaderRequest,
  HStreamRecordMessage,
  ReadShardStreamRequest,
  ReadSingleShardStreamRequest,
  ReadStreamByKeyRequest,
  ReadStreamRequest,
  RecordId,
  ShardOffset,
} from './messages.js';
import type { RouteTable } from './routes.js';
import { parseCount, parseId, validateName } from './validate.js';
import { messageReader, send } from './wrap.js';

/** Upstream reads at most 10 batches per response; we also cap the bytes so a response fits any client's 4 MiB limit. */
const CHUNK = { maxBatches: 10, maxBytes: 2 * 1024 * 1024 };
const IDLE_WAIT_MS = 60_000;
const KEY_READ_WAIT_MS = 2_000;

/**
 * An absent start reads from the beginning, as upstream's streaming reads do (its CLI sends none);
 * a start message whose offset is not set is still refused (208).
 */
function startOffset<T>(from: T | null | undefined, parse: (o: T, what: string) => Offset): Offset {
  return from === null || from === undefined ? { kind: 'earliest' } : parse(from, 'start offset');
}

type Writable<T> = grpc.ServerWritableStream<unknown, T>;

export function readerRoutes(ctx: ServerContext): RouteTable {
  const { streams, readers } = ctx;

  const liveShard = (shardIdText: string) => {
    const shardId = parseId(shardIdText);
    const found = streams.shard(shardId);
    if (!found || !streams.store.hasLog(shardId)) throw shardNotFound(shardIdText);
    return shardId;
  };

  /** Streams one shard from `start` to `until`, at most `maxBatches` (0 = no cap). */
  async function streamShard(
    call: Writable<{ receivedRecords: unknown[] }>,
    cursor: ShardCursor,
    maxBatches: number,
    signal: AbortSignal,
  ): Promise<void> {
    let sent = 0;
    while (!signal.aborted && !cursor.done) {
      const want = maxBatches > 0 ? Math.min(CHUNK.maxBatches, maxBatches - sent) : CHUNK.maxBatches;
      const batches = await cursor.read({ maxBatches: want, maxBytes: CHUNK.maxBytes });
      if (batches.length > 0) {
        await send(call, { receivedRecords: batches.map(toReceivedRecord) }, signal);
        sent += batches.length;
        if (maxBatches > 0 && sent >= maxBatches) return;
      } else if (!cursor.done) {
        await cursor.waitForData(IDLE_WAIT_MS, signal);
      }
    }
  }

  async function openCursor(shardId: number, from: Offset, until: Offset | undefined): Promise<ShardCursor> {
    const start = await resolveStart(streams, shardId, from);
    const end: Until = until ? resolveUntil(streams, shardId, until) : UNBOUNDED;
    checkRange(start, end);
    return new ShardCursor(streams, shardId, start.lsn, end);
  }

  /** ReadShardStream and ReadSingleShardStream once the shard is known. */
  async function readOneShard(
    shardId: number,
    req: { from: ShardOffset | null; until: ShardOffset | null; maxReadBatches: string },
    call: Writable<{ receivedRecords: unknown[] }>,
    signal: AbortSignal,
  ): Promise<void> {
    const from = startOffset(req.from, parseShardOffset);
    const until = req.until ? parseShardOffset(req.until, 'end offset') : undefined;
    const cursor = await openCursor(shardId, from, until);
    await streamShard(call, cursor, parseCount(req.maxReadBatches), signal);
  }

  function singleShard(stream: StreamInfo): number {
    if (stream.shards.length !== 1) {
      throw invalidArgument(ErrorCode.ShardReaderTooManyShards, 'TooManyShardCount', {
        extra: `stream ${stream.name} has ${stream.shards.length} shards`,
      });
    }
    return stream.shards[0]!.shardId;
  }

  return {
    CreateShardReader: async (req: CreateShardReaderRequest) => {
      const readerId = validateName('reader', req.readerId);
      const streamName = validateName('stream', req.streamName);
      const offset = parseShardOffset(req.shardOffset, 'shard offset');
      await readers.create({ readerId, streamName, shardId: parseId(req.shardId), offset, timeoutMs: req.timeout });
      return req;
    },

    ReadShard: async (req: { readerId: string; maxRecords: number }) => {
      // validated like every other reader id: an unknown id is echoed in the error, so its length must be bounded
      const batches = await readers.read(validateName('reader', req.readerId), req.maxRecords);
      return { receivedRecords: batches.map(toReceivedRecord) };
    },

    DeleteShardReader: async (req: { readerId: string }) => {
      await readers.delete(validateName('reader', req.readerId));
      return {};
    },

    ListShardReaders: () => ({ readerId: readers.list() }),

    ReadShardStream: (req: ReadShardStreamRequest, call: Writable<{ receivedRecords: unknown[] }>, signal: AbortSignal) =>
      readOneShard(liveShard(req.shardId), req, call, signal),

    ReadSingleShardStream: (req: ReadSingleShardStreamRequest, call: Writable<{ receivedRecords: unknown[] }>, signal: AbortSignal) =>
      readOneShard(singleShard(streams.get(validateName('stream', req.streamName))), req, call, signal),

    ReadStream: async (req: ReadStreamRequest, call: Writable<{ receivedRecords: unknown[] }>, signal: AbortSignal) => {
      const stream = streams.get(validateName('stream', req.streamName));
      const from = startOffset(req.from, parseStreamOffset);
      const until = req.until ? parseStreamOffset(req.until, 'end offset') : undefined;
      const cursors: ShardCursor[] = [];
      for (const shard of stream.shards) {
        const start = await resolveStart(streams, shard.shardId, from);
        const end = until ? resolveUntil(streams, shard.shardId, until) : UNBOUNDED;
        // a shard whose range is empty is skipped, not an error
        if (start.lsn <= end.lsn) cursors.push(new ShardCursor(streams, shard.shardId, start.lsn, end));
      }
      const cap = parseCount(req.maxReadBatches);
      let sent = 0;
      while (!signal.aborted) {
        const active = cursors.filter((c) => !c.done);
        if (active.length === 0) return;
        let progressed = false;
        for (const cursor of active) {
          const want = cap > 0 ? Math.min(CHUNK.maxBatches, cap - sent) : CHUNK.maxBatches;
          const batches = await cursor.read({ maxBatches: want, maxBytes: CHUNK.maxBytes });
          if (batches.length === 0) continue;
          progressed = true;
          await send(call, { receivedRecords: batches.map(toReceivedRecord) }, signal);
          sent += batches.length;
          if (cap > 0 && sent >= cap) return;
        }
        if (!progressed) {
          const waiting = cursors.filter((c) => !c.done);
          if (waiting.length > 0) await waitForAny(waiting, IDLE_WAIT_MS, signal);
        }
      }
    },

    ReadStreamByKey: async (
      call: grpc.ServerDuplexStream<ReadStreamByKeyRequest, { recordIds: RecordId[]; receivedRecords: HStreamRecordMessage[] }>,
      signal: AbortSignal,
    ) => {
      const next = messageReader(call, signal);
      const first = await next();
      if (!first) return;
      const stream = streams.find(validateName('stream', first.streamName));
      if (!stream) throw notFound(ErrorCode.StreamNotFound, 'StreamNotFound', { extra: first.streamName });
      const shardId = streams.shardForKey(stream, first.key).shardId;
      const from = first.from ? parseShardOffset(first.from, 'start offset') : ({ kind: 'earliest' } as const);
      // without an end, the read stops at the tail as it is now
      const until = first.until ? parseShardOffset(first.until, 'end offset') : ({ kind: 'latest' } as const);
      const cursor = await openCursor(shardId, from, until);
      let quota = parseCount(first.readRecordCount);
      const buffer: Array<{ id: RecordId; record: HStreamRecordMessage }> = [];
      while (!signal.aborted) {
        while (buffer.length < Math.max(quota, 1) && !cursor.done && !signal.aborted) {
          const batches = await cursor.read(CHUNK);
          if (batches.length === 0 && !cursor.done) await cursor.waitForData(KEY_READ_WAIT_MS, signal);
          for (const batch of batches) {
            // a RecordId only for the records kept, and only for those the batch claims
            decodeRecords(batch.compression, batch.payload).forEach((record, i) => {
              if (record.header.key === first.key && i < batch.batchSize) {
                buffer.push({ id: { shardId: batch.shardId, batchId: batch.lsn, batchIndex: i }, record });
              }
            });
          }
        }
        if (quota > 0 && buffer.length > 0) {
          const out = buffer.splice(0, quota);
          quota -= out.length;
          await send(call, { recordIds: out.map((o) => o.id), receivedRecords: out.map((o) => o.record) }, signal);
        }
        if (cursor.done && buffer.length === 0) return;
        if (quota === 0) {
          const more = await next();
          if (!more) return;
          quota += parseCount(more.readRecordCount);
        }
      }
    },
  };
}
