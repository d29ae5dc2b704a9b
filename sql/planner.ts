/**
 * Planner: a bound SELECT → the logical plan (upstream's SQL docs, without
 * upstream's Affiliate step: expressions are evaluated where they are used).
 *
 *   Scan / Join … WITHIN          FROM
 *   Filter                        WHERE
 *   Aggregate keys aggs window    GROUP BY (or aggregates alone)
 *   Having                        HAVING
 *   Project                       SELECT list
 *
 * The plan is what EXPLAIN prints and what the golden tests pin; the runtime
 * builds its operators from the same bound query.
 *
 * Must not import anything outside sql/.
 */
import type { Expr, Interval, JoinType, SelectStatement, WindowSpec } from './ast.js';
import { bindSelect, type BindMode, type BoundSelect, type SourceNode } from './binder.js';
import { formatExpr, formatPlan, quoteIdent } from './plan-format.js';

export type PlanNode =
  | { op: 'Scan'; stream: string; alias?: string; inputs: [] }
  | { op: 'Join'; type: JoinType; condition: string; within: Interval; hashKeys: string[]; inputs: [PlanNode, PlanNode] }
  | { op: 'Filter'; condition: Expr; inputs: [PlanNode] }
  | { op: 'Aggregate'; keys: string[]; aggregates: string[]; window?: WindowSpec; inputs: [PlanNode] }
  | { op: 'Having'; condition: Expr; inputs: [PlanNode] }
  | { op: 'Project'; items: string[]; inputs: [PlanNode] };

export interface QueryPlan {
  /** source stream (or view) names, FROM order, no duplicates */
  sources: string[];
  /** the plan's stable text (EXPLAIN, golden tests) */
  text: string;
  root: PlanNode;
  /** output column names when they are known statically (no `*`) */
  columns?: string[];
  /** GROUP BY or aggregates: output rows are upserts of a group (keyed by `keys` and the window) */
  grouped: boolean;
  /** group key column names */
  keys: string[];
  window?: 'TUMBLE' | 'HOP' | 'SESSION';
  /** the bound query the runtime is built from */
  bound: BoundSelect;
}

function sourceNode(s: SourceNode): PlanNode {
  if (s.k === 'scan') return { op: 'Scan', stream: s.leaf.stream, alias: s.leaf.aliased ? s.leaf.tag : undefined, inputs: [] };
  let condition: string;
  let hashKeys: string[] = [];
  switch (s.cond.k) {
    case 'on':
      condition = `ON ${formatExpr(s.cond.expr)}`;
      hashKeys = s.cond.equiKeys.map((k) => `${formatExpr(k.left)} = ${formatExpr(k.right)}`);
      break;
    case 'using':
      condition = `USING (${s.cond.columns.map(quoteIdent).join(', ')})`;
      hashKeys = s.cond.columns.map(quoteIdent);
      break;
    case 'natural':
      condition = 'NATURAL';
      break;
    case 'cross':
      condition = 'CROSS';
      break;
  }
  return { op: 'Join', type: s.type, condition, within: s.within, hashKeys, inputs: [sourceNode(s.left), sourceNode(s.right)] };
}

export function planBound(bound: BoundSelect): QueryPlan {
  let node: PlanNode = sourceNode(bound.source);
  if (bound.where) node = { op: 'Filter', condition: bound.where, inputs: [node] };
  if (bound.grouped) {
    node = {
      op: 'Aggregate',
      keys: bound.keys.map((k) => (k.ref.stream ? `${quoteIdent(k.ref.stream.name)}.${quoteIdent(k.name)}` : quoteIdent(k.name))),
      aggregates: bound.aggregates.map((a) => formatExpr(a.expr)),
      window: bound.window,
      inputs: [node],
    };
    if (bound.having) node = { op: 'Having', condition: bound.having, inputs: [node] };
  }
  const items = bound.items.map((it) => {
    if (it.k === 'star') return '*';
    if (it.k === 'streamStar') return `${quoteIdent(bound.leaves[it.leaf]!.tag)}.*`;
    const text = formatExpr(it.expr);
    return text === quoteIdent(it.name) ? text : `${quoteIdent(it.name)} := ${text}`;
  });
  node = { op: 'Project', items, inputs: [node] };
  const columns = bound.items.every((it) => it.k === 'expr') ? bound.items.map((it) => (it.k === 'expr' ? it.name : '')) : undefined;
  return {
    sources: bound.select.sources,
    text: formatPlan(node),
    root: node,
    columns,
    grouped: bound.grouped,
    keys: bound.keys.map((k) => k.name),
    window: bound.window?.k,
    bound,
  };
}

export function plan(select: SelectStatement, mode: BindMode = 'push'): QueryPlan {
  return planBound(bindSelect(select, mode));
}
