/**
 * Stable text of logical plans (EXPLAIN output and the golden files in
 * test/sql/golden/). One node per line, children indented by two spaces;
 * expressions are printed as fully parenthesised SQL so the text does not
 * depend on how the query was spelled. Change this format only together with
 * the goldens (`npm run sql:golden`).
 *
 * Must not import anything outside sql/.
 */
import type { Expr, Interval, SqlType, WindowSpec } from './ast.js';
import type { PlanNode } from './planner.js';
import { KEYWORDS } from './lexer.js';

const PLAIN_IDENT = /^[A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff][A-Za-z0-9_'\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u00ff]*$/;

/** an identifier as it must be written in SQL (double-quoted when it is not a plain one or is a keyword) */
export function quoteIdent(name: string): string {
  return PLAIN_IDENT.test(name) && !KEYWORDS.has(name.toUpperCase()) ? name : `"${name}"`;
}

export function formatInterval(i: Interval): string {
  return `INTERVAL ${i.count} ${i.unit}`;
}

export function formatWindow(w: WindowSpec): string {
  switch (w.k) {
    case 'TUMBLE':
      return `TUMBLE(${formatInterval(w.size)})`;
    case 'HOP':
      return `HOP(${formatInterval(w.size)}, ${formatInterval(w.advance)})`;
    case 'SESSION':
      return `SESSION(${formatInterval(w.gap)})`;
  }
}

const formatType = (t: SqlType) => t.base + '[]'.repeat(t.arrayDepth);

export function formatExpr(e: Expr): string {
  switch (e.k) {
    case 'int':
    case 'float':
      return String(e.value);
    case 'string':
      return `'${e.value}'`;
    case 'bool':
      return e.value ? 'TRUE' : 'FALSE';
    case 'null':
      return 'NULL';
    case 'date':
      return `DATE '${e.text}'`;
    case 'time':
      return `TIME '${e.text}'`;
    case 'timestamp':
      return `TIMESTAMP '${e.text}'`;
    case 'interval':
      return formatInterval(e.interval);
    case 'col':
      return e.stream ? `${quoteIdent(e.stream.name)}.${quoteIdent(e.column.name)}` : quoteIdent(e.column.name);
    case 'array':
      return `{${e.items.map(formatExpr).join(', ')}}`;
    case 'arith':
    case 'cmp':
    case 'json':
      return `(${formatExpr(e.l)} ${e.op} ${formatExpr(e.r)})`;
    case 'and':
    case 'or':
      return `(${formatExpr(e.l)} ${e.k.toUpperCase()} ${formatExpr(e.r)})`;
    case 'not':
      return `(NOT ${formatExpr(e.e)})`;
    case 'between':
      return `(${formatExpr(e.e)}${e.negated ? ' NOT' : ''} BETWEEN${e.symmetric ? ' SYMMETRIC' : ''} ${formatExpr(e.lo)} AND ${formatExpr(e.hi)})`;
    case 'index': {
      const rhs = !e.slice ? `[${e.from}]` : `[${e.from ?? ''}:${e.to ?? ''}]`;
      return `${formatExpr(e.e)}${rhs}`;
    }
    case 'cast':
      return `CAST(${formatExpr(e.e)} AS ${formatType(e.type)})`;
    case 'call':
      return `${e.fn}(${e.args.map(formatExpr).join(', ')})`;
    case 'agg':
      if (!e.arg) return 'COUNT(*)';
      return e.kArg ? `${e.fn}(${formatExpr(e.arg)}, ${formatExpr(e.kArg)})` : `${e.fn}(${formatExpr(e.arg)})`;
  }
}

function nodeLine(n: PlanNode): string {
  switch (n.op) {
    case 'Scan':
      return `Scan ${quoteIdent(n.stream)}${n.alias ? ` AS ${quoteIdent(n.alias)}` : ''}`;
    case 'Join':
      return `Join ${n.type} ${n.condition} WITHIN ${formatInterval(n.within)}${n.hashKeys.length > 0 ? ` hash=[${n.hashKeys.join(', ')}]` : ''}`;
    case 'Filter':
      return `Filter ${formatExpr(n.condition)}`;
    case 'Aggregate':
      return `Aggregate keys=[${n.keys.join(', ')}] aggs=[${n.aggregates.join(', ')}]${n.window ? ` window=${formatWindow(n.window)}` : ''}`;
    case 'Having':
      return `Having ${formatExpr(n.condition)}`;
    case 'Project':
      return `Project ${n.items.join(', ')}`;
  }
}

export function formatPlan(root: PlanNode): string {
  const lines: string[] = [];
  const visit = (n: PlanNode, depth: number): void => {
    lines.push('  '.repeat(depth) + nodeLine(n));
    for (const child of n.inputs) visit(child, depth + 1);
  };
  visit(root, 0);
  return lines.join('\n');
}
