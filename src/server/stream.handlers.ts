/** Streams, shards, Append, tails and trims. Thin: validate, call the catalog or the producer, shape the reply. */
import { LSN_BASE } from '../../storage/index.js';
import type { ServerContext } from '../context.js';
import { batchedRecordSize } from '../core/producer.js';
import { resolveStart } from '../core/readers.js';
import { ErrorCode, invalidArgument, shardNotFound, unavailable } from '../errors.js';
import { compressionCode } from '../records.js';
import { parseRecordIdText, parseShardOffset, parseStreamOffset, toStreamMessage } from './convert.js';
import type {
  AppendRequest,
  DeleteStreamRequest,
  Stream,
  TrimShardRequest,
  TrimShardsRequest,
  TrimStreamRequest,
} from './messages.js';
import type { RouteTable } from './routes.js';
import { StreamListing } from './stream-listing.js';
import { parseId, validateName } from './validate.js';

export function streamRoutes(ctx: ServerContext): RouteTable {
  const { streams, producer } = ctx;
  const listing = new StreamListing(streams);

  const shardOf = (shardIdText: string) => {
    const shardId = parseId(shardIdText);
    const found = streams.shard(shardId);
    if (!found || found.stream.archived) throw shardNotFound(shardIdText);
    return { shardId, ...found };
  };

  return {
    CreateStream: async (req: Stream) => {
      const name = validateName('stream', req.streamName);
      const stream = await streams.create({
        name,
        replicationFactor: req.replicationFactor,
        backlogDuration: req.backlogDuration,
        shardCount: req.shardCount,
      });
      return toStreamMessage(stream);
    },

    DeleteStream: async (req: DeleteStreamRequest) => {
      const name = validateName('stream', req.streamName);
      await streams.delete(name, { ignoreNonExist: req.ignoreNonExist, force: req.force });
      return {};
    },

    GetStream: (req: { name: string }) => ({ stream: toStreamMessage(streams.get(validateName('stream', req.name))) }),

    ListStreams: () => listing.all(),

    ListStreamsWithPrefix: (req: { prefix: string }) => listing.withPrefix(validateName('stream', req.prefix)),

    ListShards: (req: { streamName: string }) => {
      const name = validateName('stream', req.streamName);
      const stream = streams.find(name);
      // Upstream reports the store's NOTFOUND here as plain text, and clients rely on it not being JSON.
      if (!stream) throw unavailable(`NOTFOUND: stream ${name} does not exist`, { plainText: true });
      return {
        shards: stream.shards.map((s) => ({
          streamName: stream.name,
          shardId: String(s.shardId),
          startHashRangeKey: s.startHashRangeKey,
          endHashRangeKey: s.endHashRangeKey,
          epoch: String(s.epoch),
          isActive: true,
        })),
      };
    },

    Append: async (req: AppendRequest) => {
      const rec = req.records;
      if (!rec) {
        throw invalidArgument(ErrorCode.StreamEmptyBatchedRecord, "BatchedRecord shouldn't be Nothing", { extra: null });
      }
      const compression = compressionCode(rec.compressionType);
      const { shardId, lsn, count } = await producer.appendBatch(
        parseId(req.shardId),
        { compression, batchSize: rec.batchSize, payload: rec.payload, wireSize: batchedRecordSize(rec, compression) },
        req.streamName,
      );
      return { streamName: req.streamName, shardId: req.shardId, recordIds: { shardId, batchId: lsn, count } };
    },

    GetTailRecordId: (req: { streamName: string; shardId: string }) => {
      const { shardId } = shardOf(req.shardId);
      return { tailRecordId: { shardId: req.shardId, batchId: String(streams.tail(shardId)), batchIndex: 0 } };
    },

    TrimStream: async (req: TrimStreamRequest) => {
      const name = validateName('stream', req.streamName);
      const offset = parseStreamOffset(req.trimPoint, 'trim point');
      const stream = streams.get(name);
      for (const shard of stream.shards) {
        await streams.trimShard(shard.shardId, await trimPoint(shard.shardId, offset));
      }
      return {};
    },

    TrimShard: async (req: TrimShardRequest) => {
      const { shardId } = shardOf(req.shardId);
      const offset = parseShardOffset(req.trimPoint, 'trim point');
      await streams.trimShard(shardId, await trimPoint(shardId, offset));
      return {};
    },

    TrimShards: async (req: TrimShardsRequest) => {
      const stream = streams.get(validateName('stream', req.streamName));
      const lowest = new Map<number, { lsn: number; index: number; text: string }>();
      for (const text of req.recordIds) {
        const rid = parseRecordIdText(text);
        if (rid.lsn === 0) continue;
        if (!stream.shards.some((s) => s.shardId === rid.shardId)) {
          throw invalidArgument(ErrorCode.StreamShardNotExists, 'ShardNotExists', { extra: text });
        }
        const seen = lowest.get(rid.shardId);
        // the answer names the smallest RecordId: batch first, then the record's index in it
        if (!seen || rid.lsn < seen.lsn || (rid.lsn === seen.lsn && rid.index < seen.index)) {
          lowest.set(rid.shardId, { lsn: rid.lsn, index: rid.index, text });
        }
      }
      const trimPoints: Record<string, string> = {};
      for (const [shardId, { lsn, text }] of lowest) {
        // the named record's batch stays: trim strictly before it
        await streams.trimShard(shardId, lsn - 1);
        trimPoints[String(shardId)] = text;
      }
      return { trimPoints };
    },
  };

  /** LSN up to which (inclusive) a trim removes batches. */
  async function trimPoint(shardId: number, offset: ReturnType<typeof parseShardOffset>): Promise<number> {
    switch (offset.kind) {
      case 'earliest':
        return LSN_BASE;
      case 'latest':
        return streams.store.tail(shardId);
      case 'record':
        if (offset.shardId !== shardId) {
          throw invalidArgument(ErrorCode.StreamInvalidOffset, 'InvalidTrimPoint', { extra: 'the record id belongs to another shard' });
        }
        return offset.lsn;
      case 'time':
        // batches stored before the time go; the first one at or after it stays
        return (await resolveStart(streams, shardId, offset)).lsn - 1;
    }
  }
}
