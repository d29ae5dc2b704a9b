import { describe, expect, it } from 'vitest';
import { StreamIdIndex } from '../../src/core/stream-id-index.js';

interface S {
  id: number;
  shards: Array<{ shardId: number }>;
}

/** A stream as the id allocator makes it: its shards' ids follow its own. */
const regular = (id: number, shardCount = 1): S => ({ id, shards: Array.from({ length: shardCount }, (_, i) => ({ shardId: id + 1 + i })) });

describe('StreamIdIndex', () => {
  it('finds streams by id and by any of their shards, added in any order', () => {
    const index = new StreamIdIndex<S>();
    const a = regular(1_000, 3);
    const b = regular(2_000);
    const c = regular(1_500, 2);
    index.addAll([b, a]);
    index.add(c);
    expect([index.byId(1_000), index.byId(1_500), index.byId(2_000)]).toEqual([a, c, b]);
    expect([1_001, 1_002, 1_003].map((id) => index.byShard(id))).toEqual([a, a, a]);
    expect([index.byShard(1_501), index.byShard(1_502), index.byShard(2_001)]).toEqual([c, c, b]);
    // ids that are no stream's or no shard's
    expect([index.byId(1_001), index.byId(999), index.byId(3_000)]).toEqual([undefined, undefined, undefined]);
    expect([index.byShard(1_004), index.byShard(1_000), index.byShard(500), index.byShard(2_002), index.byShard(1_503)]).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect([...index.values()]).toEqual([a, c, b]);
  });

  it('finds the streams whose shard ids do not follow their own id', () => {
    const index = new StreamIdIndex<S>();
    const odd = { id: 10, shards: [{ shardId: 50 }, { shardId: 12 }] };
    const between = regular(40, 2);
    index.addAll([odd, between]);
    expect([index.byShard(50), index.byShard(12), index.byShard(41), index.byShard(11)]).toEqual([odd, odd, between, undefined]);
    index.remove(odd);
    expect([index.byShard(50), index.byShard(12), index.byId(10)]).toEqual([undefined, undefined, undefined]);
  });

  it('forgets removed streams, takes one back at its id, and compacts many removals away', () => {
    const index = new StreamIdIndex<S>();
    const all = Array.from({ length: 5_000 }, (_, i) => regular(10 * (i + 1)));
    index.addAll(all);
    const kept = all.filter((_, i) => i % 5 === 0);
    for (const [i, s] of all.entries()) if (i % 5 !== 0) index.remove(s);
    expect([...index.values()]).toEqual(kept);
    for (const s of all) {
      const alive = kept.includes(s);
      expect(index.byId(s.id)).toBe(alive ? s : undefined);
      expect(index.byShard(s.id + 1)).toBe(alive ? s : undefined);
    }
    // a stream archived under its own id (the catalogue removes it and adds its new record)
    const archived = { ...kept[3]!, archived: true };
    index.remove(kept[3]!);
    index.add(archived);
    expect(index.byShard(kept[3]!.id + 1)).toBe(archived);
    expect(() => index.add(regular(kept[4]!.id))).toThrow(/indexed already/);
  });
});
