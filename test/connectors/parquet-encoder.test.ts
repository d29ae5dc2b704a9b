/**
 * The lake encoder (src/connectors/parquet-encoder.ts, lake-encode.ts):
 * requests sent at once each get their own file back, as DuckDB reads it,
 * with the schema grown from the one given and the records that are not
 * JSON objects set aside with their ids; without the thread, encoding runs
 * on a later turn, never inside the caller's.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RecordPacker } from '../../src/connectors/lake-records.js';
import { encodeLakeFileOffThread } from '../../src/connectors/parquet-encoder.js';
import { encodeStruct } from '../../src/struct.js';
import { duckdbRows, sqlString } from '../helpers/duckdb.js';
import { tempDir } from '../helpers/server.js';

function packed(payloads: Array<{ payload: string | Buffer; raw?: boolean }>) {
  const packer = new RecordPacker();
  payloads.forEach((p, i) => packer.push(typeof p.payload === 'string' ? Buffer.from(p.payload) : p.payload, 7, i, p.raw === true));
  return packer.packed();
}

describe('lake encoder', () => {
  it('answers concurrent requests each with its own file, schema and rejected records, as DuckDB reads them', async () => {
    const dir = tempDir();
    const files = await Promise.all(
      Array.from({ length: 8 }, (_, f) => {
        const rows = Array.from({ length: 100 + f }, (_, i) => ({
          payload: i === 5 ? '[1,2]' : i === 6 ? '{not json' : JSON.stringify({ n: i % 10 === 3 ? null : f * 1000 + i, s: i % 7 === 0 ? undefined : `file ${f} row ${i}`, b: i % 2 === 0, d: i / 4 }),
        }));
        return encodeLakeFileOffThread({ format: 'parquet', shardId: 3, fields: [{ name: 'old', type: 'STRING' }], records: packed(rows), createdBy: 'test' });
      }),
    );
    for (const [f, file] of files.entries()) {
      expect(file.fields).toEqual([
        { name: 'old', type: 'STRING' },
        { name: 'n', type: 'DOUBLE' },
        { name: 'b', type: 'BOOLEAN' },
        { name: 'd', type: 'DOUBLE' },
        { name: 's', type: 'STRING' },
      ]);
      expect(file.rejected.map((line) => JSON.parse(line) as unknown)).toEqual([
        { recordId: '3-7-5', reason: 'not a JSON object', payload: '[1,2]' },
        { recordId: '3-7-6', reason: 'not JSON', payload: '{not json' },
      ]);
      const path = join(dir, `${f}.parquet`);
      writeFileSync(path, file.data as Uint8Array);
      const count = 100 + f;
      const kept = Array.from({ length: count }, (_, i) => i).filter((i) => i !== 5 && i !== 6);
      const rows = await duckdbRows(
        `SELECT count(*)::INTEGER AS rows, count(old)::INTEGER AS olds, count(n)::INTEGER AS ns, min(n) AS lo, count(s)::INTEGER AS ss, sum(b::INTEGER)::INTEGER AS trues, sum(d) AS total FROM read_parquet(${sqlString(path)})`,
      );
      expect(rows).toEqual([
        {
          rows: kept.length,
          olds: 0,
          ns: kept.filter((i) => i % 10 !== 3).length,
          lo: f * 1000,
          ss: kept.filter((i) => i % 7 !== 0).length,
          trues: kept.filter((i) => i % 2 === 0).length,
          total: kept.reduce((n, i) => n + i / 4, 0),
        },
      ]);
    }
  });

  it('reads Struct (HRecord) payloads as objects, RAW payloads as text, and widens mixed kinds to strings', async () => {
    const file = await encodeLakeFileOffThread({
      format: 'jsonl',
      shardId: 1,
      fields: [],
      records: packed([{ payload: encodeStruct({ a: 1, b: { c: true } }) }, { payload: '{"a":"x"}', raw: true }, { payload: Buffer.from([0xff, 0xfe]), raw: true }]),
      createdBy: 'test',
    });
    expect(file.fields).toEqual([
      { name: 'a', type: 'STRING' },
      { name: 'b', type: 'JSON' },
    ]);
    expect(file.data).toBe('{"a":1,"b":{"c":true}}\n{"a":"x"}\n');
    expect(file.rejected.map((line) => JSON.parse(line) as unknown)).toEqual([{ recordId: '1-7-2', reason: 'not UTF-8', payloadBase64: '//4=' }]);
  });

  it('without the thread encodes on a later turn: the caller (a sink holding its lock) goes on first', async () => {
    const turns: string[] = [];
    const encoding = encodeLakeFileOffThread({ format: 'parquet', shardId: 1, fields: [], records: packed([{ payload: '{"a":1}' }]), createdBy: 'test' }, 'inline').then((file) => {
      turns.push('encoded');
      return file;
    });
    // everything the caller does in its own turn, promise continuations included, comes first
    for (let i = 0; i < 10; i++) await Promise.resolve();
    turns.push('caller');
    const file = await encoding;
    expect(turns).toEqual(['caller', 'encoded']);
    expect(file.fields).toEqual([{ name: 'a', type: 'DOUBLE' }]);
  });
});
