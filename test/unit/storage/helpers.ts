/** Shared pieces of the storage unit tests: a log-capturing StoreLogger and a fault-injecting Kv. */
import { rmSync } from 'node:fs';
import { afterEach } from 'vitest';
import type { StoreLogger } from '../../../storage/index.js';
import { tempDir } from '../../helpers/server.js';
import type { Kv, KvOp } from '../../../storage/kv.js';

export interface LogLine {
  level: 'error' | 'warn' | 'info';
  obj: Record<string, unknown>;
  msg: string;
}

export function captureLog(): { logger: StoreLogger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: LogLine['level']) => (obj: object, msg: string) => void lines.push({ level, obj: obj as Record<string, unknown>, msg });
  return { logger: { error: at('error'), warn: at('warn'), info: at('info') }, lines };
}

/**
 * A switchable fault shared by every database a store opens: while `writes` is set, each batch
 * fails like a full disk; 'lost' writes nothing, 'stored' writes the batch and then fails (the
 * outcome of a failed sync). While `opens` is set, opening a database fails.
 */
export class Fault {
  writes: 'lost' | 'stored' | undefined;
  opens = false;
  opened = 0;
  failedWrites = 0;

  wrap = (kv: Kv): Kv => {
    this.opened++;
    if (this.opens) throw new Error('IO error: injected: cannot open the database');
    return {
      batch: async (ops: KvOp[], options?: { sync?: boolean }) => {
        const mode = this.writes;
        if (mode === undefined) return kv.batch(ops, options);
        this.failedWrites++;
        if (mode === 'stored') await kv.batch(ops, options);
        throw Object.assign(new Error('IO error: injected: No space left on device'), { code: 'LEVEL_IO_ERROR' });
      },
      get: (key) => kv.get(key),
      iterator: (options) => kv.iterator(options),
      clear: (range) => kv.clear(range),
      close: () => kv.close(),
    };
  };
}

export const entry = (text: string, batchSize = 1) => ({ compression: 0, batchSize, payload: Buffer.from(text) });

/** Polls `fn` until it resolves (returns its value) or `timeoutMs` passes (throws its last error). */
export async function eventually<T>(fn: () => Promise<T>, timeoutMs = 5000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }
}

/** A function that makes a temp directory, removed after each test of the calling file. */
export function tempDirsPerTest(): () => string {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = tempDir();
    dirs.push(d);
    return d;
  };
}
