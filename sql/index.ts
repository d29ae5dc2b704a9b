/**
 * hstreamlite's SQL engine: the HStreamDB v1 dialect (see sql/README.md) as a
 * pure library. Text → Statement (parseStatement), SELECT → QueryPlan
 * (planSelect, explain), QueryPlan → QueryRuntime (process records, emit
 * rows, snapshot/restore state), and pull queries over a view's rows
 * (executePull). It knows nothing about gRPC or storage.
 *
 * Must not import anything outside sql/ (and node: builtins).
 */
import type { SelectStatement } from './ast.js';
import { bindSelect } from './binder.js';
import { SqlError } from './errors.js';
import { parseStatementText, type Statement } from './parser.js';
import { plan, type QueryPlan } from './planner.js';

export type { JsonValue, Row } from './values.js';
export { SqlError, type SqlPhase } from './errors.js';
export type { Statement, StreamOptions, ConnectorType } from './parser.js';
export type { SelectStatement, Expr, SelectItem, TableRef } from './ast.js';
export type { QueryPlan, PlanNode } from './planner.js';
export { QueryRuntime, DEFAULT_MAX_GROUPS, type RuntimeOptions, type RuntimeStats } from './runtime.js';
export { executePull } from './pull.js';
export { DEFAULT_WINDOW_GRACE_MS } from './operators/window.js';

/**
 * Parses one statement (it must end with `;`). Every SELECT it contains is
 * also bound and validated, so a statement that parses can be planned.
 * Throws SqlError (phase lex, parse or bind) with line and column.
 */
export function parseStatement(text: string): Statement {
  const stmt = parseStatementText(text);
  check(stmt);
  return stmt;
}

function check(stmt: Statement): void {
  switch (stmt.kind) {
    case 'select':
      bindSelect(stmt.select, stmt.emitChanges ? 'push' : 'pull');
      break;
    case 'createView':
      if (!stmt.select.groupBy) throw new SqlError('bind', 'Create View requires a group by clause', stmt.select.pos);
      bindSelect(stmt.select, 'push');
      break;
    case 'createStreamAs':
    case 'insertSelect': {
      const sink = stmt.kind === 'createStreamAs' ? stmt.name : stmt.stream;
      if (stmt.select.sources.includes(sink)) {
        throw new SqlError('bind', `a query cannot write to the stream it reads: ${sink} is one of its sources`, stmt.select.pos);
      }
      bindSelect(stmt.select, 'push');
      break;
    }
    case 'explain':
      check(stmt.statement);
      break;
  }
}

/** Plans a continuous query (push / CREATE STREAM AS / CREATE VIEW AS / INSERT INTO … SELECT). */
export function planSelect(select: SelectStatement): QueryPlan {
  return plan(select, 'push');
}

const indent = (text: string) => text.replace(/^/gm, '  ');

/** The plan of a statement as stable text: a line naming where rows go, then the plan tree. */
export function explain(stmt: Statement): string {
  switch (stmt.kind) {
    case 'explain':
      return explain(stmt.statement);
    case 'select':
      if (!stmt.emitChanges) return `Pull view ${stmt.select.sources.join(', ')}\n${indent(plan(stmt.select, 'pull').text)}`;
      return `Emit changes to client\n${indent(planSelect(stmt.select).text)}`;
    case 'createStreamAs':
      return `Sink new stream ${stmt.name}\n${indent(planSelect(stmt.select).text)}`;
    case 'insertSelect':
      return `Sink append to stream ${stmt.stream}\n${indent(planSelect(stmt.select).text)}`;
    case 'createView':
      return `Sink materialized view ${stmt.name}\n${indent(planSelect(stmt.select).text)}`;
    case 'createStream':
      throw new SqlError('plan', 'EXPLAIN can not give any execution plan for CREATE STREAM without a SELECT clause');
    default:
      throw new SqlError('plan', `EXPLAIN can not give any execution plan for ${stmt.kind}`);
  }
}
