/**
 * Upgrades a data directory written with an older key layout (see keys.ts)
 * when the store opens it, so that existing data keeps working.
 *
 * Layout 1 kept metadata under 'm', after the data. Moving it under 'M' is
 * one atomic LevelDB batch (every put and every delete, or none of them), so
 * a crash during the upgrade leaves either layout intact and the next open
 * simply upgrades again. Metadata is small: it is read whole.
 */
import { LAYOUT1_META_PREFIX, META_PREFIX } from './keys.js';
import { readAll, type Kv, type KvOp } from './kv.js';
import type { StoreLogger } from './logger.js';

/** Moves layout-1 metadata keys to their current place; returns how many were moved. */
export async function upgradeLayout(kv: Kv, logger: StoreLogger): Promise<number> {
  const old = await readAll(kv, { gte: Buffer.of(LAYOUT1_META_PREFIX), lt: Buffer.of(LAYOUT1_META_PREFIX + 1) });
  if (old.length === 0) return 0;
  const ops: KvOp[] = [];
  for (const [key, value] of old) {
    const moved = Buffer.from(key);
    moved[0] = META_PREFIX;
    ops.push({ type: 'put', key: moved, value }, { type: 'del', key });
  }
  await kv.batch(ops, { sync: true });
  logger.info({ keys: old.length }, 'upgraded the data directory: metadata moved to layout 2');
  return old.length;
}
