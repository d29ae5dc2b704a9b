/**
 * Reading a shard's log from a start offset to an optional end: offset
 * resolution (EARLIEST / LATEST / RecordId / timestamp) and a cursor that
 * reads bounded chunks and can wait at the tail for new appends.
 */
import type { StoredBatch } from '../../storage/index.js';
import { conflictShardReaderOffset } from '../errors.js';
import type { StreamCatalog } from './streams.js';

/** An offset after its message was decoded: what the handler hands to the core. */
export type Offset =
  | { kind: 'earliest' }
  | { kind: 'latest' }
  | { kind: 'record'; shardId: number; lsn: number }
  | { kind: 'time'; timeMs: number };

export interface Start {
  /** first LSN to read; 1 for EARLIEST (reads clamp to the oldest kept batch) */
  lsn: number;
}

export interface Until {
  /** last LSN to read, inclusive; Infinity when bounded by time or unbounded */
  lsn: number;
  /** stop at the first batch stored after this time */
  maxTimeMs?: number;
}

export const UNBOUNDED: Until = { lsn: Infinity };

export async function resolveStart(catalog: StreamCatalog, shardId: number, offset: Offset): Promise<Start> {
  switch (offset.kind) {
    case 'earliest':
      return { lsn: 1 };
    case 'latest':
      return { lsn: catalog.store.tail(shardId) + 1 };
    case 'record':
      if (offset.shardId !== shardId) {
        throw conflictShardReaderOffset(`record id of shard ${offset.shardId} used to read shard ${shardId}`);
      }
      return { lsn: offset.lsn };
    case 'time':
      return { lsn: await catalog.store.findLsnByTime(shardId, offset.timeMs) };
  }
}

export function resolveUntil(catalog: StreamCatalog, shardId: number, offset: Offset): Until {
  switch (offset.kind) {
    case 'earliest':
      return { lsn: 1 };
    case 'latest':
      return { lsn: catalog.store.tail(shardId) };
    case 'record':
      if (offset.shardId !== shardId) {
        throw conflictShardReaderOffset(`record id of shard ${offset.shardId} used as the end of shard ${shardId}`);
      }
      return { lsn: offset.lsn };
    case 'time':
      return { lsn: Infinity, maxTimeMs: offset.timeMs };
  }
}

export function checkRange(start: Start, until: Until): void {
  if (start.lsn > until.lsn) throw conflictShardReaderOffset('the start offset is after the end offset');
}

export interface ChunkLimits {
  maxBatches: number;
  maxBytes: number;
}

/** Reads one shard forward from `next`; `done` once the end offset is passed. */
export class ShardCursor {
  done = false;

  constructor(
    private readonly catalog: StreamCatalog,
    readonly shardId: number,
    public next: number,
    private readonly until: Until,
  ) {
    if (next > until.lsn) this.done = true;
  }

  /** Next chunk of batches, possibly empty when caught up with the tail. */
  async read(limits: ChunkLimits): Promise<StoredBatch[]> {
    if (this.done) return [];
    const store = this.catalog.store;
    let batches = await store.read(this.shardId, this.next, this.until.lsn, limits.maxBatches, limits.maxBytes);
    const maxTime = this.until.maxTimeMs;
    if (maxTime !== undefined) {
      const cut = batches.findIndex((b) => b.timeMs > maxTime);
      if (cut >= 0) {
        batches = batches.slice(0, cut);
        this.done = true;
      }
    }
    if (batches.length > 0) this.next = batches[batches.length - 1]!.lsn + 1;
    const tail = store.tail(this.shardId);
    if (this.next > this.until.lsn) this.done = true;
    // Caught up with an end that is already in the past: nothing can arrive that belongs in range.
    if (batches.length === 0 && (this.until.lsn <= tail || (maxTime !== undefined && Date.now() > maxTime && this.next > tail))) {
      this.done = true;
    }
    return batches;
  }

  /** Waits until the shard may have more to read. Returns false on timeout or abort. */
  waitForData(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    return this.catalog.store.waitForAppend(this.shardId, this.next - 1, timeoutMs, signal);
  }
}

/** Waits until any of the cursors has data; false on timeout or abort. */
export async function waitForAny(cursors: ShardCursor[], timeoutMs: number, signal: AbortSignal): Promise<boolean> {
  const controller = new AbortController();
  const onAbort = () => controller.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    const results = cursors.map((c) => c.waitForData(timeoutMs, controller.signal).then((got) => got || Promise.reject()));
    return await Promise.any(results).catch(() => false);
  } finally {
    signal.removeEventListener('abort', onAbort);
    controller.abort();
  }
}
