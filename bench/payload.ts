/**
 * Bench data: 1 KiB incompressible (random) records, built into
 * BatchedRecord payloads the way official clients do (BatchHStreamRecords,
 * no compression). Built once per scenario so the load client spends its
 * CPU on calls, not on generating bytes.
 */
import { randomBytes } from 'node:crypto';
import { encodeRecords } from '../src/records.js';

export const RECORD_BYTES = 1024;

/** Distinct batches per pool: enough that nothing is trivially cached, small enough to build fast. */
const POOL_SIZE = 4;

export function randomRecords(count: number): Buffer[] {
  return Array.from({ length: count }, () => randomBytes(RECORD_BYTES));
}

/** A serialized BatchHStreamRecords of `records` RAW records with empty keys. */
export function batchPayload(records: Buffer[]): Buffer {
  return encodeRecords(records.map((payload) => ({ header: { flag: 'RAW', attributes: {}, key: '' }, payload })));
}

export interface BatchPool {
  batchSize: number;
  /** raw records per batch (what the bare gRPC baseline sends as `repeated bytes`) */
  records: Buffer[][];
  /** BatchedRecord.payload per batch (what Append sends) */
  payloads: Buffer[];
  next(): number;
}

export function batchPool(batchSize: number, size = POOL_SIZE): BatchPool {
  const records = Array.from({ length: size }, () => randomRecords(batchSize));
  const payloads = records.map(batchPayload);
  let i = 0;
  return { batchSize, records, payloads, next: () => i++ % size };
}
