/**
 * The Parquet encoder thread (src/connectors/parquet-encoder.ts): requests
 * sent at once each get their own file back, and DuckDB reads every value,
 * nulls included, as it was given.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { encodeParquet } from '../../src/connectors/parquet-encoder.js';
import { duckdbRows, sqlString } from '../helpers/duckdb.js';
import { tempDir } from '../helpers/server.js';

describe('encodeParquet', () => {
  it('answers concurrent requests each with its own columns, as DuckDB reads them', async () => {
    const dir = tempDir();
    const files = await Promise.all(
      Array.from({ length: 8 }, (_, f) =>
        encodeParquet(
          [
            { name: 'n', type: 'DOUBLE', data: Array.from({ length: 100 + f }, (_, i) => (i % 10 === 3 ? null : f * 1000 + i)) },
            { name: 's', type: 'STRING', data: Array.from({ length: 100 + f }, (_, i) => (i % 7 === 0 ? null : `file ${f} row ${i}`)) },
            { name: 'b', type: 'BOOLEAN', data: Array.from({ length: 100 + f }, (_, i) => i % 2 === 0) },
            { name: 'd', type: 'DOUBLE', data: Float64Array.from({ length: 100 + f }, (_, i) => i / 4) },
          ],
          'test',
        ),
      ),
    );
    for (const [f, bytes] of files.entries()) {
      const path = join(dir, `${f}.parquet`);
      writeFileSync(path, bytes);
      const rows = await duckdbRows(`SELECT count(*)::INTEGER AS rows, count(n)::INTEGER AS ns, min(n) AS lo, count(s)::INTEGER AS ss, max(s) AS s, sum(b::INTEGER)::INTEGER AS trues FROM read_parquet(${sqlString(path)})`);
      const doubles = await duckdbRows(`SELECT count(d)::INTEGER AS ds, sum(d) AS total FROM read_parquet(${sqlString(path)})`);
      expect(doubles).toEqual([{ ds: 100 + f, total: ((99 + f) * (100 + f)) / 8 }]);
      const count = 100 + f;
      expect(rows).toEqual([
        {
          rows: count,
          ns: count - Math.ceil((count - 3) / 10),
          lo: f * 1000,
          ss: count - Math.ceil(count / 7),
          s: `file ${f} row 99`,
          trues: Math.ceil(count / 2),
        },
      ]);
    }
  });
});
