/**
 * The runtime value model (upstream's SQL docs) and its JSON encoding.
 *
 * JSON-native values stay plain JS values: NULL = null, BOOLEAN = boolean,
 * STRING = string, ARRAY = Value[], JSONB = a plain object. INTEGER and FLOAT
 * are both JS numbers: a number is an INTEGER when it is integral (this is
 * also how upstream reads JSON input; the distinction cannot survive a
 * protobuf Struct anyway). Types JSON cannot express (DATE, TIME, TIMESTAMP,
 * INTERVAL, BYTEA) are small classes, encoded in output rows with upstream's
 * labels (`{"$date":"2021-08-07"}`, …) so that a value written to a stream
 * reads back with its type; input rows carrying those labels (and
 * `$numberLong` / `$numberDouble`) are decoded on entry.
 *
 * Must not import anything outside sql/.
 */
import { EvalError } from './errors.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };
export type Row = { [column: string]: JsonValue };

/** Base of the values JSON has no type for. */
export abstract class Tagged {
  abstract readonly kind: 'date' | 'time' | 'timestamp' | 'interval' | 'bytes';
}
/** days since 1970-01-01 */
export class SqlDate extends Tagged {
  readonly kind = 'date';
  constructor(readonly days: number) {
    super();
  }
}
/** milliseconds since midnight */
export class SqlTime extends Tagged {
  readonly kind = 'time';
  constructor(readonly ms: number) {
    super();
  }
}
/** a UTC instant plus the offset it was written with (compared by instant) */
export class SqlTimestamp extends Tagged {
  readonly kind = 'timestamp';
  constructor(
    readonly ms: number,
    readonly offsetMinutes = 0,
  ) {
    super();
  }
}
/** months (30 days each when converted to time) and milliseconds */
export class SqlInterval extends Tagged {
  readonly kind = 'interval';
  constructor(
    readonly months: number,
    readonly ms: number,
  ) {
    super();
  }
  totalMs(): number {
    return this.months * 30 * 86_400_000 + this.ms;
  }
}
export class SqlBytes extends Tagged {
  readonly kind = 'bytes';
  constructor(readonly bytes: Buffer) {
    super();
  }
}

export type Value = null | boolean | number | string | Tagged | Value[] | ValueObject;
export interface ValueObject {
  [k: string]: Value;
}

export type ValueKind = 'null' | 'int' | 'float' | 'bool' | 'bytes' | 'string' | 'date' | 'time' | 'timestamp' | 'interval' | 'array' | 'json';

export function kindOf(v: Value): ValueKind {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'number':
      return Number.isInteger(v) ? 'int' : 'float';
    case 'string':
      return 'string';
    case 'boolean':
      return 'bool';
    default:
      if (Array.isArray(v)) return 'array';
      if (v instanceof Tagged) return v.kind;
      return 'json';
  }
}

/** Type names as upstream spells them in messages ("Expected a numeric expression but got a String"). */
export const KIND_NAMES: Record<ValueKind, string> = {
  null: 'Null',
  int: 'Integer',
  float: 'Float',
  bool: 'Boolean',
  bytes: 'Bytea',
  string: 'String',
  date: 'Date',
  time: 'Time',
  timestamp: 'Timestamp',
  interval: 'Interval',
  array: 'Array',
  json: 'Jsonb',
};

export const isJsonObject = (v: Value): v is ValueObject => typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Tagged);

// ---------------------------------------------------------------------------
// Dates and times
// ---------------------------------------------------------------------------

const DAY_MS = 86_400_000;
const pad = (n: number, w = 2) => String(n).padStart(w, '0');

export function parseDate(text: string): SqlDate | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text.trim());
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const ms = Date.UTC(y, mo - 1, d);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d) return undefined;
  return new SqlDate(Math.round(ms / DAY_MS));
}

