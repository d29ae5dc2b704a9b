/**
 * Expressions → closures. Each AST node becomes a function of an environment
 * (a joined tuple of input rows before grouping, a group's keys and aggregate
 * results after). How a column or an aggregate is read is supplied by the
 * caller (a Resolver), so the same compiler serves every operator.
 *
 * Value semantics (upstream's SQL docs) with fix 7: comparisons with
 * NULL give NULL (`NULL = NULL` is NULL), AND/OR use three-valued logic
 * (`FALSE AND NULL` = FALSE, `TRUE OR NULL` = TRUE). Type mismatches throw
 * EvalError; the operator evaluating the expression decides what that means.
 *
 * Must not import anything outside sql/.
 */
import type { Expr, SqlType } from './ast.js';
import { EvalError } from './errors.js';
import { SCALAR_FUNCTIONS } from './functions/scalar.js';
import { intervalValue } from './parser.js';
import {
  compareValues,
  equals,
  isJsonObject,
  kindOf,
  KIND_NAMES,
  parseDate,
  parseInterval,
  parseTime,
  parseTimestamp,
  render,
  SqlBytes,
  SqlDate,
  SqlInterval,
  SqlTime,
  SqlTimestamp,
  type Value,
} from './values.js';

export type Evaluator<E> = (env: E) => Value;

export interface Resolver<E> {
  column(ref: Expr & { k: 'col' }): Evaluator<E>;
  aggregate(agg: Expr & { k: 'agg' }): Evaluator<E>;
}

const DAY_MS = 86_400_000;
const typeName = (v: Value) => KIND_NAMES[kindOf(v)];

function arithSlow(op: string, a: Value, b: Value): Value {
  if (a === null || b === null) return null;
  const bad = typeof a !== 'number' ? a : b;
  throw new EvalError(`${op} expects numbers, got ${article(typeName(bad))} ${typeName(bad)}`);
}
const article = (w: string) => (/^[AEIOU]/.test(w) ? 'an' : 'a');

function bool(v: Value, what: string): boolean | null {
  if (v === null || typeof v === 'boolean') return v;
  throw new EvalError(`${what} expects a Boolean, got ${article(typeName(v))} ${typeName(v)}`);
}

