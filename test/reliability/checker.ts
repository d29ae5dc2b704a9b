/**
 * Compares what a server stores with the ledger of what was sent. Anomaly
 * names follow Jepsen's queue checker (test/reliability/README.md):
 *
 *   lost            an acknowledged batch (or one seen earlier) is missing
 *   duplicate       a batch is stored twice
 *   misplaced       a batch sits at another RecordId or shard than it was given
 *   corrupt         a stored batch or record does not decode or fails its CRC
 *   reorder         read order is not RecordId order, or a sequential
 *                   producer's batches are out of order within a shard
 *   failed-visible  a definitely refused batch is stored
 *   torn-batch      part of a batch is stored, or records of several batches
 *                   are stored as one
 *   lsn-reuse       one RecordId has held two different batches
 *   gap             a hole in a shard's LSNs not explained by a trim
 *   unknown         a stored record that nobody sent
 *   trim-undone     a batch below an acknowledged trim point is readable
 *   read-error      a read that should have succeeded failed
 *   metadata-lost   (raised by scenarios) a created stream or shard vanished
 */
import type { HStreamClient } from '../../src/client.js';
import { Compression, decodeRecords, type CompressionName } from '../../src/records.js';
import { FIRST_LSN, LSN_BASE } from '../../storage/index.js';
import { decodeRecordPayload, type Ledger, type LedgerBatch } from './ledger.js';

export type AnomalyKind =
  | 'lost'
  | 'duplicate'
  | 'misplaced'
  | 'corrupt'
  | 'reorder'
  | 'failed-visible'
  | 'torn-batch'
  | 'lsn-reuse'
  | 'gap'
  | 'unknown'
  | 'trim-undone'
  | 'read-error'
  | 'metadata-lost';

export interface Anomaly {
  kind: AnomalyKind;
  shardId?: string;
  lsn?: number;
  batchId?: number;
  detail: string;
}

/** One stored batch as a reader returned it. */
export interface StoredView {
  lsn: number;
  batchSize: number;
  compression: string;
  payload: Buffer;
}

export interface ShardRead {
  shardId: string;
  batches: StoredView[];
  /** the status a read ended with, when it did not end OK */
  error?: { code: number; details: string };
}

/** Trim points sent for a shard: `ok` acknowledged, `attempted` the highest sent whatever the outcome. */
export interface TrimState {
  ok: number;
  attempted: number;
}

export interface VerifyOptions {
  /** every shard in scope; a shard missing from `reads` counts as empty */
  shards: string[];
  trims?: Map<string, TrimState>;
  /**
   * Reads may end with an error (corruption runs): batches after the last one
   * delivered in a failed shard read are unverifiable rather than lost.
   */
  partial?: boolean;
  /**
   * Incremental check: each shard was read from this LSN on; batches known to
   * sit below it are not looked for. Without it, reads start at EARLIEST.
   */
  fromLsn?: Map<string, number>;
  /**
   * Damaged-WAL runs: acknowledged batches above a shard's highest stored LSN
   * may be gone (a torn or damaged last WAL block loses the newest writes,
   * undetectably); they are counted in `lostAtTail` instead of raised.
   */
  tailLossAllowed?: boolean;
}

export interface VerifyReport {
  anomalies: Anomaly[];
  /** anomalies by kind (all of them, though `anomalies` keeps only the first few of each) */
  byKind: Partial<Record<AnomalyKind, number>>;
  batchesStored: number;
  recordsStored: number;
  /** acknowledged batches / records found where they belong */
  okBatchesFound: number;
  okRecordsFound: number;
  /** batches of unknown outcome found stored (whole) and found absent */
  infoPresent: number;
  infoAbsent: number;
  /** batches that a failed read never reached (partial mode) */
  unverifiable: number;
  /** acknowledged batches missing above the highest stored LSN of their shard (tailLossAllowed) */
  lostAtTail: number;
}

const EXAMPLES_PER_KIND = 20;

/**
 * Reads a shard from EARLIEST (or from LSN `fromLsn`) to the tail as it is
 * when the read starts; keeps what arrived if the read fails.
 */
