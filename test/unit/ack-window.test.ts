import { describe, it, expect } from 'vitest';
import { ShardAckWindow } from '../../src/core/subscriptions/ack-window.js';
import { rng } from '../helpers/rng.js';


function shuffle<T>(xs: T[], rand: () => number): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [xs[i], xs[j]] = [xs[j]!, xs[i]!];
  }
  return xs;
}

function ackAll(w: ShardAckWindow, lsn: number, size: number): void {
  for (let i = 0; i < size; i++) w.ack(lsn, i);
}

type Step =
  | { op: 'track'; lsn: number; size: number; ok: boolean }
  | { op: 'ack'; lsn: number; index: number; ok: boolean }
  | { op: 'commit'; to: number | undefined };

interface Scenario {
  name: string;
  committed: number;
  steps: Step[];
  committedAfter: number;
  pendingBatches: number;
  unackedRecords: number;
}

const scenarios: Scenario[] = [
  {
    name: 'in-order acks of two batches commit both',
    committed: 0,
    steps: [
      { op: 'track', lsn: 1, size: 2, ok: true },
      { op: 'track', lsn: 2, size: 2, ok: true },
      { op: 'ack', lsn: 1, index: 0, ok: true },
      { op: 'ack', lsn: 1, index: 1, ok: true },
      { op: 'ack', lsn: 2, index: 0, ok: true },
      { op: 'ack', lsn: 2, index: 1, ok: true },
      { op: 'commit', to: 2 },
    ],
    committedAfter: 2,
    pendingBatches: 0,
    unackedRecords: 0,
  },
  {
    name: 'completing batch 2 before batch 1 does not move the commit point',
    committed: 0,
    steps: [
      { op: 'track', lsn: 1, size: 2, ok: true },
      { op: 'track', lsn: 2, size: 1, ok: true },
      { op: 'ack', lsn: 2, index: 0, ok: true },
      { op: 'ack', lsn: 1, index: 1, ok: true },
      { op: 'commit', to: undefined },
    ],
    committedAfter: 0,
    pendingBatches: 1,
    unackedRecords: 1,
  },
  {
    name: 'commit jumps over several completed batches once the gap fills',
    committed: 10,
    steps: [
      { op: 'track', lsn: 11, size: 2, ok: true },
      { op: 'track', lsn: 12, size: 1, ok: true },
      { op: 'track', lsn: 13, size: 1, ok: true },
      { op: 'track', lsn: 14, size: 3, ok: true },
      { op: 'ack', lsn: 12, index: 0, ok: true },
      { op: 'ack', lsn: 13, index: 0, ok: true },
      { op: 'ack', lsn: 11, index: 1, ok: true },
      { op: 'commit', to: undefined },
      { op: 'ack', lsn: 11, index: 0, ok: true },
      { op: 'commit', to: 13 },
      { op: 'commit', to: undefined },
    ],
    committedAfter: 13,
    pendingBatches: 1,
    unackedRecords: 3,
  },
  {
    name: 'non-dense LSNs above 2^32 commit at the last completed LSN',
    committed: 4294967296,
    steps: [
      { op: 'track', lsn: 4294967297, size: 2, ok: true },
      { op: 'track', lsn: 4294967300, size: 1, ok: true },
      { op: 'track', lsn: 4294967310, size: 1, ok: true },
      { op: 'ack', lsn: 4294967300, index: 0, ok: true },
      { op: 'ack', lsn: 4294967297, index: 1, ok: true },
      { op: 'ack', lsn: 4294967297, index: 0, ok: true },
      { op: 'ack', lsn: 4294967298, index: 0, ok: false },
      { op: 'commit', to: 4294967300 },
    ],
    committedAfter: 4294967300,
    pendingBatches: 1,
    unackedRecords: 1,
  },
  {
    name: 'duplicate acks are ignored and not double counted',
    committed: 0,
    steps: [
      { op: 'track', lsn: 1, size: 3, ok: true },
      { op: 'ack', lsn: 1, index: 0, ok: true },
      { op: 'ack', lsn: 1, index: 0, ok: false }, // dup in in-order prefix
      { op: 'ack', lsn: 1, index: 2, ok: true },
      { op: 'ack', lsn: 1, index: 2, ok: false }, // dup in bitset mode
      { op: 'ack', lsn: 1, index: 0, ok: false }, // prefix survives switch to bitset
      { op: 'commit', to: undefined },
    ],
    committedAfter: 0,
    pendingBatches: 1,
    unackedRecords: 1,
  },
  {
    name: 'acks on a fully acked but uncommitted batch are duplicates',
    committed: 0,
    steps: [
      { op: 'track', lsn: 1, size: 1, ok: true },
      { op: 'track', lsn: 2, size: 1, ok: true },
      { op: 'ack', lsn: 2, index: 0, ok: true },
      { op: 'ack', lsn: 2, index: 0, ok: false },
    ],
    committedAfter: 0,
    pendingBatches: 1,
    unackedRecords: 1,
  },
  {
    name: 'invalid acks (unknown lsn, index out of range, below commit) are ignored',
    committed: 5,
    steps: [
      { op: 'track', lsn: 7, size: 2, ok: true },
      { op: 'ack', lsn: 6, index: 0, ok: false }, // skipped LSN, never tracked
      { op: 'ack', lsn: 8, index: 0, ok: false }, // beyond highest tracked
      { op: 'ack', lsn: 7, index: 2, ok: false }, // index == batchSize
      { op: 'ack', lsn: 7, index: 99, ok: false },
      { op: 'ack', lsn: 7, index: -1, ok: false },
      { op: 'ack', lsn: 7, index: 0.5, ok: false },
      { op: 'ack', lsn: 7, index: Number.NaN, ok: false },
      { op: 'ack', lsn: 5, index: 0, ok: false }, // == committed
      { op: 'ack', lsn: 1, index: 0, ok: false }, // < committed
      { op: 'commit', to: undefined },
    ],
    committedAfter: 5,
    pendingBatches: 1,
    unackedRecords: 2,
  },
  {
    name: 'acks for a batch are ignored once it is committed',
    committed: 0,
    steps: [
      { op: 'track', lsn: 1, size: 1, ok: true },
      { op: 'ack', lsn: 1, index: 0, ok: true },
      { op: 'commit', to: 1 },
      { op: 'ack', lsn: 1, index: 0, ok: false },
    ],
    committedAfter: 1,
    pendingBatches: 0,
    unackedRecords: 0,
  },
  {
    name: 'batchSize 1 batches commit one per ack',
    committed: 0,
    steps: [
      { op: 'track', lsn: 1, size: 1, ok: true },
      { op: 'track', lsn: 2, size: 1, ok: true },
      { op: 'track', lsn: 3, size: 1, ok: true },
      { op: 'ack', lsn: 1, index: 0, ok: true },
      { op: 'ack', lsn: 2, index: 1, ok: false },
      { op: 'commit', to: 1 },
      { op: 'ack', lsn: 3, index: 0, ok: true },
      { op: 'commit', to: undefined },
      { op: 'ack', lsn: 2, index: 0, ok: true },
      { op: 'commit', to: 3 },
    ],
    committedAfter: 3,
    pendingBatches: 0,
    unackedRecords: 0,
  },
  {
    name: 'track rejects LSNs at or below the highest tracked / committed and bad sizes',
    committed: 10,
    steps: [
      { op: 'track', lsn: 10, size: 1, ok: false }, // == committed
      { op: 'track', lsn: 3, size: 1, ok: false }, // < committed
      { op: 'track', lsn: 20, size: 2, ok: true },
      { op: 'track', lsn: 20, size: 2, ok: false }, // re-register is a no-op
      { op: 'track', lsn: 15, size: 1, ok: false }, // lower than highest
      { op: 'track', lsn: 21, size: 0, ok: false },
      { op: 'track', lsn: 21, size: -1, ok: false },
      { op: 'track', lsn: 21, size: 1.5, ok: false },
      { op: 'track', lsn: 21.5, size: 1, ok: false },
      { op: 'track', lsn: 21, size: 1, ok: true },
    ],
    committedAfter: 10,
    pendingBatches: 2,
    unackedRecords: 3,
  },
];

