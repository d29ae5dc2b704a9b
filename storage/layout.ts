/**
 * The data directory's key layout version (see keys.ts), checked and upgraded
 * when the store opens it, so that existing data keeps working and a server
 * never misreads a directory written by a newer one.
 *
 * Layout 1 kept metadata under 'm', after the data. Layout 2 keeps it under
 * 'M'. A later layout records its number at the meta path `format`, which
 * this version refuses; a directory without it is layout 2 unless it holds
 * layout-1 keys. Opening therefore writes nothing unless it upgrades (a
 * server may start on a full disk and recover later). The upgrade moves the
 * metadata and records layout 2 in one atomic LevelDB batch, so a crash
 * during it leaves layout 1 intact and the next open upgrades again.
 * Metadata is small: it is read whole.
 */
import { StoreError } from './errors.js';
import { LAYOUT1_META_PREFIX, META_PREFIX, metaKey } from './keys.js';
import { readAll, type Kv, type KvOp } from './kv.js';
import type { StoreLogger } from './logger.js';
import { metaOpToKv } from './meta-store.js';

export const LAYOUT_VERSION = 2;
const FORMAT_PATH = 'format';

interface Format {
  layout: number;
}

/**
 * Makes `kv` a current-layout directory, or refuses one written by a newer version. Resolves true
 * when it upgraded (wrote) the directory.
 */
export async function openLayout(kv: Kv, logger: StoreLogger): Promise<boolean> {
  const recorded = await kv.get(metaKey(FORMAT_PATH));
  if (recorded !== undefined) {
    const { layout } = JSON.parse(recorded.toString('utf8')) as Format;
    if (layout > LAYOUT_VERSION) {
      throw new StoreError(
        'STORE_INCOMPATIBLE',
        `the data directory was written by a newer hstreamlite (layout ${layout}); this version reads layout ${LAYOUT_VERSION} and older`,
      );
    }
    return false;
  }
  const old = await readAll(kv, { gte: Buffer.of(LAYOUT1_META_PREFIX), lt: Buffer.of(LAYOUT1_META_PREFIX + 1) });
  if (old.length === 0) return false;
  const ops: KvOp[] = [];
  for (const [key, value] of old) {
    const moved = Buffer.from(key);
    moved[0] = META_PREFIX;
    ops.push({ type: 'put', key: moved, value }, { type: 'del', key });
  }
  ops.push(metaOpToKv({ type: 'put', path: FORMAT_PATH, value: { layout: LAYOUT_VERSION } satisfies Format }));
  await kv.batch(ops, { sync: true });
  logger.info({ keys: old.length }, `upgraded the data directory: metadata moved to layout ${LAYOUT_VERSION}`);
  return true;
}
