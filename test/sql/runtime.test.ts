/**
 * QueryRuntime guarantees, on generated workloads:
 * - the folded EMIT CHANGES changelog equals an independent computation;
 * - snapshot → JSON text → restore in the middle (or many times) gives the
 *   same final table and the same rows as an uninterrupted run;
 * - a hostile record never throws out of `process`;
 * - state stays bounded (windows closed by time, join rows by WITHIN).
 */
import { describe, expect, it } from 'vitest';
import { parseStatement, planSelect, QueryRuntime, SqlError, type JsonValue, type QueryPlan, type Row } from '../../sql/index.js';
import { foldChangelog } from './case-file.js';
import { rng } from '../helpers/rng.js';


function planOf(sql: string): QueryPlan {
  const s = parseStatement(sql);
  if (!('select' in s)) throw new Error('no select');
  return planSelect(s.select);
}

interface Rec {
  source: string;
  row: Row;
  time: number;
}

function run(plan: QueryPlan, input: Rec[], restartAt: readonly number[] = []): { out: Row[]; rt: QueryRuntime } {
  let rt = new QueryRuntime(plan);
  const out: Row[] = [];
  input.forEach((r, i) => {
    if (restartAt.includes(i)) rt = QueryRuntime.restore(plan, JSON.parse(JSON.stringify(rt.snapshot())) as JsonValue);
    out.push(...rt.process(r.source, r.row, r.time));
  });
  return { out, rt };
}

describe('grouped aggregates against an independent computation', () => {
  const random = rng(42);
  const input: Rec[] = [];
  for (let i = 0; i < 20_000; i++) {
    const k = `k${Math.floor(random() * 300)}`;
    const roll = random();
    const v: JsonValue = roll < 0.05 ? null : roll < 0.07 ? 'bad' : Math.floor(random() * 2001) - 1000;
    input.push({ source: 's', row: roll < 0.08 && roll >= 0.07 ? { k } : { k, v }, time: i * 10 });
  }
  const plan = planOf('SELECT k, COUNT(*) AS n, COUNT(v) AS nv, SUM(v) AS total, MIN(v) AS lo, MAX(v) AS hi, AVG(v) AS mean FROM s GROUP BY k EMIT CHANGES;');

  const expected = new Map<string, { n: number; nv: number; nums: number[]; strings: number }>();
  for (const { row } of input) {
    const k = row['k'] as string;
    const e = expected.get(k) ?? { n: 0, nv: 0, nums: [], strings: 0 };
    e.n++;
    const v = row['v'];
    if (v !== null && v !== undefined) e.nv++;
    if (typeof v === 'number') e.nums.push(v);
    if (typeof v === 'string') e.strings++;
    expected.set(k, e);
  }
  const oracle = [...expected].map(([k, e]) => ({
    k,
    n: e.n,
    nv: e.nv,
    total: e.nums.length ? e.nums.reduce((a, b) => a + b, 0) : null,
    // MIN/MAX use the total value order: numbers sort before strings
    lo: e.nums.length ? Math.min(...e.nums) : e.strings ? 'bad' : null,
    hi: e.strings ? 'bad' : e.nums.length ? Math.max(...e.nums) : null,
    mean: e.nums.length ? e.nums.reduce((a, b) => a + b, 0) / e.nums.length : null,
  }));
  const byKey = (rows: Row[]) => new Map(rows.map((r) => [r['k'] as string, r]));

  it('the folded changelog equals the computed table (one row per input row emitted)', () => {
    const { out, rt } = run(plan, input);
    expect(out.length).toBe(input.length);
    const folded = foldChangelog(out, ['k']);
    expect(folded.size).toBe(oracle.length);
    const table = byKey([...folded.values()]);
    for (const o of oracle) {
      const got = table.get(o.k)!;
      expect({ ...got, mean: null }).toEqual({ ...o, mean: null });
      if (o.mean === null) expect(got['mean']).toBeNull();
      else expect(got['mean'] as number).toBeCloseTo(o.mean, 9);
    }
    expect(rt.viewRows().length).toBe(oracle.length);
    expect(rt.stateSize()).toBe(oracle.length);
    // the strings SUM and AVG could not add were skipped and counted
    expect(rt.stats().evalErrors).toBe(2 * input.filter((r) => r.row['v'] === 'bad').length);
  });

  it('restored in the middle from a JSON snapshot, the final aggregates equal an uninterrupted run', () => {
    const straight = run(plan, input);
    const restarted = run(plan, input, [input.length / 2]);
    expect(restarted.out).toEqual(straight.out);
    expect(restarted.rt.viewRows()).toEqual(straight.rt.viewRows());
  });

  it('restored many times, the rows are still the same', () => {
    const points = Array.from({ length: 50 }, (_, i) => i * 397 + 1);
    expect(run(plan, input, points).out).toEqual(run(plan, input).out);
  });
});