describe('ShardAckWindow scenarios', () => {
  it.each(scenarios)('$name', (s) => {
    const w = new ShardAckWindow(s.committed);
    for (const [i, step] of s.steps.entries()) {
      const where = `step ${i} ${JSON.stringify(step)}`;
      switch (step.op) {
        case 'track':
          expect(w.track(step.lsn, step.size), where).toBe(step.ok);
          break;
        case 'ack':
          expect(w.ack(step.lsn, step.index), where).toBe(step.ok);
          break;
        case 'commit':
          expect(w.commit(), where).toBe(step.to);
          break;
      }
    }
    expect(w.committedLsn).toBe(s.committedAfter);
    expect(w.pendingBatches).toBe(s.pendingBatches);
    expect(w.unackedRecords).toBe(s.unackedRecords);
  });
});

describe('ShardAckWindow.unackedIndexes', () => {
  const cases: { name: string; size: number; acks: number[]; expected: number[] }[] = [
    { name: 'no acks lists every index', size: 4, acks: [], expected: [0, 1, 2, 3] },
    { name: 'in-order prefix acks leave the tail', size: 4, acks: [0, 1], expected: [2, 3] },
    { name: 'out-of-order acks leave the gaps', size: 5, acks: [3, 0, 4], expected: [1, 2] },
    { name: 'fully acked batch yields an empty list', size: 3, acks: [2, 1, 0], expected: [] },
    // Word boundaries of the bitset: prefix of 31/32/33 then an out-of-order ack.
    {
      name: 'prefix ending at bit 31 survives switch to bitset',
      size: 40,
      acks: [...Array(31).keys(), 35],
      expected: [31, 32, 33, 34, 36, 37, 38, 39],
    },
    {
      name: 'prefix of exactly one word survives switch to bitset',
      size: 40,
      acks: [...Array(32).keys(), 39],
      expected: [32, 33, 34, 35, 36, 37, 38],
    },
    {
      name: 'prefix spilling into the second word survives switch to bitset',
      size: 70,
      acks: [...Array(33).keys(), 69, 63, 64],
      expected: [...Array(70 - 33).keys()].map((i) => i + 33).filter((i) => i !== 63 && i !== 64 && i !== 69),
    },
  ];

  it.each(cases)('$name', ({ size, acks, expected }) => {
    const w = new ShardAckWindow(0);
    w.track(1, size);
    for (const i of acks) expect(w.ack(1, i)).toBe(true);
    expect(w.unackedIndexes(1)).toEqual(expected);
    expect(w.unackedRecords).toBe(expected.length);
  });

  it('returns undefined for untracked, committed and never-delivered LSNs', () => {
    const w = new ShardAckWindow(0);
    w.track(1, 1);
    w.track(3, 1);
    w.ack(1, 0);
    w.commit();
    expect(w.unackedIndexes(1)).toBeUndefined(); // committed and dropped
    expect(w.unackedIndexes(2)).toBeUndefined(); // skipped LSN
    expect(w.unackedIndexes(4)).toBeUndefined(); // not delivered yet
    expect(w.unackedIndexes(3)).toEqual([0]);
  });

  it('lists a completed-but-uncommitted batch as tracked with nothing unacked', () => {
    const w = new ShardAckWindow(0);
    w.track(1, 1);
    w.track(2, 2);
    ackAll(w, 2, 2);
    expect(w.unackedIndexes(2)).toEqual([]);
  });
});