export function compile<E>(e: Expr, r: Resolver<E>): Evaluator<E> {
  const c = (x: Expr) => compile(x, r);
  switch (e.k) {
    case 'int':
    case 'float':
    case 'string':
    case 'bool': {
      const v = e.value;
      return () => v;
    }
    case 'null':
      return () => null;
    case 'date': {
      const v = new SqlDate(e.days);
      return () => v;
    }
    case 'time': {
      const v = new SqlTime(e.ms);
      return () => v;
    }
    case 'timestamp': {
      const v = new SqlTimestamp(e.ms, e.offsetMinutes);
      return () => v;
    }
    case 'interval': {
      const v = intervalValue(e.interval);
      return () => v;
    }
    case 'col':
      return r.column(e);
    case 'agg':
      return r.aggregate(e);
    case 'array': {
      const items = e.items.map(c);
      return (env) => items.map((f) => f(env));
    }
    case 'arith': {
      const [l, rr] = [c(e.l), c(e.r)];
      switch (e.op) {
        case '+':
          return (env) => {
            const a = l(env);
            const b = rr(env);
            return typeof a === 'number' && typeof b === 'number' ? a + b : arithSlow('+', a, b);
          };
        case '-':
          return (env) => {
            const a = l(env);
            const b = rr(env);
            return typeof a === 'number' && typeof b === 'number' ? a - b : arithSlow('-', a, b);
          };
        case '*':
          return (env) => {
            const a = l(env);
            const b = rr(env);
            return typeof a === 'number' && typeof b === 'number' ? a * b : arithSlow('*', a, b);
          };
      }
      break;
    }
    case 'cmp': {
      const [l, rr] = [c(e.l), c(e.r)];
      const test = comparison(e.op);
      return (env) => {
        const a = l(env);
        const b = rr(env);
        if (typeof a === 'number' && typeof b === 'number') return test(a < b ? -1 : a > b ? 1 : 0);
        if (a === null || b === null) return null;
        return test(e.op === '=' || e.op === '<>' ? (equals(a, b) ? 0 : 1) : compareValues(a, b));
      };
    }
    case 'and': {
      const [l, rr] = [c(e.l), c(e.r)];
      return (env) => {
        const a = bool(l(env), 'AND');
        if (a === false) return false;
        const b = bool(rr(env), 'AND');
        if (b === false) return false;
        return a === null || b === null ? null : true;
      };
    }
    case 'or': {
      const [l, rr] = [c(e.l), c(e.r)];
      return (env) => {
        const a = bool(l(env), 'OR');
        if (a === true) return true;
        const b = bool(rr(env), 'OR');
        if (b === true) return true;
        return a === null || b === null ? null : false;
      };
    }
    case 'not': {
      const x = c(e.e);
      return (env) => {
        const v = bool(x(env), 'NOT');
        return v === null ? null : !v;
      };
    }
    case 'between': {
      const [x, lo, hi] = [c(e.e), c(e.lo), c(e.hi)];
      const { negated, symmetric } = e;
      return (env) => {
        const v = x(env);
        let a = lo(env);
        let b = hi(env);
        if (v === null || a === null || b === null) return null;
        if (symmetric && compareValues(a, b) > 0) [a, b] = [b, a];
        const inside = compareValues(a, v) <= 0 && compareValues(v, b) <= 0;
        return negated ? !inside : inside;
      };
    }
    case 'json': {
      const [l, rr] = [c(e.l), c(e.r)];
      const asText = e.op === '->>' || e.op === '#>>';
      const step = e.op === '->' || e.op === '->>' ? jsonGet : jsonPath;
      return (env) => {
        const v = step(l(env), rr(env));
        return asText && v !== null && typeof v !== 'string' ? render(v) : v;
      };
    }
    case 'index': {
      const x = c(e.e);
      const { from, to, slice } = e;
      return (env) => {
        const v = x(env);
        if (v === null) return null;
        if (!Array.isArray(v)) throw new EvalError(`[] expects an Array, got ${article(typeName(v))} ${typeName(v)}`);
        if (!slice) {
          if (from! >= v.length) throw new EvalError(`array index ${from} out of range (length ${v.length})`);
          return v[from!]!;
        }
        // inclusive of the end index, as upstream documents; an open end runs to the last element (fix 9)
        return v.slice(from ?? 0, to === undefined ? v.length : to + 1);
      };
    }
    case 'cast': {
      const x = c(e.e);
      const t = e.type;
      return (env) => castValue(x(env), t);
    }
    case 'call': {
      const fn = SCALAR_FUNCTIONS.get(e.fn)!;
      const args = e.args.map(c);
      if (fn.handlesNull) return (env) => fn.impl(args.map((a) => a(env)));
      if (args.length === 1) {
        const [a] = args as [Evaluator<E>];
        return (env) => {
          const v = a(env);
          return v === null ? null : fn.impl([v]);
        };
      }
      return (env) => {
        const vs = args.map((a) => a(env));
        return vs.includes(null) ? null : fn.impl(vs);
      };
    }
  }
}

function comparison(op: string): (c: number) => boolean {
  switch (op) {
    case '=':
      return (c) => c === 0;
    case '<>':
      return (c) => c !== 0;
    case '<':
      return (c) => c < 0;
    case '>':
      return (c) => c > 0;
    case '<=':
      return (c) => c <= 0;
    default:
      return (c) => c >= 0;
  }
}

/** `j -> key`: a field of a JSONB object (or an element of an array by INTEGER index); missing gives NULL */
function jsonGet(j: Value, key: Value): Value {
  if (j === null || key === null) return null;
  if (isJsonObject(j)) {
    if (typeof key !== 'string') throw new EvalError(`-> on a Jsonb object expects a String key, got ${article(typeName(key))} ${typeName(key)}`);
    const v = j[key];
    return v === undefined ? null : v;
  }
  if (Array.isArray(j) && typeof key === 'number' && Number.isInteger(key)) return key >= 0 && key < j.length ? j[key]! : null;
  throw new EvalError(`-> expects a Jsonb value, got ${article(typeName(j))} ${typeName(j)}`);
}

