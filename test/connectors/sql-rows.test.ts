/** Records to row operations and statements, without a database. */
import { describe, expect, it } from 'vitest';
import { groupRuns, planRecord, type TableInfo } from '../../src/connectors/sql-rows.js';
import { splitByKey } from '../../src/connectors/sql-writer.js';
import { rec, rejection } from './sink-fixtures.js';
import { payloadJson, UnmappableRecord } from '../../src/connectors/driver.js';
import { encodeStruct } from '../../src/struct.js';

const columns = ['id', 'name', 'n'];
const table: TableInfo = {
  sqlName: '"t"',
  displayName: 't',
  columns,
  primaryKey: ['id'],
  uniqueKeys: [['id']],
  resolve: (f) => (columns.includes(f) ? f : columns.includes(f.toLowerCase()) ? f.toLowerCase() : undefined),
};
const limits = { maxParams: 30_000, maxBytes: 8 * 1024 * 1024 };

describe('planRecord', () => {
  it('reads plain rows, key/value upserts and deletes', () => {
    expect(planRecord(rec({ name: 'a', ID: 1 }), table)).toMatchObject({ kind: 'upsert', columns: ['id', 'name'], values: [1, 'a'], conflict: ['id'] });
    expect(planRecord(rec({ key: { id: 2 }, value: { id: 99, n: { a: 1 } } }), table))
      .toMatchObject({ kind: 'upsert', columns: ['id', 'n'], values: [2, '{"a":1}'], conflict: ['id'] });
    expect(planRecord(rec({ key: { id: 3 }, value: null }), table)).toMatchObject({ kind: 'delete', columns: ['id'], values: [3] });
  });

  it('reads HRecords (protobuf Struct payloads, as official clients, queries and sources write JSON records) like JSON text', () => {
    const r = rec('');
    const struct = { ...r, record: { ...r.record, payload: encodeStruct({ ID: 7, name: 'from a client', n: { deep: [1, 2] } }) } };
    expect(planRecord(struct, table)).toMatchObject({ kind: 'upsert', columns: ['id', 'n', 'name'], values: [7, '{"deep":[1,2]}', 'from a client'] });
    const broken = { ...r, record: { ...r.record, payload: Buffer.from([0x0a, 0xff, 0xff]) } };
    expect(() => planRecord(broken, table)).toThrow(UnmappableRecord);
  });

  it('plain rows of one shape share their column lists; each row keeps its own values, whatever came before', () => {
    const a = planRecord(rec({ id: 1, name: 'a' }), table);
    const b = planRecord(rec({ id: 2, name: 'b' }), table);
    expect(b.columns).toBe(a.columns);
    expect([a.values, b.values]).toEqual([[1, 'a'], [2, 'b']]);
    // the same fields in another order, and a field that names a column twice (the later wins)
    expect(planRecord(rec({ name: 'c', id: 3 }), table)).toMatchObject({ columns: ['id', 'name'], values: [3, 'c'] });
    expect(planRecord(rec({ ID: 4, id: 5, name: 'd' }), table)).toMatchObject({ columns: ['id', 'name'], values: [5, 'd'] });
    expect(planRecord(rec({ id: 6, ID: 7, name: 'e' }), table)).toMatchObject({ columns: ['id', 'name'], values: [7, 'e'] });
    // a known shape is still refused when its key is null or a field is no column
    expect(() => planRecord(rec({ id: null, name: 'f' }), table)).toThrow(/primary key column "id"/);
    expect(() => planRecord(rec({ id: 8, nope: 1 }), table)).toThrow(/field "nope"/);
    expect(() => planRecord(rec({ id: 9, nope: 1 }), table)).toThrow(/field "nope"/);
  });

  it('quotes the payload of a JSON record that is no object (its text is not kept after parsing, so it is decoded again)', () => {
    expect(() => planRecord(rec('[1, "two"]'), table)).toThrow(/payload is JSON but not an object: \[1, "two"\]/);
    const r = rec('{"id":1}');
    expect(payloadJson(r.record)).toMatchObject({ ok: true, text: '{"id":1}', value: { id: 1 } });
  });

  it('names the record it refuses', async () => {
    for (const payload of ['{', 'null', '"s"', '{"name":"no id"}', '{"id":null}', '{"id":1,"x":2}', '{"key":{"name":"a"},"value":{}}']) {
      const r = rec(payload);
      const err = await rejection(Promise.resolve().then(() => planRecord(r, table)));
      expect(err).toBeInstanceOf(UnmappableRecord);
      expect((err as UnmappableRecord).recordId).toBe(r.id);
    }
  });
});

