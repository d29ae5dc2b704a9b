/**
 * The slice of abstract-level that the store uses, so the rest of storage/
 * works the same on classic-level (on disk) and memory-level (in memory).
 */
import { ClassicLevel } from 'classic-level';
import { StoreError } from './errors.js';

export type KvOp = { type: 'put'; key: Buffer; value: Buffer } | { type: 'del'; key: Buffer };

export interface KvRange {
  gt?: Buffer;
  gte?: Buffer;
  lt?: Buffer;
  lte?: Buffer;
  reverse?: boolean;
  limit?: number;
}

export interface KvIterator {
  nextv(size: number): Promise<Array<[Buffer, Buffer]>>;
  close(): Promise<void>;
}

export interface Kv {
  batch(ops: KvOp[], options?: { sync?: boolean }): Promise<void>;
  get(key: Buffer): Promise<Buffer | undefined>;
  iterator(options: KvRange & { keys?: boolean; values?: boolean; highWaterMarkBytes?: number }): KvIterator;
  clear(options: KvRange): Promise<void>;
  close(): Promise<void>;
}

const ENCODINGS = { keyEncoding: 'buffer', valueEncoding: 'buffer' } as const;
/**
 * LevelDB's default 4 MiB memtable holds about one group commit of 32 × 100 KiB batches, so it
 * flushed (and stalled writers) on nearly every write; a larger one absorbs bursts.
 */
const WRITE_BUFFER_BYTES = 32 * 1024 * 1024;

export async function openKv(location: string | undefined): Promise<Kv> {
  if (location === undefined) {
    // loaded only when asked for: on-disk servers never need it
    const { MemoryLevel } = await import('memory-level');
    const db = new MemoryLevel<Buffer, Buffer>(ENCODINGS);
    await db.open();
    return db as unknown as Kv;
  }
  const db = new ClassicLevel<Buffer, Buffer>(location, { ...ENCODINGS, writeBufferSize: WRITE_BUFFER_BYTES });
  try {
    await db.open();
  } catch (err) {
    // classic-level reports LOCKED as the cause of a DATABASE_NOT_OPEN error.
    const cause = (err as { cause?: { code?: string } }).cause;
    if (cause?.code === 'LEVEL_LOCKED') {
      throw new StoreError('STORE_LOCKED', `data directory ${location} is in use by another process`, { cause: err });
    }
    if (cause?.code === 'LEVEL_CORRUPTION') {
      throw new StoreError('STORE_CORRUPTION', `data directory ${location} is corrupted`, { cause: err });
    }
    throw new StoreError('STORE_IO', `cannot open data directory ${location}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return db as unknown as Kv;
}

/** Collects a whole range; for small metadata ranges only. */
export async function readAll(kv: Kv, range: KvRange): Promise<Array<[Buffer, Buffer]>> {
  const it = kv.iterator(range);
  const out: Array<[Buffer, Buffer]> = [];
  try {
    for (;;) {
      const chunk = await it.nextv(1000);
      if (chunk.length === 0) break;
      out.push(...chunk);
    }
  } finally {
    await it.close();
  }
  return out;
}
