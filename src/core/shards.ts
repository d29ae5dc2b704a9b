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