describe('ShardAckWindow.reset', () => {
  it('drops pending batches and returns the unacked records dropped', () => {
    const w = new ShardAckWindow(100);
    w.track(101, 3);
    w.track(105, 4);
    w.ack(101, 0);
    w.ack(101, 1);
    w.ack(101, 2);
    w.commit();
    w.ack(105, 2);
    w.track(110, 5);
    expect(w.reset()).toBe(3 + 5);
    expect(w.committedLsn).toBe(101);
    expect(w.pendingBatches).toBe(0);
    expect(w.unackedRecords).toBe(0);
    expect(w.unackedIndexes(105)).toBeUndefined();
    expect(w.ack(105, 0)).toBe(false);
    expect(w.commit()).toBeUndefined();
  });

  it('rewinds highestTrackedLsn to the commit point so re-read batches can be tracked again', () => {
    const w = new ShardAckWindow(0);
    w.track(1, 1);
    w.track(2, 1);
    w.ack(1, 0);
    w.commit();
    expect(w.highestTrackedLsn).toBe(2);
    w.reset();
    expect(w.highestTrackedLsn).toBe(1);
    expect(w.track(2, 1)).toBe(true);
    expect(w.ack(2, 0)).toBe(true);
    expect(w.commit()).toBe(2);
  });

  it('drops fully acked batches that commit() has not passed yet without counting them', () => {
    const w = new ShardAckWindow(0);
    w.track(1, 2);
    ackAll(w, 1, 2);
    expect(w.reset()).toBe(0);
    expect(w.committedLsn).toBe(0);
  });

  it('returns 0 on an empty window', () => {
    expect(new ShardAckWindow(7).reset()).toBe(0);
  });
});

