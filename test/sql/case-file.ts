/**
 * The SQL case file format (test/sql/cases/*.sql). One case per file:
 *
 *   -- fail: <text>            optional FIRST line: the statement must be refused
 *                              with an error whose message contains <text>
 *   -- <free comment lines>    what the case shows and where it comes from
 *   <one SQL statement, may span lines, ends with ;>
 *   -- options {"maxGroups": 2, "windowGraceMs": 1000}
 *   -- input                   one record per line: <source> [@<ms>] <json object>
 *                              (without @, 1000 ms after the previous record; the first is at 1000)
 *   -- output                  the rows emitted, in order, one JSON object per line
 *   -- table key=a,b           the EMIT CHANGES changelog folded by key (last row per key), any order
 *   -- view                    QueryRuntime.viewRows() after the input, any order
 *   -- pull SELECT … ;         executePull of that statement over the view rows, any order
 *   -- runtime-fail: <text>    processing the input must stop with a runtime SqlError containing <text>
 *   -- stats {"evalErrors": 1} fields of QueryRuntime.stats() after the input
 *
 * Lines starting with `//` inside data sections are comments.
 */
import type { JsonValue, Row } from '../../sql/index.js';

export interface InputRecord {
  source: string;
  timeMs: number;
  row: Row;
  line: number;
}

export interface SqlCase {
  name: string;
  sql: string;
  fail?: string;
  runtimeFail?: string;
  options?: { maxGroups?: number; windowGraceMs?: number };
  input: InputRecord[];
  output?: Row[];
  table?: { keys: string[]; rows: Row[] };
  view?: Row[];
  pulls: Array<{ sql: string; rows: Row[] }>;
  stats?: Record<string, JsonValue>;
}

function parseJson(text: string, where: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch (err) {
    throw new Error(`${where}: bad JSON ${text}: ${(err as Error).message}`);
  }
}

function parseRow(text: string, where: string): Row {
  const v = parseJson(text, where);
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${where}: expected a JSON object, got ${text}`);
  return v;
}

export function parseCaseFile(name: string, text: string): SqlCase {
  const lines = text.split('\n');
  const c: SqlCase = { name, sql: '', input: [], pulls: [] };
  let i = 0;
  const first = lines[0]?.match(/^--\s*fail:\s*(.*)$/);
  if (first) {
    c.fail = first[1]!.trim();
    i = 1;
  }
  const sqlLines: string[] = [];
  const isSection = (l: string) => /^--\s*(input|output|table|view|pull|options|stats|runtime-fail)\b/.test(l);
  for (; i < lines.length && !isSection(lines[i]!); i++) {
    const l = lines[i]!;
    if (sqlLines.length === 0 && (l.startsWith('--') || l.trim() === '')) continue;
    sqlLines.push(l);
  }
  c.sql = sqlLines.join('\n').trim();

  let section: { kind: string; rows: Row[] } | undefined;
  let clock = 0;
  for (; i < lines.length; i++) {
    const l = lines[i]!;
    const where = `${name}:${i + 1}`;
    const header = l.match(/^--\s*(input|output|table|view|pull|options|stats|runtime-fail)\b\s*(.*)$/);
    if (header) {
      const [, kind, rest] = header as unknown as [string, string, string];
      switch (kind) {
        case 'options':
          c.options = parseJson(rest, where) as SqlCase['options'];
          section = undefined;
          break;
        case 'stats':
          c.stats = parseJson(rest, where) as Record<string, JsonValue>;
          section = undefined;
          break;
        case 'runtime-fail':
          c.runtimeFail = rest.replace(/^:\s*/, '').trim();
          section = undefined;
          break;
        case 'input':
          section = { kind, rows: [] };
          break;
        case 'output':
          c.output = [];
          section = { kind, rows: c.output };
          break;
        case 'view':
          c.view = [];
          section = { kind, rows: c.view };
          break;
        case 'table': {
          const m = rest.match(/^key=(.*)$/);
          if (!m) throw new Error(`${where}: write -- table key=<col>,<col> (or key= for a single row)`);
          c.table = { keys: m[1]!.split(',').map((s) => s.trim()).filter((s) => s !== ''), rows: [] };
          section = { kind, rows: c.table.rows };
          break;
        }
        case 'pull': {
          const pull = { sql: rest.trim(), rows: [] as Row[] };
          c.pulls.push(pull);
          section = { kind, rows: pull.rows };
          break;
        }
      }
      continue;
    }
    if (l.trim() === '' || l.trim().startsWith('//')) continue;
    if (!section) throw new Error(`${where}: data outside a section: ${l}`);
    if (section.kind === 'input') {
      const m = l.match(/^\s*(\S+)\s+(?:@(\d+)\s+)?(\{.*\})\s*$/);
      if (!m) throw new Error(`${where}: an input line is <source> [@<ms>] <json object>`);
      clock = m[2] !== undefined ? Number(m[2]) : clock + 1000;
      c.input.push({ source: m[1]!, timeMs: clock, row: parseRow(m[3]!, where), line: i + 1 });
    } else {
      section.rows.push(parseRow(l.trim(), where));
    }
  }
  return c;
}

/** Folds an upsert changelog: the last row per key. Throws if a row lacks a key column. */
export function foldChangelog(rows: Row[], keys: string[]): Map<string, Row> {
  const table = new Map<string, Row>();
  for (const row of rows) {
    for (const k of keys) if (!(k in row)) throw new Error(`changelog row without key column ${k}: ${JSON.stringify(row)}`);
    table.set(JSON.stringify(keys.map((k) => row[k]!)), row);
  }
  return table;
}

/** a canonical form for comparing rows as multisets */
export function canonical(rows: Row[]): string[] {
  const sortKeys = (v: JsonValue): JsonValue => {
    if (Array.isArray(v)) return v.map(sortKeys);
    if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k]!)]));
    return v;
  };
  return rows.map((r) => JSON.stringify(sortKeys(r))).sort();
}
