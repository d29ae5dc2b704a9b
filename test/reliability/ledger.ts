/**
 * What the harness sent and what it was told, so a checker can compare it
 * with what the server stores.
 *
 * Every record is self-describing: it names its producer and sequence number
 * and carries a CRC32 of itself, so corruption and misplacement are visible
 * from the record alone. Every batch gets one ledger entry with the outcome
 * of its Append, in the three-way form of Jepsen's queue checker:
 *   ok   - OK with RecordIds: must be stored, whole, at those ids, forever
 *   fail - a definite refusal: must never become visible
 *   info - unknown (timeout, connection lost, UNAVAILABLE): may be stored or
 *          not, but only whole
 */
import { appendFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { status } from '@grpc/grpc-js';
import { Compression, compress, encodeRecords, type CompressionName } from '../../src/records.js';
import { Rng } from './rng.js';

const MAGIC = 0x4853524c; // "HSRL"
const RECORD_HEADER_BYTES = 16;
const RECORD_TRAILER_BYTES = 4;

/** One record's payload: magic | producer | seq | filler length | filler | crc32 of all before. */
export function encodeRecordPayload(producer: number, seq: number, filler: Buffer): { payload: Buffer; crc: number } {
  const out = Buffer.allocUnsafe(RECORD_HEADER_BYTES + filler.length + RECORD_TRAILER_BYTES);
  out.writeUInt32BE(MAGIC, 0);
  out.writeUInt32BE(producer, 4);
  out.writeUInt32BE(seq, 8);
  out.writeUInt32BE(filler.length, 12);
  filler.copy(out, RECORD_HEADER_BYTES);
  const crc = crc32(out.subarray(0, RECORD_HEADER_BYTES + filler.length));
  out.writeUInt32BE(crc, RECORD_HEADER_BYTES + filler.length);
  return { payload: out, crc };
}

export interface DecodedRecord {
  producer: number;
  seq: number;
  crc: number;
}

/** Reads a record payload back; a string says why it is not one of ours or is damaged. */
export function decodeRecordPayload(payload: Buffer): DecodedRecord | string {
  if (payload.length < RECORD_HEADER_BYTES + RECORD_TRAILER_BYTES) return `payload of ${payload.length} bytes is too short`;
  if (payload.readUInt32BE(0) !== MAGIC) return 'payload does not start with the record magic';
  const fillerLength = payload.readUInt32BE(12);
  if (RECORD_HEADER_BYTES + fillerLength + RECORD_TRAILER_BYTES !== payload.length) return 'payload length does not match its header';
  const body = payload.subarray(0, RECORD_HEADER_BYTES + fillerLength);
  const crc = payload.readUInt32BE(RECORD_HEADER_BYTES + fillerLength);
  if (crc32(body) !== crc) return 'record CRC mismatch';
  return { producer: payload.readUInt32BE(4), seq: payload.readUInt32BE(8), crc };
}

/** Random filler cut from one seeded pool: as unpredictable as needed for CRCs to mean something, and cheap. */
let fillerPool: Buffer | undefined;
const FILLER_POOL_BYTES = 1 << 20;
function fillerOf(rng: Rng, length: number): Buffer {
  fillerPool ??= new Rng(0x5eed).bytes(FILLER_POOL_BYTES + 65536);
  if (length > 65536) return rng.bytes(length);
  const at = rng.int(0, FILLER_POOL_BYTES);
  return fillerPool.subarray(at, at + length);
}

export type Outcome = 'pending' | 'ok' | 'fail' | 'info';

export interface LedgerBatch {
  /** index in the ledger */
  id: number;
  stream: string;
  shardId: string;
  producer: number;
  firstSeq: number;
  count: number;
  /** CRC of each record, in order */
  crcs: Uint32Array;
  compression: CompressionName;
  outcome: Outcome;
  /** batch LSN (RecordId.batchId) when acknowledged */
  lsn?: number;
  /** the LSN it was seen at while its outcome was unknown: from then on it must stay there */
  pinnedLsn?: number;
  /** an unknown-outcome batch a full check found absent (it cannot appear later) */
  checkedAbsent?: boolean;
  /** gRPC status code of a failed or unknown append */
  code?: number;
  details?: string;
  /** a label for the run phase that sent it (e.g. the crash cycle) */
  phase: number;
}

/** Statuses after which the batch was definitely not stored. */
const DEFINITE_FAILURES = new Set<number>([
  status.INVALID_ARGUMENT,
  status.NOT_FOUND,
  status.ALREADY_EXISTS,
  status.FAILED_PRECONDITION,
  status.OUT_OF_RANGE,
  status.UNIMPLEMENTED,
  status.PERMISSION_DENIED,
  status.UNAUTHENTICATED,
  status.RESOURCE_EXHAUSTED,
]);

export function outcomeOf(code: number): Outcome {
  if (code === status.OK) return 'ok';
  return DEFINITE_FAILURES.has(code) ? 'fail' : 'info';
}

export interface RecordShape {
  /** filler bytes per record: [min, max], log-uniform */
  filler: readonly [number, number];
}

export interface BuiltBatch {
  batch: LedgerBatch;
  /** the BatchedRecord message to send */
  message: { compressionType: CompressionName; batchSize: number; payload: Buffer };
}

/**
 * The ledger of one scenario: batches by id, and (producer, seq) -> batch for
 * the checker. Producers number their records densely from 0, so the index
 * is a growable Int32Array per producer.
 */
export class Ledger {
  readonly batches: LedgerBatch[] = [];
  private readonly bySeq = new Map<number, Int32Array>();
  private readonly nextSeq = new Map<number, number>();
  private pendingLines: string[] = [];

  /** @param file optional JSON-lines file that receives every settled outcome */
  constructor(private readonly file?: string) {}

  /** Builds a batch of `count` records for a producer and enters it as pending. */
  build(rng: Rng, spec: { stream: string; shardId: string; producer: number; count: number; shape: RecordShape; compression: CompressionName; phase: number }): BuiltBatch {
    const firstSeq = this.nextSeq.get(spec.producer) ?? 0;
    this.nextSeq.set(spec.producer, firstSeq + spec.count);
    const crcs = new Uint32Array(spec.count);
    const records = [];
    for (let i = 0; i < spec.count; i++) {
      const filler = fillerOf(rng, rng.logInt(spec.shape.filler[0], spec.shape.filler[1]));
      const { payload, crc } = encodeRecordPayload(spec.producer, firstSeq + i, filler);
      crcs[i] = crc;
      records.push({ header: { flag: 'RAW' as const, attributes: {}, key: '' }, payload });
    }
    const batch: LedgerBatch = {
      id: this.batches.length,
      stream: spec.stream,
      shardId: spec.shardId,
      producer: spec.producer,
      firstSeq,
      count: spec.count,
      crcs,
      compression: spec.compression,
      outcome: 'pending',
      phase: spec.phase,
    };
    this.batches.push(batch);
    let index = this.bySeq.get(spec.producer);
    if (!index || index.length < firstSeq + spec.count) {
      const grown = new Int32Array(Math.max(1024, (firstSeq + spec.count) * 2)).fill(-1);
      if (index) grown.set(index);
      index = grown;
      this.bySeq.set(spec.producer, index);
    }
    index.fill(batch.id, firstSeq, firstSeq + spec.count);
    const payload = compress(Compression[spec.compression], encodeRecords(records));
    return { batch, message: { compressionType: spec.compression, batchSize: spec.count, payload } };
  }

  /** The batch that holds a producer's record, if we ever built it. */
  find(producer: number, seq: number): LedgerBatch | undefined {
    const id = this.bySeq.get(producer)?.[seq];
    return id === undefined || id < 0 ? undefined : this.batches[id];
  }

  /** Records the outcome of a batch's append. */
  settle(batch: LedgerBatch, result: { lsn: number } | { code: number; details: string }): void {
    if ('lsn' in result) {
      batch.outcome = 'ok';
      batch.lsn = result.lsn;
    } else {
      batch.outcome = outcomeOf(result.code);
      batch.code = result.code;
      batch.details = result.details.slice(0, 300);
    }
    if (this.file) {
      const { crcs: _crcs, ...rest } = batch;
      this.pendingLines.push(JSON.stringify(rest));
      if (this.pendingLines.length >= 1000) this.flush();
    }
  }

  /** Writes buffered outcome lines to the ledger file. */
  flush(): void {
    if (!this.file || this.pendingLines.length === 0) return;
    appendFileSync(this.file, this.pendingLines.join('\n') + '\n');
    this.pendingLines = [];
  }

  /** Batches still pending (the caller lost track of them): treated as unknown. */
  settlePendingAsInfo(): void {
    for (const b of this.batches) if (b.outcome === 'pending') this.settle(b, { code: status.UNKNOWN, details: 'outcome never observed' });
  }

  counts(): Record<Outcome, { batches: number; records: number }> {
    const out: Record<Outcome, { batches: number; records: number }> = {
      pending: { batches: 0, records: 0 },
      ok: { batches: 0, records: 0 },
      fail: { batches: 0, records: 0 },
      info: { batches: 0, records: 0 },
    };
    for (const b of this.batches) {
      out[b.outcome].batches++;
      out[b.outcome].records += b.count;
    }
    return out;
  }
}
