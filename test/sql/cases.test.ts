/**
 * Runs every file-driven case in test/sql/cases/ (format: ./case-file.ts):
 * the expected error, or the golden plan (test/sql/golden/<case>.plan.txt)
 * and the rows. Every case with input is run twice more with the runtime
 * snapshotted, serialized to JSON text and restored — once after every
 * record, once only in the middle — and must emit exactly what the
 * uninterrupted run emits.
 *
 * `npm run sql:golden` (SQL_GOLDEN_UPDATE=1) rewrites the golden plans.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { executePull, explain, parseStatement, planSelect, QueryRuntime, SqlError, type Row, type Statement } from '../../sql/index.js';
import { canonical, foldChangelog, parseCaseFile, type SqlCase } from './case-file.js';

const CASES = resolve(import.meta.dirname, 'cases');
const GOLDEN = resolve(import.meta.dirname, 'golden');
const UPDATE = process.env['SQL_GOLDEN_UPDATE'] === '1';

const files = readdirSync(CASES)
  .filter((f) => f.endsWith('.sql'))
  .sort();

function parseAll(c: SqlCase): Statement {
  const stmt = parseStatement(c.sql);
  explain(stmt);
  return stmt;
}

interface Run {
  output: Row[];
  view: Row[];
  error?: unknown;
  stats: Record<string, unknown>;
}

type Restart = 'never' | 'every' | 'middle';

function runContinuous(c: SqlCase, stmt: Statement, restart: Restart): Run {
  const select = 'select' in stmt ? stmt.select : undefined;
  if (!select) throw new Error(`${c.name}: statement has no SELECT`);
  const plan = planSelect(select);
  let rt = new QueryRuntime(plan, c.options);
  const output: Row[] = [];
  let error: unknown;
  const middle = Math.floor(c.input.length / 2);
  for (const [i, rec] of c.input.entries()) {
    if (restart === 'every' || (restart === 'middle' && i === middle)) {
      rt = QueryRuntime.restore(plan, JSON.parse(JSON.stringify(rt.snapshot())), c.options);
    }
    try {
      output.push(...rt.process(rec.source, rec.row, rec.timeMs));
    } catch (err) {
      error = err;
      break;
    }
  }
  return { output, view: rt.viewRows(), error, stats: { ...rt.stats() } };
}

function checkRows(c: SqlCase, run: Run): void {
  if (c.runtimeFail !== undefined) {
    expect(run.error, 'expected a runtime error').toBeInstanceOf(SqlError);
    expect((run.error as SqlError).phase).toBe('runtime');
    expect((run.error as SqlError).message).toContain(c.runtimeFail);
  } else if (run.error) {
    throw run.error;
  }
  if (c.output) expect(run.output).toEqual(c.output);
  if (c.table) expect(canonical([...foldChangelog(run.output, c.table.keys).values()])).toEqual(canonical(c.table.rows));
  if (c.view) expect(canonical(run.view)).toEqual(canonical(c.view));
  for (const pull of c.pulls) {
    const stmt = parseStatement(pull.sql);
    if (stmt.kind !== 'select') throw new Error(`${c.name}: a pull is a SELECT`);
    expect(canonical(executePull(stmt.select, run.view)), pull.sql).toEqual(canonical(pull.rows));
  }
  if (c.stats) expect(run.stats).toMatchObject(c.stats);
}

describe('SQL cases (test/sql/cases/*.sql)', () => {
  it('has cases', () => expect(files.length).toBeGreaterThan(20));

  for (const file of files) {
    const name = file.replace(/\.sql$/, '');
    const c = parseCaseFile(file, readFileSync(join(CASES, file), 'utf8'));

    if (c.fail !== undefined) {
      it(`${name}: refused with "${c.fail}"`, () => {
        let caught: unknown;
        try {
          parseAll(c);
        } catch (err) {
          caught = err;
        }
        expect(caught, 'the statement was accepted').toBeInstanceOf(SqlError);
        expect((caught as SqlError).message).toContain(c.fail);
      });
      continue;
    }

    it(`${name}: golden plan`, () => {
      const text = explain(parseAll(c)) + '\n';
      const path = join(GOLDEN, `${name}.plan.txt`);
      if (UPDATE) {
        mkdirSync(GOLDEN, { recursive: true });
        writeFileSync(path, text);
      }
      expect(existsSync(path), `missing golden ${path}; run npm run sql:golden`).toBe(true);
      expect(text).toBe(readFileSync(path, 'utf8'));
    });

    const hasRows = c.output || c.table || c.view || c.pulls.length > 0 || c.runtimeFail !== undefined || c.stats;
    if (!hasRows) continue;

    it(`${name}: rows`, () => {
      const stmt = parseAll(c);
      if (stmt.kind === 'select' && !stmt.emitChanges) {
        // a pull query: the input records are the view's rows
        const out = executePull(stmt.select, c.input.map((r) => r.row));
        expect(canonical(out)).toEqual(canonical(c.output ?? []));
        return;
      }
      checkRows(c, runContinuous(c, stmt, 'never'));
    });

    if (c.input.length > 1 && !(isPullCase(c))) {
      it(`${name}: snapshot/restore after every record and in the middle emit the same rows`, () => {
        const stmt = parseAll(c);
        const straight = runContinuous(c, stmt, 'never');
        for (const mode of ['every', 'middle'] as const) {
          const restarted = runContinuous(c, stmt, mode);
          expect(restarted.output, mode).toEqual(straight.output);
          expect(canonical(restarted.view), mode).toEqual(canonical(straight.view));
          expect(String(restarted.error ?? ''), mode).toBe(String(straight.error ?? ''));
        }
      });
    }
  }
});

function isPullCase(c: SqlCase): boolean {
  try {
    const stmt = parseStatement(c.sql);
    return stmt.kind === 'select' && !stmt.emitChanges;
  } catch {
    return false;
  }
}
