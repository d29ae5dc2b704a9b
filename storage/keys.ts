/**
 * Key layout of the single LevelDB database. Byte order must equal numeric
 * order so that range scans walk a shard's log in LSN order.
 *
 *   0x4d 'M' | utf8 path                        -> metadata, JSON (see meta-store.ts)
 *   0x64 'd' | shardId u64 BE | lsn u64 BE      -> one stored batch (see codec.ts)
 *
 * Metadata sorts before the data, not after it: LevelDB moves a flushed file
 * down the levels without rewriting it only when its key range overlaps no
 * other file, and a file holding both data and a metadata key spans every
 * key between them. With metadata after the data that span covered every
 * batch a shard would append later, so each new file had to be merged with
 * it, level by level; before the data, it covers only batches already
 * written. (Layout 1 used 'm' = 0x6d; see layout.ts.)
 */

const DATA_PREFIX = 0x64;
export const META_PREFIX = 0x4d;
/** Where layout 1 kept metadata. */
export const LAYOUT1_META_PREFIX = 0x6d;
export const DATA_KEY_BYTES = 17;

export function dataKey(shardId: number, lsn: number): Buffer {
  const key = Buffer.allocUnsafe(DATA_KEY_BYTES);
  key[0] = DATA_PREFIX;
  key.writeBigUInt64BE(BigInt(shardId), 1);
  key.writeBigUInt64BE(BigInt(lsn), 9);
  return key;
}

export function isDataKey(key: Uint8Array): boolean {
  return key[0] === DATA_PREFIX;
}

export function decodeDataKey(key: Uint8Array): { shardId: number; lsn: number } {
  const buf = Buffer.isBuffer(key) ? key : Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  return { shardId: Number(buf.readBigUInt64BE(1)), lsn: Number(buf.readBigUInt64BE(9)) };
}

/** The first key after every data key of a shard: upper bound for range scans. */
export function shardEndKey(shardId: number): Buffer {
  return dataKey(shardId, Number.MAX_SAFE_INTEGER);
}

export function metaKey(path: string): Buffer {
  return Buffer.concat([Buffer.of(META_PREFIX), Buffer.from(path, 'utf8')]);
}

/** Upper bound for every meta key that starts with `path`. */
export function metaPrefixEnd(path: string): Buffer {
  return Buffer.concat([metaKey(path), Buffer.of(0xff)]);
}
