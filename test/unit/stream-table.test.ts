import { describe, expect, it } from 'vitest';
import { shardBoundsText } from '../../src/core/shards.js';
import { StreamTable, type StreamInfo } from '../../src/core/stream-table.js';

/** A stream as the catalogue creates it (its shards' ids follow its own). */
function created(id: number, name: string, shardCount = 1, extra: Partial<StreamInfo> = {}): StreamInfo {
  return {
    id,
    name,
    replicationFactor: 3,
    backlogDuration: 3600,
    shardCount,
    creationTimeMs: 1_700_000_000_000 + id,
    archived: false,
    shards: shardBoundsText(shardCount).map((b, i) => ({
      shardId: id + 1 + i,
      streamId: id,
      streamName: name,
      startHashRangeKey: b.start,
      endHashRangeKey: b.end,
      epoch: shardCount,
    })),
    ...extra,
  };
}

/** What a listing shows, in order. */
function listed(table: StreamTable) {
  const live = table.live();
  return Array.from({ length: live.count }, (_, i) => live.at(i));
}

/** What JSON.parse would give back for it: nothing shared with the original. */
const reread = (s: StreamInfo): StreamInfo => JSON.parse(JSON.stringify(s)) as StreamInfo;

describe('StreamTable', () => {
  it('gives back a created stream field for field, as one object from every lookup', () => {
    const table = new StreamTable();
    const a = created(895_279_457_181_696, 'a', 3);
    table.add(reread(a));
    const found = table.byName('a')!;
    expect(found).toEqual(a);
    expect(table.byId(a.id)).toBe(found);
    for (const shard of a.shards) expect(table.byShard(shard.shardId)).toBe(found);
    expect(table.byShard(a.id + 4)).toBeUndefined();
    expect(table.shardIds(a.id)).toEqual([a.id + 1, a.id + 2, a.id + 3]);
  });

  it('keeps a stream it cannot describe in columns as the object it was given', () => {
    const table = new StreamTable();
    const regular = created(1_000, 'regular');
    const odd: StreamInfo[] = [
      { ...created(2_000, 'other-shard-ids', 2), shards: created(2_000, 'x', 2).shards.map((s, i) => ({ ...s, shardId: 9_000 + i })) },
      { ...created(3_000, 'bumped-epoch', 2), shards: created(3_000, 'x', 2).shards.map((s) => ({ ...s, epoch: 5 })) },
      { ...created(4_000, 'own-ranges', 1), shards: [{ ...created(4_000, 'x').shards[0]!, endHashRangeKey: '12345' }] },
      { ...created(5_000, 'no-archived-flag'), archived: undefined as unknown as boolean },
      { ...created(6_000, 'text-backlog'), backlogDuration: '3600' as unknown as number },
      { ...created(7_000, 'fewer-shards', 2), shardCount: 3 },
    ];
    for (const s of [regular, ...odd.map(reread)].reverse()) table.add(s);
    for (const stream of odd) {
      const found = table.byName(stream.name)!;
      expect(found).toEqual({ ...reread(stream), shards: stream.shards.map((s) => ({ ...s, streamName: stream.name })) });
      expect(table.byId(stream.id)).toBe(found);
      for (const shard of stream.shards) expect(table.byShard(shard.shardId)).toBe(found);
      expect(table.shardIds(stream.id)).toEqual(stream.shards.map((s) => s.shardId));
    }
    // the irregular stream's first shard id (2_001) is not one of its shards, nor regular's
    expect(table.byShard(2_001)).toBeUndefined();
    expect(table.byShard(9_001)!.name).toBe('other-shard-ids');
    expect(listed(table).map((s) => s.name)).toEqual(['regular', ...odd.map((s) => s.name)]);
  });

  it('lists streams in id order without making objects, and archived ones only when asked', () => {
    const table = new StreamTable();
    const streams = [created(30, 'c'), created(10, 'a', 2), created(20, 'b', 1, { archived: true })];
    for (const s of streams.map(reread)) table.add(s);
    const live = listed(table);
    expect(live.map((s) => s.name)).toEqual(['a', 'c']);
    const { shards: _shards, ...summaryOfA } = streams[1]!;
    expect(live[0]).toEqual(summaryOfA);
    expect(table.all().map((s) => [s.name, s.archived])).toEqual([['a', false], ['b', true], ['c', false]]);
    expect(table.archivedIds()).toEqual([20]);
    // an archived stream has no name but is found by id and shard
    expect(table.byName('b')).toBeUndefined();
    expect(table.byShard(21)!.archived).toBe(true);
    // once made, the object is what listings give
    const a = table.byName('a')!;
    expect(table.live().at(0)).toBe(a);
    expect(table.live().nameAt(1)).toBe('c');
  });

  it('lists in creation order when ids are not, and one stream per name', () => {
    const table = new StreamTable();
    table.add(created(10, 'late', 1, { creationTimeMs: 3_000 }));
    table.add(created(20, 'early', 1, { creationTimeMs: 1_000 }));
    table.add(created(30, 'middle', 1, { creationTimeMs: 2_000 }));
    // a second live record of one name (not ours to write; the name finds the later one)
    table.add(created(40, 'early', 1, { creationTimeMs: 4_000 }));
    expect(listed(table).map((s) => [s.id, s.name])).toEqual([[30, 'middle'], [10, 'late'], [40, 'early']]);
  });

  it('removes a stream only through its own object, and reuses the slot', () => {
    const table = new StreamTable();
    for (const s of [created(10, 'a'), created(20, 'b', 2)]) table.add(s);
    const a = table.byName('a')!;
    table.remove(reread(a));
    expect(table.byName('a')).toBe(a);
    table.remove(a);
    expect([table.byName('a'), table.byId(10), table.byShard(11)]).toEqual([undefined, undefined, undefined]);
    expect(table.shardIds(10)).toEqual([]);
    // the freed slot now holds an irregular stream: nothing of a's columns shows through
    const odd = { ...created(40, 'd', 1), shards: [{ ...created(40, 'd').shards[0]!, shardId: 77 }] };
    table.add(odd);
    expect(table.byShard(41)).toBeUndefined();
    expect(table.byShard(77)).toBe(odd);
    expect(listed(table).map((s) => s.name)).toEqual(['b', 'd']);
    expect(table.byShard(22)!.name).toBe('b');
    // and a regular stream in a slot whose object was made before: it gets its own
    const d = table.byName('d')!;
    table.remove(d);
    const e = created(50, 'e', 2);
    table.add(reread(e));
    expect(table.byName('e')).toEqual(e);
    expect(table.byShard(77)).toBeUndefined();
  });

  it('takes a name out of lookups while a delete runs, and back only for the same stream', () => {
    const table = new StreamTable();
    table.add(created(10, 'a'));
    const a = table.byName('a')!;
    table.unlist('a');
    expect([table.hasName('a'), table.byName('a'), table.live().count]).toEqual([false, undefined, 0]);
    table.relist(reread(a));
    expect(table.hasName('a')).toBe(false);
    table.relist(a);
    expect(table.byName('a')).toBe(a);
  });

  it('refuses a second stream with the same id', () => {
    const table = new StreamTable();
    table.add(created(10, 'a'));
    expect(() => table.add(created(10, 'b'))).toThrow(/indexed already/);
    expect(table.hasName('b')).toBe(false);
  });

  it('grows past its first columns', () => {
    const table = new StreamTable();
    const all = Array.from({ length: 3_000 }, (_, i) => created(1_000 + 10 * i, `s${i}`, 1 + (i % 3)));
    for (const s of all.map(reread)) table.add(s);
    expect(table.byName('s2999')).toEqual(all[2_999]);
    expect(table.byShard(all[1_234]!.id + 2)!.name).toBe('s1234');
    expect(table.live().count).toBe(3_000);
  });
});
