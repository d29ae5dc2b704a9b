/**
 * Parquet encoding off the server's thread: one worker thread for every
 * lake sink of the process, started on first use, requests answered in
 * order. While it encodes a file the server goes on reading records; a
 * sink awaits the bytes before it writes them (exactly once stays the
 * writer's: temporary name, fsync, rename, then the offset).
 *
 * A worker that dies fails what it was encoding (the sink retries that
 * file) and the next request starts a new one. Where the compiled worker
 * script cannot be found, encoding runs in this thread instead.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { parquetWriteBuffer, type ColumnSource } from 'hyparquet-writer';

export interface EncodeRequest {
  readonly id: number;
  readonly columns: ColumnSource[];
  readonly createdBy: string;
}

export type EncodeReply = { readonly id: number; readonly bytes: ArrayBuffer } | { readonly id: number; readonly error: string };

interface Pending {
  resolve(bytes: Uint8Array): void;
  reject(err: Error): void;
}

/** The compiled worker beside this module; from the TypeScript sources (tests), its build under dist/. */
function workerScript(): string | undefined {
  const here = import.meta.url;
  const url = here.endsWith('.ts') ? new URL('../../dist/src/connectors/parquet-encoder-worker.js', here) : new URL('./parquet-encoder-worker.js', here);
  const path = fileURLToPath(url);
  return existsSync(path) ? path : undefined;
}

class EncoderThread {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  #nextId = 1;
  dead = false;

  constructor(script: string) {
    this.#worker = new Worker(script);
    this.#worker.unref();
    this.#worker.on('message', (reply: EncodeReply) => {
      const pending = this.#pending.get(reply.id);
      if (!pending) return;
      this.#pending.delete(reply.id);
      if (this.#pending.size === 0) this.#worker.unref();
      if ('error' in reply) pending.reject(new Error(`encoding Parquet failed: ${reply.error}`));
      else pending.resolve(new Uint8Array(reply.bytes));
    });
    const fail = (why: string) => {
      this.dead = true;
      for (const p of this.#pending.values()) p.reject(new Error(`the Parquet encoder thread ${why}`));
      this.#pending.clear();
    };
    this.#worker.on('error', (err) => fail(`failed: ${err.message}`));
    this.#worker.on('exit', (code) => fail(`exited with code ${code}`));
  }

  encode(columns: ColumnSource[], createdBy: string): Promise<Uint8Array> {
    const id = this.#nextId++;
    return new Promise<Uint8Array>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      // held while it works for us, so a request never waits on a thread the process let go of
      this.#worker.ref();
      // typed columns move to the thread instead of being copied (the caller lets go of them)
      const transfer = columns.flatMap((c) => (c.data instanceof Float64Array ? [c.data.buffer as ArrayBuffer] : []));
      this.#worker.postMessage({ id, columns, createdBy } satisfies EncodeRequest, transfer);
    });
  }
}

let thread: EncoderThread | undefined;
let script: string | null | undefined;

/** The Parquet file of the columns, as bytes; typed-array columns are handed over (unusable here after). */
export async function encodeParquet(columns: ColumnSource[], createdBy: string): Promise<Uint8Array> {
  if (script === undefined) script = workerScript() ?? null;
  if (script === null) return new Uint8Array(parquetWriteBuffer({ columnData: columns, createdBy }));
  if (!thread || thread.dead) thread = new EncoderThread(script);
  return thread.encode(columns, createdBy);
}
