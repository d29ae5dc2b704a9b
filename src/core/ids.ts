/**
 * Unique ids for shards and streams. Like upstream's, they are derived from
 * the clock (so ids from a wiped and restarted server do not collide with
 * ones a client may still cache) and persisted so they never repeat: a
 * deleted shard's id must never name a new shard. Ids stay below 2^53.
 */
import type { MetaOp, MetaStore } from '../../storage/index.js';

const EPOCH_2020_MS = Date.UTC(2020, 0, 1);
const IDS_PER_MS = 4096;
const PATH = 'ids/last';

export class IdAllocator {
  private constructor(private last: number) {}

  static async load(meta: MetaStore): Promise<IdAllocator> {
    return new IdAllocator((await meta.get<number>(PATH)) ?? 0);
  }

  /** Takes `count` fresh ids; the returned op must be written with whatever uses them. */
  take(count: number): { ids: number[]; op: MetaOp } {
    const floor = (Date.now() - EPOCH_2020_MS) * IDS_PER_MS;
    const ids: number[] = [];
    for (let i = 0; i < count; i++) {
      this.last = Math.max(this.last + 1, floor + i);
      ids.push(this.last);
    }
    return { ids, op: { type: 'put', path: PATH, value: this.last } };
  }
}
