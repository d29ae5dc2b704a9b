/**
 * A stream's shards and a page-at-a-time record browser over them, for the
 * console: the same offset resolution and shard cursor as the gRPC readers
 * (core/readers.ts), with records decoded for display.
 */
import { LSN_BASE, type StoredBatch } from '../../storage/index.js';
import type { ServerContext } from '../context.js';
import { validateName } from '../core/names.js';
import { resolveStart, ShardCursor, UNBOUNDED, type Offset } from '../core/readers.js';
import { decodeRecords } from '../records.js';
import { parseRecordIdText } from '../server/convert.js';
import { decodeStruct, type JsonObject } from '../struct.js';
import { HttpError } from './errors.js';
import { wholeNumberParam } from './fields.js';
import type { HttpHandler } from './handler.js';
import type { Router } from './router.js';

const DEFAULT_PAGE_BATCHES = 20;
const MAX_PAGE_BATCHES = 200;
const MAX_PAGE_BYTES = 1024 * 1024;
/** A record's payload is shown up to this many bytes; the rest is cut (and said so). */
const MAX_SHOWN_BYTES = 16 * 1024;

interface RecordJson {
  record_id: string;
  key: string;
  time_ms: number;
  type: 'JSON' | 'RAW';
  /** JSON records: the decoded object */
  json?: JsonObject;
  /** RAW records: the bytes as UTF-8 text, and as hex */
  text?: string;
  hex?: string;
  size: number;
  truncated: boolean;
}

function recordsOf(batch: StoredBatch): RecordJson[] {
  return decodeRecords(batch.compression, batch.payload).map((r, index) => {
    const shown = r.payload.subarray(0, MAX_SHOWN_BYTES);
    const base = { record_id: `${batch.shardId}-${batch.lsn}-${index}`, key: r.header.key, time_ms: batch.timeMs, size: r.payload.length, truncated: shown.length < r.payload.length };
    if (r.header.flag === 'JSON' && shown.length === r.payload.length) {
      try {
        return { ...base, type: 'JSON' as const, json: decodeStruct(r.payload) };
      } catch {
        // not a valid Struct after all: shown as bytes below
      }
    }
    return { ...base, type: r.header.flag, text: shown.toString('utf8'), hex: shown.toString('hex') };
  });
}

function parseFrom(from: string, shardId: number): Offset {
  if (from === '' || from === 'earliest') return { kind: 'earliest' };
  if (from === 'latest') return { kind: 'latest' };
  if (/^\d{1,15}$/.test(from)) return { kind: 'record', shardId, lsn: Number(from) };
  if (/^time:\d{1,15}$/.test(from)) return { kind: 'time', timeMs: Number(from.slice(5)) };
  if (/^\d+-\d+-\d+$/.test(from)) {
    const id = parseRecordIdText(from);
    return { kind: 'record', shardId: id.shardId, lsn: id.lsn };
  }
  throw new HttpError(400, `from must be earliest, latest, a batch id, a record id (shard-batch-index) or time:<unix ms>, got ${JSON.stringify(from.slice(0, 100))}`);
}

export function addRecordRoutes(router: Router<HttpHandler>, ctx: ServerContext): void {
  const { streams, store } = ctx;
  const shardOf = (streamName: string, shardText: string | undefined) => {
    const stream = streams.get(validateName('stream', streamName));
    const shard = stream.shards.find((s) => String(s.shardId) === shardText);
    if (!shard) throw new HttpError(404, `stream ${stream.name} has no shard ${JSON.stringify((shardText ?? '').slice(0, 30))}`);
    return shard;
  };

  router
    .add('GET', '/v1/streams/:name/shards', (req) => {
      const stream = streams.get(validateName('stream', req.params.name));
      return {
        status: 200,
        body: stream.shards.map((s) => {
          // LSNs at or below LSN_BASE name no batch: the shard is empty
          const tail = store.hasLog(s.shardId) && store.tail(s.shardId) > LSN_BASE ? store.tail(s.shardId) : 0;
          return {
            shard_id: String(s.shardId),
            start_hash_range_key: s.startHashRangeKey,
            end_hash_range_key: s.endHashRangeKey,
            // the last batch appended; its records are tail-0 … tail-(n-1)
            tail_batch_id: tail > 0 ? String(tail) : null,
            head_batch_id: tail > 0 ? String(store.head(s.shardId)) : null,
          };
        }),
      };
    })
    .add('GET', '/v1/streams/:name/shards/:shard/records', async (req) => {
      const shard = shardOf(req.params.name!, req.params.shard);
      const limit = wholeNumberParam(req.query, 'limit', DEFAULT_PAGE_BATCHES, 1, MAX_PAGE_BATCHES);
      const offset = parseFrom(req.query.get('from') ?? 'earliest', shard.shardId);
      let { lsn } = await resolveStart(streams, shard.shardId, offset);
      // LATEST in a browser means "the newest page", not "what arrives from now on"
      if (offset.kind === 'latest') lsn = Math.max(1, lsn - limit);
      const cursor = new ShardCursor(streams, shard.shardId, lsn, UNBOUNDED);
      const batches = await cursor.read({ maxBatches: limit, maxBytes: MAX_PAGE_BYTES });
      return { status: 200, body: { records: batches.flatMap(recordsOf), next: String(cursor.next) } };
    });
}
