/** Offsets as given on the command line (upstream's offset parser), and reader ids. */
import { randomBytes } from 'node:crypto';
import { UsageError } from './args.js';

export type SpecialOffset = 'EARLIEST' | 'LATEST';
export type ShardOffsetMsg =
  | { specialOffset: SpecialOffset }
  | { timestampOffset: { timestampInMs: string; strictAccuracy: boolean } }
  | { recordOffset: { shardId: string; batchId: string; batchIndex: number } };
export type StreamOffsetMsg = Exclude<ShardOffsetMsg, { recordOffset: unknown }>;

/**
 * `earliest`, `latest`, a timestamp in milliseconds, or (for shards) a
 * RecordId `shard-batch-index`, as upstream's offset parser reads them.
 */
export function parseOffset(text: string, flag: string, allowRecordId: boolean, where: string): ShardOffsetMsg {
  const t = text.trim().toLowerCase();
  if (t === 'earliest') return { specialOffset: 'EARLIEST' };
  if (t === 'latest') return { specialOffset: 'LATEST' };
  if (/^\d+$/.test(t)) return { timestampOffset: { timestampInMs: t, strictAccuracy: true } };
  const rid = /^(\d+)-(\d+)-(\d+)$/.exec(t);
  if (rid && allowRecordId) return { recordOffset: { shardId: rid[1]!, batchId: rid[2]!, batchIndex: Number(rid[3]) } };
  const expected = allowRecordId ? 'earliest, latest, a RecordId like 1789764666323849-4294967385-0, or a timestamp in ms' : 'earliest, latest or a timestamp in ms';
  throw new UsageError(`invalid offset for --${flag}: '${text}' (expected ${expected})`, where);
}

export function newReaderId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return 'reader_' + Array.from(randomBytes(32), (b) => alphabet[b % alphabet.length]).join('');
}
