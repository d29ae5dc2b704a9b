/**
 * Run sizes of the reliability suite. `npm run test:reliability` runs the
 * short profile (CI, a few minutes); RELIABILITY_LONG=1 runs the long one.
 * Every count can be overridden by its own variable, and RELIABILITY_SEED
 * replays a run (the seed is printed at the start of every scenario).
 */

export const LONG = process.env.RELIABILITY_LONG === '1';

function intEnv(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number, got "${raw}"`);
  return n;
}

/**
 * Short runs use a fixed seed so CI is deterministic; long runs explore a new
 * seed each time. Either way the seed is printed and RELIABILITY_SEED replays it.
 */
export const SEED = intEnv('RELIABILITY_SEED', LONG ? Date.now() % 2 ** 31 : 20240611);

export const PROFILE = {
  /** T1: kill -9 cycles */
  kill9Cycles: intEnv('RELIABILITY_KILL9_CYCLES', LONG ? 100 : 10),
  /** T1 with appends spread over 2,000 streams: kill -9 cycles */
  kill9ManyStreamsCycles: intEnv('RELIABILITY_KILL9_MANY_CYCLES', LONG ? 20 : 3),
  /** T1: how long appends run before the kill, ms (uniform in the range) */
  kill9WindowMs: LONG ? ([300, 3000] as const) : ([300, 1200] as const),
  /** T5: hostile requests sent */
  hostileCases: intEnv('RELIABILITY_HOSTILE_CASES', LONG ? 10_000 : 2_000),
  /** T4: corruption runs per kind of damage */
  corruptionRuns: intEnv('RELIABILITY_CORRUPTION_RUNS', LONG ? 20 : 3),
  /** T6: concurrent clients, each on its own channel */
  loadClients: intEnv('RELIABILITY_LOAD_CLIENTS', 200),
  /** T6: how long the load runs, seconds */
  loadSeconds: intEnv('RELIABILITY_LOAD_SECONDS', LONG ? 60 : 10),
  /** T6: server RSS must stay below this, MiB */
  loadRssLimitMiB: intEnv('RELIABILITY_LOAD_RSS_MIB', 512),
  /** T6b: backlog written before the slow consumers attach, MiB of 1 KiB records */
  slowBacklogMiB: intEnv('RELIABILITY_SLOW_BACKLOG_MIB', LONG ? 1024 : 256),
  /** T6b: how long the slow and the stalled consumer stay attached, seconds */
  slowSeconds: intEnv('RELIABILITY_SLOW_SECONDS', LONG ? 240 : 35),
  /**
   * T6b: while they are attached, the server's anonymous RSS stays below its
   * value just before they attach + this, MiB. The baseline already holds
   * what the prefill left, bounded caches full (64 MiB tail cache, LevelDB's
   * write buffer); measured growth from there: 0–8 MiB. A server that held
   * the backlog in proportion would exceed it 4× (short) / 16× (long).
   * File-backed RSS is not bounded: LevelDB mmaps its tables, and every page a
   * consumer has read stays resident (page cache) until the kernel wants it.
   */
  slowRssGrowthMiB: intEnv('RELIABILITY_SLOW_RSS_MIB', 64),
  /**
   * T6b: the second half's anonymous RSS peak may exceed the first half's by at
   * most this, MiB (measured: it stays 10–20 MiB below). A leak of what the
   * slow consumer is sent (~1 MiB/s) shows in the long run's second half.
   */
  slowPlateauMiB: intEnv('RELIABILITY_SLOW_PLATEAU_MIB', 32),
};

/** Scenario timeouts for vitest, ms. */
export const TIMEOUT_MS = LONG ? 40 * 60_000 : 5 * 60_000;