describe('windows and joins survive restarts', () => {
  const random = rng(7);
  const input: Rec[] = [];
  let t = 0;
  for (let i = 0; i < 5_000; i++) {
    t += Math.floor(random() * 300);
    input.push({ source: random() < 0.5 ? 'a' : 'b', row: { k: Math.floor(random() * 20), v: Math.floor(random() * 100) }, time: t });
  }
  const queries = [
    'SELECT k, window_start, COUNT(*) AS n, SUM(v) AS s FROM TUMBLE(a, INTERVAL 10 SECOND) GROUP BY k EMIT CHANGES;',
    'SELECT k, window_start, MAX(v) AS m FROM HOP(a, INTERVAL 20 SECOND, INTERVAL 5 SECOND) GROUP BY k EMIT CHANGES;',
    'SELECT k, window_start, window_end, COUNT(*) AS n FROM SESSION(b, INTERVAL 2 SECOND) GROUP BY k EMIT CHANGES;',
    'SELECT a.k, a.v AS av, b.v AS bv FROM a JOIN b ON a.k = b.k WITHIN (INTERVAL 1 SECOND) EMIT CHANGES;',
    'SELECT a.k, COUNT(*) AS n FROM a FULL JOIN b ON a.k = b.k AND a.v < b.v WITHIN (INTERVAL 2 SECOND) GROUP BY a.k EMIT CHANGES;',
  ];
  for (const sql of queries) {
    it(sql, () => {
      const plan = planOf(sql);
      const straight = run(plan, input);
      expect(straight.out.length).toBeGreaterThan(0);
      const restarted = run(plan, input, [1000, 2500, 2501, 4999]);
      expect(restarted.out).toEqual(straight.out);
      expect(restarted.rt.viewRows()).toEqual(straight.rt.viewRows());
      expect(restarted.rt.stateSize()).toBe(straight.rt.stateSize());
    });
  }
});

describe('state is bounded and measured', () => {
  it('a join holds only rows within WITHIN of the other side', () => {
    const rt = new QueryRuntime(planOf('SELECT * FROM a JOIN b ON a.k = b.k WITHIN (INTERVAL 1 SECOND) EMIT CHANGES;'));
    let max = 0;
    for (let i = 0; i < 100_000; i++) {
      rt.process(i % 2 ? 'a' : 'b', { k: i % 100 }, i * 10);
      max = Math.max(max, rt.stateSize());
    }
    // 1 s of rows per side at 100 rows/s per side, plus the row in flight
    expect(max).toBeLessThanOrEqual(2 * 102);
  });

  it('closed windows are released (clock ≥ end + grace)', () => {
    const rt = new QueryRuntime(planOf('SELECT k, COUNT(*) FROM TUMBLE(s, INTERVAL 1 SECOND) GROUP BY k EMIT CHANGES;'), { windowGraceMs: 2000 });
    for (let i = 0; i < 100_000; i++) rt.process('s', { k: i % 10 }, i * 10);
    // windows [t-3 s, t] may still be open: at most 4 windows × 10 keys
    expect(rt.stateSize()).toBeLessThanOrEqual(40);
  });

  it('sessions no row can reach are released', () => {
    const rt = new QueryRuntime(planOf('SELECT k, COUNT(*) FROM SESSION(s, INTERVAL 1 SECOND) GROUP BY k EMIT CHANGES;'), { windowGraceMs: 1000 });
    for (let i = 0; i < 10_000; i++) rt.process('s', { k: i }, i * 100);
    expect(rt.stateSize()).toBeLessThan(100);
  });

  it('maxGroups stops a query with SqlError(runtime) and leaves the state as it was', () => {
    const rt = new QueryRuntime(planOf('SELECT k, COUNT(*) AS n FROM HOP(s, INTERVAL 4 SECOND, INTERVAL 1 SECOND) GROUP BY k EMIT CHANGES;'), { maxGroups: 10 });
    rt.process('s', { k: 1 }, 5000);
    rt.process('s', { k: 2 }, 5000);
    expect(rt.stateSize()).toBe(8);
    let err: unknown;
    try {
      rt.process('s', { k: 3 }, 5000);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SqlError);
    expect((err as SqlError).phase).toBe('runtime');
    expect(rt.stateSize()).toBe(8);
    expect(rt.viewRows().map((r) => r['k'])).toEqual([1, 2, 1, 2, 1, 2, 1, 2]);
  });

  it('a snapshot of another query is refused', () => {
    const a = new QueryRuntime(planOf('SELECT k, COUNT(*) FROM s GROUP BY k EMIT CHANGES;'));
    expect(() => QueryRuntime.restore(planOf('SELECT k, SUM(v) FROM s GROUP BY k EMIT CHANGES;'), a.snapshot())).toThrow(/different query/);
    expect(() => QueryRuntime.restore(planOf('SELECT * FROM s EMIT CHANGES;'), { nope: 1 })).toThrow(SqlError);
  });
});

