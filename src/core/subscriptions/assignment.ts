/**
 * Consumer-group shard assignment for one subscription: every shard has at
 * most one owner, and exactly one while any consumer is attached.
 *
 * Rules (upstream `Core/Subscription.hs`, made deterministic):
 * - unowned shards go to the consumer with the fewest shards (ties: the one
 *   that joined first);
 * - a joining consumer takes shards, one at a time, from the consumer with
 *   the most shards while that one has more than one shard over the
 *   newcomer (4 shards + 2 consumers → 2 each; 1 shard + 2 consumers → the
 *   first keeps it);
 * - a leaving consumer's shards go to the remaining consumers with the
 *   fewest shards.
 *
 * Pure: no I/O, no timers; callers apply the returned moves.
 */

export interface ShardMove {
  shardId: number;
  /** previous owner, undefined when the shard was unowned */
  from: string | undefined;
  /** new owner, undefined when no consumer is left */
  to: string | undefined;
}

export class ShardAssignment {
  readonly #owner = new Map<number, string | undefined>();
  /** consumer → owned shards; Map iteration order = join order */
  readonly #owned = new Map<string, Set<number>>();

  constructor(shardIds: readonly number[]) {
    for (const id of shardIds) this.#owner.set(id, undefined);
  }

  owner(shardId: number): string | undefined {
    return this.#owner.get(shardId);
  }

  /** Shards of a consumer, ascending. */
  shardsOf(consumer: string): number[] {
    return [...(this.#owned.get(consumer) ?? [])].sort((a, b) => a - b);
  }

  get consumers(): string[] {
    return [...this.#owned.keys()];
  }

  has(consumer: string): boolean {
    return this.#owned.has(consumer);
  }

  join(consumer: string): ShardMove[] {
    if (this.#owned.has(consumer)) throw new TypeError(`consumer ${consumer} already joined`);
    this.#owned.set(consumer, new Set());
    const moves = this.#assignUnowned();
    const mine = this.#owned.get(consumer)!;
    for (;;) {
      const richest = this.#richest();
      if (richest === undefined || richest === consumer) break;
      const theirs = this.#owned.get(richest)!;
      if (theirs.size <= mine.size + 1) break;
      // Take their highest shard: deterministic, and leaves low shards where they were.
      const shardId = Math.max(...theirs);
      moves.push(this.#move(shardId, richest, consumer));
    }
    return moves;
  }

  leave(consumer: string): ShardMove[] {
    const mine = this.#owned.get(consumer);
    if (!mine) return [];
    this.#owned.delete(consumer);
    const moves: ShardMove[] = [];
    for (const shardId of [...mine].sort((a, b) => a - b)) {
      this.#owner.set(shardId, undefined);
      const to = this.#poorest();
      if (to === undefined) moves.push({ shardId, from: consumer, to: undefined });
      else moves.push(this.#move(shardId, consumer, to));
    }
    return moves;
  }

  #assignUnowned(): ShardMove[] {
    const moves: ShardMove[] = [];
    for (const [shardId, owner] of this.#owner) {
      if (owner !== undefined) continue;
      const to = this.#poorest();
      if (to === undefined) break;
      moves.push(this.#move(shardId, undefined, to));
    }
    return moves;
  }

  #move(shardId: number, from: string | undefined, to: string): ShardMove {
    if (from !== undefined) this.#owned.get(from)?.delete(shardId);
    this.#owned.get(to)!.add(shardId);
    this.#owner.set(shardId, to);
    return { shardId, from, to };
  }

  /** Consumer with the fewest shards; the earliest joined among equals. */
  #poorest(): string | undefined {
    let best: string | undefined;
    let bestSize = Infinity;
    for (const [name, shards] of this.#owned) {
      if (shards.size < bestSize) {
        best = name;
        bestSize = shards.size;
      }
    }
    return best;
  }

  /** Consumer with the most shards; the earliest joined among equals. */
  #richest(): string | undefined {
    let best: string | undefined;
    let bestSize = -1;
    for (const [name, shards] of this.#owned) {
      if (shards.size > bestSize) {
        best = name;
        bestSize = shards.size;
      }
    }
    return best;
  }
}
