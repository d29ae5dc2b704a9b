/** Append statistics: totals and per-second rates, checked against a plain list of what was added. */
import { describe, expect, it } from 'vitest';
import { StatsRegistry } from '../../src/core/stats.js';
import { rng } from '../helpers/rng.js';

describe('StatsRegistry', () => {
  it('rates over any interval equal a brute-force sum over the last 600 s, for random append times', () => {
    const random = rng(7);
    const stats = new StatsRegistry();
    const added: Array<{ second: number; bytes: number }> = [];
    let nowMs = 1_700_000_000_000;
    for (let i = 0; i < 5_000; i++) {
      // bursts, gaps longer than the window, and many appends in one second
      nowMs += random() < 0.02 ? 700_000 : Math.floor(random() * 3_000);
      const bytes = 1 + Math.floor(random() * 1000);
      stats.recordAppend('s', bytes, 1, nowMs);
      added.push({ second: Math.floor(nowMs / 1000), bytes });
      if (i % 97 === 0) {
        const intervalMs = Math.floor(random() * 700_000);
        const seconds = Math.max(1, Math.min(600, Math.ceil(intervalMs / 1000)));
        const current = Math.floor(nowMs / 1000);
        const expected = added.filter((a) => a.second > current - seconds && a.second <= current).reduce((sum, a) => sum + a.bytes, 0) / seconds;
        expect(stats.rates('s', 'appends', [intervalMs], nowMs)![0]).toBeCloseTo(expected, 6);
      }
    }
    expect(stats.total('s', 'appends')).toBe(added.reduce((sum, a) => sum + a.bytes, 0));
    expect(stats.total('s', 'append_in_requests')).toBe(5_000);
  });

  it('keeps metrics apart and forgets a stream', () => {
    const stats = new StatsRegistry();
    const now = 1_700_000_000_000;
    stats.recordAppend('a', 100, 10, now);
    stats.recordAppendFailure('a', now);
    expect(stats.rates('a', 'append_in_records', [1000], now)).toEqual([10]);
    expect(stats.rates('a', 'append_failed_requests', [1000], now)).toEqual([1]);
    expect(stats.rates('b', 'appends', [1000], now)).toBeUndefined();
    stats.forgetStream('a');
    expect(stats.total('a', 'appends')).toBe(0);
  });
});
