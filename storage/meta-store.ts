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
import type { MetaPacking, MetaSnapshot } from './meta-snapshot.js';

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

/**
 * Hands every value whose path starts with `prefix` to the taker `begin()` returns, in path order,
 * without collecting them first. Why: at a start with 100k streams the collected values all
 * lived until the last one was read, so young-generation collections copied them into the old
 * generation, where they stayed as garbage until a full collection (~40 MB of an idle server's
 * RSS). If the snapshot fails part way, `begin` is called again and LevelDB's values follow: each
 * taker starts from nothing. Values come packed (see MetaPacking) when the snapshot has the group
 * in `packed`'s format, and plain otherwise.
 */
export async function scanMetaValues<T>(kv: Kv, prefix: string, begin: () => (value: T) => void, snapshot?: MetaSnapshot, packed?: string): Promise<void> {
  if (snapshot?.eachValue<T>(prefix, begin(), packed)) return;
  const take = begin();
  for (const [, value] of await readAllText(kv, { gte: metaKey(prefix), lt: metaPrefixEnd(prefix) })) take(JSON.parse(value) as T);
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
  readonly #packings = new Map<string, MetaPacking>();

  constructor(private readonly backend: MetaBackend) {}

  /**
   * Has the snapshot of the next clean shutdown keep `group` (a path prefix up to and including its
   * first '/') packed by `packing`; `scan` of the whole group then hands out packed values.
   */
  setPacking<T, P>(group: string, packing: MetaPacking<T, P>): void {
    if (!group.endsWith('/') || group.indexOf('/') !== group.length - 1) throw new TypeError(`not a metadata group: ${group}`);
    this.#packings.set(group, packing as MetaPacking);
  }

  /** The packings the snapshot writer applies, by group. */
  get packings(): ReadonlyMap<string, MetaPacking> {
    return this.#packings;
  }

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

  /**
   * Every value whose path starts with `prefix`, in path order, to a taker (see scanMetaValues): T
   * are the stored values, P what the group's packing makes of them.
   */
  scan<T, P = T>(prefix: string, begin: () => (value: T | P) => void): Promise<void> {
    const packed = this.#packings.get(prefix)?.format;
    return this.backend.read((kv) => scanMetaValues<T | P>(kv, prefix, begin, this.backend.snapshot(), packed));
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
