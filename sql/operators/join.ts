/**
 * Stream–stream join … WITHIN (W) (upstream's SQL docs). Both sides buffer their
 * rows; an arriving row is matched against the other side's buffer, pairs
 * with |t₁ − t₂| ≤ W that satisfy the condition are emitted (time = the later
 * of the two). Equality conjuncts of ON (`a.x = b.y`) and USING columns are
 * hashed, so matching does not scan the whole buffer.
 *
 * State is bounded by W (fix 6, where buffers are never expired): a
 * buffered row is released once the other side's clock (its largest
 * timestamp) has passed row time + W — each side is read in time order, so no
 * later row of the other side can match it. Every buffered row counts against
 * the query's StateBudget.
 *
 * LEFT / RIGHT / FULL are real outer joins (upstream treats them as INNER):
 * a preserved-side row that leaves the buffer without ever matching is
 * emitted once, NULL-extended (the other side's columns read as NULL).
 *
 * Must not import anything outside sql/.
 */
import type { Leaf, SourceNode } from '../binder.js';
import { compile, type Evaluator } from '../compile.js';
import { EvalError } from '../errors.js';
import { decodeValue, encodeValue, equals, keyOf, type JsonValue, type Value, type ValueObject } from '../values.js';
import type { Counters, StateBudget } from './counters.js';
import { tupleResolver, type TimedTuple, type Tuple } from './env.js';
import { makePredicate, type Predicate } from './filter.js';

interface Entry {
  rows: Tuple;
  time: number;
  matched: boolean;
  /** hash key, undefined when the key is NULL or failed (such a row matches nothing) */
  key?: string;
}

class Side {
  /** FIFO in arrival order; `head` is the first live entry */
  entries: Entry[] = [];
  head = 0;
  index?: Map<string, Entry[]>;
  clock = -Infinity;

  constructor(hashed: boolean) {
    if (hashed) this.index = new Map();
  }

  add(e: Entry): void {
    this.entries.push(e);
    if (this.index && e.key !== undefined) {
      const bucket = this.index.get(e.key);
      if (bucket) bucket.push(e);
      else this.index.set(e.key, [e]);
    }
  }

  /** removes and returns the oldest entries with time < limit */
  expire(limit: number): Entry[] {
    const gone: Entry[] = [];
    while (this.head < this.entries.length && this.entries[this.head]!.time < limit) {
      const e = this.entries[this.head++]!;
      gone.push(e);
      if (this.index && e.key !== undefined) {
        const bucket = this.index.get(e.key)!;
        const i = bucket.indexOf(e);
        bucket.splice(i, 1);
        if (bucket.length === 0) this.index.delete(e.key);
      }
    }
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head);
      this.head = 0;
    }
    return gone;
  }

  candidates(key: string | undefined, hashed: boolean): readonly Entry[] {
    if (!hashed) return this.entries.slice(this.head);
    return key === undefined ? [] : (this.index!.get(key) ?? []);
  }

  get size(): number {
    return this.entries.length - this.head;
  }
}

type JoinInput = { k: 'leaf'; leaf: number } | { k: 'join'; join: WindowJoin };

export class WindowJoin {
  private readonly input: JoinInput;
  private readonly rightLeaf: number;
  private readonly withinMs: number;
  private readonly left: Side;
  private readonly right: Side;
  private readonly hashed: boolean;
  private readonly condition: Predicate<Tuple>;
  private readonly leftKey?: (t: Tuple) => string | undefined;
  private readonly rightKey?: (row: ValueObject) => string | undefined;
  private readonly keepLeft: boolean;
  private readonly keepRight: boolean;

  constructor(
    node: SourceNode & { k: 'join' },
    leaves: readonly Leaf[],
    private readonly budget: StateBudget,
    private readonly counters: Counters,
  ) {
    this.input = node.left.k === 'scan' ? { k: 'leaf', leaf: node.left.leaf.index } : { k: 'join', join: new WindowJoin(node.left, leaves, budget, counters) };
    this.rightLeaf = node.right.leaf.index;
    this.withinMs = node.within.ms;
    this.keepLeft = node.type === 'LEFT' || node.type === 'FULL';
    this.keepRight = node.type === 'RIGHT' || node.type === 'FULL';
    const visible = node.leafCount;
    const resolver = tupleResolver(leaves, visible);
    const cond = node.cond;
    const rightLeaf = this.rightLeaf;
    const keyFrom = (values: Value[]) => (values.some((v) => v === null) ? undefined : keyOf(values));
    const safeKey = <T>(f: (x: T) => string | undefined) => (x: T) => {
      try {
        return f(x);
      } catch (err) {
        if (!(err instanceof EvalError)) throw err;
        this.counters.evalErrors++;
        return undefined;
      }
    };
    const firstField = (t: Tuple, upTo: number, name: string): Value | undefined => {
      for (let i = 0; i < upTo; i++) {
        const v = t[i]?.[name];
        if (v !== undefined) return v;
      }
      return undefined;
    };

    switch (cond.k) {
      case 'on': {
        this.condition = makePredicate(compile(cond.expr, resolver), counters);
        if (cond.equiKeys.length > 0) {
          const lefts: Evaluator<Tuple>[] = cond.equiKeys.map((k) => compile(k.left, resolver));
          const rights: Evaluator<Tuple>[] = cond.equiKeys.map((k) => compile(k.right, resolver));
          this.leftKey = safeKey((t: Tuple) => keyFrom(lefts.map((f) => f(t))));
          this.rightKey = safeKey((row: ValueObject) => {
            const t: Tuple = new Array<ValueObject | null>(rightLeaf + 1).fill(null);
            t[rightLeaf] = row;
            return keyFrom(rights.map((f) => f(t)));
          });
        }
        break;
      }
      case 'using': {
        const cols = cond.columns;
        // the key is the whole condition: both sides have every column, non-NULL and equal
        this.condition = () => true;
        this.leftKey = (t) => {
          const vs = cols.map((c) => firstField(t, rightLeaf, c) ?? null);
          return keyFrom(vs);
        };
        this.rightKey = (row) => keyFrom(cols.map((c) => row[c] ?? null));
        break;
      }
      case 'natural':
        this.condition = (t) => {
          const right = t[rightLeaf];
          if (!right) return false;
          for (const name in right) {
            const l = firstField(t, rightLeaf, name);
            if (l === undefined) continue;
            const r = right[name]!;
            if (l === null || r === null) return false;
            try {
              if (!equals(l, r)) return false;
            } catch (err) {
              if (!(err instanceof EvalError)) throw err;
              return false;
            }
          }
          return true;
        };
        break;
      case 'cross':
        this.condition = () => true;
        break;
    }
    this.hashed = this.leftKey !== undefined;
    this.left = new Side(this.hashed);
    this.right = new Side(this.hashed);
  }

