/**
 * The environments expressions are evaluated in, and how a column reference
 * is read in each:
 *
 * - before grouping, a Tuple: one row per FROM source (a joined pair, or a
 *   single row), NULL for the missing side of an outer join;
 * - after grouping, a GroupEnv: the group's key values, its aggregate results
 *   and, for windowed groups, the window bounds.
 *
 * A field that is absent from a row reads as NULL (streams are schemaless).
 *
 * Must not import anything outside sql/.
 */
import type { Expr } from '../ast.js';
import type { BoundSelect, Leaf } from '../binder.js';
import { WINDOW_COLUMNS } from '../binder.js';
import { compile, type Evaluator, type Resolver } from '../compile.js';
import { exprName } from '../naming.js';
import { SqlTimestamp, type Value, type ValueObject } from '../values.js';

export type Tuple = Array<ValueObject | null>;
export interface TimedTuple {
  rows: Tuple;
  /** ingestion time in ms (for a joined pair, the later of the two) */
  time: number;
}

export interface GroupEnv {
  keys: Value[];
  aggs: Value[];
  /** window bounds in ms (0 when not windowed) */
  start: number;
  end: number;
}

/** the FROM position a qualifier names (already validated by the binder) */
export function leafOfTag(leaves: readonly Leaf[], tag: string): number {
  const i = leaves.findIndex((l) => l.tag === tag);
  if (i < 0) throw new Error(`unbound stream tag ${tag}`);
  return i;
}

function field(row: ValueObject | null, name: string): Value {
  if (row === null) return null;
  const v = row[name];
  return v === undefined ? null : v;
}

/** Reads columns from a tuple of the first `visible` FROM sources. */
export function tupleResolver(leaves: readonly Leaf[], visible = leaves.length): Resolver<Tuple> {
  return {
    column(ref) {
      const name = ref.column.name;
      if (ref.stream) {
        const i = leafOfTag(leaves, ref.stream.name);
        return (t) => field(t[i]!, name);
      }
      if (visible === 1) {
        return (t) => {
          const v = t[0]![name];
          return v === undefined ? null : v;
        };
      }
      // unqualified over a join: the first source whose row has the field (upstream's rule)
      return (t) => {
        for (let i = 0; i < visible; i++) {
          const row = t[i];
          if (row) {
            const v = row[name];
            if (v !== undefined) return v;
          }
        }
        return null;
      };
    },
    aggregate() {
      throw new Error('aggregate outside of grouping (the binder rejects this)');
    },
  };
}

export function compileTuple(e: Expr, leaves: readonly Leaf[], visible?: number): Evaluator<Tuple> {
  return compile(e, tupleResolver(leaves, visible));
}

/** Reads group keys, window bounds, aggregate results and (in HAVING) select aliases. */
export function groupResolver(bound: BoundSelect): Resolver<GroupEnv> {
  const aliases = new Map<string, Expr>();
  for (const it of bound.items) if (it.k === 'expr') aliases.set(it.name, it.expr);
  const resolver: Resolver<GroupEnv> = {
    column(ref) {
      const name = ref.column.name;
      const leaf = ref.stream ? leafOfTag(bound.leaves, ref.stream.name) : undefined;
      const k = bound.keys.findIndex((key) => key.name === name && (leaf === undefined || key.leaf === undefined || key.leaf === leaf));
      if (k >= 0) return (g) => g.keys[k]!;
      if (bound.window && !ref.stream && name === WINDOW_COLUMNS[0]) return (g) => new SqlTimestamp(g.start);
      if (bound.window && !ref.stream && name === WINDOW_COLUMNS[1]) return (g) => new SqlTimestamp(g.end);
      const alias = !ref.stream ? aliases.get(name) : undefined;
      if (alias && !(alias.k === 'col' && alias.column.name === name && !alias.stream)) return compile(alias, resolver);
      throw new Error(`column ${name} is not grouped (the binder rejects this)`);
    },
    aggregate(agg) {
      const name = exprName(agg);
      const i = bound.aggregates.findIndex((a) => a.name === name);
      if (i < 0) throw new Error(`aggregate ${name} was not collected`);
      return (g) => g.aggs[i]!;
    },
  };
  return resolver;
}
