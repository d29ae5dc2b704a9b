/**
 * Records for the CLI: rendering of received batches as upstream's read
 * lines, and turning stdin lines into HStreamRecords (JSON objects as
 * Struct-encoded JSON records, others RAW).
 */
import { decodeRecords, compressionCode, type HStreamRecord } from '../records.js';
import { aesonEncode, formatRecordLine, publishTimeMs } from './format.js';
import { decodeStruct, encodeStruct } from '../struct.js';
import { parseJsonObject } from './struct.js';

// ---------------------------------------------------------------------------
// Reading

export interface ReceivedRecordMsg {
  recordIds: Array<{ shardId: string; batchId: string; batchIndex: number }>;
  record: {
    compressionType: string | number;
    publishTime: { seconds: string; nanos: number } | null;
    batchSize: number;
    payload: Buffer;
  } | null;
}

function renderPayload(record: HStreamRecord): string {
  if (record.header.flag === 'RAW') return record.payload.toString('utf8');
  try {
    return aesonEncode(decodeStruct(record.payload));
  } catch (err) {
    // Some clients write JSON text under the JSON flag; show it rather than fail.
    const text = record.payload.toString('utf8');
    if (parseJsonObject(text)) return text;
    return `parse record error: ${(err as Error).message}`;
  }
}

/** One line per record of a received batch, like upstream's `formatReceivedRecord`. */
export function formatReceivedRecord(rr: ReceivedRecordMsg): string[] {
  if (!rr.record) return ['parse record error'];
  let records: HStreamRecord[];
  try {
    records = decodeRecords(compressionCode(rr.record.compressionType), rr.record.payload);
  } catch (err) {
    const e = err as { message: string; extra?: unknown };
    return [`parse record error: ${typeof e.extra === 'string' ? e.extra : e.message}`];
  }
  const timestampMs = publishTimeMs(rr.record.publishTime);
  const n = Math.min(records.length, rr.recordIds.length);
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = rr.recordIds[i]!;
    const record = records[i]!;
    lines.push(
      formatRecordLine({
        timestampMs,
        shardId: id.shardId,
        batchId: id.batchId,
        batchIndex: id.batchIndex,
        key: record.header.key,
        record: renderPayload(record),
      }),
    );
  }
  return lines;
}

// ---------------------------------------------------------------------------
// Appending

export interface LineToRecordOptions {
  /** key for lines that do not carry one */
  key: string;
  /** every line is a RAW record, even when it is a JSON object */
  raw: boolean;
  /** when set, `key<separator>payload` lines carry their own key (split at the first separator) */
  separator?: string;
}

/** The record a stdin line stands for; undefined for blank lines. */
export function lineToRecord(line: string, opts: LineToRecordOptions): HStreamRecord | undefined {
  if (line.trim() === '') return undefined;
  let key = opts.key;
  let body = line;
  if (opts.separator) {
    const at = line.indexOf(opts.separator);
    if (at >= 0) {
      key = line.slice(0, at);
      body = line.slice(at + opts.separator.length);
    }
  }
  const json = opts.raw ? undefined : parseJsonObject(body);
  return json
    ? { header: { flag: 'JSON', attributes: {}, key }, payload: encodeStruct(json) }
    : { header: { flag: 'RAW', attributes: {}, key }, payload: Buffer.from(body, 'utf8') };
}
