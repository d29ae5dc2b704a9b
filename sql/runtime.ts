/**
 * QueryRuntime: a running continuous query. Input records are fed one at a
 * time (`process`), each through
 *
 *   scan (decode) → [join … WITHIN] → filter (WHERE)
 *     → project                                   (ungrouped)
 *     → aggregate / window / session → having → project   (grouped)
 *
 * and the output rows are returned with EMIT CHANGES semantics (as in
 * upstream's SQL docs). The whole operator state is a JSON value (`snapshot`) that
 * `restore` turns back into an equivalent runtime.
 *
 * A bad value never throws out of `process` (upstream's SQL docs: conditions drop the row,
 * projections give NULL, aggregates skip the value; all counted in `stats`).
 * `process` throws only SqlError('runtime') when the state budget
 * (maxGroups) would be exceeded, before changing anything.
 *
 * Must not import anything outside sql/.
 */
import { WINDOW_COLUMNS, type BoundSelect } from './binder.js';
import { compile } from './compile.js';
import { SqlError } from './errors.js';
import { aggregateKind } from './functions/aggregate.js';
import { GroupAggregate, GroupInputs, type GroupOperator, type AggSlot } from './operators/aggregate.js';
import { newCounters, StateBudget, type Counters } from './operators/counters.js';
import { compileTuple, groupResolver, type GroupEnv, type TimedTuple, type Tuple } from './operators/env.js';
import { makePredicate, type Predicate } from './operators/filter.js';
import { WindowJoin } from './operators/join.js';
import { GroupProjector, outValue, TupleProjector } from './operators/project.js';
import { SessionAggregate } from './operators/session.js';
import { DEFAULT_WINDOW_GRACE_MS, fixedWindow } from './operators/window.js';
import type { QueryPlan } from './planner.js';
import { decodeObject, SqlTimestamp, type JsonValue, type Row, type ValueObject } from './values.js';

export interface RuntimeOptions {
  /** bound on held state: groups, (group, window) pairs, sessions and buffered join rows together. Default 1,000,000 */
  maxGroups?: number;
  /** how long after its end a TUMBLE/HOP window still accepts rows (and a session row may be late). Default 24 h, as upstream */
  windowGraceMs?: number;
}

export interface RuntimeStats {
  /** groups, windows, sessions and buffered join rows held */
  stateSize: number;
  evalErrors: number;
  lateRows: number;
  /** largest input timestamp seen (ms), null before any input */
  clockMs: number | null;
}

export const DEFAULT_MAX_GROUPS = 1_000_000;
const SNAPSHOT_FORMAT = 'hstreamlite.sql.state/1';

interface Snapshot {
  format: string;
  shape: string;
  clock: number | null;
  counters: Counters;
  groups: JsonValue;
  join: JsonValue;
}

/** what a snapshot must agree on with the plan it is restored into */
function stateShape(b: BoundSelect): string {
  const w = b.window ? JSON.stringify(b.window.k === 'HOP' ? [b.window.size.ms, b.window.advance.ms] : b.window.k === 'TUMBLE' ? [b.window.size.ms] : [b.window.gap.ms]) : '';
  return [b.keys.map((k) => k.name).join(','), b.aggregates.map((a) => a.name).join(','), b.window?.k ?? '', w, b.leaves.map((l) => l.stream).join(',')].join('|');
}

function groupOperator(b: BoundSelect, budget: StateBudget, counters: Counters, graceMs: number): GroupOperator {
  const keyEvals = b.keys.map((k) => compileTuple({ k: 'col', stream: k.ref.stream, column: k.ref.column, pos: k.ref.pos }, b.leaves));
  const slots: AggSlot[] = b.aggregates.map((a) => ({
    kind: aggregateKind(a.expr.fn, !a.expr.arg, a.k),
    arg: a.expr.arg ? compileTuple(a.expr.arg, b.leaves) : undefined,
  }));
  const inputs = new GroupInputs(keyEvals, slots, counters);
  if (b.window?.k === 'SESSION') return new SessionAggregate(inputs, b.window.gap.ms, graceMs, budget, counters);
  return new GroupAggregate(inputs, b.window ? fixedWindow(b.window) : undefined, graceMs, budget, counters);
}

export class QueryRuntime {
  private readonly bound: BoundSelect;
  private readonly counters = newCounters();
  private readonly budget: StateBudget;
  private clock = -Infinity;
  /** FROM positions fed by each source stream */
  private readonly leavesBySource = new Map<string, number[]>();
  private readonly join?: WindowJoin;
  private readonly where?: Predicate<Tuple>;
  private readonly groups?: GroupOperator;
  private readonly having?: Predicate<GroupEnv>;
  private readonly tupleProjector?: TupleProjector;
  private readonly groupProjector?: GroupProjector;

