/**
 * SQL engine throughput, in process (the engine is a pure library, so no
 * server is involved): rows/s through QueryRuntime.process for a filter query
 * and a GROUP BY query over 1M generated records, and the heap held per 100k
 * groups. Each figure is compared with a hand-written JS loop doing the same
 * work on the same objects (the ceiling for an interpreter of the query).
 *
 * `measureSql()` is usable on its own (node dist/bench/sql.js prints it);
 * `sqlScenarios` registers it with bench/run.ts.
 */
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { pathToFileURL } from 'node:url';
import { parseStatement, planSelect, QueryRuntime, type Row } from '../sql/index.js';
import { median, type Rep } from './harness.js';
import { compared, type Result, type Scenario } from './scenario.js';
import { rng } from './rng.js';

export const FILTER_SQL = 'SELECT * FROM demo WHERE humidity > 70 EMIT CHANGES;';
export const GROUP_BY_SQL = 'SELECT city, COUNT(*) AS n, SUM(temperature) AS total, MAX(humidity) AS hi FROM demo GROUP BY city EMIT CHANGES;';
const DEFAULT_RECORDS = 1_000_000;
const DEFAULT_CITIES = 10_000;
const MEMORY_GROUPS = 100_000;

export interface SqlBenchOptions {
  /** input records per timed run (default 1,000,000) */
  records?: number;
  /** distinct GROUP BY keys in the throughput run (default 10,000) */
  cities?: number;
  /** timed runs per figure (default 3) */
  reps?: number;
}

export interface SqlBenchFigures {
  records: number;
  filterRowsPerSec: number;
  filterBaselineRowsPerSec: number;
  /** share of the input the filter passes */
  filterSelectivity: number;
  groupByRowsPerSec: number;
  groupByBaselineRowsPerSec: number;
  groupByKeys: number;
  /** heap bytes held by a GROUP BY runtime with 100k groups (4 aggregates), per 100k groups */
  heapBytesPer100kGroups: number;
  /** the same for the hand-written Map of plain objects */
  baselineHeapBytesPer100kGroups: number;
  /** JSON size of the 100k-group snapshot */
  snapshotBytesPer100kGroups: number;
}

/** where every output goes, so that no engine can optimise the work away */
let sink: unknown;
/** read once at the end so the writes are observable */
export const lastOutput = (): unknown => sink;

function records(n: number, cities: number): Row[] {
  const rand = rng(12345);
  const rows: Row[] = new Array(n);
  for (let i = 0; i < n; i++) {
    rows[i] = { city: `c${Math.floor(rand() * cities)}`, temperature: Math.floor(rand() * 40), humidity: Math.floor(rand() * 100) };
  }
  return rows;
}

function plan(sql: string) {
  const s = parseStatement(sql);
  if (s.kind !== 'select') throw new Error('bench query must be a SELECT');
  return planSelect(s.select);
}

/**
 * runs `body` over all rows and returns rows/s (the outputs go to `sink`).
 * A full GC first, so that no run pays for the garbage of the one before
 * (or for promoting the freshly generated input).
 */
function timed(rows: Row[], body: (row: Row, i: number) => void): number {
  sink = undefined;
  gc();
  const t0 = performance.now();
  for (let i = 0; i < rows.length; i++) body(rows[i]!, i);
  return rows.length / ((performance.now() - t0) / 1000);
}

function filterRun(rows: Row[]): { value: number; passed: number } {
  const rt = new QueryRuntime(plan(FILTER_SQL));
  let passed = 0;
  const value = timed(rows, (row, i) => {
    const out = rt.process('demo', row, i);
    passed += out.length;
    sink = out;
  });
  return { value, passed };
}

/** what a person would write by hand for the filter: test, copy the row */
function filterBaseline(rows: Row[]): number {
  return timed(rows, (row) => {
    const h = row['humidity'];
    const out: Row[] = [];
    if (typeof h === 'number' && h > 70) out.push({ ...row });
    sink = out;
  });
}

function groupByRun(rows: Row[]): { value: number; keys: number } {
  const rt = new QueryRuntime(plan(GROUP_BY_SQL));
  let emitted = 0;
  const value = timed(rows, (row, i) => {
    const out = rt.process('demo', row, i);
    emitted += out.length;
    sink = out;
  });
  if (emitted !== rows.length) throw new Error('GROUP BY must emit one row per input row');
  return { value, keys: rt.stateSize() };
}

interface Acc {
  n: number;
  total: number;
  hi: number;
}

/** the hand-written GROUP BY: a Map of accumulators, one output object per row */
function groupByBaseline(rows: Row[]): { value: number; groups: Map<string, Acc> } {
  const groups = new Map<string, Acc>();
  const value = timed(rows, (row) => {
    const city = row['city'] as string;
    let g = groups.get(city);
    if (!g) groups.set(city, (g = { n: 0, total: 0, hi: -Infinity }));
    g.n++;
    g.total += row['temperature'] as number;
    g.hi = Math.max(g.hi, row['humidity'] as number);
    sink = [{ city, n: g.n, total: g.total, hi: g.hi }];
  });
  return { value, groups };
}

let gcFn: (() => void) | undefined;
function gc(): void {
  if (!gcFn) {
    setFlagsFromString('--expose_gc');
    gcFn = runInNewContext('gc') as () => void;
  }
  gcFn();
  gcFn();
}

