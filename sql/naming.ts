/**
 * Output column names as upstream gives them (upstream's SQL docs): an unaliased
 * expression is named by BNFC's printer of SQL-v1.cf with every whitespace
 * character removed. The printer re-emits keywords upper-case, adds
 * parentheses only where upstream's precedence levels need them, and prints
 * FLOAT literals with Haskell's `show` (`0.05` → `5.0e-2`).
 *
 * Levels (SQL-v1.cf): 0 OR and array literals, 1 AND, 2 NOT, 3 comparisons,
 * 4 BETWEEN, 5 scalar functions and JSON operators, 6 + -, 7 *, 8 array
 * access, 9 casts, 10 atoms. Our parser accepts some trees upstream's does
 * not (e.g. `ABS(a) + 1`); they get the name upstream gives the parenthesised
 * form (`(ABS(a))+1`), so a name depends on the tree, never on the spelling.
 *
 * Must not import anything outside sql/.
 */
import type { Expr, SqlType } from './ast.js';

function level(e: Expr): number {
  switch (e.k) {
    case 'or':
    case 'array':
      return 0;
    case 'and':
      return 1;
    case 'not':
      return 2;
    case 'cmp':
      return 3;
    case 'between':
      return 4;
    case 'json':
    case 'call':
      return 5;
    case 'arith':
      return e.op === '*' ? 7 : 6;
    case 'index':
      return 8;
    case 'cast':
      return 9;
    default:
      return 10;
  }
}

/** Haskell's `show` for a non-negative Double: fixed notation for 0.1 ≤ x < 10^7, otherwise `d.ddde±n`. */
export function haskellShowDouble(x: number): string {
  if (Number.isNaN(x)) return 'NaN';
  if (!Number.isFinite(x)) return x > 0 ? 'Infinity' : '-Infinity';
  if (x < 0 || Object.is(x, -0)) return '-' + haskellShowDouble(-x);
  if (x === 0) return '0.0';
  const [mantissa, expText] = x.toExponential().split('e') as [string, string];
  const digits = mantissa.replace('.', '');
  const e = Number(expText);
  if (x >= 0.1 && x < 1e7) {
    if (e < 0) return `0.${'0'.repeat(-e - 1)}${digits}`;
    const intPart = digits.slice(0, e + 1).padEnd(e + 1, '0');
    const frac = digits.slice(e + 1);
    return `${intPart}.${frac === '' ? '0' : frac}`;
  }
  return `${digits[0]}.${digits.length > 1 ? digits.slice(1) : '0'}e${e}`;
}

function printType(t: SqlType): string {
  return t.base + '[]'.repeat(t.arrayDepth);
}

function printNumber(raw: string, value: number, isFloat: boolean): string {
  const sign = raw.startsWith('-') ? '-' : raw.startsWith('+') ? '+' : '';
  if (!isFloat) return sign + (raw.replace(/^[+-]/, '').replace(/^0+(?=\d)/, '') || '0');
  return sign + haskellShowDouble(Math.abs(value));
}

function at(e: Expr, min: number): string {
  const s = print(e);
  return level(e) < min ? `(${s})` : s;
}

function print(e: Expr): string {
  switch (e.k) {
    case 'int':
      return printNumber(e.raw, e.value, false);
    case 'float':
      return printNumber(e.raw, e.value, true);
    case 'string':
      return e.raw;
    case 'bool':
      return e.value ? 'TRUE' : 'FALSE';
    case 'null':
      return 'NULL';
    case 'date':
      return `DATE${e.raw}`;
    case 'time':
      return `TIME${e.raw}`;
    case 'timestamp':
      return `TIMESTAMP${e.raw}`;
    case 'interval':
      return `INTERVAL${e.interval.count}${e.interval.unit}`;
    case 'col':
      return e.stream ? `${e.stream.raw}.${e.column.raw}` : e.column.raw;
    case 'array':
      return `{${e.items.map((x) => at(x, 0)).join(',')}}`;
    case 'arith':
      return e.op === '*' ? `${at(e.l, 7)}*${at(e.r, 8)}` : `${at(e.l, 6)}${e.op}${at(e.r, 7)}`;
    case 'cmp':
      return `${at(e.l, 3)}${e.op}${at(e.r, 4)}`;
    case 'and':
      return `${at(e.l, 1)}AND${at(e.r, 2)}`;
    case 'or':
      return `${at(e.l, 0)}OR${at(e.r, 1)}`;
    case 'not':
      return `NOT${at(e.e, 3)}`;
    case 'between':
      return `${at(e.e, 5)}${e.negated ? 'NOT' : ''}BETWEEN${e.symmetric ? 'SYMMETRIC' : ''}${at(e.lo, 5)}AND${at(e.hi, 5)}`;
    case 'json':
      return `${at(e.l, 5)}${e.op}${at(e.r, 6)}`;
    case 'index': {
      const rhs = !e.slice ? `[${e.from}]` : e.from === undefined ? `[:${e.to}]` : e.to === undefined ? `[${e.from}:]` : `[${e.from}:${e.to}]`;
      return `${at(e.e, 9)}${rhs}`;
    }
    case 'cast':
      return e.syntax === '::' ? `${at(e.e, 10)}::${printType(e.type)}` : `CAST(${at(e.e, 0)}AS${printType(e.type)})`;
    case 'call':
      return `${e.fn}(${e.args.map((a) => at(a, 0)).join(',')})`;
    case 'agg':
      if (!e.arg) return 'COUNT(*)';
      return e.kArg ? `${e.fn}(${at(e.arg, 0)},${at(e.kArg, 0)})` : `${e.fn}(${at(e.arg, 0)})`;
  }
}

/** The output column name of an unaliased select expression. */
export function columnName(e: Expr): string {
  if (e.k === 'col') return e.column.name;
  return print(e).replace(/\s+/g, '');
}

/** The upstream name of any expression (used to identify aggregates: same name, same aggregate). */
export function exprName(e: Expr): string {
  return print(e).replace(/\s+/g, '');
}