describe('ShardAckWindow bookkeeping', () => {
  it('highestTrackedLsn starts at committedLsn and follows track()', () => {
    const w = new ShardAckWindow(42);
    expect(w.highestTrackedLsn).toBe(42);
    w.track(50, 1);
    w.track(49, 1); // rejected
    expect(w.highestTrackedLsn).toBe(50);
    w.ack(50, 0);
    w.commit();
    expect(w.highestTrackedLsn).toBe(50);
    expect(w.committedLsn).toBe(50);
  });

  it('constructor rejects a non-integer committed LSN', () => {
    expect(() => new ShardAckWindow(1.5)).toThrow(RangeError);
    expect(() => new ShardAckWindow(Number.NaN)).toThrow(RangeError);
  });

  it('commit returns undefined when nothing is tracked', () => {
    const w = new ShardAckWindow(3);
    expect(w.commit()).toBeUndefined();
    expect(w.committedLsn).toBe(3);
  });

  it('a batch of 100 acked in order commits and counts exactly', () => {
    const w = new ShardAckWindow(0);
    w.track(1, 100);
    for (let i = 0; i < 100; i++) {
      expect(w.ack(1, i)).toBe(true);
      expect(w.unackedRecords).toBe(99 - i);
    }
    expect(w.pendingBatches).toBe(0);
    expect(w.commit()).toBe(1);
  });
});

describe('ShardAckWindow at scale', () => {
  it('10,000 non-dense batches acked in random order end committed at the last LSN', () => {
    const rand = rng(0xc0ffee);
    const w = new ShardAckWindow(1000);
    const acks: [number, number][] = [];
    let lsn = 1000;
    let total = 0;
    for (let b = 0; b < 10_000; b++) {
      lsn += 1 + Math.floor(rand() * 3); // skip LSNs now and then
      const size = 1 + Math.floor(rand() * 8);
      expect(w.track(lsn, size)).toBe(true);
      total += size;
      for (let i = 0; i < size; i++) acks.push([lsn, i]);
    }
    const last = lsn;
    expect(w.pendingBatches).toBe(10_000);
    expect(w.unackedRecords).toBe(total);

    shuffle(acks, rand);
    let prevCommitted = w.committedLsn;
    for (const [n, [l, i]] of acks.entries()) {
      expect(w.ack(l, i)).toBe(true);
      // Commit periodically (including over long completed runs) to exercise deque compaction.
      if (n % 7 === 0) {
        const moved = w.commit();
        if (moved !== undefined) {
          expect(moved).toBeGreaterThan(prevCommitted);
          prevCommitted = moved;
        }
      }
    }
    w.commit();
    expect(w.committedLsn).toBe(last);
    expect(w.unackedRecords).toBe(0);
    expect(w.pendingBatches).toBe(0);
    expect(w.highestTrackedLsn).toBe(last);
    // Replaying every ack after the commit is a no-op.
    expect(acks.some(([l, i]) => w.ack(l, i))).toBe(false);
  });

  it('lookups and commits stay correct after the committed head of the deque is compacted away', () => {
    const w = new ShardAckWindow(0);
    for (let l = 1; l <= 3000; l++) w.track(l * 2, 2); // even, non-dense LSNs
    // A partial ack in a batch that survives compaction must keep its state.
    expect(w.ack(4500, 1)).toBe(true);
    for (let l = 1; l <= 2000; l++) ackAll(w, l * 2, 2);
    expect(w.commit()).toBe(4000);
    expect(w.unackedIndexes(4000)).toBeUndefined();
    expect(w.unackedIndexes(4002)).toEqual([0, 1]);
    expect(w.unackedIndexes(4500)).toEqual([0]);
    expect(w.unackedIndexes(4001)).toBeUndefined();
    expect(w.pendingBatches).toBe(1000);
    expect(w.unackedRecords).toBe(1999);
    for (let l = 2001; l <= 3000; l++) ackAll(w, l * 2, 2);
    expect(w.commit()).toBe(6000);
    expect(w.pendingBatches).toBe(0);
    expect(w.unackedRecords).toBe(0);
    expect(w.track(6002, 1)).toBe(true);
    expect(w.ack(6002, 0)).toBe(true);
    expect(w.commit()).toBe(6002);
  });

  it('matches a naive reference model under random interleaved track/ack/commit/reset', () => {
    const rand = rng(12345);
    const w = new ShardAckWindow(0);
    // Reference: ordered list of { lsn, size, acked set }.
    let model: { lsn: number; size: number; acked: Set<number> }[] = [];
    let committed = 0;
    let highest = 0;

    for (let step = 0; step < 20_000; step++) {
      const r = rand();
      if (r < 0.15) {
        const lsn = rand() < 0.1 ? highest - Math.floor(rand() * 3) : highest + 1 + Math.floor(rand() * 2);
        const size = Math.floor(rand() * 40);
        const ok = lsn > highest && size >= 1;
        expect(w.track(lsn, size)).toBe(ok);
        if (ok) {
          model.push({ lsn, size, acked: new Set() });
          highest = lsn;
        }
      } else if (r < 0.85) {
        const lsn = committed - 1 + Math.floor(rand() * (highest - committed + 3));
        const b = model.find((m) => m.lsn === lsn);
        const index = b && rand() < 0.95 ? Math.floor(rand() * b.size) : Math.floor(rand() * 50) - 5;
        const ok = b !== undefined && index >= 0 && index < b.size && !b.acked.has(index);
        expect(w.ack(lsn, index)).toBe(ok);
        if (ok) b!.acked.add(index);
      } else if (r < 0.995) {
        let moved: number | undefined;
        while (model.length > 0 && model[0]!.acked.size === model[0]!.size) {
          committed = model.shift()!.lsn;
          moved = committed;
        }
        expect(w.commit()).toBe(moved);
      } else {
        const dropped = model.reduce((n, m) => n + m.size - m.acked.size, 0);
        expect(w.reset()).toBe(dropped);
        model = [];
        highest = committed;
      }
      expect(w.committedLsn).toBe(committed);
      expect(w.highestTrackedLsn).toBe(highest);
      expect(w.pendingBatches).toBe(model.filter((m) => m.acked.size < m.size).length);
      expect(w.unackedRecords).toBe(model.reduce((n, m) => n + m.size - m.acked.size, 0));
    }
    for (const m of model) {
      const expected = [...Array(m.size).keys()].filter((i) => !m.acked.has(i));
      expect(w.unackedIndexes(m.lsn)).toEqual(expected);
    }
  });
});

