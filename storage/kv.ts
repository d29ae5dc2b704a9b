/**
 * The slice of abstract-level that the store uses, so the rest of storage/
 * works the same on classic-level (on disk) and memory-level (in memory).
 */
import { readdir, rm, stat, statfs, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
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
  /** next entries are at or after `target` (at or before it when reverse) */
  seek(target: Buffer): void;
  close(): Promise<void>;
}

export interface Kv {
  batch(ops: KvOp[], options?: { sync?: boolean }): Promise<void>;
  get(key: Buffer): Promise<Buffer | undefined>;
  /** With the utf8 encodings rows come as strings (see readAllText), whatever the type says. */
  iterator(options: KvRange & { keys?: boolean; values?: boolean; highWaterMarkBytes?: number; keyEncoding?: 'utf8'; valueEncoding?: 'utf8' }): KvIterator;
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
  return withDirectBatch(db);
}

/** classic-level's own write: what abstract-level's batch() ends in after checking and re-encoding every op. */
interface NativeBatch {
  _batch(ops: KvOp[], options: { sync: boolean }): Promise<void>;
}

/**
 * The database with batches handed straight to classic-level. abstract-level's batch() copies
 * each op into a new object and looks its encodings up before that: about 5 µs of the main
 * thread per op, two thirds of the cost of a CreateStream's three-op write (measured alone:
 * 20 µs per create through batch(), 4 µs direct). The store's ops are already Buffers with
 * buffer encodings, so none of that changes what is written. While the database is not open,
 * batch() still runs, so a write then fails with abstract-level's error instead of reaching a
 * closed native handle.
 */
function withDirectBatch(db: ClassicLevel<Buffer, Buffer>): Kv {
  const kv = db as unknown as Kv;
  const native = db as unknown as NativeBatch;
  return {
    batch: (ops, options) => {
      if (db.status !== 'open' || ops.length === 0 || typeof native._batch !== 'function') return kv.batch(ops, options);
      return native._batch(ops, { sync: options?.sync === true });
    },
    get: (key) => kv.get(key),
    iterator: (options) => kv.iterator(options),
    clear: (range) => kv.clear(range),
    close: () => kv.close(),
  };
}

/**
 * How much one nextv of readAll may carry. classic-level stops a nextv at 16 KiB by default: the
 * metadata of 100k streams took 2,175 round trips to the thread pool per 100k keys (260 ms);
 * with 1 MiB, 101 (160 ms).
 */
const READ_ALL_CHUNK_BYTES = 1024 * 1024;

/** Collects a whole range; for small ranges only (metadata, or bounded by `limit`). */
export function readAll(kv: Kv, range: KvRange & { values?: boolean }): Promise<Array<[Buffer, Buffer]>> {
  return collect(kv.iterator({ highWaterMarkBytes: READ_ALL_CHUNK_BYTES, ...range }));
}

/**
 * readAll of UTF-8 keys and values as strings, decoded by the database: no two Buffers per row
 * (at start-up, 72 MB of external garbage for the metadata of 100k streams, and a toString each).
 */
export function readAllText(kv: Kv, range: KvRange): Promise<Array<[string, string]>> {
  const it = kv.iterator({ highWaterMarkBytes: READ_ALL_CHUNK_BYTES, ...range, keyEncoding: 'utf8', valueEncoding: 'utf8' });
  return collect(it as unknown as RowIterator<[string, string]>);
}

interface RowIterator<R> {
  nextv(size: number): Promise<R[]>;
  close(): Promise<void>;
}

async function collect<R>(it: RowIterator<R>): Promise<R[]> {
  const out: R[] = [];
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

const PROBE_FILE = 'REOPEN-PROBE';

/**
 * Why reopening the LevelDB database in `location` would fail now, or
 * undefined if it looks possible. Reopening replays the write-ahead logs into
 * a table file before anything else, so it needs about their size in free
 * space (freeing less than that cannot help any LevelDB store, restarted or
 * not), and a writable directory. The store checks first because it must
 * close the old database (which still serves reads) before it can reopen it.
 */
export async function reopenBlocker(location: string): Promise<string | undefined> {
  try {
    let logBytes = 0;
    for (const name of await readdir(location)) {
      if (/^\d+\.log$/.test(name)) logBytes += (await stat(join(location, name))).size;
    }
    const needed = Math.ceil(logBytes * 1.125) + 256 * 1024;
    const fs = await statfs(location);
    // root may use the blocks reserved for it, and LevelDB then does
    const free = (process.getuid?.() === 0 ? fs.bfree : fs.bavail) * fs.bsize;
    if (free < needed) return `${free} bytes free, reopening needs about ${needed}`;
    const probe = join(location, PROBE_FILE);
    try {
      await writeFile(probe, Buffer.alloc(4096));
    } finally {
      await rm(probe, { force: true }).catch(() => undefined);
    }
    return undefined;
  } catch (err) {
    return `the data directory is not writable: ${(err as Error).message}`;
  }
}
