/**
 * Metadata (streams, shards, readers, subscriptions, checkpoints, queries) as
 * JSON values under 'm' keys in the same database as the log, so a metadata
 * change and the data it describes can be written in one atomic batch.
 *
 * The store owns the database: reads go through it (it may be swapping the
 * database after a write failure) and writes go through its single writer
 * (nothing may be written after a failed write until the database is reopened).
 */
import type { Kv, KvOp } from './kv.js';
import { readAllText } from './kv.js';
import { metaKey, metaPrefixEnd } from './keys.js';
import type { MetaSnapshot } from './meta-snapshot.js';

export type MetaOp<T = unknown> = { type: 'put'; path: string; value: T } | { type: 'del'; path: string };

export function metaOpToKv(op: MetaOp): KvOp {
  return op.type === 'put'
    ? { type: 'put', key: metaKey(op.path), value: Buffer.from(JSON.stringify(op.value), 'utf8') }
    : { type: 'del', key: metaKey(op.path) };
}

/**
 * Every entry of `kv` whose path starts with `prefix`, in path order; from `snapshot` when given
 * and it can say (see meta-snapshot.ts).
 */
export async function listMeta<T>(kv: Kv, prefix: string, snapshot?: MetaSnapshot): Promise<Array<{ path: string; value: T }>> {
  const fromSnapshot = snapshot?.list<T>(prefix);
  if (fromSnapshot) return fromSnapshot;
  const rows = await readAllText(kv, { gte: metaKey(prefix), lt: metaPrefixEnd(prefix) });
  // the key's first character is the one-byte metadata prefix
  return rows.map(([key, value]) => ({ path: key.slice(1), value: JSON.parse(value) as T }));
}

/** The values of `listMeta` without their paths: for large groups read at start-up (see MetaSnapshot.values). */
export async function listMetaValues<T>(kv: Kv, prefix: string, snapshot?: MetaSnapshot): Promise<T[]> {
  return snapshot?.values<T>(prefix) ?? (await listMeta<T>(kv, prefix)).map((row) => row.value);
}

export interface MetaBackend {
  /** runs a read against the current database */
  read<T>(fn: (kv: Kv) => Promise<T>): Promise<T>;
  /** writes one atomic batch through the store's writer */
  write(ops: KvOp[]): Promise<void>;
  /** what a clean shutdown left, while nothing has been written since (see meta-snapshot.ts) */
  snapshot(): MetaSnapshot | undefined;
}

export class MetaStore {
  constructor(private readonly backend: MetaBackend) {}

  /** Always from LevelDB: one point lookup, where the snapshot would read and parse the path's whole group. */
  async get<T>(path: string): Promise<T | undefined> {
    const value = await this.backend.read((kv) => kv.get(metaKey(path)));
    return value === undefined ? undefined : (JSON.parse(value.toString('utf8')) as T);
  }

  /** Every entry whose path starts with `prefix`, in path order. */
  list<T>(prefix: string): Promise<Array<{ path: string; value: T }>> {
    return this.backend.read((kv) => listMeta<T>(kv, prefix, this.backend.snapshot()));
  }

  /** The values of every entry whose path starts with `prefix`, in path order. */
  values<T>(prefix: string): Promise<T[]> {
    return this.backend.read((kv) => listMetaValues<T>(kv, prefix, this.backend.snapshot()));
  }

  async write(ops: MetaOp[]): Promise<void> {
    if (ops.length === 0) return;
    await this.backend.write(ops.map(metaOpToKv));
  }

  put<T>(path: string, value: T): Promise<void> {
    return this.write([{ type: 'put', path, value }]);
  }

  del(path: string): Promise<void> {
    return this.write([{ type: 'del', path }]);
  }
}