function heapHeldBy(build: () => unknown): number {
  sink = undefined;
  gc();
  const before = process.memoryUsage().heapUsed;
  const held = build();
  gc();
  const after = process.memoryUsage().heapUsed;
  sink = held;
  return after - before;
}

function memory(): { ours: number; baseline: number; snapshot: number } {
  const rows = records(MEMORY_GROUPS, 1).map((r, i) => ({ ...r, city: `city-${i}` }));
  let snapshot = 0;
  const ours = heapHeldBy(() => {
    const rt = new QueryRuntime(plan(GROUP_BY_SQL));
    rows.forEach((r, i) => rt.process('demo', r, i));
    if (rt.stateSize() !== MEMORY_GROUPS) throw new Error('expected one group per row');
    snapshot = JSON.stringify(rt.snapshot()).length;
    return rt;
  });
  const baseline = heapHeldBy(() => groupByBaseline(rows).groups);
  const per100k = (bytes: number) => (bytes * 100_000) / MEMORY_GROUPS;
  return { ours: per100k(ours), baseline: per100k(baseline), snapshot: per100k(snapshot) };
}

/** All figures, medians over `reps` timed runs after one untimed warm-up run each. */
export function measureSql(options: SqlBenchOptions = {}): SqlBenchFigures & { reps: Record<string, Rep[]> } {
  const n = options.records ?? DEFAULT_RECORDS;
  const cities = options.cities ?? DEFAULT_CITIES;
  const reps = options.reps ?? 3;
  const rows = records(n, cities);
  const warm = rows.slice(0, Math.min(n, 200_000));
  filterRun(warm);
  filterBaseline(warm);
  groupByRun(warm);
  groupByBaseline(warm);

  const r: Record<string, Rep[]> = { filter: [], filterBase: [], groupBy: [], groupByBase: [] };
  let passed = 0;
  let keys = 0;
  for (let i = 0; i < reps; i++) {
    // interleaved with their baselines, alternating order
    const f = () => {
      const run = filterRun(rows);
      passed = run.passed;
      r['filter']!.push({ value: run.value });
    };
    const fb = () => r['filterBase']!.push({ value: filterBaseline(rows) });
    const g = () => {
      const run = groupByRun(rows);
      keys = run.keys;
      r['groupBy']!.push({ value: run.value });
    };
    const gb = () => r['groupByBase']!.push({ value: groupByBaseline(rows).value });
    for (const step of i % 2 === 0 ? [f, fb, g, gb] : [fb, f, gb, g]) step();
  }
  const m = memory();
  const med = (k: string) => median(r[k]!.map((x) => x.value));
  return {
    records: n,
    filterRowsPerSec: med('filter'),
    filterBaselineRowsPerSec: med('filterBase'),
    filterSelectivity: passed / n,
    groupByRowsPerSec: med('groupBy'),
    groupByBaselineRowsPerSec: med('groupByBase'),
    groupByKeys: keys,
    heapBytesPer100kGroups: m.ours,
    baselineHeapBytesPer100kGroups: m.baseline,
    snapshotBytesPer100kGroups: m.snapshot,
    reps: r,
  };
}

const MB = 1e6;

export const sqlScenarios: Scenario[] = [
  {
    id: 'sql/engine',
    title: `SQL engine in process: rows/s of a filter and a GROUP BY query over 1M records, heap per 100k groups, vs hand-written JS loops`,
    modes: ['quick', 'full'],
    timeoutMs: { quick: 180_000, full: 300_000 },
    async run(ctx) {
      const f = measureSql({ reps: ctx.timing.reps });
      const results: Result[] = [
        compared('sql/filter/rows', 'rows/s', 'higher', f.reps['filter']!, { name: 'baseline/js-filter/rows', reps: f.reps['filterBase']! }, {
          sql: FILTER_SQL,
          records: f.records,
          selectivity: f.filterSelectivity,
        }),
        compared('sql/group-by/rows', 'rows/s', 'higher', f.reps['groupBy']!, { name: 'baseline/js-group-by/rows', reps: f.reps['groupByBase']! }, {
          sql: GROUP_BY_SQL,
          records: f.records,
          keys: f.groupByKeys,
        }),
        {
          name: 'sql/group-by/heap-per-100k-groups',
          value: f.heapBytesPer100kGroups / MB,
          unit: 'MB',
          baseline: 'baseline/js-map/heap-per-100k-groups',
          baselineValue: f.baselineHeapBytesPer100kGroups / MB,
          ratio: f.heapBytesPer100kGroups / f.baselineHeapBytesPer100kGroups,
          better: 'lower',
          min: f.heapBytesPer100kGroups / MB,
          max: f.heapBytesPer100kGroups / MB,
          reps: 1,
          extra: { snapshotMB: f.snapshotBytesPer100kGroups / MB },
        },
      ];
      ctx.baselines.add('baseline/js-filter/rows', 'rows/s', 'higher', f.reps['filterBase']!);
      ctx.baselines.add('baseline/js-group-by/rows', 'rows/s', 'higher', f.reps['groupByBase']!);
      return results;
    },
  },
];

// `node dist/bench/sql.js [records]` prints the figures
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const records = process.argv[2] ? Number(process.argv[2]) : undefined;
  const { reps, ...figures } = measureSql({ records });
  process.stdout.write(JSON.stringify({ ...figures, reps: Object.fromEntries(Object.entries(reps).map(([k, v]) => [k, v.map((x) => Math.round(x.value))])) }, null, 2) + '\n');
}
