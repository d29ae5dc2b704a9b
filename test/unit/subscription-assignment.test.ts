import { describe, expect, it } from 'vitest';
import { ShardAssignment } from '../../src/core/subscriptions/assignment.js';
import { DeadlineQueue } from '../../src/core/subscriptions/deadline-queue.js';

function owners(a: ShardAssignment, shards: number[]): Array<string | undefined> {
  return shards.map((s) => a.owner(s));
}

describe('ShardAssignment', () => {
  it('the first consumer owns every shard', () => {
    const a = new ShardAssignment([1, 2, 3]);
    const moves = a.join('c1');
    expect(moves).toEqual([
      { shardId: 1, from: undefined, to: 'c1' },
      { shardId: 2, from: undefined, to: 'c1' },
      { shardId: 3, from: undefined, to: 'c1' },
    ]);
    expect(owners(a, [1, 2, 3])).toEqual(['c1', 'c1', 'c1']);
  });

  it('1 shard + 2 consumers: the first keeps it, the second gets nothing', () => {
    const a = new ShardAssignment([7]);
    a.join('c1');
    expect(a.join('c2')).toEqual([]);
    expect(a.owner(7)).toBe('c1');
    expect(a.shardsOf('c2')).toEqual([]);
  });

  it('4 shards + 2 consumers: 2 each', () => {
    const a = new ShardAssignment([1, 2, 3, 4]);
    a.join('c1');
    const moves = a.join('c2');
    expect(moves.map((m) => [m.shardId, m.from, m.to])).toEqual([
      [4, 'c1', 'c2'],
      [3, 'c1', 'c2'],
    ]);
    expect(a.shardsOf('c1')).toEqual([1, 2]);
    expect(a.shardsOf('c2')).toEqual([3, 4]);
  });

  it('a joiner takes from the consumer with the most shards only while that one has more than one over it', () => {
    const a = new ShardAssignment([1, 2, 3, 4, 5]);
    a.join('c1');
    a.join('c2'); // 3 / 2
    expect([a.shardsOf('c1').length, a.shardsOf('c2').length]).toEqual([3, 2]);
    a.join('c3'); // takes one from c1: 2 / 2 / 1
    expect([a.shardsOf('c1').length, a.shardsOf('c2').length, a.shardsOf('c3').length]).toEqual([2, 2, 1]);
    expect(a.join('c4').length).toBe(1); // from c1: 1 / 2 / 1 / 1
    expect(a.join('c5').length).toBe(1); // from c2
    expect(a.join('c6')).toEqual([]); // nobody has more than one
  });

  it('a leaving consumer hands its shards to the least loaded, earliest joined first', () => {
    const a = new ShardAssignment([1, 2, 3, 4, 5, 6]);
    a.join('c1');
    a.join('c2');
    a.join('c3'); // 2 / 2 / 2
    const moves = a.leave('c2');
    expect(moves.map((m) => m.from)).toEqual(['c2', 'c2']);
    expect(moves.map((m) => m.to)).toEqual(['c1', 'c3']);
    expect(a.shardsOf('c1').length + a.shardsOf('c3').length).toBe(6);
    expect(a.has('c2')).toBe(false);
  });

  it('when the last consumer leaves every shard becomes unowned; a newcomer gets them all', () => {
    const a = new ShardAssignment([1, 2]);
    a.join('c1');
    expect(a.leave('c1')).toEqual([
      { shardId: 1, from: 'c1', to: undefined },
      { shardId: 2, from: 'c1', to: undefined },
    ]);
    expect(owners(a, [1, 2])).toEqual([undefined, undefined]);
    a.join('c2');
    expect(owners(a, [1, 2])).toEqual(['c2', 'c2']);
  });

  it('every shard has exactly one owner through random joins and leaves', () => {
    const shards = Array.from({ length: 13 }, (_, i) => i + 100);
    const a = new ShardAssignment(shards);
    const live: string[] = [];
    let seed = 42;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let step = 0; step < 500; step++) {
      if (live.length === 0 || (rand() < 0.55 && live.length < 20)) {
        const name = `c${step}`;
        a.join(name);
        live.push(name);
      } else {
        const [name] = live.splice(Math.floor(rand() * live.length), 1);
        a.leave(name!);
      }
      const counts = live.map((c) => a.shardsOf(c).length);
      expect(counts.reduce((x, y) => x + y, 0)).toBe(live.length > 0 ? shards.length : 0);
      for (const s of shards) expect(live.length === 0 ? a.owner(s) === undefined : live.includes(a.owner(s)!)).toBe(true);
    }
  });

  it('refuses a second join under the same name', () => {
    const a = new ShardAssignment([1]);
    a.join('c');
    expect(() => a.join('c')).toThrow(TypeError);
  });
});

describe('DeadlineQueue', () => {
  it('hands out entries in push order once due, urgent ones first', () => {
    const q = new DeadlineQueue<{ dueMs: number; id: string }>();
    q.push({ dueMs: 100, id: 'a' });
    q.push({ dueMs: 200, id: 'b' });
    q.pushUrgent({ dueMs: 999, id: 'u' });
    expect(q.pollDue(50)?.id).toBe('u');
    expect(q.pollDue(50)).toBeUndefined();
    expect(q.pollDue(100)?.id).toBe('a');
    expect(q.pollDue(150)).toBeUndefined();
    expect(q.pollDue(250)?.id).toBe('b');
    expect(q.size).toBe(0);
  });

  it('compact drops what the predicate rejects and keeps the order', () => {
    const q = new DeadlineQueue<{ dueMs: number; id: number }>();
    for (let i = 0; i < 3000; i++) q.push({ dueMs: i, id: i });
    for (let i = 0; i < 1500; i++) q.pollDue(10_000);
    q.compact((e) => e.id % 2 === 0);
    expect(q.size).toBe(750);
    expect(q.pollDue(10_000)?.id).toBe(1500);
    expect(q.pollDue(10_000)?.id).toBe(1502);
    expect([...q.entries()].length).toBe(748);
  });
});