export async function readShard(client: HStreamClient, shardId: string, options: { fromLsn?: number; timeoutMs?: number } = {}): Promise<ShardRead> {
  const from = options.fromLsn === undefined ? { specialOffset: 'EARLIEST' } : { recordOffset: { shardId, batchId: String(options.fromLsn), batchIndex: 0 } };
  const call = client.serverStream<{ receivedRecords: Array<{ recordIds: Array<{ batchId: string }>; record: { compressionType: string; batchSize: number; payload: Buffer } }> }>(
    'ReadShardStream',
    { readerId: 'reliability-check', shardId, from, until: { specialOffset: 'LATEST' } },
  );
  const timeoutMs = options.timeoutMs ?? 300_000;
  const timer = setTimeout(() => call.cancel(), timeoutMs);
  const batches: StoredView[] = [];
  try {
    for await (const msg of call) {
      for (const r of msg.receivedRecords) {
        batches.push({
          lsn: Number(r.recordIds[0]?.batchId ?? NaN),
          batchSize: r.record.batchSize,
          compression: r.record.compressionType,
          payload: Buffer.from(r.record.payload),
        });
      }
    }
    return { shardId, batches };
  } catch (err) {
    const e = err as { code?: number; details?: string; message?: string };
    return { shardId, batches, error: { code: e.code ?? -1, details: e.details ?? e.message ?? String(err) } };
  } finally {
    clearTimeout(timer);
  }
}

export class Checker {
  /** every RecordId (shard -> lsn -> ledger batch) ever acknowledged or observed */
  private readonly history = new Map<string, Map<number, number>>();
  /** highest LSN observed per shard at the last full verification */
  private readonly floors = new Map<string, number>();
  /** anomalies raised outside verify() (acks); they are reported by the next verify */
  private readonly pending: Anomaly[] = [];

  constructor(private readonly ledger: Ledger) {}

  private shardHistory(shardId: string): Map<number, number> {
    let h = this.history.get(shardId);
    if (!h) {
      h = new Map();
      this.history.set(shardId, h);
    }
    return h;
  }

  /** Checks a fresh acknowledgement: its RecordId must be new (above everything seen before the restart, never held by another batch). */
  noteAck(batch: LedgerBatch): void {
    const lsn = batch.lsn!;
    const floor = this.floors.get(batch.shardId);
    if (floor !== undefined && lsn <= floor) {
      this.pending.push({ kind: 'lsn-reuse', shardId: batch.shardId, lsn, batchId: batch.id, detail: `acknowledged at LSN ${lsn}, not above ${floor}, the highest LSN stored before this run phase` });
    }
    const h = this.shardHistory(batch.shardId);
    const held = h.get(lsn);
    if (held !== undefined && held !== batch.id) {
      this.pending.push({ kind: 'lsn-reuse', shardId: batch.shardId, lsn, batchId: batch.id, detail: `RecordId already held by batch ${held}` });
    }
    h.set(lsn, batch.id);
  }

  /** Raises an anomaly found by a scenario (e.g. metadata-lost). */
  raise(anomaly: Anomaly): void {
    this.pending.push(anomaly);
  }

  floor(shardId: string): number | undefined {
    return this.floors.get(shardId);
  }

