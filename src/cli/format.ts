/**
 * Output formats of the `hstream` CLI, reproduced from upstream's
 * `HStream.Utils.Format`: ASCII tables as drawn by table-layout's `asciiS`
 * style, and the one-line rendering of read records.
 *
 * Upstream builds those lines with Haskell `show` (quoted, Haskell-escaped
 * strings) and Aeson (JSON with sorted keys, and numbers that went through
 * `Double -> show -> read :: Scientific`, which is why 27 prints as `27.0`).
 * The helpers below reproduce those three behaviours so that scripts parsing
 * upstream's output also parse ours.
 *
 * Pure functions only: no gRPC, no I/O.
 */

import type { JsonValue } from '../struct.js';

export type { JsonValue };

// ---------------------------------------------------------------------------
// Tables

function codePointLength(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

function padRight(s: string, width: number): string {
  return s + ' '.repeat(Math.max(0, width - codePointLength(s)));
}

/**
 * A table as upstream's `showTable` draws it: every row is its own row group,
 * so rows are separated by rule lines; with no rows, the titles form the only
 * row of a headerless table. The result ends with one newline.
 */
export function renderTable(titles: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  const widths = titles.map((t, i) => Math.max(codePointLength(t), ...rows.map((r) => codePointLength(r[i] ?? ''))));
  const rule = '+' + widths.map((w) => '-'.repeat(w + 2)).join('+') + '+';
  const line = (cells: readonly string[]) => '| ' + widths.map((w, i) => padRight(cells[i] ?? '', w)).join(' | ') + ' |';
  const lines = [rule, line(titles), rule];
  for (const row of rows) lines.push(line(row), rule);
  return lines.join('\n') + '\n';
}

// ---------------------------------------------------------------------------
// Haskell `show` for strings

const ASCII_NAMES = [
  'NUL', 'SOH', 'STX', 'ETX', 'EOT', 'ENQ', 'ACK', 'a', 'b', 't', 'n', 'v', 'f', 'r', 'SO', 'SI',
  'DLE', 'DC1', 'DC2', 'DC3', 'DC4', 'NAK', 'SYN', 'ETB', 'CAN', 'EM', 'SUB', 'ESC', 'FS', 'GS', 'RS', 'US',
];

/** `show` of a Haskell String/Text: double quotes, `\"`, `\\`, `\n`, `\DEL`, `\233` for non-ASCII, `\&` where needed. */
export function haskellShow(s: string): string {
  const chars = Array.from(s);
  let out = '"';
  chars.forEach((c, i) => {
    const next = chars[i + 1] ?? '';
    const code = c.codePointAt(0)!;
    if (c === '"') out += '\\"';
    else if (c === '\\') out += '\\\\';
    else if (code >= 0x20 && code < 0x7f) out += c;
    else if (code === 0x7f) out += '\\DEL';
    else if (code > 0x7f) out += `\\${code}` + (/[0-9]/.test(next) ? '\\&' : '');
    else {
      out += '\\' + ASCII_NAMES[code]!;
      // "\SO" followed by 'H' would read back as "\SOH"
      if (code === 0x0e && next === 'H') out += '\\&';
    }
  });
  return out + '"';
}

// ---------------------------------------------------------------------------
// Aeson-style JSON

/** Decimal digits and exponent of a positive finite double: value = 0.<digits> × 10^exponent, shortest round-trip digits. */
function decimalDigits(x: number): { digits: string; exponent: number } {
  const [mantissa, exp] = x.toExponential().split('e') as [string, string];
  return { digits: mantissa.replace('.', ''), exponent: Number(exp) + 1 };
}

function fixedNotation(digits: string, exponent: number): string {
  if (exponent <= 0) return '0.' + '0'.repeat(-exponent) + digits;
  const whole = digits.slice(0, exponent).padEnd(exponent, '0');
  const fraction = digits.slice(exponent);
  return whole + '.' + (fraction === '' ? '0' : fraction);
}

function exponentNotation(digits: string, exponent: number): string {
  return digits[0]! + '.' + (digits.length > 1 ? digits.slice(1) : '0') + 'e' + String(exponent - 1);
}

/** Both GHC's `show :: Double` and scientific's Generic format: fixed for 0.1 <= x < 10^7, else exponent. */
function genericNotation(digits: string, exponent: number): string {
  return exponent < 0 || exponent > 7 ? exponentNotation(digits, exponent) : fixedNotation(digits, exponent);
}

/**
 * A struct number as upstream prints it: `Aeson.Number (read (show d))`,
 * then Aeson's encoder (an integer when the Scientific's exponent is in
 * 0..1024, else scientific's Generic format). So 27 -> "27.0", 0.05 ->
 * "5.0e-2", 1e7 -> "10000000", 12345678.5 -> "1.23456785e7".
 */
export function formatStructNumber(x: number): string {
  if (!Number.isFinite(x)) return 'null'; // not representable in a Struct read from JSON; never produced by `stream append`
  if (x === 0) return '0.0';
  const sign = x < 0 ? '-' : '';
  const { digits, exponent } = decimalDigits(Math.abs(x));
  const shown = genericNotation(digits, exponent);
  // `read` as Scientific keeps every written digit: coefficient and base-10 exponent
  const match = /^(\d+)\.(\d+)(?:e(-?\d+))?$/.exec(shown)!;
  const coefficient = (match[1]! + match[2]!).replace(/^0+(?=\d)/, '');
  const scale = (match[3] ? Number(match[3]) : 0) - match[2]!.length;
  if (scale >= 0 && scale <= 1024) return sign + coefficient + '0'.repeat(scale);
  const significant = coefficient.replace(/^0+/, '').replace(/0+$/, '');
  const normalizedExponent = coefficient.replace(/^0+/, '').length + scale;
  return sign + genericNotation(significant, normalizedExponent);
}

/** Aeson's string escaping: `\"`, `\\`, `\n`, `\r`, `\t`, other controls as `\u00XX`; everything else verbatim. */
export function aesonString(s: string): string {
  let out = '"';
  for (const c of s) {
    const code = c.codePointAt(0)!;
    if (c === '"') out += '\\"';
    else if (c === '\\') out += '\\\\';
    else if (code >= 0x20) out += c;
    else if (c === '\n') out += '\\n';
    else if (c === '\r') out += '\\r';
    else if (c === '\t') out += '\\t';
    else out += '\\u' + code.toString(16).padStart(4, '0');
  }
  return out + '"';
}

/** Code-point order, the order of Haskell `Text` keys in a `Map`. */
function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done === y.done ? 0 : x.done ? -1 : 1;
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!;
    if (d !== 0) return d;
  }
}