function parseClock(text: string): number | undefined {
  const m = /^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?$/.exec(text);
  if (!m) return undefined;
  const [h, mi, s] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (h > 23 || mi > 59 || s > 60) return undefined;
  const frac = m[4] ? Number(`0.${m[4]}`) : 0;
  return ((h * 60 + mi) * 60 + s) * 1000 + Math.round(frac * 1000);
}

export function parseTime(text: string): SqlTime | undefined {
  const ms = parseClock(text.trim());
  return ms === undefined ? undefined : new SqlTime(ms);
}

/** ISO 8601 with an offset (`2023-06-30T12:30:45+02:00`, `…Z`); a space may replace the `T`. */
export function parseTimestamp(text: string): SqlTimestamp | undefined {
  const m = /^(\d{4}-\d{2}-\d{2})[T ](\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?)(Z|[+-]\d{2}:?\d{2})$/.exec(text.trim());
  if (!m) return undefined;
  const date = parseDate(m[1]!);
  const clock = parseClock(m[2]!);
  if (!date || clock === undefined) return undefined;
  let offset = 0;
  if (m[3] !== 'Z') {
    const o = /^([+-])(\d{2}):?(\d{2})$/.exec(m[3]!)!;
    offset = (o[1] === '-' ? -1 : 1) * (Number(o[2]) * 60 + Number(o[3]));
  }
  return new SqlTimestamp(date.days * DAY_MS + clock - offset * 60_000, offset);
}

/** ISO 8601 duration, e.g. `P0MT5S`, `P1Y2M3DT4H5M6.5S` (years are 12 months, days 86400 s). */
export function parseInterval(text: string): SqlInterval | undefined {
  const m = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(text.trim());
  if (!m || text.trim() === 'P') return undefined;
  const n = (i: number) => (m[i] ? Number(m[i]) : 0);
  return new SqlInterval(n(1) * 12 + n(2), ((n(3) * 24 + n(4)) * 60 + n(5)) * 60_000 + Math.round(n(6) * 1000));
}

function renderClock(ms: number): string {
  const total = Math.floor(ms / 1000);
  const frac = ms - total * 1000;
  const base = `${pad(Math.floor(total / 3600))}:${pad(Math.floor(total / 60) % 60)}:${pad(total % 60)}`;
  return frac ? `${base}.${pad(frac, 3).replace(/0+$/, '')}` : base;
}

export function renderDate(d: SqlDate): string {
  const dt = new Date(d.days * DAY_MS);
  const y = dt.getUTCFullYear();
  return `${y < 0 ? '-' + pad(-y, 4) : pad(y, 4)}-${pad(dt.getUTCMonth() + 1)}-${pad(dt.getUTCDate())}`;
}

export function renderTimestamp(t: SqlTimestamp): string {
  const local = t.ms + t.offsetMinutes * 60_000;
  const days = Math.floor(local / DAY_MS);
  const o = Math.abs(t.offsetMinutes);
  return `${renderDate(new SqlDate(days))}T${renderClock(local - days * DAY_MS)}${t.offsetMinutes < 0 ? '-' : '+'}${pad(Math.floor(o / 60))}:${pad(o % 60)}`;
}

export function renderInterval(i: SqlInterval): string {
  return `P${i.months}MT${i.ms / 1000}S`;
}

// ---------------------------------------------------------------------------
// JSON <-> values
// ---------------------------------------------------------------------------

const LABELS = new Set(['$numberLong', '$numberDouble', '$numberInt', '$binary', '$date', '$time', '$timestamp', '$interval']);