  verify(reads: ShardRead[], options: VerifyOptions): VerifyReport {
    const report: VerifyReport = {
      anomalies: [],
      byKind: {},
      batchesStored: 0,
      recordsStored: 0,
      okBatchesFound: 0,
      okRecordsFound: 0,
      infoPresent: 0,
      infoAbsent: 0,
      unverifiable: 0,
      lostAtTail: 0,
    };
    const add = (a: Anomaly) => {
      report.byKind[a.kind] = (report.byKind[a.kind] ?? 0) + 1;
      if (report.byKind[a.kind]! <= EXAMPLES_PER_KIND) report.anomalies.push(a);
    };
    for (const a of this.pending.splice(0)) add(a);

    const seen = new Map<number, number>();
    const readOf = new Map(reads.map((r) => [r.shardId, r]));
    /** for failed reads: the last LSN delivered before the error */
    const reachedUpTo = new Map<string, number>();
    /** highest LSN read per shard */
    const highest = new Map<string, number>();

    for (const shardId of options.shards) {
      const read = readOf.get(shardId) ?? { shardId, batches: [] };
      const trim = options.trims?.get(shardId);
      const from = options.fromLsn?.get(shardId);
      const h = this.shardHistory(shardId);
      const lastSeq = new Map<number, number>();
      let prev: number | undefined;
      let maxLsn = this.floors.get(shardId) ?? LSN_BASE;
      for (const view of read.batches) {
        const lsn = view.lsn;
        report.batchesStored++;
        report.recordsStored += view.batchSize;
        if (prev !== undefined && lsn <= prev) add({ kind: 'reorder', shardId, lsn, detail: `LSN ${lsn} read after ${prev}` });
        else if (prev !== undefined && lsn !== prev + 1) add({ kind: 'gap', shardId, lsn, detail: `LSNs ${prev + 1}..${lsn - 1} are missing` });
        else if (prev === undefined) {
          if (trim && lsn <= trim.ok) add({ kind: 'trim-undone', shardId, lsn, detail: `LSN ${lsn} is readable below the acknowledged trim point ${trim.ok}` });
          const head = Math.max(LSN_BASE, trim?.attempted ?? LSN_BASE) + 1;
          const expected = Math.max(head, from ?? 0);
          if (lsn > expected && !options.partial) add({ kind: 'gap', shardId, lsn, detail: `the read starts at LSN ${lsn}, expected ${expected === FIRST_LSN ? FIRST_LSN : `at most ${expected}`}` });
        }
        prev = Math.max(prev ?? lsn, lsn);
        maxLsn = Math.max(maxLsn, lsn);

        const batch = this.identify(view, shardId, add);
        if (!batch) continue;
        const held = h.get(lsn);
        if (held !== undefined && held !== batch.id) add({ kind: 'lsn-reuse', shardId, lsn, batchId: batch.id, detail: `RecordId held by batch ${held} earlier` });
        h.set(lsn, batch.id);
        const times = (seen.get(batch.id) ?? 0) + 1;
        seen.set(batch.id, times);
        if (times > 1) add({ kind: 'duplicate', shardId, lsn, batchId: batch.id, detail: `batch stored ${times} times` });
        if (batch.shardId !== shardId) add({ kind: 'misplaced', shardId, lsn, batchId: batch.id, detail: `batch was appended to shard ${batch.shardId}` });
        if (batch.outcome === 'fail') add({ kind: 'failed-visible', shardId, lsn, batchId: batch.id, detail: `append failed with code ${batch.code}: ${batch.details}` });
        else if (batch.checkedAbsent) add({ kind: 'failed-visible', shardId, lsn, batchId: batch.id, detail: 'batch of unknown outcome was absent at an earlier check and appeared later' });
        else if (batch.outcome === 'ok') {
          if (batch.lsn !== lsn) add({ kind: 'misplaced', shardId, lsn, batchId: batch.id, detail: `acknowledged at LSN ${batch.lsn}` });
          else if (times === 1) {
            report.okBatchesFound++;
            report.okRecordsFound += batch.count;
          }
        } else {
          if (batch.pinnedLsn !== undefined && batch.pinnedLsn !== lsn) add({ kind: 'misplaced', shardId, lsn, batchId: batch.id, detail: `seen at LSN ${batch.pinnedLsn} before` });
          batch.pinnedLsn ??= lsn;
        }
        const last = lastSeq.get(batch.producer);
        if (last !== undefined && batch.firstSeq < last) {
          add({ kind: 'reorder', shardId, lsn, batchId: batch.id, detail: `producer ${batch.producer} seq ${batch.firstSeq} stored after seq ${last}` });
        }
        lastSeq.set(batch.producer, Math.max(last ?? 0, batch.firstSeq));
      }
      if (read.error) {
        if (options.partial) reachedUpTo.set(shardId, prev ?? LSN_BASE);
        else add({ kind: 'read-error', shardId, detail: `read ended with code ${read.error.code}: ${read.error.details}` });
      }
      if (!options.partial) this.floors.set(shardId, maxLsn);
      if (prev !== undefined) highest.set(shardId, prev);
    }

    const inScope = new Set(options.shards);
    for (const batch of this.ledger.batches) {
      if (!inScope.has(batch.shardId) || seen.has(batch.id)) continue;
      const known = batch.lsn ?? batch.pinnedLsn;
      const from = options.fromLsn?.get(batch.shardId);
      if (from !== undefined && (known !== undefined ? known < from : batch.checkedAbsent)) continue;
      const mustExist = batch.outcome === 'ok' || batch.pinnedLsn !== undefined;
      if (!mustExist) {
        if (batch.outcome === 'info' || batch.outcome === 'pending') {
          report.infoAbsent++;
          if (!options.partial) batch.checkedAbsent = true;
        }
        continue;
      }
      const lsn = batch.lsn ?? batch.pinnedLsn!;
      const trim = options.trims?.get(batch.shardId);
      if (trim && lsn <= trim.attempted) continue;
      const reached = reachedUpTo.get(batch.shardId);
      if (reached !== undefined && lsn > reached) {
        report.unverifiable++;
        continue;
      }
      if (options.tailLossAllowed && lsn > (highest.get(batch.shardId) ?? LSN_BASE)) {
        report.lostAtTail++;
        continue;
      }
      add({
        kind: 'lost',
        shardId: batch.shardId,
        lsn,
        batchId: batch.id,
        detail: `${batch.outcome === 'ok' ? 'acknowledged' : 'previously seen'} batch of ${batch.count} records (producer ${batch.producer}, seq ${batch.firstSeq}) is missing`,
      });
    }
    for (const [id] of seen) {
      const b = this.ledger.batches[id]!;
      if (b.outcome !== 'ok') report.infoPresent++;
    }
    return report;
  }

