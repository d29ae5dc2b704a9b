/**
 * Lake file encoding off the server's thread: one worker thread for every
 * lake sink of the process, started on first use, requests answered in
 * order. The server's thread only copies each record's payload into shared
 * memory (lake-records.ts); reading the records as JSON, the schema, the
 * columns and the Parquet encoding run here (lake-encode.ts) while the
 * server goes on reading the next file's records. A sink awaits the file
 * before it writes it (exactly once stays the writer's: temporary name,
 * fsync, rename, then the offset).
 *
 * A worker that dies fails what it was encoding (the sink retries that
 * file) and the next request starts a new one. Where the compiled worker
 * script cannot be found, encoding runs in this thread instead, on a turn of
 * its own: the sink that asked (which holds its writer's lock while it
 * seals files) has returned by then.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { encodeLakeFile, type LakeFile, type LakeFileRequest } from './lake-encode.js';

export interface EncodeRequest {
  readonly id: number;
  readonly file: LakeFileRequest;
}

export type EncodeReply = { readonly id: number; readonly file: LakeFile } | { readonly id: number; readonly error: string };

interface Pending {
  resolve(file: LakeFile): void;
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
      if ('error' in reply) pending.reject(new Error(`encoding a lake file failed: ${reply.error}`));
      else pending.resolve(reply.file);
    });
    const fail = (why: string) => {
      this.dead = true;
      for (const p of this.#pending.values()) p.reject(new Error(`the lake encoder thread ${why}`));
      this.#pending.clear();
    };
    this.#worker.on('error', (err) => fail(`failed: ${err.message}`));
    this.#worker.on('exit', (code) => fail(`exited with code ${code}`));
  }

  encode(file: LakeFileRequest): Promise<LakeFile> {
    const id = this.#nextId++;
    return new Promise<LakeFile>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      // held while it works for us, so a request never waits on a thread the process let go of
      this.#worker.ref();
      // the records are in shared memory: posting them copies no payload
      this.#worker.postMessage({ id, file } satisfies EncodeRequest);
    });
  }
}

let thread: EncoderThread | undefined;
let script: string | null | undefined;

/** Where files are encoded: the worker thread, or (`inline`, and without a compiled worker) this thread on a later turn. */
export type EncoderPlace = 'thread' | 'inline';

/** The file of the records: contents, the schema it was encoded with, the rejected records' lines. */
export function encodeLakeFileOffThread(file: LakeFileRequest, place: EncoderPlace = 'thread'): Promise<LakeFile> {
  if (script === undefined) script = workerScript() ?? null;
  if (place === 'inline' || script === null) {
    return new Promise((resolve, reject) =>
      setImmediate(() => {
        try {
          resolve(encodeLakeFile(file));
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      }),
    );
  }
  if (!thread || thread.dead) thread = new EncoderThread(script);
  return thread.encode(file);
}
