import { describe, expect, it } from 'vitest';
import { heapGrowingPercent } from '../../src/heap-tuning.js';

const MB = 1024 * 1024;

describe('heapGrowingPercent', () => {
  it('puts the limit of a small heap about the slack above its live size, at most 4×', () => {
    // 16 MB live, 48 MB slack: limit 64 MB = 4×
    expect(heapGrowingPercent(16 * MB, 48 * MB)).toBe(300);
    // 24 MB live: 200 % → limit 72 MB = live + 48 MB
    expect(heapGrowingPercent(24 * MB, 48 * MB)).toBe(200);
    // 40 MB live: 120 % → limit 88 MB
    expect(heapGrowingPercent(40 * MB, 48 * MB)).toBe(120);
    // a 4 MB heap just after start is capped at 4×, not 13×
    expect(heapGrowingPercent(4 * MB, 48 * MB)).toBe(300);
  });

  it("leaves heaps at least as large as the slack to V8's own factor", () => {
    expect(heapGrowingPercent(48 * MB, 48 * MB)).toBe(0);
    expect(heapGrowingPercent(500 * MB, 48 * MB)).toBe(0);
  });

  it('answers 0 for sizes it cannot use', () => {
    expect(heapGrowingPercent(0, 48 * MB)).toBe(0);
    expect(heapGrowingPercent(Number.NaN, 48 * MB)).toBe(0);
    expect(heapGrowingPercent(16 * MB, 0)).toBe(0);
  });
});