describe('groupRuns', () => {
  it('keeps the last row of a key within a statement and splits where the shape changes', () => {
    const ops = [
      rec({ id: 1, name: 'a' }), rec({ id: 2, name: 'b' }), rec({ id: '1', name: 'c' }),
      rec({ key: { id: 2 }, value: null }),
      rec({ id: 2, n: 5 }),
    ].map((r) => planRecord(r, table));
    const runs = groupRuns(ops, limits);
    expect(runs.map((r) => [r.kind, r.ops.map((o) => o.values)])).toEqual([
      ['upsert', [[2, 'b'], ['1', 'c']]],
      ['delete', [[2]]],
      ['upsert', [[2, 5]]],
    ]);
  });

  it('splits a run that would bind too many values', () => {
    const ops = Array.from({ length: 10 }, (_, i) => planRecord(rec({ id: i, name: 'x' }), table));
    expect(groupRuns(ops, { maxParams: 6, maxBytes: 1 << 20 }).map((r) => r.ops.length)).toEqual([3, 3, 3, 1]);
  });

  it('cuts runs into the allowed row counts, in order, so statements repeat a few texts', () => {
    const ops = Array.from({ length: 297 }, (_, i) => planRecord(rec({ id: i, name: 'x' }), table));
    const runs = groupRuns(ops, { maxParams: 1 << 20, maxBytes: 1 << 30, maxRows: 100, statementRows: [100, 64, 32, 16, 8, 4, 2, 1] });
    expect(runs.map((r) => r.ops.length)).toEqual([100, 100, 64, 32, 1]);
    expect(runs.flatMap((r) => r.ops)).toEqual(ops);
  });
});

describe('splitByKey', () => {
  const plan = (rows: object[]) => rows.map((r) => planRecord(rec(r), table));

  it('keeps every row of a key in one part, in order, and uses every part', () => {
    const rows = Array.from({ length: 1000 }, (_, i) => ({ id: i % 50, n: i }));
    const parts = splitByKey(plan(rows), 2);
    expect(parts).toHaveLength(2);
    expect(parts.every((p) => p.length > 0)).toBe(true);
    expect(parts.flat()).toHaveLength(1000);
    for (const part of parts) {
      const seen = new Map<unknown, number>();
      for (const op of part) {
        const id = op.values[op.columns.indexOf('id')];
        const n = op.values[op.columns.indexOf('n')] as number;
        // rows of a key stay in append order within their part
        expect(n).toBeGreaterThan(seen.get(id) ?? -1);
        seen.set(id, n);
      }
    }
    for (let id = 0; id < 50; id++) expect(parts.filter((p) => p.some((op) => op.values[op.columns.indexOf('id')] === id))).toHaveLength(1);
  });

  it('puts every spelling a database may take for the same key in the same part', () => {
    const partOf = (parts: ReturnType<typeof splitByKey>, name: unknown) => parts.findIndex((p) => p.some((op) => op.values[op.columns.indexOf('name')] === name));
    const filler = Array.from({ length: 300 }, (_, i) => ({ id: 1000 + i, name: `f${i}` }));
    const spellings: Array<[string, unknown[]]> = [
      ['an integer', [1, '1', '+1', '01', ' 1', '1.0', '1e0']],
      ['a string under a case-, pad- and accent-insensitive collation', ['Café', 'cafe', 'CAFE ', 'cafe\u0301']],
      ['a timestamp', ['2026-01-01T00:00:00Z', '2026-01-01 02:00:00+02', '2025-12-31T19:00:00-05:00']],
    ];
    for (const [what, values] of spellings) {
      const rows = [...values.map((id, i) => ({ id, name: `v${i}` })), ...filler];
      const parts = splitByKey(plan(rows), 2);
      expect(parts, what).toHaveLength(2);
      expect(new Set(values.map((_, i) => partOf(parts, `v${i}`))).size, what).toBe(1);
    }
  });

  it('keeps a small write, or one whose rows resolve on different keys, in one part', () => {
    expect(splitByKey(plan(Array.from({ length: 10 }, (_, i) => ({ id: i }))), 2)).toHaveLength(1);
    const unique: TableInfo = { ...table, uniqueKeys: [['id'], ['name']] };
    const mixed = [
      ...Array.from({ length: 300 }, (_, i) => planRecord(rec({ id: i, name: `n${i}` }), unique)),
      planRecord(rec({ key: { name: 'n1' }, value: { id: 1 } }), unique),
    ];
    expect(splitByKey(mixed, 2)).toHaveLength(1);
  });
});
