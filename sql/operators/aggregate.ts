/**
 * Aggregate: GROUP BY (one or more keys, or none for a whole-stream
 * aggregate) with optional TUMBLE / HOP windows. Per group it keeps one
 * accumulator per distinct aggregate; each input row updates its group (one
 * group per window it falls in) and the updated groups are returned, which
 * the runtime turns into EMIT CHANGES rows (an upsert changelog keyed by the
 * group key and window; no retractions, like upstream).
 *
 * Errors (upstream's SQL docs): a key that fails to evaluate is NULL (such rows share a
 * group); an aggregate argument that fails is skipped for that aggregate only.
 * New groups are reserved against the query's StateBudget before anything is
 * changed, so a row that does not fit leaves the state untouched.
 *
 * Must not import anything outside sql/.
 */
import type { Evaluator } from '../compile.js';
import { EvalError } from '../errors.js';
import type { AggregateKind, AggState } from '../functions/aggregate.js';
import { decodeValue, encodeValue, keyOf, type JsonValue, type Value } from '../values.js';
import type { Counters, StateBudget } from './counters.js';
import type { GroupEnv, Tuple } from './env.js';
import { windowStarts, type FixedWindow } from './window.js';

export interface AggSlot {
  kind: AggregateKind;
  /** undefined for COUNT(*) */
  arg?: Evaluator<Tuple>;
}

export interface GroupState {
  keys: Value[];
  accs: AggState[];
  /** window or session bounds in ms; 0 when not windowed */
  start: number;
  end: number;
}

const SKIP: unique symbol = Symbol('skip');
type Input = Value | typeof SKIP;

/** Evaluates keys and aggregate arguments of one tuple (shared by the window kinds). */
export class GroupInputs {
  private readonly scratchArgs: Input[] = [];
  private readonly scratchEnv: GroupEnv = { keys: [], aggs: [], start: 0, end: 0 };

  constructor(
    private readonly keyEvals: Evaluator<Tuple>[],
    readonly slots: AggSlot[],
    private readonly counters: Counters,
  ) {}

  /** the key of a single-key GROUP BY, without building an array (undefined when there are several keys) */
  singleKey(t: Tuple): Value | undefined {
    if (this.keyEvals.length !== 1) return undefined;
    try {
      return this.keyEvals[0]!(t);
    } catch (err) {
      if (!(err instanceof EvalError)) throw err;
      this.counters.evalErrors++;
      return null;
    }
  }

  keys(t: Tuple): Value[] {
    const keys = new Array<Value>(this.keyEvals.length);
    for (let i = 0; i < keys.length; i++) {
      try {
        keys[i] = this.keyEvals[i]!(t);
      } catch (err) {
        if (!(err instanceof EvalError)) throw err;
        this.counters.evalErrors++;
        keys[i] = null;
      }
    }
    return keys;
  }

  /** the aggregate inputs of one tuple; the array is reused by the next call */
  args(t: Tuple): Input[] {
    const out = this.scratchArgs;
    for (let i = 0; i < this.slots.length; i++) {
      const arg = this.slots[i]!.arg;
      if (!arg) {
        out[i] = true;
        continue;
      }
      try {
        out[i] = arg(t);
      } catch (err) {
        if (!(err instanceof EvalError)) throw err;
        this.counters.evalErrors++;
        out[i] = SKIP;
      }
    }
    return out;
  }

  init(): AggState[] {
    return this.slots.map((s) => s.kind.init());
  }

  step(g: GroupState, inputs: Input[]): void {
    for (let i = 0; i < inputs.length; i++) {
      const v = inputs[i]!;
      if (v === SKIP) continue;
      try {
        g.accs[i] = this.slots[i]!.kind.step(g.accs[i]!, v);
      } catch (err) {
        if (!(err instanceof EvalError)) throw err;
        this.counters.evalErrors++;
      }
    }
  }

  merge(into: GroupState, other: GroupState): void {
    for (let i = 0; i < this.slots.length; i++) into.accs[i] = this.slots[i]!.kind.merge(into.accs[i]!, other.accs[i]!);
  }

  /** the group as HAVING and the projection read it; the object is reused by the next call */
  env(g: GroupState): GroupEnv {
    const env = this.scratchEnv;
    env.keys = g.keys;
    for (let i = 0; i < this.slots.length; i++) {
      const kind = this.slots[i]!.kind;
      env.aggs[i] = kind.stateIsResult ? g.accs[i]! : kind.result(g.accs[i]!);
    }
    env.start = g.start;
    env.end = g.end;
    return env;
  }

  toJson(g: GroupState): JsonValue {
    return [g.keys.map(encodeValue), this.slots.map((s, i) => s.kind.toJson(g.accs[i]!)), g.start, g.end];
  }

  fromJson(j: JsonValue): GroupState {
    const [keys, accs, start, end] = j as [JsonValue[], JsonValue[], number | null, number | null];
    return { keys: keys.map(decodeValue), accs: this.slots.map((s, i) => s.kind.fromJson(accs[i]!)), start: start ?? 0, end: end ?? 0 };
  }
}

/**
 * Groups by key values. A single primitive key is the Map key itself (no
 * string building: 3x faster than keyOf on a 10k-key GROUP BY); anything
 * else goes through keyOf.
 */
