/**
 * Pull queries: `SELECT … FROM view [WHERE …] [GROUP BY …]` without EMIT
 * CHANGES, evaluated once over a view's current rows (upstream's SQL docs). The
 * view's rows are what its own query projects (QueryRuntime.viewRows); unlike
 * upstream (fix 12) the view's projection is always applied. The pull query's
 * WHERE, select list and, if present, its own GROUP BY / aggregates / HAVING
 * run over them with the usual rules.
 *
 * Must not import anything outside sql/.
 */
import type { SelectStatement } from './ast.js';
import { bindSelect } from './binder.js';
import { SqlError } from './errors.js';
import { planBound } from './planner.js';
import { QueryRuntime } from './runtime.js';
import type { Row } from './values.js';

/** bound on the groups a pull query may build over a view (it holds them only for the call) */
const PULL_MAX_GROUPS = 10_000_000;

export function executePull(select: SelectStatement, viewRows: Row[]): Row[] {
  const bound = bindSelect(select, 'pull');
  if (bound.select.sources.length !== 1) throw new SqlError('bind', 'a pull query reads exactly one view', select.pos);
  const runtime = new QueryRuntime(planBound(bound), { maxGroups: PULL_MAX_GROUPS });
  const source = bound.select.sources[0]!;
  const out: Row[] = [];
  for (const row of viewRows) {
    const emitted = runtime.process(source, row, 0);
    if (!bound.grouped) out.push(...emitted);
  }
  return bound.grouped ? runtime.viewRows() : out;
}
