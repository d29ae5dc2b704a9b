/**
 * Pure pieces, table-tested at their edges: upstream column naming (Haskell
 * float show included), the JSON ↔ value codec, date/time parsing, the total
 * value order, window assignment and aggregate accumulators.
 */
import { describe, expect, it } from 'vitest';
import { aggregateKind } from '../../sql/functions/aggregate.js';
import { columnName, haskellShowDouble } from '../../sql/naming.js';
import { windowStarts } from '../../sql/operators/window.js';
import { Parser } from '../../sql/parser.js';
import { decodeObject, decodeValue, encodeValue, parseDate, parseTimestamp, SqlDate, SqlTimestamp, totalCompare, type Value } from '../../sql/values.js';

const nameOf = (expr: string) => columnName(new Parser(expr).expr());

describe('column naming (upstream docs and syntax-test-cases.yaml)', () => {
  const cases: Array<[string, string]> = [
    ['sum(a)', 'SUM(a)'],
    ['count(*)', 'COUNT(*)'],
    ['SUM(s1.a)', 'SUM(s1.a)'],
    ['a + 1', 'a+1'],
    ['a - b', 'a-b'],
    ['to_upper(name)', 'TO_UPPER(name)'],
    ["SPLIT('a.b.c', x)", "SPLIT('a.b.c',x)"],
    ["c ->> 'season_id'", "c->>'season_id'"],
    ["c->'season_id'", "c->'season_id'"],
    ['x not between symmetric 0 and 42', 'xNOTBETWEENSYMMETRIC0AND42'],
    ['not x between 0 and 42', 'NOTxBETWEEN0AND42'],
    ["DATE '2021-08-07'", "DATE'2021-08-07'"],
    ["TIME '01:02:03.456'", "TIME'01:02:03.456'"],
    ['INTERVAL 5 SECOND', 'INTERVAL5SECOND'],
    ["{'aa', 'bb'}", "{'aa','bb'}"],
    ['{ }', '{}'],
    ["({'aa','bb','cc'})[0 : 2]", "({'aa','bb','cc'})[0:2]"],
    ['CAST(a AS INTEGER)', 'CAST(aASINTEGER)'],
    ['a :: INTEGER[]', 'a::INTEGER[]'],
    ["'a b'", "'ab'"],
    ['(a + b) * 2', '(a+b)*2'],
    ['a + (b * 2)', 'a+b*2'],
    ['(ABS(a)) + 1', '(ABS(a))+1'],
    ['ABS(a) + 1', '(ABS(a))+1'],
    ['a * 0.05', 'a*5.0e-2'],
    ['-1.50 + 007', '-1.5+7'],
    ['a = b AND NOT c OR d', 'a=bANDNOTcORd'],
    ['(a OR b) AND c', '(aORb)ANDc'],
    ['TOPK(a, 3)', 'TOPK(a,3)'],
    ['"my col" + 1', '"mycol"+1'],
    ['j #> ({\'a\', 0})', "j#>({'a',0})"],
  ];
  for (const [expr, name] of cases) it(`${expr} → ${name}`, () => expect(nameOf(expr)).toBe(name));

  it('a bare column is named by its name, without the stream or quotes', () => {
    expect(nameOf('s.temperature')).toBe('temperature');
    expect(nameOf('"SUM(a)"')).toBe('SUM(a)');
  });
});

describe("Haskell's show for Double", () => {
  const cases: Array<[number, string]> = [
    [1.5, '1.5'],
    [100, '100.0'],
    [1234567, '1234567.0'],
    [0.1, '0.1'],
    [0.05, '5.0e-2'],
    [1e7, '1.0e7'],
    [12345678.9, '1.23456789e7'],
    [0, '0.0'],
    [-2.5, '-2.5'],
  ];
  for (const [x, s] of cases) it(`${x} → ${s}`, () => expect(haskellShowDouble(x)).toBe(s));
});

