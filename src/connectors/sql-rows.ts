/**
 * Turns sink records into row operations on one SQL table and groups them
 * into statements. Dialect-free: the drivers render the SQL.
 *
 * A record is either upstream's source-connector shape
 * `{"key": {...}, "value": {...} | null}` (upsert on the key fields, or
 * delete by them) or any other JSON object, which is a row upserted on the
 * table's primary key. An object whose only fields are `key` and `value`
 * is always read as the first shape, even for a table with such columns.
 */
import { payloadJson, UnmappableRecord, type SinkRecord } from './driver.js';

/** A scalar as the database client binds it: nested JSON is bound as its text. */
export type SqlValue = string | number | boolean | null;

/** What the writer knows about the target table, read once per connection. */
export interface TableInfo {
  /** the name ready to paste into SQL (quoted) */
  readonly sqlName: string;
  /** the name for messages */
  readonly displayName: string;
  /** column names as the database spells them, in table order */
  readonly columns: readonly string[];
  readonly primaryKey: readonly string[];
  /** column sets of the primary key and every unique index (each sorted), for key/value records */
  readonly uniqueKeys: readonly (readonly string[])[];
  /** the column a JSON field name denotes (dialect rules on case), or undefined */
  resolve(field: string): string | undefined;
}

export type RowOp =
  | {
      readonly kind: 'upsert';
      readonly recordId: string;
      /** sorted column names, so rows with the same fields in another order share a statement */
      readonly columns: readonly string[];
      readonly values: readonly SqlValue[];
      /** the unique key the upsert resolves on (sorted) */
      readonly conflict: readonly string[];
    }
  | {
      readonly kind: 'delete';
      readonly recordId: string;
      readonly columns: readonly string[];
      readonly values: readonly SqlValue[];
    };

/** Consecutive operations that one statement can apply. */
export interface Run {
  readonly kind: 'upsert' | 'delete';
  readonly columns: readonly string[];
  readonly conflict: readonly string[];
  readonly ops: readonly RowOp[];
}