export class GroupIndex {
  private readonly byValue = new Map<string | number | boolean | null, GroupState>();
  private readonly byKey = new Map<string, GroupState>();

  private static primitive(keys: readonly Value[]): string | number | boolean | null | undefined {
    if (keys.length !== 1) return undefined;
    const v = keys[0]!;
    return v === null || typeof v !== 'object' ? v : undefined;
  }

  /** lookup by a single key value */
  getOne(v: Value): GroupState | undefined {
    return v === null || typeof v !== 'object' ? this.byValue.get(v) : this.byKey.get(keyOf([v]));
  }

  get(keys: readonly Value[]): GroupState | undefined {
    const p = GroupIndex.primitive(keys);
    return p !== undefined ? this.byValue.get(p) : this.byKey.get(keyOf(keys));
  }

  set(keys: readonly Value[], g: GroupState): void {
    const p = GroupIndex.primitive(keys);
    if (p !== undefined) this.byValue.set(p, g);
    else this.byKey.set(keyOf(keys), g);
  }

  get size(): number {
    return this.byValue.size + this.byKey.size;
  }

  values(): GroupState[] {
    return [...this.byValue.values(), ...this.byKey.values()];
  }
}

/** Grouped state: a window of groups at a time (or a single unwindowed map). */
export interface GroupOperator {
  /** the groups one tuple updated (the array may be reused by the next call) */
  update(rows: Tuple, time: number, clock: number): GroupState[];
  groups(): GroupState[];
  readonly inputs: GroupInputs;
  snapshot(): JsonValue;
  restore(j: JsonValue): void;
}

export class GroupAggregate implements GroupOperator {
  private readonly flat = new GroupIndex();
  /** window start → groups of that window */
  private readonly windows = new Map<number, GroupIndex>();
  private readonly one: GroupState[] = [];
  /** window starts held, ascending */
  private readonly starts: number[] = [];

  constructor(
    readonly inputs: GroupInputs,
    private readonly window: FixedWindow | undefined,
    private readonly graceMs: number,
    private readonly budget: StateBudget,
    private readonly counters: Counters,
  ) {}

  update(rows: Tuple, time: number, clock: number): GroupState[] {
    if (!this.window) {
      // one key (the usual case) is looked up without building a key array
      const one = this.inputs.singleKey(rows);
      const many = one === undefined ? this.inputs.keys(rows) : undefined;
      let g = many ? this.flat.get(many) : this.flat.getOne(one!);
      if (!g) {
        const keys = many ?? [one!];
        this.budget.reserve(1, 'groups');
        g = { keys, accs: this.inputs.init(), start: 0, end: 0 };
        this.flat.set(keys, g);
        this.budget.used++;
      }
      this.inputs.step(g, this.inputs.args(rows));
      this.one[0] = g;
      return this.one;
    }

    const keys = this.inputs.keys(rows);
    this.purge(clock);
    const w = this.window;
    const starts = windowStarts(w, time).filter((s) => clock < s + w.sizeMs + this.graceMs);
    if (starts.length === 0) {
      this.counters.lateRows++;
      return [];
    }
    const fresh = starts.filter((s) => !this.windows.get(s)?.get(keys)).length;
    if (fresh > 0) this.budget.reserve(fresh, 'window groups');
    const args = this.inputs.args(rows);
    const out: GroupState[] = [];
    for (const s of starts) {
      let groups = this.windows.get(s);
      if (!groups) {
        groups = new GroupIndex();
        this.windows.set(s, groups);
        this.insertStart(s);
      }
      let g = groups.get(keys);
      if (!g) {
        g = { keys, accs: this.inputs.init(), start: s, end: s + w.sizeMs };
        groups.set(keys, g);
        this.budget.used++;
      }
      this.inputs.step(g, args);
      out.push(g);
    }
    return out;
  }

  private insertStart(s: number): void {
    let i = this.starts.length;
    while (i > 0 && this.starts[i - 1]! > s) i--;
    this.starts.splice(i, 0, s);
  }

  /** releases windows the clock has closed (end + grace ≤ clock) */
  private purge(clock: number): void {
    const w = this.window!;
    let n = 0;
    while (n < this.starts.length && this.starts[n]! + w.sizeMs + this.graceMs <= clock) {
      const s = this.starts[n]!;
      this.budget.used -= this.windows.get(s)?.size ?? 0;
      this.windows.delete(s);
      n++;
    }
    if (n > 0) this.starts.splice(0, n);
  }

  groups(): GroupState[] {
    if (!this.window) return this.flat.values();
    return this.starts.flatMap((s) => this.windows.get(s)!.values());
  }

  snapshot(): JsonValue {
    return this.groups().map((g) => this.inputs.toJson(g));
  }

  restore(j: JsonValue): void {
    for (const item of j as JsonValue[]) {
      const g = this.inputs.fromJson(item);
      if (!this.window) this.flat.set(g.keys, g);
      else {
        let groups = this.windows.get(g.start);
        if (!groups) {
          groups = new GroupIndex();
          this.windows.set(g.start, groups);
          this.insertStart(g.start);
        }
        groups.set(g.keys, g);
      }
      this.budget.used++;
    }
  }
}