describe('hostile records never throw out of process', () => {
  const hostile: JsonValue[] = [
    {},
    { a: null },
    { a: 'x', b: [1, [2, { c: 3 }]] },
    { a: { $numberLong: 'not a number' } },
    { a: { $date: '2021-13-45' } },
    { a: { $binary: { base64: '!!!' } } },
    { a: 1e308, b: -1e308, c: 9007199254740993 },
    { a: true, k: { nested: true }, v: [1] },
    { humidity: 'wet', length: {}, product: [], j: 'not json' },
    { j: { a: [1, 2, 3] }, arr: 'not an array', s: 5 },
    JSON.parse('{"__proto__": {"polluted": true}, "constructor": "x"}') as JsonValue,
    { 'weird key': 1, '': 2, '😀': 3 },
  ];
  const queries = [
    'SELECT * FROM s WHERE humidity > 70 EMIT CHANGES;',
    'SELECT *, a + 1 AS a1, TO_UPPER(a), j->>\'a\', j#>({\'a\', 1}), arr[0], CAST(a AS INTEGER) FROM s EMIT CHANGES;',
    'SELECT k, COUNT(*), SUM(v), AVG(v), MIN(a), MAX(a), TOPK(v, 2) FROM s GROUP BY k EMIT CHANGES;',
    "SELECT k, COUNT(*) FROM TUMBLE(s, INTERVAL 1 SECOND) GROUP BY k HAVING MAX(v) > 'x' EMIT CHANGES;",
    'SELECT s.a, t.a FROM s JOIN t ON s.a = t.a WITHIN (INTERVAL 1 SECOND) EMIT CHANGES;',
    'SELECT ARRAY_SORT(b), ARRAY_JOIN(b), SPLIT(a, a), DATETOSTRING(a, a), STRINGTODATE(a, a), SQRT(a), LOG(a) FROM s EMIT CHANGES;',
  ];
  for (const sql of queries) {
    it(sql, () => {
      const rt = new QueryRuntime(planOf(sql));
      let time = 0;
      for (const rec of hostile) {
        for (const source of ['s', 't']) {
          const rows = rt.process(source, rec as Row, (time += 100));
          // output is plain JSON: it survives a JSON round trip unchanged
          expect(JSON.parse(JSON.stringify(rows))).toEqual(rows);
        }
      }
      // not even non-objects (the server never sends them, but process must not throw)
      expect(rt.process('s', null as unknown as Row, NaN)).toEqual([]);
      expect(() => JSON.stringify(rt.snapshot())).not.toThrow();
    });
  }
});

describe('a column named __proto__ is a column, never a prototype', () => {
  const proto = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Row;
  const own = (row: Row | undefined) => {
    expect(row).toBeDefined();
    expect(Object.getPrototypeOf(row)).toBe(Object.prototype);
    expect(Object.prototype.hasOwnProperty.call(row, '__proto__')).toBe(true);
    return Object.getOwnPropertyDescriptor(row, '__proto__')?.value as JsonValue;
  };

  it('SELECT * copies it as an own field', () => {
    const rt = new QueryRuntime(planOf('SELECT * FROM s EMIT CHANGES;'));
    expect(own(rt.process('s', proto, 1)[0])).toEqual({ polluted: true });
    const labelled = JSON.parse('{"__proto__": {"$numberLong": "5"}, "d": {"$date": "2021-08-07"}}') as Row;
    expect(own(rt.process('s', labelled, 2)[0])).toBe(5);
  });

  it('an alias or a group key named __proto__', () => {
    const a = new QueryRuntime(planOf('SELECT a AS "__proto__", "__proto__" AS p FROM s EMIT CHANGES;'));
    const row = a.process('s', proto, 1)[0];
    expect(own(row)).toBe(1);
    expect(row!['p']).toEqual({ polluted: true });
    const g = new QueryRuntime(planOf('SELECT "__proto__", COUNT(*) AS n FROM s GROUP BY "__proto__" EMIT CHANGES;'));
    expect(own(g.process('s', proto, 1)[0])).toEqual({ polluted: true });
  });

  it('INSERT … VALUES', () => {
    const stmt = parseStatement('INSERT INTO s ("__proto__", b) VALUES (1, 2);');
    expect(stmt.kind === 'insertValues' && own(stmt.row)).toBe(1);
  });
});