describe('ShardAckWindow.ackRange', () => {
  /** What a record-by-record application of the same acks leaves behind. */
  function perRecord(size: number, acks: Array<[number, number]>): { n: number[]; unacked: number[] | undefined; pending: number } {
    const w = new ShardAckWindow(0);
    w.track(1, size);
    const n = acks.map(([from, to]) => {
      let k = 0;
      for (let i = from; i <= to; i++) if (w.ack(1, i)) k++;
      return k;
    });
    return { n, unacked: w.unackedIndexes(1), pending: w.pendingBatches };
  }

  const cases: Array<{ name: string; size: number; acks: Array<[number, number]> }> = [
    { name: 'a whole batch in one range', size: 100, acks: [[0, 99]] },
    { name: 'consecutive ranges in order', size: 10, acks: [[0, 3], [4, 9]] },
    { name: 'a range overlapping the acked prefix counts only the new records', size: 10, acks: [[0, 4], [2, 7]] },
    { name: 'a range after a gap, then the gap', size: 10, acks: [[5, 9], [0, 4]] },
    { name: 'a repeated range acks nothing the second time', size: 10, acks: [[0, 9], [0, 9]] },
    { name: 'a range past the end of the batch acks only what is inside it', size: 10, acks: [[8, 12]] },
    { name: 'a range after single out-of-order acks', size: 8, acks: [[3, 3], [6, 6], [0, 7]] },
  ];

  it.each(cases)('$name: same result as acking record by record', ({ size, acks }) => {
    const w = new ShardAckWindow(0);
    w.track(1, size);
    const n = acks.map(([from, to]) => w.ackRange(1, from, to));
    expect({ n, unacked: w.unackedIndexes(1), pending: w.pendingBatches }).toEqual(perRecord(size, acks));
    expect(w.unackedRecords).toBe(w.unackedIndexes(1)!.length);
  });

  it('a fully acked batch commits; ranges of unknown or committed batches are ignored', () => {
    const w = new ShardAckWindow(0);
    w.track(1, 5);
    w.track(2, 5);
    expect(w.ackRange(3, 0, 4)).toBe(0);
    expect(w.ackRange(1, 0, 4)).toBe(5);
    expect(w.commit()).toBe(1);
    expect(w.ackRange(1, 0, 4)).toBe(0);
    expect(w.ackRange(2, 0, 4)).toBe(5);
    expect(w.commit()).toBe(2);
    expect(w.unackedRecords).toBe(0);
    expect(w.pendingBatches).toBe(0);
  });
});