function decodeLabel(key: string, v: JsonValue): Value | undefined {
  switch (key) {
    case '$numberLong':
    case '$numberInt':
    case '$numberDouble': {
      if (typeof v !== 'string' && typeof v !== 'number') return undefined;
      const n = Number(v);
      return Number.isNaN(n) && v !== 'NaN' ? undefined : n;
    }
    case '$date':
      return typeof v === 'string' ? parseDate(v) : undefined;
    case '$time':
      return typeof v === 'string' ? parseTime(v) : undefined;
    case '$timestamp':
      return typeof v === 'string' ? parseTimestamp(v) : undefined;
    case '$interval':
      return typeof v === 'string' ? parseInterval(v) : undefined;
    case '$binary': {
      const b64 = typeof v === 'object' && v !== null && !Array.isArray(v) ? v['base64'] : v;
      return typeof b64 === 'string' ? new SqlBytes(Buffer.from(b64, 'base64')) : undefined;
    }
    default:
      return undefined;
  }
}

/**
 * A JSON value as a SQL value; returns the very same object when nothing in
 * it needed decoding (the common case), so plain rows are not copied.
 */
export function decodeValue(v: JsonValue): Value {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) {
    let out: Value[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const item = v[i]!;
      const d = typeof item === 'object' && item !== null ? decodeValue(item) : item;
      if (d !== item && !out) out = v.slice(0, i) as Value[];
      if (out) out.push(d);
    }
    return out ?? (v as Value[]);
  }
  const keys = Object.keys(v);
  if (keys.length === 1 && LABELS.has(keys[0]!)) {
    const decoded = decodeLabel(keys[0]!, v[keys[0]!]!);
    if (decoded !== undefined) return decoded;
  }
  return decodeObject(v);
}

export function decodeObject(v: { [k: string]: JsonValue }): ValueObject {
  let out: ValueObject | undefined;
  for (const key in v) {
    const item = v[key]!;
    if (typeof item !== 'object' || item === null) {
      if (out) setOwn(out, key, item);
      continue;
    }
    const d = decodeValue(item);
    if (d !== item && !out) {
      out = {};
      for (const k2 in v) {
        if (k2 === key) break;
        setOwn(out, k2, v[k2] as Value);
      }
    }
    if (out) setOwn(out, key, d);
  }
  return out ?? (v as ValueObject);
}

/** A SQL value as plain JSON: non-finite numbers become null, typed values get upstream's labels. */
export function encodeValue(v: Value): JsonValue {
  if (v === null) return null;
  switch (typeof v) {
    case 'number':
      return Number.isFinite(v) ? v : null;
    case 'string':
    case 'boolean':
      return v;
  }
  if (Array.isArray(v)) return v.map(encodeValue);
  if (v instanceof Tagged) {
    if (v instanceof SqlDate) return { $date: renderDate(v) };
    if (v instanceof SqlTime) return { $time: renderClock(v.ms) };
    if (v instanceof SqlTimestamp) return { $timestamp: renderTimestamp(v) };
    if (v instanceof SqlInterval) return { $interval: renderInterval(v) };
    if (v instanceof SqlBytes) return { $binary: { base64: v.bytes.toString('base64'), subType: '00' } };
  }
  const out: { [k: string]: JsonValue } = {};
  for (const key in v as ValueObject) setOwn(out, key, encodeValue((v as ValueObject)[key]!));
  return out;
}

/** a keyed store that makes `__proto__` an own property instead of the prototype */
function setOwn<T>(o: { [k: string]: T }, key: string, value: T): void {
  if (key === '__proto__') Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
  else o[key] = value;
}

// ---------------------------------------------------------------------------
// Rendering (TO_STR, CAST … AS STRING, ->>, ARRAY_JOIN)
// ---------------------------------------------------------------------------

/** Numbers as JS/JSON prints them (`1.5`, `0.05`, `100`); see DECISIONS in sql/README.md. */
export function renderNumber(n: number): string {
  return String(n);
}

export function render(v: Value): string {
  if (v === null) return 'NULL';
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
      return renderNumber(v);
    case 'boolean':
      return v ? 'true' : 'false';
  }
  if (v instanceof SqlDate) return renderDate(v);
  if (v instanceof SqlTime) return renderClock(v.ms);
  if (v instanceof SqlTimestamp) return renderTimestamp(v);
  if (v instanceof SqlInterval) return renderInterval(v);
  if (v instanceof SqlBytes) return v.bytes.toString('utf8');
  return JSON.stringify(encodeValue(v));
}

