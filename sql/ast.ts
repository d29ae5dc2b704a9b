/**
 * The syntax tree the parser produces. Every node carries the position of its
 * first token so that binder errors can point at it. The tree keeps what the
 * upstream column-naming printer needs (the raw spelling of literals and
 * quoted identifiers), nothing about evaluation.
 *
 * Must not import anything outside sql/.
 */
import type { SourcePos } from './errors.js';

export type ScalarTypeName = 'INTEGER' | 'FLOAT' | 'BOOLEAN' | 'BYTEA' | 'STRING' | 'DATE' | 'TIME' | 'TIMESTAMP' | 'INTERVAL' | 'JSONB';
/** a cast target: a scalar type with zero or more `[]` */
export interface SqlType {
  base: ScalarTypeName;
  arrayDepth: number;
}

export type IntervalUnit = 'SECOND' | 'MINUTE' | 'HOUR' | 'DAY' | 'MONTH' | 'YEAR';
export interface Interval {
  count: number;
  unit: IntervalUnit;
  /** months are 30 days and years 360 days, as upstream converts them (upstream's SQL docs) */
  ms: number;
  pos: SourcePos;
}

/** An identifier as written: `name` is the identifier, `raw` its spelling (with quotes if quoted). */
export interface Name {
  name: string;
  raw: string;
  pos: SourcePos;
}

export type AggregateName = 'COUNT' | 'SUM' | 'AVG' | 'MIN' | 'MAX' | 'TOPK' | 'TOPKDISTINCT';
export type ArithOp = '+' | '-' | '*';
export type CompareOp = '=' | '<>' | '<' | '>' | '<=' | '>=';
export type JsonOp = '->' | '->>' | '#>' | '#>>';

export type Expr =
  | { k: 'int'; value: number; raw: string; pos: SourcePos }
  | { k: 'float'; value: number; raw: string; pos: SourcePos }
  | { k: 'string'; value: string; raw: string; pos: SourcePos }
  | { k: 'bool'; value: boolean; pos: SourcePos }
  | { k: 'null'; pos: SourcePos }
  | { k: 'date'; text: string; raw: string; days: number; pos: SourcePos }
  | { k: 'time'; text: string; raw: string; ms: number; pos: SourcePos }
  | { k: 'timestamp'; text: string; raw: string; ms: number; offsetMinutes: number; pos: SourcePos }
  | { k: 'interval'; interval: Interval; pos: SourcePos }
  | { k: 'col'; stream?: Name; column: Name; pos: SourcePos }
  | { k: 'array'; items: Expr[]; pos: SourcePos }
  | { k: 'arith'; op: ArithOp; l: Expr; r: Expr; pos: SourcePos }
  | { k: 'cmp'; op: CompareOp; l: Expr; r: Expr; pos: SourcePos }
  | { k: 'and' | 'or'; l: Expr; r: Expr; pos: SourcePos }
  | { k: 'not'; e: Expr; pos: SourcePos }
  | { k: 'between'; e: Expr; lo: Expr; hi: Expr; negated: boolean; symmetric: boolean; pos: SourcePos }
  | { k: 'json'; op: JsonOp; l: Expr; r: Expr; pos: SourcePos }
  /** `e[i]` (to undefined, slice false), `e[i:]`, `e[:j]`, `e[i:j]` */
  | { k: 'index'; e: Expr; from?: number; to?: number; slice: boolean; pos: SourcePos }
  | { k: 'cast'; e: Expr; type: SqlType; syntax: '::' | 'CAST'; pos: SourcePos }
  | { k: 'call'; fn: string; args: Expr[]; pos: SourcePos }
  /** arg undefined = `COUNT(*)`; `k` only for TOPK / TOPKDISTINCT */
  | { k: 'agg'; fn: AggregateName; arg?: Expr; kArg?: Expr; pos: SourcePos };

export type SelectItem =
  | { k: 'star'; pos: SourcePos }
  | { k: 'streamStar'; stream: Name; pos: SourcePos }
  | { k: 'expr'; expr: Expr; alias?: Name; pos: SourcePos };

export type JoinType = 'INNER' | 'LEFT' | 'RIGHT' | 'FULL' | 'CROSS';
export type JoinCondition =
  | { k: 'on'; expr: Expr }
  | { k: 'using'; columns: Name[] }
  | { k: 'natural' }
  | { k: 'cross' };

export type WindowSpec =
  | { k: 'TUMBLE'; size: Interval; pos: SourcePos }
  | { k: 'HOP'; size: Interval; advance: Interval; pos: SourcePos }
  | { k: 'SESSION'; gap: Interval; pos: SourcePos };

export type TableRef =
  | { k: 'stream'; name: Name; alias?: Name; window?: WindowSpec; pos: SourcePos }
  | { k: 'join'; type: JoinType; left: TableRef; right: TableRef; cond: JoinCondition; within: Interval; pos: SourcePos };

/** A column in GROUP BY: `c` or `s.c`. */
export interface ColumnRef {
  stream?: Name;
  column: Name;
  pos: SourcePos;
}

export interface SelectStatement {
  /** source stream (or view) names in FROM order, without duplicates */
  sources: string[];
  items: SelectItem[];
  from: TableRef;
  where?: Expr;
  groupBy?: ColumnRef[];
  having?: Expr;
  pos: SourcePos;
}
