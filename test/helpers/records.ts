/** Builds BatchedRecord messages the way official clients do (BatchHStreamRecords, then compressed). */
import { Compression, compress, encodeRecords, type CompressionName } from '../../src/records.js';

export interface TestRecord {
  key?: string;
  payload: Buffer | string;
  flag?: 'JSON' | 'RAW';
}

export function batch(records: TestRecord[], compression: CompressionName = 'None') {
  const raw = encodeRecords(
    records.map((r) => ({
      header: { flag: r.flag ?? 'RAW', attributes: {}, key: r.key ?? '' },
      payload: Buffer.isBuffer(r.payload) ? r.payload : Buffer.from(r.payload),
    })),
  );
  return {
    compressionType: compression,
    batchSize: records.length,
    payload: compress(Compression[compression], raw),
  };
}

export function rawRecords(n: number, prefix = 'r', key?: string): TestRecord[] {
  return Array.from({ length: n }, (_, i) => ({ payload: `${prefix}${i}`, key }));
}