// ---------------------------------------------------------------------------
// Comparison
// ---------------------------------------------------------------------------

const typeError = (what: string, a: Value, b: Value) => new EvalError(`cannot ${what} ${KIND_NAMES[kindOf(a)]} with ${KIND_NAMES[kindOf(b)]}`);

/** Structural equality of two non-NULL values; numbers compare numerically; mismatched kinds are an error. */
export function equals(a: Value, b: Value): boolean {
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  if (typeof a === 'string' && typeof b === 'string') return a === b;
  return compareValues(a, b) === 0;
}

/**
 * Order of two non-NULL values of the same kind (INTEGER and FLOAT compare as
 * numbers). Mixed kinds throw EvalError, as upstream's comparison does.
 */
export function compareValues(a: Value, b: Value): number {
  if (typeof a === 'number' && typeof b === 'number') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  if (typeof a === 'boolean' && typeof b === 'boolean') return a === b ? 0 : a ? 1 : -1;
  if (a === null || b === null) throw typeError('compare', a, b);
  if (a instanceof SqlDate && b instanceof SqlDate) return a.days - b.days;
  if (a instanceof SqlTime && b instanceof SqlTime) return a.ms - b.ms;
  if (a instanceof SqlTimestamp && b instanceof SqlTimestamp) return a.ms - b.ms;
  if (a instanceof SqlInterval && b instanceof SqlInterval) return a.months - b.months || a.ms - b.ms;
  if (a instanceof SqlBytes && b instanceof SqlBytes) return Buffer.compare(a.bytes, b.bytes);
  if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      const c = totalCompare(a[i]!, b[i]!);
      if (c !== 0) return c;
    }
    return a.length - b.length;
  }
  if (isJsonObject(a) && isJsonObject(b)) {
    const ka = Object.keys(a).sort();
    const kb = Object.keys(b).sort();
    for (let i = 0; i < Math.min(ka.length, kb.length); i++) {
      if (ka[i] !== kb[i]) return ka[i]! < kb[i]! ? -1 : 1;
      const c = totalCompare(a[ka[i]!]!, b[kb[i]!]!);
      if (c !== 0) return c;
    }
    return ka.length - kb.length;
  }
  throw typeError('compare', a, b);
}

const KIND_RANK: Record<ValueKind, number> = {
  null: 0,
  int: 1,
  float: 1,
  bool: 3,
  bytes: 4,
  string: 5,
  date: 6,
  time: 7,
  timestamp: 8,
  interval: 9,
  array: 10,
  json: 11,
};

/**
 * The total order used by ARRAY_SORT / ARRAY_MAX / ARRAY_MIN / TOPK: first by
 * kind (NULL < numbers < BOOLEAN < BYTEA < STRING < DATE < TIME < TIMESTAMP <
 * INTERVAL < ARRAY < JSONB, upstream's SQL docs), then by value. Unlike upstream,
 * INTEGER and FLOAT are one numeric kind here (1 < 1.5 < 2).
 */
export function totalCompare(a: Value, b: Value): number {
  const ra = KIND_RANK[kindOf(a)];
  const rb = KIND_RANK[kindOf(b)];
  if (ra !== rb) return ra - rb;
  if (a === null) return 0;
  return compareValues(a, b);
}

/** A stable string for a tuple of values (group keys, join keys): distinct values give distinct strings. */
export function keyOf(values: readonly Value[]): string {
  if (values.length === 1) {
    const v = values[0]!;
    if (typeof v === 'string') return 's' + v;
    if (typeof v === 'number') return 'n' + v;
  }
  return 'j' + JSON.stringify(values.map(encodeValue));
}
