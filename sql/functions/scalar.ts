/**
 * Scalar functions of the v1 dialect (upstream's SQL docs): arity, the static types
 * each argument accepts (checked by the binder when an argument's type is
 * known), the result type, and the implementation. A function gets NULL back
 * for any NULL argument unless it declares `handlesNull`.
 *
 * Fixed upstream quirks (fix 8): TAKEEND / DROP / DROPEND do what their names
 * say, CHUNKSOF takes the INTEGER first; ROUND rounds half away from zero.
 *
 * Must not import anything outside sql/.
 */
import { EvalError } from '../errors.js';
import { equals, kindOf, KIND_NAMES, render, SqlDate, SqlTime, totalCompare, Tagged, type Value } from '../values.js';

export type StaticType = 'any' | 'null' | 'int' | 'float' | 'number' | 'bool' | 'string' | 'bytes' | 'date' | 'time' | 'timestamp' | 'interval' | 'array' | 'json';

export interface ScalarFunction {
  name: string;
  minArgs: number;
  maxArgs: number;
  /** accepted static types per argument position (undefined: anything) */
  args: Array<readonly StaticType[] | undefined>;
  result: StaticType;
  /** the function itself sees NULL arguments (otherwise any NULL argument gives NULL) */
  handlesNull?: boolean;
  impl(args: Value[]): Value;
}

const fail = (message: string): never => {
  throw new EvalError(message);
};

function num(v: Value, fn: string): number {
  if (typeof v !== 'number') fail(`${fn} expects a number, got ${KIND_NAMES[kindOf(v)]}`);
  return v as number;
}
function str(v: Value, fn: string): string {
  if (typeof v !== 'string') fail(`${fn} expects a String, got ${KIND_NAMES[kindOf(v)]}`);
  return v as string;
}
function int(v: Value, fn: string): number {
  const n = num(v, fn);
  if (!Number.isInteger(n)) fail(`${fn} expects an Integer, got a Float`);
  return n;
}
function arr(v: Value, fn: string): Value[] {
  if (!Array.isArray(v)) fail(`${fn} expects an Array, got ${KIND_NAMES[kindOf(v)]}`);
  return v as Value[];
}

/** structural equality that never throws (mixed kinds are simply different) */
const same = (a: Value, b: Value) => totalCompare(a, b) === 0;
function distinct(xs: Value[]): Value[] {
  const out: Value[] = [];
  for (const x of xs) if (!out.some((y) => same(x, y))) out.push(x);
  return out;
}

const NUM = ['number'] as const;
const STR = ['string'] as const;
const ARR = ['array'] as const;
const INT = ['int'] as const;

function math(name: string, f: (x: number) => number, domain?: (x: number) => boolean): ScalarFunction {
  return {
    name,
    minArgs: 1,
    maxArgs: 1,
    args: [NUM],
    result: 'float',
    impl: ([x]) => {
      const n = num(x!, name);
      if (domain && !domain(n)) fail(`${name}(${n}) is out of the function's domain`);
      return f(n);
    },
  };
}
function strFn(name: string, f: (s: string) => Value, result: StaticType = 'string'): ScalarFunction {
  return { name, minArgs: 1, maxArgs: 1, args: [STR], result, impl: ([s]) => f(str(s!, name)) };
}
function isFn(name: string, test: (v: Value) => boolean): ScalarFunction {
  return { name, minArgs: 1, maxArgs: 1, args: [undefined], result: 'bool', handlesNull: true, impl: ([v]) => test(v!) };
}
/** TAKE-like: (n, s) with n ≥ 0 */
function cutFn(name: string, f: (cps: string[], n: number) => string[]): ScalarFunction {
  return {
    name,
    minArgs: 2,
    maxArgs: 2,
    args: [INT, STR],
    result: 'string',
    impl: ([n, s]) => {
      const k = int(n!, name);
      if (k < 0) fail(`${name} expects a non-negative count`);
      return f([...str(s!, name)], k).join('');
    },
  };
}

// --- DATETOSTRING / STRINGTODATE -------------------------------------------------------------