/** JSON text as upstream's CLI prints a Struct: compact, keys sorted, Aeson number and string rules. */
export function aesonEncode(value: JsonValue): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'number') return formatStructNumber(value);
  if (typeof value === 'string') return aesonString(value);
  if (Array.isArray(value)) return '[' + value.map(aesonEncode).join(',') + ']';
  const keys = Object.keys(value).sort(compareCodePoints);
  return '{' + keys.map((k) => aesonString(k) + ':' + aesonEncode(value[k]!)).join(',') + '}';
}

// ---------------------------------------------------------------------------
// Read records

export interface RecordLine {
  /** publish time of the batch, in milliseconds */
  timestampMs: number;
  shardId: string;
  batchId: string;
  batchIndex: number;
  key: string;
  /** the record as already rendered: JSON text or the raw payload */
  record: string;
}

/** `timestamp: "1692774844649", id: 1928822601796943-8589934594-0, key: "key1", record: {...}` */
export function formatRecordLine(r: RecordLine): string {
  return (
    `timestamp: ${haskellShow(String(r.timestampMs))}` +
    `, id: ${r.shardId}-${r.batchId}-${r.batchIndex}` +
    `, key: ${haskellShow(r.key)}` +
    `, record: ${r.record}`
  );
}

/** Upstream's `getTimeStamp`: floor(seconds * 1e3 + nanos / 1e6). */
export function publishTimeMs(t: { seconds: string | number; nanos: number } | null | undefined): number {
  if (!t) return 0;
  return Math.floor(Number(t.seconds) * 1e3 + t.nanos / 1e6);
}