/** Record payloads for messages: enough to recognise, never a whole 1 MiB document. */
function preview(text: string): string {
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function decodeObject(rec: SinkRecord): Record<string, unknown> {
  const json = payloadJson(rec.record);
  if (!json.ok && json.reason === 'not UTF-8') {
    throw new UnmappableRecord(`record ${rec.id}: payload is not UTF-8 text, expected a JSON object`, rec.id);
  }
  if (!json.ok) throw new UnmappableRecord(`record ${rec.id}: payload is not JSON, expected a JSON object: ${preview(json.text)}`, rec.id);
  const parsed = json.value;
  if (!isPlainObject(parsed)) {
    throw new UnmappableRecord(`record ${rec.id}: payload is JSON but not an object: ${preview(json.text)}`, rec.id);
  }
  return parsed;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function toSqlValue(v: unknown): SqlValue {
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  // Objects and arrays go to json/jsonb/text columns as their JSON text.
  return JSON.stringify(v);
}

function isKeyValueShape(o: Record<string, unknown>): o is { key: Record<string, unknown>; value: Record<string, unknown> | null } {
  const names = Object.keys(o);
  return names.length === 2 && 'key' in o && 'value' in o && isPlainObject(o.key) && (o.value === null || isPlainObject(o.value));
}

/** Resolves fields to columns (later fields win on a repeated column) and sorts them. */
function toColumns(rec: SinkRecord, table: TableInfo, fields: readonly [string, unknown][]): Map<string, SqlValue> {
  const byColumn = new Map<string, SqlValue>();
  for (const [field, value] of fields) {
    const column = table.resolve(field);
    if (column === undefined) {
      throw new UnmappableRecord(`record ${rec.id}: field "${field}" is not a column of table ${table.displayName}`, rec.id);
    }
    byColumn.set(column, toSqlValue(value));
  }
  return byColumn;
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a === b || a.length === b.length && a.every((x, i) => x === b[i]);
}

function requireKey(rec: SinkRecord, table: TableInfo, row: Map<string, SqlValue>, key: readonly string[], what: string): void {
  for (const column of key) {
    const v = row.get(column);
    if (v === undefined || v === null) {
      throw new UnmappableRecord(`record ${rec.id}: ${what} column "${column}" of table ${table.displayName} is missing or null`, rec.id);
    }
  }
}

/** One record's operation; throws UnmappableRecord naming the record when it cannot be applied. */
export function planRecord(rec: SinkRecord, table: TableInfo): RowOp {
  const obj = decodeObject(rec);
  if (isKeyValueShape(obj)) {
    const keyRow = toColumns(rec, table, Object.entries(obj.key));
    const keyColumns = [...keyRow.keys()].sort();
    if (keyColumns.length === 0) throw new UnmappableRecord(`record ${rec.id}: "key" has no fields`, rec.id);
    requireKey(rec, table, keyRow, keyColumns, 'key');
    if (obj.value === null) {
      return { kind: 'delete', recordId: rec.id, columns: keyColumns, values: keyColumns.map((c) => keyRow.get(c)!) };
    }
    // An upsert must resolve on a unique key, or the database cannot tell which row it replaces.
    if (!table.uniqueKeys.some((k) => sameSet(k, keyColumns))) {
      throw new UnmappableRecord(
        `record ${rec.id}: key fields (${keyColumns.join(', ')}) are not the primary key or a unique key of table ${table.displayName}`,
        rec.id,
      );
    }
    const row = new Map([...keyRow, ...toColumns(rec, table, Object.entries(obj.value))]);
    // The key decides the row: a value that disagrees with it must not move the row to another key.
    for (const c of keyColumns) row.set(c, keyRow.get(c)!);
    const columns = [...row.keys()].sort();
    return { kind: 'upsert', recordId: rec.id, columns, values: columns.map((c) => row.get(c)!), conflict: keyColumns };
  }
  if (table.primaryKey.length === 0) {
    throw new UnmappableRecord(`record ${rec.id}: table ${table.displayName} has no primary key to upsert a plain row on`, rec.id);
  }
  const fields = Object.keys(obj);
  const shape = plainRowShape(rec, table, fields);
  const values: SqlValue[] = new Array<SqlValue>(shape.columns.length);
  for (let i = 0; i < values.length; i++) values[i] = toSqlValue(obj[fields[shape.fieldIndex[i]!]!]);
  for (const i of shape.keyIndex) {
    if (values[i] === null) {
      throw new UnmappableRecord(`record ${rec.id}: primary key column "${shape.columns[i]}" of table ${table.displayName} is missing or null`, rec.id);
    }
  }
  return { kind: 'upsert', recordId: rec.id, columns: shape.columns, values, conflict: shape.conflict };
}

/**
 * How a plain row with these field names, in this order, maps to columns.
 * Records of one stream nearly always share their fields: resolving and
 * sorting them once per shape instead of once per record took a sink a
 * millisecond or more per thousand rows, between two writes, while the
 * database waited. The arrays are shared by every row of the shape, which
 * also lets groupRuns compare column sets by identity.
 */
interface PlainRowShape {
  /** sorted column names */
  readonly columns: readonly string[];
  /** for each column, the field its value comes from (the last field naming it) */
  readonly fieldIndex: readonly number[];
  /** the sorted primary key */
  readonly conflict: readonly string[];
  /** positions of the primary key's columns in `columns` */
  readonly keyIndex: readonly number[];
}

/** Shapes per table; a table read again is a new TableInfo and starts afresh. */
const shapesByTable = new WeakMap<TableInfo, Map<string, PlainRowShape>>();
/** a stream whose records keep changing their fields must not grow the cache without bound */
const MAX_SHAPES_PER_TABLE = 256;

function plainRowShape(rec: SinkRecord, table: TableInfo, fields: readonly string[]): PlainRowShape {
  let shapes = shapesByTable.get(table);
  if (!shapes) shapesByTable.set(table, (shapes = new Map()));
  const id = fields.join('\u0000');
  const known = shapes.get(id);
  if (known) return known;
  const lastField = new Map<string, number>();
  fields.forEach((field, i) => {
    const column = table.resolve(field);
    if (column === undefined) {
      throw new UnmappableRecord(`record ${rec.id}: field "${field}" is not a column of table ${table.displayName}`, rec.id);
    }
    lastField.set(column, i);
  });
  const columns = [...lastField.keys()].sort();
  const missing = table.primaryKey.find((c) => !lastField.has(c));
  if (missing !== undefined) {
    throw new UnmappableRecord(`record ${rec.id}: primary key column "${missing}" of table ${table.displayName} is missing or null`, rec.id);
  }
  const shape: PlainRowShape = {
    columns,
    fieldIndex: columns.map((c) => lastField.get(c)!),
    conflict: [...table.primaryKey].sort(),
    keyIndex: table.primaryKey.map((c) => columns.indexOf(c)),
  };
  if (shapes.size >= MAX_SHAPES_PER_TABLE) shapes.clear();
  shapes.set(id, shape);
  return shape;
}

/**
 * The key a row resolves on, as text: equal for rows that name the same row
 * (1 and "1" of an integer key too), different otherwise.
 */
export function rowKeyText(op: RowOp, key: readonly string[]): string {
  if (key.length === 1) return String(op.values[op.columns.indexOf(key[0]!)]);
  return JSON.stringify(key.map((c) => String(op.values[op.columns.indexOf(c)])));
}

export interface RunLimits {
  /** bound parameters per statement (PostgreSQL's protocol allows 65535) */
  readonly maxParams: number;
  /** rough bytes of bound values per statement, to stay far below packet limits */
  readonly maxBytes: number;
  /** rows per statement, so that most statements of a long write have one text a database can keep prepared */
  readonly maxRows?: number;
  /**
   * The row counts a statement may have, largest first, ending in 1: a run
   * of another count is cut into runs of these, so a database sees few
   * distinct texts it can keep prepared.
   */
  readonly statementRows?: readonly number[];
}

function approxBytes(values: readonly SqlValue[]): number {
  let n = 0;
  for (const v of values) n += typeof v === 'string' ? v.length + 4 : 8;
  return n;
}

/**
 * Groups operations, in order, into runs one statement each can apply.
 * Within an upsert run a key written twice keeps only its last row: the
 * rows share one column set, so the last one is what applying both in
 * order leaves behind, and PostgreSQL refuses to touch a row twice in one
 * statement.
 */
export function groupRuns(ops: readonly RowOp[], limits: RunLimits): Run[] {
  const runs: Run[] = [];
  let current: { kind: RowOp['kind']; columns: readonly string[]; conflict: readonly string[]; ops: (RowOp | undefined)[]; keys: Map<string, number>; params: number; bytes: number } | undefined;
  const flush = () => {
    if (current) {
      const { kind, columns, conflict } = current;
      for (const part of cutToCounts(current.ops.filter((o): o is RowOp => o !== undefined), limits.statementRows)) runs.push({ kind, columns, conflict, ops: part });
    }
    current = undefined;
  };
  for (const op of ops) {
    const conflict = op.kind === 'upsert' ? op.conflict : op.columns;
    const bytes = approxBytes(op.values);
    const fits = current
      && current.kind === op.kind
      && sameSet(current.columns, op.columns)
      && sameSet(current.conflict, conflict)
      && current.params + op.values.length <= limits.maxParams
      && current.bytes + bytes <= limits.maxBytes
      && (limits.maxRows === undefined || current.keys.size < limits.maxRows);
    if (!fits) {
      flush();
      current = { kind: op.kind, columns: op.columns, conflict, ops: [], keys: new Map(), params: 0, bytes: 0 };
    }
    const run = current!;
    // Keys compare as text: 1 and "1" name the same row of an integer key.
    const key = rowKeyText(op, conflict);
    const earlier = run.keys.get(key);
    if (earlier !== undefined && op.kind === 'upsert') {
      // Replace in place: the earlier slot is dropped, the new row goes last like the record.
      run.ops[earlier] = undefined;
    } else if (earlier !== undefined) {
      continue; // deleting a key twice is deleting it once
    }
    run.keys.set(key, run.ops.length);
    run.ops.push(op);
    run.params += op.values.length;
    run.bytes += bytes;
  }
  flush();
  return runs;
}

/** The rows in consecutive parts of the allowed counts, largest first (all in one part when any count goes). */
function cutToCounts(ops: RowOp[], counts: readonly number[] | undefined): RowOp[][] {
  if (counts === undefined || counts.includes(ops.length)) return [ops];
  const parts: RowOp[][] = [];
  let at = 0;
  while (at < ops.length) {
    const left = ops.length - at;
    const size = counts.find((n) => n <= left) ?? left;
    parts.push(ops.slice(at, at + size));
    at += size;
  }
  return parts;
}
