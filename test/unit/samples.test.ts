import { describe, expect, it } from 'vitest';
import { Metrics } from '../../src/core/metrics.js';
import { RING_SECONDS, SampleRing } from '../../src/core/samples.js';
import { StatsRegistry } from '../../src/core/stats.js';

function ring() {
  const stats = new StatsRegistry();
  const metrics = new Metrics();
  const sources = { stats, metrics, delivered: 0, deliveredRecords: () => sources.delivered };
  return { stats, metrics, sources, ring: new SampleRing(sources) };
}

describe('SampleRing', () => {
  it('turns counters into per-second rates between samples', () => {
    const { stats, metrics, sources, ring: r } = ring();
    const t0 = Date.now();
    stats.recordAppend('s', 1000, 10, t0);
    sources.delivered = 4;
    metrics.recordCall('Append', 0, 2);
    metrics.recordCall('Append', 13, 1);
    r.sample(t0 + 2000);
    const c = r.columns();
    // 10 records over the ~2 s since the ring was made
    expect(c.appendRecords[0]).toBeGreaterThan(4);
    expect(c.appendRecords[0]).toBeLessThanOrEqual(5.01);
    expect(c.appendBytes[0]! / c.appendRecords[0]!).toBeCloseTo(100);
    expect(c.deliveredRecords[0]! / c.appendRecords[0]!).toBeCloseTo(0.4);
    expect(c.rpcErrors[0]).toBeGreaterThan(0);
    // the 2 ms call sets the 99th percentile bucket: 2.5 ms
    expect(c.appendP99Ms[0]).toBe(2.5);
  });

  it('reports no p99 for a second without appends, and no negative rate when a stream (and its totals) goes', () => {
    const { stats, ring: r } = ring();
    const t0 = Date.now();
    stats.recordAppend('gone', 500, 5, t0);
    r.sample(t0 + 1000);
    stats.forgetStream('gone');
    r.sample(t0 + 2000);
    const c = r.columns();
    expect(c.appendP99Ms).toEqual([null, null]);
    expect(c.appendRecords[1]).toBe(0);
  });

  it('keeps only the last RING_SECONDS samples, oldest first', () => {
    const { ring: r } = ring();
    const t0 = Date.now();
    for (let i = 1; i <= RING_SECONDS + 25; i++) r.sample(t0 + i * 1000);
    const { time } = r.columns();
    expect(time).toHaveLength(RING_SECONDS);
    expect(time[0]).toBe(Math.floor((t0 + 26 * 1000) / 1000));
    expect(time.at(-1)).toBe(Math.floor((t0 + (RING_SECONDS + 25) * 1000) / 1000));
  });
});