const DATE_FORMATS = ['%Y-%m-%d %H:%M:%S', '%Y-%m-%dT%H:%M:%S%z', '%a, %d %b %Y %H:%M:%S GMT', '%a, %d %b %Y %H:%M:%S %z'] as const;
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number) => String(n).padStart(2, '0');

function checkFormat(fmt: string): (typeof DATE_FORMATS)[number] {
  const f = DATE_FORMATS.find((x) => x === fmt);
  if (!f) fail(`unsupported date format ${JSON.stringify(fmt)}; use one of ${DATE_FORMATS.map((x) => `'${x}'`).join(', ')}`);
  return f!;
}

function dateToString(secs: number, fmt: string): string {
  const f = checkFormat(fmt);
  const d = new Date(secs * 1000);
  if (Number.isNaN(d.getTime())) fail('DATETOSTRING: time out of range');
  const ymd = `${d.getUTCFullYear()}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())}`;
  const hms = `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
  const rfc = `${DAYS[d.getUTCDay()]}, ${p2(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${hms}`;
  switch (f) {
    case '%Y-%m-%d %H:%M:%S':
      return `${ymd} ${hms}`;
    case '%Y-%m-%dT%H:%M:%S%z':
      return `${ymd}T${hms}+0000`;
    case '%a, %d %b %Y %H:%M:%S GMT':
      return `${rfc} GMT`;
    case '%a, %d %b %Y %H:%M:%S %z':
      return `${rfc} +0000`;
  }
}

function stringToDate(s: string, fmt: string): number {
  const f = checkFormat(fmt);
  const offsetMs = (sign: string, hh: string, mm: string) => (sign === '-' ? -1 : 1) * (Number(hh) * 60 + Number(mm)) * 60_000;
  let ms: number;
  let m: RegExpExecArray | null;
  if (f === '%Y-%m-%d %H:%M:%S' && (m = /^(\d{4})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})$/.exec(s))) {
    ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  } else if (f === '%Y-%m-%dT%H:%M:%S%z' && (m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})([+-])(\d{2}):?(\d{2})$/.exec(s))) {
    ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!) - offsetMs(m[7]!, m[8]!, m[9]!);
  } else if ((m = /^[A-Z][a-z]{2}, (\d{2}) ([A-Z][a-z]{2}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) (GMT|[+-]\d{4})$/.exec(s))) {
    const month = MONTHS.indexOf(m[2]!);
    const zone = m[7]!;
    if (month < 0 || (f === '%a, %d %b %Y %H:%M:%S GMT') !== (zone === 'GMT')) return fail(`STRINGTODATE: ${JSON.stringify(s)} does not match ${fmt}`);
    ms = Date.UTC(+m[3]!, month, +m[1]!, +m[4]!, +m[5]!, +m[6]!) - (zone === 'GMT' ? 0 : offsetMs(zone[0]!, zone.slice(1, 3), zone.slice(3)));
  } else {
    return fail(`STRINGTODATE: ${JSON.stringify(s)} does not match ${fmt}`);
  }
  return Math.floor(ms / 1000);
}

// --- the registry ----------------------------------------------------------------------------

const LIST: ScalarFunction[] = [
  math('SIN', Math.sin),
  math('COS', Math.cos),
  math('TAN', Math.tan),
  math('ASIN', Math.asin, (x) => x >= -1 && x <= 1),
  math('ACOS', Math.acos, (x) => x >= -1 && x <= 1),
  math('ATAN', Math.atan),
  math('SINH', Math.sinh),
  math('COSH', Math.cosh),
  math('TANH', Math.tanh),
  math('ASINH', Math.asinh),
  math('ACOSH', Math.acosh, (x) => x >= 1),
  math('ATANH', Math.atanh, (x) => x > -1 && x < 1),
  math('SQRT', Math.sqrt, (x) => x >= 0),
  math('EXP', Math.exp),
  math('LOG', Math.log, (x) => x > 0),
  math('LOG2', Math.log2, (x) => x > 0),
  math('LOG10', Math.log10, (x) => x > 0),
  { name: 'ABS', minArgs: 1, maxArgs: 1, args: [NUM], result: 'number', impl: ([x]) => Math.abs(num(x!, 'ABS')) },
  { name: 'CEIL', minArgs: 1, maxArgs: 1, args: [NUM], result: 'int', impl: ([x]) => Math.ceil(num(x!, 'CEIL')) },
  { name: 'FLOOR', minArgs: 1, maxArgs: 1, args: [NUM], result: 'int', impl: ([x]) => Math.floor(num(x!, 'FLOOR')) },
  {
    name: 'ROUND',
    minArgs: 1,
    maxArgs: 1,
    args: [NUM],
    result: 'int',
    // half away from zero (upstream rounds half to even, fix 17)
    impl: ([x]) => {
      const n = num(x!, 'ROUND');
      return Math.sign(n) * Math.round(Math.abs(n));
    },
  },
  { name: 'SIGN', minArgs: 1, maxArgs: 1, args: [NUM], result: 'int', impl: ([x]) => Math.sign(num(x!, 'SIGN')) },

  isFn('IS_INT', (v) => typeof v === 'number' && Number.isInteger(v)),
  isFn('IS_FLOAT', (v) => typeof v === 'number' && !Number.isInteger(v)),
  isFn('IS_NUM', (v) => typeof v === 'number'),
  isFn('IS_BOOL', (v) => typeof v === 'boolean'),
  isFn('IS_STR', (v) => typeof v === 'string'),
  isFn('IS_ARRAY', (v) => Array.isArray(v)),
  isFn('IS_DATE', (v) => v instanceof SqlDate),
  isFn('IS_TIME', (v) => v instanceof SqlTime),
  { name: 'TO_STR', minArgs: 1, maxArgs: 1, args: [undefined], result: 'string', handlesNull: true, impl: ([v]) => render(v!) },

  strFn('TO_LOWER', (s) => s.toLowerCase()),
  strFn('TO_UPPER', (s) => s.toUpperCase()),
  strFn('TRIM', (s) => s.trim()),
  strFn('LEFT_TRIM', (s) => s.trimStart()),
  strFn('RIGHT_TRIM', (s) => s.trimEnd()),
  strFn('REVERSE', (s) => [...s].reverse().join('')),
  strFn('STRLEN', (s) => [...s].length, 'int'),

  { name: 'IFNULL', minArgs: 2, maxArgs: 2, args: [undefined, undefined], result: 'any', handlesNull: true, impl: ([x, y]) => (x === null ? y! : x!) },
  {
    name: 'NULLIF',
    minArgs: 2,
    maxArgs: 2,
    args: [undefined, undefined],
    result: 'any',
    handlesNull: true,
    impl: ([x, y]) => (x === null || y === null ? x! : equals(x!, y!) ? null : x!),
  },
  {
    name: 'DATETOSTRING',
    minArgs: 2,
    maxArgs: 2,
    args: [INT, STR],
    result: 'string',
    impl: ([t, f]) => dateToString(int(t!, 'DATETOSTRING'), str(f!, 'DATETOSTRING')),
  },
  {
    name: 'STRINGTODATE',
    minArgs: 2,
    maxArgs: 2,
    args: [STR, STR],
    result: 'int',
    impl: ([s, f]) => stringToDate(str(s!, 'STRINGTODATE'), str(f!, 'STRINGTODATE')),
  },
  {
    name: 'SPLIT',
    minArgs: 2,
    maxArgs: 2,
    args: [STR, STR],
    result: 'array',
    // the first argument is the delimiter (upstream's order)
    impl: ([d, s]) => {
      const delim = str(d!, 'SPLIT');
      const text = str(s!, 'SPLIT');
      return delim === '' ? [...text] : text.split(delim);
    },
  },
  {
    name: 'CHUNKSOF',
    minArgs: 2,
    maxArgs: 2,
    args: [INT, STR],
    result: 'array',
    impl: ([n, s]) => {
      const k = int(n!, 'CHUNKSOF');
      if (k <= 0) fail('CHUNKSOF expects a positive chunk size');
      const cps = [...str(s!, 'CHUNKSOF')];
      const out: Value[] = [];
      for (let i = 0; i < cps.length; i += k) out.push(cps.slice(i, i + k).join(''));
      return out;
    },
  },
  cutFn('TAKE', (cps, n) => cps.slice(0, n)),
  cutFn('TAKEEND', (cps, n) => cps.slice(Math.max(0, cps.length - n))),
  cutFn('DROP', (cps, n) => cps.slice(n)),
  cutFn('DROPEND', (cps, n) => cps.slice(0, Math.max(0, cps.length - n))),

  {
    name: 'ARRAY_CONTAIN',
    minArgs: 2,
    maxArgs: 2,
    args: [ARR, undefined],
    result: 'bool',
    handlesNull: true,
    impl: ([a, v]) => (a === null ? null : arr(a!, 'ARRAY_CONTAIN').some((x) => same(x, v!))),
  },
  { name: 'ARRAY_DISTINCT', minArgs: 1, maxArgs: 1, args: [ARR], result: 'array', impl: ([a]) => distinct(arr(a!, 'ARRAY_DISTINCT')) },
  {
    name: 'ARRAY_EXCEPT',
    minArgs: 2,
    maxArgs: 2,
    args: [ARR, ARR],
    result: 'array',
    impl: ([a, b]) => {
      const minus = arr(b!, 'ARRAY_EXCEPT');
      return distinct(arr(a!, 'ARRAY_EXCEPT')).filter((x) => !minus.some((y) => same(x, y)));
    },
  },
  {
    name: 'ARRAY_INTERSECT',
    minArgs: 2,
    maxArgs: 2,
    args: [ARR, ARR],
    result: 'array',
    impl: ([a, b]) => {
      const other = arr(b!, 'ARRAY_INTERSECT');
      return distinct(arr(a!, 'ARRAY_INTERSECT')).filter((x) => other.some((y) => same(x, y)));
    },
  },
  {
    name: 'ARRAY_UNION',
    minArgs: 2,
    maxArgs: 2,
    args: [ARR, ARR],
    result: 'array',
    impl: ([a, b]) => distinct([...arr(a!, 'ARRAY_UNION'), ...arr(b!, 'ARRAY_UNION')]),
  },
  {
    name: 'ARRAY_REMOVE',
    minArgs: 2,
    maxArgs: 2,
    args: [ARR, undefined],
    result: 'array',
    handlesNull: true,
    impl: ([a, v]) => (a === null ? null : arr(a!, 'ARRAY_REMOVE').filter((x) => !same(x, v!))),
  },
  { name: 'ARRAY_LENGTH', minArgs: 1, maxArgs: 1, args: [ARR], result: 'int', impl: ([a]) => arr(a!, 'ARRAY_LENGTH').length },
  {
    name: 'ARRAY_JOIN',
    minArgs: 1,
    maxArgs: 2,
    args: [ARR, STR],
    result: 'string',
    impl: ([a, sep]) => {
      const items = arr(a!, 'ARRAY_JOIN');
      for (const x of items) {
        if (Array.isArray(x) || (typeof x === 'object' && x !== null && !(x instanceof Tagged))) fail('ARRAY_JOIN cannot join nested arrays or objects');
      }
      return items.map(render).join(sep === undefined ? ',' : str(sep, 'ARRAY_JOIN'));
    },
  },
  {
    name: 'ARRAY_MAX',
    minArgs: 1,
    maxArgs: 1,
    args: [ARR],
    result: 'any',
    impl: ([a]) => {
      const xs = arr(a!, 'ARRAY_MAX');
      if (xs.length === 0) fail('ARRAY_MAX of an empty array');
      return xs.reduce((m, x) => (totalCompare(x, m) > 0 ? x : m));
    },
  },
  {
    name: 'ARRAY_MIN',
    minArgs: 1,
    maxArgs: 1,
    args: [ARR],
    result: 'any',
    impl: ([a]) => {
      const xs = arr(a!, 'ARRAY_MIN');
      if (xs.length === 0) fail('ARRAY_MIN of an empty array');
      return xs.reduce((m, x) => (totalCompare(x, m) < 0 ? x : m));
    },
  },
  { name: 'ARRAY_SORT', minArgs: 1, maxArgs: 1, args: [ARR], result: 'array', impl: ([a]) => [...arr(a!, 'ARRAY_SORT')].sort(totalCompare) },
];

export const SCALAR_FUNCTIONS: ReadonlyMap<string, ScalarFunction> = new Map(LIST.map((f) => [f.name, f]));