  constructor(
    readonly plan: QueryPlan,
    options: RuntimeOptions = {},
  ) {
    const b = (this.bound = plan.bound);
    const maxGroups = options.maxGroups ?? DEFAULT_MAX_GROUPS;
    if (!(maxGroups > 0)) throw new TypeError('maxGroups must be positive');
    this.budget = new StateBudget(maxGroups);
    for (const leaf of b.leaves) {
      const list = this.leavesBySource.get(leaf.stream) ?? [];
      list.push(leaf.index);
      this.leavesBySource.set(leaf.stream, list);
    }
    if (b.source.k === 'join') this.join = new WindowJoin(b.source, b.leaves, this.budget, this.counters);
    if (b.where) this.where = makePredicate(compileTuple(b.where, b.leaves), this.counters);
    if (b.grouped) {
      this.groups = groupOperator(b, this.budget, this.counters, options.windowGraceMs ?? DEFAULT_WINDOW_GRACE_MS);
      if (b.having) this.having = makePredicate(compile(b.having, groupResolver(b)), this.counters);
      this.groupProjector = new GroupProjector(b, this.counters);
    } else {
      this.tupleProjector = new TupleProjector(b, this.counters);
    }
  }

  /** Feeds one record of `source` that arrived at `timeMs`; returns the rows it makes the query emit. */
  process(source: string, record: Row, timeMs: number): Row[] {
    const leaves = this.leavesBySource.get(source);
    if (!leaves) return [];
    if (typeof record !== 'object' || record === null || Array.isArray(record)) {
      this.counters.evalErrors++;
      return [];
    }
    const time = Number.isFinite(timeMs) ? timeMs : Number.isFinite(this.clock) ? this.clock : 0;
    if (time > this.clock) this.clock = time;
    const row: ValueObject = decodeObject(record);
    const out: Row[] = [];
    if (!this.join) {
      this.pipeline([row], time, out);
      return out;
    }
    const joined: TimedTuple[] = [];
    for (const leaf of leaves) this.join.push(leaf, row, time, joined);
    for (const t of joined) this.pipeline(t.rows, t.time, out);
    return out;
  }

  private pipeline(rows: Tuple, time: number, out: Row[]): void {
    if (this.where && !this.where(rows)) return;
    if (!this.groups) {
      out.push(this.tupleProjector!.project(rows));
      return;
    }
    for (const g of this.groups.update(rows, time, this.clock)) {
      const env = this.groups.inputs.env(g);
      if (this.having && !this.having(env)) continue;
      out.push(this.groupProjector!.project(env));
    }
  }

  /**
   * The current result table of a grouped query: one row per group (per group
   * and window) that passes HAVING, projected like the emitted rows. Windowed
   * rows always carry window_start / window_end. Empty for ungrouped queries.
   */
  viewRows(): Row[] {
    if (!this.groups) return [];
    const rows: Row[] = [];
    for (const g of this.groups.groups()) {
      const env = this.groups.inputs.env(g);
      if (this.having && !this.having(env)) continue;
      const row = this.groupProjector!.project(env);
      if (this.bound.window) {
        if (!(WINDOW_COLUMNS[0] in row)) row[WINDOW_COLUMNS[0]] = outValue(new SqlTimestamp(g.start));
        if (!(WINDOW_COLUMNS[1] in row)) row[WINDOW_COLUMNS[1]] = outValue(new SqlTimestamp(g.end));
      }
      rows.push(row);
    }
    return rows;
  }

  /** groups + windows + sessions + buffered join rows held now */
  stateSize(): number {
    return this.budget.used;
  }

  stats(): RuntimeStats {
    return {
      stateSize: this.budget.used,
      evalErrors: this.counters.evalErrors,
      lateRows: this.counters.lateRows,
      clockMs: Number.isFinite(this.clock) ? this.clock : null,
    };
  }

  snapshot(): JsonValue {
    const snap: Snapshot = {
      format: SNAPSHOT_FORMAT,
      shape: stateShape(this.bound),
      clock: Number.isFinite(this.clock) ? this.clock : null,
      counters: { ...this.counters },
      groups: this.groups ? this.groups.snapshot() : null,
      join: this.join ? this.join.snapshot() : null,
    };
    return snap as unknown as JsonValue;
  }

  static restore(plan: QueryPlan, snapshot: JsonValue, options?: RuntimeOptions): QueryRuntime {
    const snap = snapshot as unknown as Snapshot;
    if (typeof snap !== 'object' || snap === null || snap.format !== SNAPSHOT_FORMAT) {
      throw new SqlError('runtime', `not a query state snapshot (expected format ${SNAPSHOT_FORMAT})`);
    }
    if (snap.shape !== stateShape(plan.bound)) throw new SqlError('runtime', 'the snapshot was taken from a different query: its state does not fit this plan');
    const rt = new QueryRuntime(plan, options);
    rt.clock = snap.clock ?? -Infinity;
    Object.assign(rt.counters, snap.counters);
    if (rt.groups && snap.groups !== null) rt.groups.restore(snap.groups);
    if (rt.join && snap.join !== null) rt.join.restore(snap.join);
    return rt;
  }
}
