import { describe, expect, it } from 'vitest';
import { NO_SLOT, StreamIdIndex } from '../../src/core/stream-id-index.js';

describe('StreamIdIndex', () => {
  it('finds streams by id and by any of their shards, added in any order', () => {
    const index = new StreamIdIndex();
    // slot = what the table would use; shard count = the stream's shards follow its id
    index.add(2_000, 7, 1);
    index.add(1_000, 8, 3);
    index.add(1_500, 9, 2);
    expect([index.byId(1_000), index.byId(1_500), index.byId(2_000)]).toEqual([8, 9, 7]);
    expect([1_001, 1_002, 1_003].map((id) => index.byShard(id))).toEqual([8, 8, 8]);
    expect([index.byShard(1_501), index.byShard(1_502), index.byShard(2_001)]).toEqual([9, 9, 7]);
    // ids that are no stream's or no shard's
    expect([index.byId(1_001), index.byId(999), index.byId(3_000)]).toEqual([NO_SLOT, NO_SLOT, NO_SLOT]);
    expect([index.byShard(1_004), index.byShard(1_000), index.byShard(500), index.byShard(2_002), index.byShard(1_503)]).toEqual([
      NO_SLOT,
      NO_SLOT,
      NO_SLOT,
      NO_SLOT,
      NO_SLOT,
    ]);
    expect([...index.slots()]).toEqual([8, 9, 7]);
  });

  it('finds the streams whose shard ids do not follow their own id', () => {
    const index = new StreamIdIndex();
    index.add(10, 0, [50, 12]);
    index.add(40, 1, 2);
    expect([index.byShard(50), index.byShard(12), index.byShard(41), index.byShard(11)]).toEqual([0, 0, 1, NO_SLOT]);
    index.remove(10, 0, [50, 12]);
    expect([index.byShard(50), index.byShard(12), index.byId(10), index.byShard(41)]).toEqual([NO_SLOT, NO_SLOT, NO_SLOT, 1]);
  });

  it('forgets removed streams, takes one back at its id, and compacts many removals away', () => {
    const index = new StreamIdIndex();
    const ids = Array.from({ length: 5_000 }, (_, i) => 10 * (i + 1));
    ids.forEach((id, slot) => index.add(id, slot, 1));
    ids.forEach((id, slot) => slot % 5 !== 0 && index.remove(id, slot, 1));
    const kept = ids.map((_, slot) => slot).filter((slot) => slot % 5 === 0);
    expect([...index.slots()]).toEqual(kept);
    ids.forEach((id, slot) => {
      const alive = slot % 5 === 0;
      expect(index.byId(id)).toBe(alive ? slot : NO_SLOT);
      expect(index.byShard(id + 1)).toBe(alive ? slot : NO_SLOT);
    });
    // removing under the wrong slot changes nothing
    index.remove(ids[0]!, 99, 1);
    expect(index.byId(ids[0]!)).toBe(0);
    // a stream archived under its own id (the catalogue removes it and adds its new record)
    index.remove(ids[15]!, 15, 1);
    index.add(ids[15]!, 6_000, 1);
    expect(index.byShard(ids[15]! + 1)).toBe(6_000);
    expect(() => index.add(ids[20]!, 7_000, 1)).toThrow(/indexed already/);
  });
});