  /** feeds a row of FROM source `leaf`; appends the joined tuples this produces to `out` */
  push(leaf: number, row: ValueObject, time: number, out: TimedTuple[]): void {
    if (leaf === this.rightLeaf) {
      this.arrive(false, [row], time, out);
    } else if (this.input.k === 'leaf') {
      if (leaf === this.input.leaf) this.arrive(true, [row], time, out);
    } else if (leaf < this.rightLeaf) {
      const produced: TimedTuple[] = [];
      this.input.join.push(leaf, row, time, produced);
      for (const t of produced) this.arrive(true, t.rows, t.time, out);
    }
  }

  private arrive(fromLeft: boolean, rows: Tuple, time: number, out: TimedTuple[]): void {
    const me = fromLeft ? this.left : this.right;
    const other = fromLeft ? this.right : this.left;
    if (time > me.clock) me.clock = time;
    const key = fromLeft ? this.leftKey?.(rows) : this.rightKey?.(rows[0]!);
    const entry: Entry = { rows, time, matched: false, key };
    for (const c of other.candidates(key, this.hashed)) {
      if (Math.abs(c.time - time) > this.withinMs) continue;
      const merged = fromLeft ? [...rows, ...c.rows] : [...c.rows, ...rows];
      if (!this.condition(merged)) continue;
      out.push({ rows: merged, time: Math.max(time, c.time) });
      c.matched = true;
      entry.matched = true;
    }
    if (time + this.withinMs >= other.clock) {
      this.budget.reserve(1, 'buffered join rows');
      me.add(entry);
      this.budget.used++;
    } else {
      this.release(fromLeft, entry, out);
    }
    this.expire(out);
  }

  private expire(out: TimedTuple[]): void {
    for (const e of this.left.expire(this.right.clock - this.withinMs)) {
      this.budget.used--;
      this.release(true, e, out);
    }
    for (const e of this.right.expire(this.left.clock - this.withinMs)) {
      this.budget.used--;
      this.release(false, e, out);
    }
  }

  /** a row leaving the join: NULL-extended output if its side is preserved and it never matched */
  private release(fromLeft: boolean, e: Entry, out: TimedTuple[]): void {
    if (e.matched) return;
    if (fromLeft && this.keepLeft) out.push({ rows: [...e.rows, null], time: e.time });
    if (!fromLeft && this.keepRight) out.push({ rows: [...new Array<null>(this.rightLeaf).fill(null), ...e.rows], time: e.time });
  }

  snapshot(): JsonValue {
    const side = (s: Side): JsonValue => ({
      clock: Number.isFinite(s.clock) ? s.clock : null,
      entries: s.entries.slice(s.head).map((e) => [e.rows.map((r) => (r === null ? null : encodeValue(r))), e.time, e.matched]),
    });
    return { left: side(this.left), right: side(this.right), input: this.input.k === 'join' ? this.input.join.snapshot() : null };
  }

  restore(j: JsonValue): void {
    const snap = j as unknown as { left: SideJson; right: SideJson; input: JsonValue };
    const load = (s: Side, data: SideJson, fromLeft: boolean) => {
      s.clock = data.clock ?? -Infinity;
      for (const [rowsJson, time, matched] of data.entries) {
        const rows = rowsJson.map((r) => (r === null ? null : (decodeValue(r) as ValueObject)));
        const key = fromLeft ? this.leftKey?.(rows) : this.rightKey?.(rows[0]!);
        s.add({ rows, time, matched, key });
        this.budget.used++;
      }
    };
    load(this.left, snap.left, true);
    load(this.right, snap.right, false);
    if (this.input.k === 'join') this.input.join.restore(snap.input);
  }

  get size(): number {
    return this.left.size + this.right.size + (this.input.k === 'join' ? this.input.join.size : 0);
  }
}

interface SideJson {
  clock: number | null;
  entries: Array<[Array<JsonValue | null>, number, boolean]>;
}
