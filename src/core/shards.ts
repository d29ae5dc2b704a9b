/**
 * The partition key space, as upstream splits it: keys hash with MD5 read as
 * a 128-bit big-endian integer; N shards cover [0, 2^128-1] in equal,
 * inclusive ranges, the last one absorbing the remainder.
 */
import { createHash } from 'node:crypto';

export const KEY_SPACE_MAX = (1n << 128n) - 1n;

export interface HashRange {
  start: bigint;
  end: bigint;
}

export function hashPartitionKey(key: string): bigint {
  return BigInt('0x' + createHash('md5').update(key, 'utf8').digest('hex'));
}

export function splitKeySpace(shardCount: number): HashRange[] {
  const width = KEY_SPACE_MAX / BigInt(shardCount);
  const ranges: HashRange[] = [];
  for (let i = 0; i < shardCount; i++) {
    const start = BigInt(i) * width;
    const end = i === shardCount - 1 ? KEY_SPACE_MAX : start + width - 1n;
    ranges.push({ start, end });
  }
  return ranges;
}

/** Index of the range holding the key's hash. */
export function rangeIndexForKey(ranges: Array<{ start: bigint; end: bigint }>, key: string): number {
  const hash = hashPartitionKey(key);
  return ranges.findIndex((r) => r.start <= hash && hash <= r.end);
}

/**
 * Each shard count's range bounds as decimal text, computed once and shared: otherwise every
 * create paid for BigInt divisions and 39-digit toString()s, and every stream held its own copies
 * of the same few strings (~100 bytes per shard).
 */
const boundsByShardCount = new Map<number, ReadonlyArray<{ readonly start: string; readonly end: string }>>();
const MAX_CACHED_SHARD_COUNTS = 64;
export function shardBoundsText(shardCount: number): ReadonlyArray<{ readonly start: string; readonly end: string }> {
  const known = boundsByShardCount.get(shardCount);
  if (known) return known;
  const bounds = splitKeySpace(shardCount).map((r) => ({ start: internBoundText(r.start.toString()), end: internBoundText(r.end.toString()) }));
  if (boundsByShardCount.size < MAX_CACHED_SHARD_COUNTS) boundsByShardCount.set(shardCount, bounds);
  return bounds;
}

const boundTexts = new Map<string, string>();
const MAX_INTERNED_BOUND_TEXTS = 65_536;
/** One copy of each range bound's text (stored streams read from JSON bring their own). */
export function internBoundText(text: string): string {
  const known = boundTexts.get(text);
  if (known !== undefined) return known;
  if (boundTexts.size < MAX_INTERNED_BOUND_TEXTS) boundTexts.set(text, text);
  return text;
}