describe('JSON ↔ values', () => {
  it('plain JSON decodes to the very same object (no copy)', () => {
    const row = { a: 1, b: 'x', c: { d: [1, 2, { e: null }] } };
    expect(decodeObject(row)).toBe(row);
  });

  it("upstream's labels decode to typed values and encode back", () => {
    const row = decodeObject({ n: { $numberLong: '5' }, f: { $numberDouble: '1.5' }, d: { $date: '2021-08-07' }, nested: { t: { $timestamp: '2023-06-30T12:30:45+02:00' } } });
    expect(row['n']).toBe(5);
    expect(row['f']).toBe(1.5);
    expect(row['d']).toBeInstanceOf(SqlDate);
    expect(encodeValue(row['nested']!)).toEqual({ t: { $timestamp: '2023-06-30T12:30:45+02:00' } });
    expect(encodeValue(new SqlTimestamp(1_700_000_000_000))).toEqual({ $timestamp: '2023-11-14T22:13:20+00:00' });
    expect(encodeValue(new SqlTimestamp(1_500))).toEqual({ $timestamp: '1970-01-01T00:00:01.5+00:00' });
  });

  it('an object that only looks like a label stays an object', () => {
    expect(decodeValue({ $date: 'not a date' })).toEqual({ $date: 'not a date' });
    expect(decodeValue({ $numberLong: '5', other: 1 })).toEqual({ $numberLong: '5', other: 1 });
  });

  it('non-finite numbers encode as null', () => {
    expect(encodeValue(Infinity)).toBeNull();
    expect(encodeValue(NaN)).toBeNull();
  });

  it('dates and timestamps parse strictly', () => {
    expect(parseDate('2024-02-29')).toBeDefined();
    expect(parseDate('2023-02-29')).toBeUndefined();
    expect(parseDate('2023-1-2')).toBeUndefined();
    expect(parseTimestamp('2023-06-30T12:30:45')).toBeUndefined();
    expect(parseTimestamp('2023-06-30T12:30:45Z')?.ms).toBe(Date.UTC(2023, 5, 30, 12, 30, 45));
    expect(parseTimestamp('2023-06-30T12:30:45+02:00')?.ms).toBe(Date.UTC(2023, 5, 30, 10, 30, 45));
  });

  it('the total order: NULL < numbers < BOOLEAN < STRING < …', () => {
    const xs: Value[] = ['b', 2, null, true, 1.5, 'a', [1]];
    expect([...xs].sort(totalCompare)).toEqual([null, 1.5, 2, true, 'a', 'b', [1]]);
  });
});

describe('window assignment', () => {
  it('TUMBLE: floor(ts / size) · size, half-open', () => {
    expect(windowStarts({ kind: 'TUMBLE', sizeMs: 10, advanceMs: 10 }, 0)).toEqual([0]);
    expect(windowStarts({ kind: 'TUMBLE', sizeMs: 10, advanceMs: 10 }, 9)).toEqual([0]);
    expect(windowStarts({ kind: 'TUMBLE', sizeMs: 10, advanceMs: 10 }, 10)).toEqual([10]);
  });

  it('HOP: every window containing ts, ascending; none before 0', () => {
    const hop = { kind: 'HOP' as const, sizeMs: 10, advanceMs: 5 };
    expect(windowStarts(hop, 3)).toEqual([0]);
    expect(windowStarts(hop, 5)).toEqual([0, 5]);
    expect(windowStarts(hop, 14)).toEqual([5, 10]);
    expect(windowStarts(hop, 15)).toEqual([10, 15]);
    expect(windowStarts({ kind: 'HOP', sizeMs: 10, advanceMs: 3 }, 20)).toEqual([12, 15, 18]);
  });
});

describe('aggregate accumulators', () => {
  const fold = (kind: ReturnType<typeof aggregateKind>, values: Value[]) => kind.result(values.reduce((s, v) => kind.step(s, v), kind.init()));

  it('MIN/MAX are true extremes and ignore NULL', () => {
    expect(fold(aggregateKind('MAX', false), [-5, null, -2, -9])).toBe(-2);
    expect(fold(aggregateKind('MIN', false), [7, 3, null])).toBe(3);
    expect(fold(aggregateKind('MAX', false), [null])).toBeNull();
  });

  it('SUM of only NULLs is NULL; COUNT(e) skips NULLs; AVG is the mean', () => {
    expect(fold(aggregateKind('SUM', false), [null, null])).toBeNull();
    expect(fold(aggregateKind('COUNT', false), [1, null, 'x'])).toBe(2);
    expect(fold(aggregateKind('COUNT', true), [null, null])).toBe(2);
    expect(fold(aggregateKind('AVG', false), [1, 2, null, 6])).toBe(3);
  });

  it('TOPK keeps the k largest with duplicates, TOPKDISTINCT without', () => {
    expect(fold(aggregateKind('TOPK', false, 2), [1, 5, 5, 3])).toEqual([5, 5]);
    expect(fold(aggregateKind('TOPKDISTINCT', false, 2), [1, 5, 5, 3])).toEqual([5, 3]);
  });

  it('merge (session windows) equals folding everything', () => {
    for (const fn of ['COUNT', 'SUM', 'AVG', 'MIN', 'MAX', 'TOPK'] as const) {
      const kind = aggregateKind(fn, false, 3);
      const a = [4, 1, 7].reduce((s, v) => kind.step(s, v), kind.init());
      const b = [9, -2].reduce((s, v) => kind.step(s, v), kind.init());
      expect(kind.result(kind.merge(a, b)), fn).toEqual(fold(aggregateKind(fn, false, 3), [4, 1, 7, 9, -2]));
    }
  });
});
