/**
 * Project: builds an output row from the select list. Output values are
 * plain JSON (upstream's SQL docs without the `$numberLong` labels; typed values
 * keep their labels, see values.ts). An expression that fails to evaluate
 * yields NULL for that column (upstream's Affiliate semantics).
 *
 * `*` keeps every input column, also next to other items (`SELECT *, x`;
 * upstream drops the `*`, fix 10). Over a join, `*` writes each field under
 * its bare name, unless two fields share a bare name, in which case every
 * starred field is written `tag.name` (upstream's SQL docs).
 *
 * Must not import anything outside sql/.
 */
import type { BoundSelect } from '../binder.js';
import { compile, type Evaluator } from '../compile.js';
import { EvalError } from '../errors.js';
import { encodeValue, type JsonValue, type Row, type Value, type ValueObject } from '../values.js';
import type { Counters } from './counters.js';
import { groupResolver, tupleResolver, type GroupEnv, type Tuple } from './env.js';
import { rowBuilder, setField, type RowBuilder } from './row-builder.js';

/** An output value as plain JSON (encodeValue has the scalar fast path first). */
export const outValue: (v: Value) => JsonValue = encodeValue;

/** every field of a row as plain JSON (a copy) */
export function encodeRow(row: ValueObject): Row {
  let plain = true;
  for (const key in row) {
    const v = row[key]!;
    if ((typeof v === 'object' && v !== null) || (typeof v === 'number' && !Number.isFinite(v)) || key === '__proto__') {
      plain = false;
      break;
    }
  }
  // a row of plain values is cloned in one step
  if (plain) return { ...(row as Row) };
  const out: Row = {};
  for (const key in row) setField(out, key, outValue(row[key]!));
  return out;
}

function safe<E>(ev: Evaluator<E>, counters: Counters): (env: E) => JsonValue {
  return (env) => {
    try {
      return outValue(ev(env));
    } catch (err) {
      if (!(err instanceof EvalError)) throw err;
      counters.evalErrors++;
      return null;
    }
  };
}

/** evaluates every expression into `values` (a failing one gives NULL) */
function evalAll<E>(evs: ReadonlyArray<Evaluator<E>>, env: E, values: JsonValue[], counters: Counters): JsonValue[] {
  for (let i = 0; i < evs.length; i++) {
    try {
      values[i] = outValue(evs[i]!(env));
    } catch (err) {
      if (!(err instanceof EvalError)) throw err;
      counters.evalErrors++;
      values[i] = null;
    }
  }
  return values;
}

type Step = { k: 'star'; leaves: number[] } | { k: 'expr'; name: string; ev: (t: Tuple) => JsonValue; raw: Evaluator<Tuple> };

/** Projection of an ungrouped query (evaluated on the joined tuple). */
export class TupleProjector {
  private readonly steps: Step[];
  private readonly onlyStar: boolean;
  private readonly tags: string[];
  /** set when the select list has no `*`: the columns are fixed */
  private readonly build?: RowBuilder;
  private readonly evs: Array<Evaluator<Tuple>> = [];
  private readonly values: JsonValue[] = [];

  constructor(
    bound: BoundSelect,
    private readonly counters: Counters,
  ) {
    const resolver = tupleResolver(bound.leaves);
    const all = bound.leaves.map((l) => l.index);
    this.tags = bound.leaves.map((l) => l.tag);
    this.steps = bound.items.map((it): Step => {
      if (it.k === 'star') return { k: 'star', leaves: all };
      if (it.k === 'streamStar') return { k: 'star', leaves: [it.leaf] };
      const raw = compile(it.expr, resolver);
      return { k: 'expr', name: it.name, ev: safe(raw, counters), raw };
    });
    this.onlyStar = this.steps.length === 1 && this.steps[0]!.k === 'star' && bound.leaves.length === 1;
    if (this.steps.every((s) => s.k === 'expr')) {
      const exprs = this.steps as Array<Step & { k: 'expr' }>;
      this.build = rowBuilder(exprs.map((s) => s.name));
      this.evs = exprs.map((s) => s.raw);
    }
  }

  project(t: Tuple): Row {
    if (this.onlyStar) return encodeRow(t[0]!);
    if (this.build) return this.build(evalAll(this.evs, t, this.values, this.counters));
    const out: Row = {};
    this.expandStars(t, out);
    for (const s of this.steps) if (s.k === 'expr') setField(out, s.name, s.ev(t));
    return out;
  }

  private expandStars(t: Tuple, out: Row): void {
    const fields: Array<[string, string, Value]> = [];
    for (const s of this.steps) {
      if (s.k !== 'star') continue;
      for (const i of s.leaves) {
        const row = t[i];
        if (row) for (const key in row) fields.push([key, this.tags[i]!, row[key]!]);
      }
    }
    const seen = new Set<string>();
    let collide = false;
    if (t.length > 1) {
      for (const [name] of fields) {
        if (seen.has(name)) {
          collide = true;
          break;
        }
        seen.add(name);
      }
    }
    for (const [name, tag, v] of fields) setField(out, collide ? `${tag}.${name}` : name, outValue(v));
  }
}

/** Projection of a grouped query (evaluated on a group's keys and aggregates). */
export class GroupProjector {
  private readonly evs: Array<Evaluator<GroupEnv>>;
  private readonly build: RowBuilder;
  private readonly values: JsonValue[] = [];

  constructor(
    bound: BoundSelect,
    private readonly counters: Counters,
  ) {
    const resolver = groupResolver(bound);
    const items = bound.items.flatMap((it) => (it.k === 'expr' ? [it] : []));
    this.evs = items.map((it) => compile(it.expr, resolver));
    this.build = rowBuilder(items.map((it) => it.name));
  }

  project(g: GroupEnv): Row {
    return this.build(evalAll(this.evs, g, this.values, this.counters));
  }
}