  /** The ledger batch a stored batch is, or undefined (after raising why). */
  private identify(view: StoredView, shardId: string, add: (a: Anomaly) => void): LedgerBatch | undefined {
    const { lsn } = view;
    const code = Compression[view.compression as CompressionName];
    let records;
    try {
      records = decodeRecords(code ?? -1, view.payload);
    } catch (err) {
      add({ kind: 'corrupt', shardId, lsn, detail: `batch does not decode: ${(err as Error).message}` });
      return undefined;
    }
    if (records.length === 0) {
      add({ kind: 'corrupt', shardId, lsn, detail: 'batch holds no records' });
      return undefined;
    }
    const decoded = [];
    for (const r of records) {
      const d = decodeRecordPayload(r.payload);
      if (typeof d === 'string') {
        add({ kind: 'corrupt', shardId, lsn, detail: d });
        return undefined;
      }
      decoded.push(d);
    }
    const batch = this.ledger.find(decoded[0]!.producer, decoded[0]!.seq);
    if (!batch) {
      add({ kind: 'unknown', shardId, lsn, detail: `record producer ${decoded[0]!.producer} seq ${decoded[0]!.seq} was never sent` });
      return undefined;
    }
    const whole =
      records.length === batch.count &&
      view.batchSize === batch.count &&
      decoded.every((d, i) => d.producer === batch.producer && d.seq === batch.firstSeq + i && d.crc === batch.crcs[i]);
    if (!whole) {
      add({
        kind: 'torn-batch',
        shardId,
        lsn,
        batchId: batch.id,
        detail: `stored ${records.length} records (batchSize ${view.batchSize}) starting at producer ${decoded[0]!.producer} seq ${decoded[0]!.seq}; batch ${batch.id} has ${batch.count} from seq ${batch.firstSeq}`,
      });
      return undefined;
    }
    return batch;
  }
}

export function describeReport(report: VerifyReport): string {
  const kinds = Object.entries(report.byKind).map(([k, n]) => `${k}=${n}`);
  const head = `stored ${report.batchesStored} batches / ${report.recordsStored} records; acknowledged found ${report.okBatchesFound} / ${report.okRecordsFound}; unknown-outcome present ${report.infoPresent}, absent ${report.infoAbsent}${report.unverifiable ? `; unverifiable ${report.unverifiable}` : ''}${report.lostAtTail ? `; lost at the tail ${report.lostAtTail}` : ''}`;
  if (kinds.length === 0) return `${head}; no anomalies`;
  return `${head}\nANOMALIES: ${kinds.join(', ')}\n${report.anomalies.map((a) => `  ${a.kind} shard=${a.shardId ?? '-'} lsn=${a.lsn ?? '-'} batch=${a.batchId ?? '-'}: ${a.detail}`).join('\n')}`;
}
