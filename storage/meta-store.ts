/**
 * Metadata (streams, shards, readers, subscriptions, checkpoints, queries) as
 * JSON values under 'm' keys in the same database as the log, so a metadata
 * change and the data it describes can be written in one atomic batch.
 */
import type { Kv, KvOp } from './kv.js';
import { readAll } from './kv.js';
import { metaKey, metaPathOf, metaPrefixEnd } from './keys.js';

export type MetaOp<T = unknown> = { type: 'put'; path: string; value: T } | { type: 'del'; path: string };

export function metaOpToKv(op: MetaOp): KvOp {
  return op.type === 'put'
    ? { type: 'put', key: metaKey(op.path), value: Buffer.from(JSON.stringify(op.value), 'utf8') }
    : { type: 'del', key: metaKey(op.path) };
}

export class MetaStore {
  constructor(
    private readonly kv: Kv,
    private readonly sync: () => boolean,
  ) {}

  async get<T>(path: string): Promise<T | undefined> {
    const value = await this.kv.get(metaKey(path));
    return value === undefined ? undefined : (JSON.parse(value.toString('utf8')) as T);
  }

  /** Every entry whose path starts with `prefix`, in path order. */
  async list<T>(prefix: string): Promise<Array<{ path: string; value: T }>> {
    const rows = await readAll(this.kv, { gte: metaKey(prefix), lt: metaPrefixEnd(prefix) });
    return rows.map(([key, value]) => ({ path: metaPathOf(key), value: JSON.parse(value.toString('utf8')) as T }));
  }

  async write(ops: MetaOp[]): Promise<void> {
    if (ops.length === 0) return;
    await this.kv.batch(ops.map(metaOpToKv), { sync: this.sync() });
  }

  put<T>(path: string, value: T): Promise<void> {
    return this.write([{ type: 'put', path, value }]);
  }

  del(path: string): Promise<void> {
    return this.write([{ type: 'del', path }]);
  }
}
