import { describe, expect, it } from 'vitest';
import { hashPartitionKey, KEY_SPACE_MAX, rangeIndexForKey, splitKeySpace } from '../../src/core/shards.js';

describe('partition key space (upstream vectors)', () => {
  it('hashes the empty key to the upstream value', () => {
    expect(hashPartitionKey('').toString()).toBe('281949768489412648962353822266799178366');
  });

  it('one shard covers the whole key space', () => {
    expect(splitKeySpace(1)).toEqual([{ start: 0n, end: KEY_SPACE_MAX }]);
  });

  it('splits into 2 shards as upstream does', () => {
    expect(splitKeySpace(2).map((r) => [r.start.toString(), r.end.toString()])).toEqual([
      ['0', '170141183460469231731687303715884105726'],
      ['170141183460469231731687303715884105727', '340282366920938463463374607431768211455'],
    ]);
  });

  it('splits into 3 shards as upstream does', () => {
    expect(splitKeySpace(3).map((r) => [r.start.toString(), r.end.toString()])).toEqual([
      ['0', '113427455640312821154458202477256070484'],
      ['113427455640312821154458202477256070485', '226854911280625642308916404954512140969'],
      ['226854911280625642308916404954512140970', '340282366920938463463374607431768211455'],
    ]);
  });

  it.each([1, 2, 3, 5, 7, 16, 1024])('%i shards tile the key space without gaps or overlaps', (n) => {
    const ranges = splitKeySpace(n);
    expect(ranges[0]!.start).toBe(0n);
    expect(ranges[n - 1]!.end).toBe(KEY_SPACE_MAX);
    for (let i = 1; i < n; i++) expect(ranges[i]!.start).toBe(ranges[i - 1]!.end + 1n);
  });

  it('every key falls into exactly one range', () => {
    const ranges = splitKeySpace(5);
    for (const key of ['', 'a', 'device-1', 'κλειδί', '🙂']) {
      const hash = hashPartitionKey(key);
      const hits = ranges.filter((r) => r.start <= hash && hash <= r.end);
      expect(hits).toHaveLength(1);
      expect(ranges[rangeIndexForKey(ranges, key)]).toBe(hits[0]);
    }
  });
});
