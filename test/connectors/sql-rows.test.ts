/** Records to row operations and statements, without a database. */
import { describe, expect, it } from 'vitest';
import { groupRuns, planRecord, type TableInfo } from '../../src/connectors/sql-rows.js';
import { rec, rejection } from './sink-fixtures.js';
import { UnmappableRecord } from '../../src/connectors/driver.js';

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
});