/** `j #> path`: walks String keys into objects and INTEGER indexes into arrays; a missing step gives NULL */
function jsonPath(j: Value, path: Value): Value {
  if (j === null || path === null) return null;
  if (!Array.isArray(path)) throw new EvalError(`#> expects an Array path, got ${article(typeName(path))} ${typeName(path)}`);
  let cur: Value = j;
  for (const step of path) {
    if (cur === null) return null;
    if (typeof step === 'string' && isJsonObject(cur)) cur = cur[step] ?? null;
    else if (typeof step === 'number' && Array.isArray(cur)) cur = step >= 0 && step < cur.length ? cur[step]! : null;
    else if (typeof step !== 'string' && typeof step !== 'number') throw new EvalError('#> path steps must be Strings or Integers');
    else return null;
  }
  return cur;
}

const INT_TEXT = /^\s*[-+]?\d+\s*$/;
const FLOAT_TEXT = /^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*$/;

/** CAST / `::` (upstream's SQL docs). CAST of NULL is NULL. */
export function castValue(v: Value, t: SqlType): Value {
  if (v === null) return null;
  if (t.arrayDepth > 0) {
    if (!Array.isArray(v)) throw new EvalError(`cannot cast ${article(typeName(v))} ${typeName(v)} to an array type`);
    const inner: SqlType = { base: t.base, arrayDepth: t.arrayDepth - 1 };
    return v.map((x) => castValue(x, inner));
  }
  const fail = (): never => {
    throw new EvalError(`cannot cast ${article(typeName(v))} ${typeName(v)}${typeof v === 'string' ? ` ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}` : ''} to ${t.base}`);
  };
  switch (t.base) {
    case 'INTEGER':
      if (typeof v === 'number') return Math.floor(v);
      if (typeof v === 'boolean') return v ? 1 : 0;
      if (typeof v === 'string' && INT_TEXT.test(v)) return Number(v);
      return fail();
    case 'FLOAT':
      if (typeof v === 'number') return v;
      if (typeof v === 'boolean') return v ? 1 : 0;
      if (typeof v === 'string' && FLOAT_TEXT.test(v)) return Number(v);
      return fail();
    case 'BOOLEAN':
      if (typeof v === 'boolean') return v;
      if (typeof v === 'number') return v !== 0;
      if (typeof v === 'string') {
        if (FLOAT_TEXT.test(v)) return Number(v) !== 0;
        const s = v.trim().toUpperCase();
        if (s === 'TRUE' || s === 'T') return true;
        if (s === 'FALSE' || s === 'F') return false;
      }
      return fail();
    case 'STRING':
      return render(v);
    case 'DATE':
      if (v instanceof SqlDate) return v;
      if (v instanceof SqlTimestamp) return new SqlDate(Math.floor(v.ms / DAY_MS));
      if (typeof v === 'string') return parseDate(v) ?? parseTimestampDate(v) ?? fail();
      return fail();
    case 'TIME':
      if (v instanceof SqlTime) return v;
      if (v instanceof SqlTimestamp) return new SqlTime(v.ms - Math.floor(v.ms / DAY_MS) * DAY_MS);
      if (typeof v === 'string') return parseTime(v) ?? fail();
      return fail();
    case 'TIMESTAMP':
      if (v instanceof SqlTimestamp) return v;
      if (v instanceof SqlDate) return new SqlTimestamp(v.days * DAY_MS);
      if (v instanceof SqlTime) return new SqlTimestamp(v.ms);
      if (typeof v === 'string') return parseTimestamp(v) ?? fail();
      return fail();
    case 'INTERVAL':
      if (v instanceof SqlInterval) return v;
      if (typeof v === 'number') return new SqlInterval(0, Math.round(v * 1000));
      if (typeof v === 'string') return parseInterval(v) ?? fail();
      return fail();
    case 'JSONB':
      return isJsonObject(v) ? v : fail();
    case 'BYTEA':
      return v instanceof SqlBytes ? v : fail();
  }
}

function parseTimestampDate(s: string): SqlDate | undefined {
  const t = parseTimestamp(s);
  return t ? new SqlDate(Math.floor(t.ms / DAY_MS)) : undefined;
}
