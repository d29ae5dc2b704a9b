/**
 * Hostile requests for every RPC of HStreamApi, generated from the proto
 * itself (protobufjs reflection), so a new RPC is covered the day it is added.
 *
 * A case is the raw request bytes (one message, or several for bidi calls),
 * built from a per-case seed: case i of seed s is the same bytes on every
 * machine, and can be replayed alone. Kinds:
 *
 *   empty            zero-length message (all fields default)
 *   random-bytes     noise
 *   truncated        a plausible message cut short
 *   bit-flip         a plausible message with a few bytes changed
 *   wrong-type       a message of another type
 *   wrong-wire-type  a known field sent with another wire type
 *   invalid-wire     wire types 6/7, stray group ends, overlong varints, lengths past the end
 *   unknown-fields   a plausible message plus fields the proto does not have (must be ignored)
 *   semantic         well-formed messages with hostile values: names, ids, counts, offsets, payloads
 *   names            every string field a hostile name (empty, 256+ chars, 1 MB, NUL, emoji, ZWJ, …)
 *   invalid-utf8     string fields holding bytes that are not UTF-8
 *   absurd-numbers   integer fields at 0, -1, 2^31, 2^32-1, 2^53+1, 2^63, 2^64-1 (negatives as 10-byte varints)
 *   unknown-enum     enum fields at values the enum does not have
 *   oversize         a 10 MB message: must be refused with RESOURCE_EXHAUSTED
 *   append-edge      Append-specific: batchSize 0 / huge / wrong, bad compression, bombs, 1 MB+ records
 *   sql-depth        SQL RPCs: 10k and 1M nested parentheses (INVALID_ARGUMENT), 10k and 1M ANDed terms
 *                    (10k is an ordinary query; 1M is larger than a message may be: RESOURCE_EXHAUSTED)
 */
import { gzipSync } from 'node:zlib';
import protobuf from 'protobufjs';
import { PROTO_PATH } from '../../src/proto.js';
import { encodeRecords } from '../../src/records.js';
import { Rng } from './rng.js';

const root = protobuf.loadSync(PROTO_PATH);
root.resolveAll();
const service = root.lookupService('hstream.server.HStreamApi');
const ALL_TYPES: protobuf.Type[] = [];
root.nestedArray.forEach(function collect(obj: protobuf.ReflectionObject) {
  if (obj instanceof protobuf.Type) ALL_TYPES.push(obj);
  if (obj instanceof protobuf.Namespace) obj.nestedArray.forEach(collect);
});

export interface MethodInfo {
  name: string;
  path: string;
  requestStream: boolean;
  responseStream: boolean;
  requestType: protobuf.Type;
}

export function methodInfo(name: string, def: { path: string; requestStream: boolean; responseStream: boolean }): MethodInfo {
  const method = service.methods[name];
  if (!method?.resolvedRequestType) throw new Error(`HStreamApi.${name} is not in the proto`);
  return { name, path: def.path, requestStream: def.requestStream, responseStream: def.responseStream, requestType: method.resolvedRequestType };
}

export type CaseKind =
  | 'empty'
  | 'random-bytes'
  | 'truncated'
  | 'bit-flip'
  | 'wrong-type'
  | 'wrong-wire-type'
  | 'invalid-wire'
  | 'unknown-fields'
  | 'semantic'
  | 'names'
  | 'invalid-utf8'
  | 'absurd-numbers'
  | 'unknown-enum'
  | 'oversize'
  | 'append-edge'
  | 'sql-depth';

export interface HostileCase {
  index: number;
  method: MethodInfo;
  kind: CaseKind;
  /** request messages (exactly one unless the method streams requests) */
  messages: Buffer[];
  /** for request streams: half-close after the messages */
  end: boolean;
  /** what must come back, where we know it; otherwise only the essential checks apply */
  expect?: 'non-ok' | 'resource-exhausted' | 'invalid-argument';
  note: string;
}

/** Objects that exist on the server when the cases run, so well-formed requests reach real code paths. */
export interface Fixtures {
  streams: string[];
  shardIds: string[];
  readers: string[];
}

const TEN_MB = 10 * 1024 * 1024;
let oversizeBuffer: Buffer | undefined;
let gzipBomb: Buffer | undefined;

/** ~100 KB of gzip that inflates to 100 MB: above the server's 64 MB inflate cap. */
export function gzipBombBytes(): Buffer {
  gzipBomb ??= gzipSync(Buffer.alloc(100 * 1024 * 1024));
  return gzipBomb;
}

/** A zstd frame header declaring 2^40 bytes of content, then garbage. */
const ZSTD_HUGE_DECLARED = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0xe0]), Buffer.from('0000000001000000', 'hex'), Buffer.alloc(16, 0xab)]);

// ---------------------------------------------------------------------------------------------
// value pools

const OBVIOUSLY_INVALID_NAMES = [
  '',
  ' ',
  '1abc',
  '-a',
  '_a',
  'a b',
  'a/b',
  'a.b',
  '.',
  '..',
  '/',
  'a\u0000b',
  '\u0000',
  'a\u0007b',
  'a\nb',
  'x'.repeat(256),
  '😀',
  'a😀',
  'a\u200db',
  'a\u202eb',
  '\ud800',
  'a\ud800b',
  '𝒜'.repeat(256),
  '*',
  "a'; DROP TABLE streams; --",
];

function validNames(rng: Rng, fixtures: Fixtures): string[] {
  const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
  const rest = letters + '0123456789_-';
  let random = letters[rng.int(0, letters.length - 1)]!;
  for (let i = rng.int(0, 20); i > 0; i--) random += rest[rng.int(0, rest.length - 1)]!;
  return [...fixtures.streams, ...fixtures.readers, random, 'x'.repeat(255), '𝒜'.repeat(255), 'ストリーム', 'поток', 'שלום', 'e\u0301', 'ñandú'];
}

function hugeNames(rng: Rng): string[] {
  return ['y'.repeat(rng.int(256, 5000)), 'z'.repeat(100_000), 'q'.repeat(1024 * 1024), '😀'.repeat(1000)];
}

function hostileString(rng: Rng, fixtures: Fixtures): string {
  return rng.weighted<() => string>([
    [5, () => rng.pick(validNames(rng, fixtures))],
    [4, () => rng.pick(OBVIOUSLY_INVALID_NAMES)],
    [1, () => rng.pick(hugeNames(rng))],
    [1, () => rng.pick(['0', '-1', '18446744073709551615', '1-2-3', '4294967297-0-0', `${rng.pick(fixtures.shardIds)}-4294967297-0`, 'NaN', '1e309'])],
    [1, () => rng.pick(['SELECT * FROM fz EMIT CHANGES;', 'SELECT', ';;;', '\u0000'.repeat(10), '{"a":1}'])],
  ])();
}

const U64 = ['0', '1', '2', '4294967295', '4294967296', '4294967297', '9007199254740991', '9007199254740992', '9007199254740993', '9223372036854775807', '9223372036854775808', '18446744073709551615'];
const I64 = ['0', '-1', '1', '-9223372036854775808', '9223372036854775807', '1700000000000', '253402300800000', '-62135596800000'];
const U32 = [0, 1, 2, 10, 255, 1024, 1025, 65535, 2147483647, 2147483648, 4294967295];
const I32 = [0, 1, -1, 5, 60, -2147483648, 2147483647];

function hostileBytes(rng: Rng): Buffer {
  return rng.weighted<() => Buffer>([
    [3, () => plausibleBatchPayload(rng)],
    [1, () => Buffer.alloc(0)],
    [2, () => rng.bytes(rng.logInt(1, 2048))],
    [1, () => gzipSync(plausibleBatchPayload(rng))],
    [1, () => Buffer.concat([Buffer.from([0x1f, 0x8b]), rng.bytes(rng.int(0, 64))])],
    [1, () => ZSTD_HUGE_DECLARED],
    [1, () => gzipBombBytes()],
  ])();
}

/** An encoded BatchHStreamRecords of a few small records. */
function plausibleBatchPayload(rng: Rng): Buffer {
  const n = rng.int(1, 5);
  return encodeRecords(
    Array.from({ length: n }, () => ({
      header: { flag: rng.chance(0.5) ? ('RAW' as const) : ('JSON' as const), attributes: {}, key: rng.pick(['', 'k', 'key-1', '😀']) },
      payload: rng.bytes(rng.int(0, 64)),
    })),
  );
}

// ---------------------------------------------------------------------------------------------
// message construction

type Plain = Record<string, unknown>;

interface ValueStyle {
  strings?: 'hostile' | 'names' | 'huge';
  numbers?: 'pool' | 'absurd';
}

function scalarValue(field: protobuf.Field, rng: Rng, fixtures: Fixtures, style: ValueStyle): unknown {
  const name = field.name.toLowerCase();
  switch (field.type) {
    case 'string':
      if (style.strings === 'huge') return rng.pick(hugeNames(rng));
      if (style.strings === 'names') return rng.pick([...OBVIOUSLY_INVALID_NAMES, ...hugeNames(rng)]);
      return hostileString(rng, fixtures);
    case 'bytes':
      return hostileBytes(rng);
    case 'bool':
      return rng.chance(0.5);
    case 'uint64':
    case 'fixed64':
      if (name.includes('shard') && style.numbers !== 'absurd' && rng.chance(0.6)) return rng.pick(fixtures.shardIds);
      if (name.includes('batchid') && rng.chance(0.4)) return rng.pick(['4294967297', '4294967298', '4294967296']);
      return rng.pick(U64);
    case 'int64':
    case 'sint64':
    case 'sfixed64':
      return rng.pick(I64);
    case 'uint32':
    case 'fixed32':
      if (style.numbers !== 'absurd' && rng.chance(0.5)) return rng.int(0, 5);
      return rng.pick(U32);
    case 'int32':
    case 'sint32':
    case 'sfixed32':
      if (style.numbers !== 'absurd' && rng.chance(0.5)) return rng.int(0, 5);
      return rng.pick(I32);
    case 'double':
    case 'float':
      return rng.pick([0, -1, 1.5, 1e308, Number.NaN, Number.POSITIVE_INFINITY, -0]);
    default:
      return undefined;
  }
}

function enumValue(e: protobuf.Enum, rng: Rng, unknown: boolean): unknown {
  if (unknown || rng.chance(0.15)) return rng.pick([99, 3, 7, 2147483647, -1]);
  return rng.pick(Object.keys(e.values));
}

function fieldValue(field: protobuf.Field, rng: Rng, fixtures: Fixtures, depth: number, style: ValueStyle): unknown {
  if (field instanceof protobuf.MapField) {
    const out: Plain = {};
    for (let i = rng.int(0, 3); i > 0; i--) {
      const key = field.keyType === 'string' ? hostileString(rng, fixtures) : String(rng.pick(U32));
      out[key] = field.resolvedType instanceof protobuf.Type ? plainMessage(field.resolvedType, rng, fixtures, depth + 1, style) : scalarValue(field, rng, fixtures, style);
    }
    return out;
  }
  const one = (): unknown => {
    if (field.resolvedType instanceof protobuf.Enum) return enumValue(field.resolvedType, rng, false);
    if (field.resolvedType instanceof protobuf.Type) return depth > 4 ? {} : plainMessage(field.resolvedType, rng, fixtures, depth + 1, style);
    return scalarValue(field, rng, fixtures, style);
  };
  if (field.repeated) {
    if (style.numbers === 'absurd' && field.type === 'string' && rng.chance(0.3)) {
      // many short entries (e.g. 20,000 RecordIds to TrimShards)
      const shard = rng.pick(fixtures.shardIds);
      return Array.from({ length: 20_000 }, (_, i) => `${shard}-${4294967297 + i}-0`);
    }
    return Array.from({ length: rng.logInt(0, 8) }, one);
  }
  return one();
}

/** A message object with fields set to hostile but well-typed values. */
function plainMessage(type: protobuf.Type, rng: Rng, fixtures: Fixtures, depth: number, style: ValueStyle): Plain {
  const out: Plain = {};
  const inOneof = new Set<string>();
  for (const oneof of type.oneofsArray) {
    const members = oneof.fieldsArray;
    // usually one member, sometimes none or two (the last on the wire wins)
    const chosen = rng.weighted([
      [1, 0],
      [6, 1],
      [1, 2],
    ] as const);
    for (let i = 0; i < chosen; i++) {
      const f = rng.pick(members);
      out[f.name] = fieldValue(f, rng, fixtures, depth, style);
    }
    for (const f of members) inOneof.add(f.name);
  }
  for (const field of type.fieldsArray) {
    if (inOneof.has(field.name)) continue;
    if (rng.chance(depth === 0 ? 0.9 : 0.7)) out[field.name] = fieldValue(field, rng, fixtures, depth, style);
  }
  return out;
}

function encode(type: protobuf.Type, plain: Plain): Buffer {
  return Buffer.from(type.encode(type.fromObject(plain)).finish());
}

/** A well-typed message; falls back to an empty one if protobufjs refuses the object. */
function plausible(type: protobuf.Type, rng: Rng, fixtures: Fixtures, style: ValueStyle = {}): Buffer {
  try {
    return encode(type, plainMessage(type, rng, fixtures, 0, style));
  } catch {
    return Buffer.alloc(0);
  }
}

const writer = () => protobuf.Writer.create();

/** tag = field number << 3 | wire type */
function tag(w: protobuf.Writer, field: number, wireType: number): protobuf.Writer {
  return w.uint32(((field << 3) | wireType) >>> 0);
}

function wireTypeOf(field: protobuf.Field): number {
  if (field.resolvedType instanceof protobuf.Type || field.map) return 2;
  switch (field.type) {
    case 'string':
    case 'bytes':
      return 2;
    case 'fixed64':
    case 'sfixed64':
    case 'double':
      return 1;
    case 'fixed32':
    case 'sfixed32':
    case 'float':
      return 5;
    default:
      return 0;
  }
}

/** Appends a value of wire type `wt` for `fieldNo`. */
function writeAny(w: protobuf.Writer, rng: Rng, fieldNo: number, wt: number): void {
  tag(w, fieldNo, wt);
  switch (wt) {
    case 0:
      w.uint64(rng.pick(U64));
      break;
    case 1:
      w.fixed64(rng.pick(U64));
      break;
    case 2:
      w.bytes(rng.bytes(rng.logInt(0, 256)));
      break;
    case 5:
      w.fixed32(rng.u32());
      break;
    default:
      break;
  }
}

function strFields(type: protobuf.Type): protobuf.Field[] {
  return type.fieldsArray.filter((f) => f.type === 'string' && !f.map);
}

function intFields(type: protobuf.Type): protobuf.Field[] {
  return type.fieldsArray.filter((f) => ['int32', 'uint32', 'int64', 'uint64', 'sint32', 'sint64'].includes(f.type) && !f.map);
}

function enumFields(type: protobuf.Type): protobuf.Field[] {
  return type.fieldsArray.filter((f) => f.resolvedType instanceof protobuf.Enum);
}

/** A nested path to a field of the wanted kind, e.g. Append.records.batchSize: [3, 3]. */
function nestedFields(type: protobuf.Type, pick: (t: protobuf.Type) => protobuf.Field[], depth = 0): Array<{ path: protobuf.Field[] }> {
  const out: Array<{ path: protobuf.Field[] }> = pick(type).map((f) => ({ path: [f] }));
  if (depth >= 3) return out;
  for (const f of type.fieldsArray) {
    if (f.resolvedType instanceof protobuf.Type && !f.map) {
      for (const inner of nestedFields(f.resolvedType, pick, depth + 1)) out.push({ path: [f, ...inner.path] });
    }
  }
  return out;
}

/** Wraps `leaf` (already the bytes of the innermost field, tag included) in the length-delimited parents of `path`. */
function wrapPath(path: protobuf.Field[], leaf: Buffer): Buffer {
  let bytes = leaf;
  for (let i = path.length - 2; i >= 0; i--) bytes = Buffer.from(tag(writer(), path[i]!.id, 2).bytes(bytes).finish());
  return bytes;
}

/** The base message with extra fields appended (for scalars the last value on the wire wins; messages merge). */
function withOverrides(base: Buffer, overrides: Buffer[]): Buffer {
  return Buffer.concat([base, ...overrides]);
}

// ---------------------------------------------------------------------------------------------
// case generation

const KINDS: ReadonlyArray<readonly [number, CaseKind]> = [
  [3, 'empty'],
  [10, 'random-bytes'],
  [8, 'truncated'],
  [8, 'bit-flip'],
  [4, 'wrong-type'],
  [6, 'wrong-wire-type'],
  [6, 'invalid-wire'],
  [5, 'unknown-fields'],
  [24, 'semantic'],
  [6, 'names'],
  [4, 'invalid-utf8'],
  [7, 'absurd-numbers'],
  [4, 'unknown-enum'],
  [1, 'oversize'],
];

const APPEND_EDGE_VARIANTS = 12;

/** RPCs whose request carries SQL text in field 1 (`sql`) */
const SQL_METHODS = ['ParseSql', 'ExecuteQuery', 'CreateQuery', 'ExecuteViewQuery'];
const SQL_DEPTH_SHAPES = [
  { n: 10_000, shape: 'parens' },
  { n: 1_000_000, shape: 'parens' },
  { n: 10_000, shape: 'and' },
  { n: 1_000_000, shape: 'and' },
] as const;
const SQL_DEPTH_VARIANTS = SQL_METHODS.length * SQL_DEPTH_SHAPES.length;

function deepSql(shape: 'parens' | 'and', n: number): string {
  if (shape === 'parens') return `SELECT ${'('.repeat(n)}a${')'.repeat(n)} AS x FROM hostile_sql EMIT CHANGES;`;
  return `SELECT a FROM hostile_sql WHERE ${Array.from({ length: n }, (_, i) => `a <> ${i % 1000}`).join(' AND ')} EMIT CHANGES;`;
}

/**
 * Targeted cases run before the random ones, every run: each Append edge and,
 * for every RPC, a request whose every string field is huge (an error that
 * quotes one must stay small). Their indices are negative: -1, -2, …
 */
export function targetedCaseCount(methods: MethodInfo[]): number {
  return APPEND_EDGE_VARIANTS + SQL_DEPTH_VARIANTS + methods.length;
}

/**
 * Case `index` of a run. Random cases (index >= 0): the method goes
 * round-robin (every RPC gets its share), the rest comes from the case's own
 * seed. Targeted cases: index < 0.
 */
export function buildCase(seed: number, index: number, methods: MethodInfo[], fixtures: Fixtures): HostileCase {
  const rng = new Rng(seed).fork(index);
  let method: MethodInfo;
  let kind: CaseKind;
  let variant: number | undefined;
  if (index < 0) {
    const k = -index - 1;
    if (k < APPEND_EDGE_VARIANTS) {
      method = methods.find((m) => m.name === 'Append')!;
      kind = 'append-edge';
      variant = k;
    } else if (k < APPEND_EDGE_VARIANTS + SQL_DEPTH_VARIANTS) {
      const v = k - APPEND_EDGE_VARIANTS;
      method = methods.find((m) => m.name === SQL_METHODS[v % SQL_METHODS.length])!;
      kind = 'sql-depth';
      variant = Math.floor(v / SQL_METHODS.length);
    } else {
      method = methods[(k - APPEND_EDGE_VARIANTS - SQL_DEPTH_VARIANTS) % methods.length]!;
      kind = 'names';
      variant = 1;
    }
  } else {
    method = methods[index % methods.length]!;
    kind = rng.weighted(KINDS);
    if (method.name === 'Append' && rng.chance(0.5)) kind = 'append-edge';
  }
  const type = method.requestType;
  let first = true;
  const one = (): { bytes: Buffer; note: string; expect?: HostileCase['expect'] } => {
    const v = first ? variant : undefined;
    first = false;
    return messageOf(kind, type, method, rng, fixtures, v);
  };
  const head = one();
  const messages = [head.bytes];
  if (method.requestStream && kind !== 'oversize') {
    for (let i = rng.weighted([
      [6, 0],
      [3, rng.int(1, 3)],
      [1, rng.int(10, 60)],
    ] as const); i > 0; i--) {
      messages.push(one().bytes);
    }
  }
  return { index, method, kind, messages, end: !method.requestStream || rng.chance(0.6), expect: head.expect, note: head.note };
}

function messageOf(
  kind: CaseKind,
  type: protobuf.Type,
  method: MethodInfo,
  rng: Rng,
  fixtures: Fixtures,
  variant?: number,
): { bytes: Buffer; note: string; expect?: HostileCase['expect'] } {
  switch (kind) {
    case 'empty':
      return { bytes: Buffer.alloc(0), note: 'empty message' };
    case 'random-bytes': {
      const n = rng.logInt(1, 4096);
      return { bytes: rng.bytes(n), note: `${n} random bytes` };
    }
    case 'truncated': {
      const full = plausible(type, rng, fixtures);
      if (full.length < 2) return { bytes: rng.bytes(3), note: 'random bytes (message too short to cut)' };
      const cut = rng.int(1, full.length - 1);
      return { bytes: full.subarray(0, cut), note: `${full.length}-byte message cut at ${cut}` };
    }
    case 'bit-flip': {
      const bytes = Buffer.from(plausible(type, rng, fixtures));
      if (bytes.length === 0) return { bytes: rng.bytes(4), note: 'random bytes (empty message to flip)' };
      const flips = rng.int(1, 4);
      for (let i = 0; i < flips; i++) bytes[rng.int(0, bytes.length - 1)]! ^= 1 << rng.int(0, 7);
      return { bytes, note: `${flips} bit flips` };
    }
    case 'wrong-type': {
      const other = rng.pick(ALL_TYPES.filter((t) => t !== type && t.fieldsArray.length > 0));
      return { bytes: plausible(other, rng, fixtures), note: `a ${other.name} sent as ${type.name}` };
    }
    case 'wrong-wire-type': {
      const fields = type.fieldsArray;
      const base = plausible(type, rng, fixtures);
      if (fields.length === 0) {
        const w = writer();
        writeAny(w, rng, rng.int(1, 8), rng.pick([0, 1, 2, 5]));
        return { bytes: withOverrides(base, [Buffer.from(w.finish())]), note: 'unknown field on a message without fields' };
      }
      const f = rng.pick(fields);
      // packed repeated numbers legitimately arrive as wire type 2 as well
      const right = f.repeated && wireTypeOf(f) !== 2 ? [wireTypeOf(f), 2] : [wireTypeOf(f)];
      const wrong = rng.pick([0, 1, 2, 5].filter((wt) => !right.includes(wt)));
      const w = writer();
      writeAny(w, rng, f.id, wrong);
      return { bytes: withOverrides(base, [Buffer.from(w.finish())]), note: `field ${f.name} (#${f.id}) with wire type ${wrong}` };
    }
    case 'invalid-wire': {
      const base = plausible(type, rng, fixtures);
      const fieldNo = type.fieldsArray.length ? rng.pick(type.fieldsArray).id : 1;
      const variant = rng.int(0, 5);
      const w = writer();
      let note: string;
      if (variant === 0) {
        tag(w, fieldNo, rng.pick([6, 7]));
        note = 'wire type 6/7';
      } else if (variant === 1) {
        tag(w, fieldNo, 4);
        note = 'stray group end';
      } else if (variant === 2) {
        tag(w, fieldNo, 3);
        note = 'group start without end';
      } else if (variant === 3) {
        tag(w, fieldNo, 0);
        const overlong = Buffer.alloc(rng.int(11, 20), 0xff);
        return { bytes: Buffer.concat([base, Buffer.from(w.finish()), overlong]), note: 'overlong varint' };
      } else if (variant === 4) {
        tag(w, fieldNo, 2).uint32(rng.pick([0x7fffffff, 0xffffffff, 1000]));
        note = 'length past the end';
      } else {
        tag(w, 0, rng.pick([0, 2]));
        note = 'field number 0';
      }
      return { bytes: Buffer.concat([base, Buffer.from(w.finish()), rng.bytes(rng.int(0, 4))]), note };
    }
    case 'unknown-fields': {
      const base = plausible(type, rng, fixtures);
      const known = new Set(type.fieldsArray.map((f) => f.id));
      const parts: Buffer[] = [];
      for (let i = rng.int(1, 5); i > 0; i--) {
        let no = rng.pick([99, 1000, 19000, 536870911, rng.int(1, 200)]);
        while (known.has(no)) no++;
        const w = writer();
        writeAny(w, rng, no, rng.pick([0, 1, 2, 5]));
        parts.push(Buffer.from(w.finish()));
      }
      return { bytes: withOverrides(base, parts), note: `${parts.length} unknown fields` };
    }
    case 'semantic': {
      const bytes = plausible(type, rng, fixtures);
      return { bytes, note: 'well-formed message with hostile values', expect: semanticExpectation(method, type, bytes) };
    }
    case 'names': {
      const huge = variant === 1 || (variant === undefined && rng.chance(0.3));
      const bytes = plausible(type, rng, fixtures, { strings: huge ? 'huge' : 'names' });
      return { bytes, note: 'hostile names in every string field', expect: semanticExpectation(method, type, bytes) };
    }
    case 'invalid-utf8': {
      const base = plausible(type, rng, fixtures);
      const targets = nestedFields(type, strFields);
      if (targets.length === 0) return { bytes: base, note: 'no string field: plausible message' };
      const t = rng.pick(targets);
      const bad = rng.pick([
        Buffer.from([0xff, 0xfe]),
        Buffer.from([0xc0, 0x80]),
        Buffer.from([0xed, 0xa0, 0x80]),
        Buffer.from([0x61, 0xe2, 0x82]),
        Buffer.concat([Buffer.from('abc'), Buffer.from([0xf8, 0x88, 0x80, 0x80, 0x80])]),
        Buffer.from([0x61, 0x00, 0x62]),
      ]);
      const leaf = Buffer.from(tag(writer(), t.path[t.path.length - 1]!.id, 2).bytes(bad).finish());
      return { bytes: withOverrides(base, [wrapPath(t.path, leaf)]), note: `invalid UTF-8 in ${t.path.map((f) => f.name).join('.')}` };
    }
    case 'absurd-numbers': {
      const base = plausible(type, rng, fixtures, { numbers: 'absurd' });
      const targets = nestedFields(type, intFields);
      const parts: Buffer[] = [];
      for (let i = Math.min(targets.length, rng.int(1, 3)); i > 0; i--) {
        const t = rng.pick(targets);
        const w = tag(writer(), t.path[t.path.length - 1]!.id, 0);
        // negative values travel as 10-byte varints even in unsigned fields
        rng.chance(0.5) ? w.int64(rng.pick(['-1', '-2147483648', '-9223372036854775808'])) : w.uint64(rng.pick(U64));
        parts.push(wrapPath(t.path, Buffer.from(w.finish())));
      }
      return { bytes: withOverrides(base, parts), note: `extreme integers (${parts.length} overrides)` };
    }
    case 'unknown-enum': {
      const base = plausible(type, rng, fixtures);
      const targets = nestedFields(type, enumFields);
      if (targets.length === 0) return { bytes: base, note: 'no enum field: plausible message' };
      const t = rng.pick(targets);
      const w = tag(writer(), t.path[t.path.length - 1]!.id, 0).int32(rng.pick([3, 99, -1, 2147483647, -2147483648]));
      return { bytes: withOverrides(base, [wrapPath(t.path, Buffer.from(w.finish()))]), note: `unknown value in enum ${t.path.map((f) => f.name).join('.')}` };
    }
    case 'oversize': {
      oversizeBuffer ??= new Rng(10).bytes(TEN_MB);
      // a well-formed unknown field of 10 MB: only the size is wrong
      const w = tag(writer(), 999, 2).uint32(TEN_MB);
      return { bytes: Buffer.concat([Buffer.from(w.finish()), oversizeBuffer]), note: '10 MB message', expect: 'resource-exhausted' };
    }
    case 'append-edge':
      return appendEdge(type, rng, fixtures, variant);
    case 'sql-depth': {
      const { n, shape } = SQL_DEPTH_SHAPES[variant ?? rng.int(0, SQL_DEPTH_SHAPES.length - 1)]!;
      const sql = deepSql(shape, n);
      // field 1 is the SQL text in every one of these requests (`sql`, or `stmt_text` for ExecuteQuery)
      const bytes = Buffer.from(protobuf.Writer.create().uint32((1 << 3) | 2).string(sql).finish());
      // 10k ANDed terms is a valid (if long) query: any answer but INTERNAL/UNKNOWN will do
      const expect: HostileCase['expect'] = bytes.length > 4 * 1024 * 1024 ? 'resource-exhausted' : shape === 'parens' ? 'invalid-argument' : undefined;
      return { bytes, note: `${n} ${shape === 'parens' ? 'nested parentheses' : 'ANDed terms'} (${bytes.length} bytes)`, expect };
    }
  }
}

/** Where the outcome of a well-formed message is certain without a model of the server. */
function semanticExpectation(method: MethodInfo, type: protobuf.Type, bytes: Buffer): HostileCase['expect'] {
  if (method.name !== 'CreateStream' && method.name !== 'GetStream') return undefined;
  let decoded: Plain;
  try {
    decoded = type.toObject(type.decode(bytes)) as Plain;
  } catch {
    return undefined;
  }
  const name = String(decoded[method.name === 'CreateStream' ? 'streamName' : 'name'] ?? '');
  // after a round trip through UTF-8 (lone surrogates become U+FFFD, which is not a letter either)
  if (OBVIOUSLY_INVALID_NAMES.includes(name) || [...name].length > 255 || name === '\ufffd' || /^[^\p{L}]/u.test(name) || /[^\p{L}\p{N}_-]/u.test(name)) return 'non-ok';
  return undefined;
}

/** Append requests at the edges of what a BatchedRecord may say. */
function appendEdge(type: protobuf.Type, rng: Rng, fixtures: Fixtures, fixed?: number): { bytes: Buffer; note: string; expect?: HostileCase['expect'] } {
  const shardId = rng.pick(fixtures.shardIds);
  const streamName = rng.pick(fixtures.streams);
  const records = (r: Plain) => encode(type, { streamName, shardId, records: r });
  const payload = plausibleBatchPayload(rng);
  const variant = fixed ?? rng.int(0, APPEND_EDGE_VARIANTS - 1);
  switch (variant) {
    case 0:
      return { bytes: records({ compressionType: 0, batchSize: 0, payload }), note: 'batchSize 0', expect: 'non-ok' };
    case 1: {
      const size = rng.pick([4294967295, 2147483648, 100_000_000, 20_000_000]);
      return { bytes: records({ compressionType: 0, batchSize: size, payload: Buffer.from('xx') }), note: `batchSize ${size} for a 2-byte payload`, expect: 'non-ok' };
    }
    case 2:
      return { bytes: records({ compressionType: 0, batchSize: rng.int(2, 1000), payload }), note: 'batchSize larger than the records in the payload' };
    case 3:
      return { bytes: records({ compressionType: 0, batchSize: 1, payload: rng.bytes(rng.int(1, 200)) }), note: 'payload that is not BatchHStreamRecords' };
    case 4:
      return { bytes: records({ compressionType: 1, batchSize: 1, payload: rng.bytes(rng.int(1, 200)) }), note: 'Gzip flag on bytes that are not gzip' };
    case 5:
      return { bytes: records({ compressionType: 1, batchSize: 1, payload: gzipBombBytes() }), note: 'gzip bomb (100 MB inflated)' };
    case 6:
      return { bytes: records({ compressionType: 2, batchSize: 1, payload: ZSTD_HUGE_DECLARED }), note: 'zstd frame declaring 1 TiB' };
    case 7:
      return { bytes: records({ compressionType: rng.pick([3, 99, -1]), batchSize: 1, payload }), note: 'unknown compression type', expect: 'non-ok' };
    case 8: {
      const size = rng.pick([1024 * 1024 + 1, 2 * 1024 * 1024, 4 * 1024 * 1024 - 100]);
      return { bytes: records({ compressionType: 0, batchSize: 1, payload: Buffer.alloc(size, 7) }), note: `single batch of ${size} bytes (over the 1 MiB record limit)`, expect: 'non-ok' };
    }
    case 9:
      return { bytes: encode(type, { streamName, shardId: rng.pick(['0', '18446744073709551615', '9007199254740993', '1']), records: { batchSize: 1, payload } }), note: 'shard that does not exist', expect: 'non-ok' };
    case 10:
      return { bytes: encode(type, { streamName, shardId }), note: 'records unset', expect: 'non-ok' };
    default:
      return {
        bytes: records({ compressionType: 0, batchSize: 1, payload, publishTime: { seconds: rng.pick(['-62135596800', '253402300800', '-1', '9223372036854775807']), nanos: rng.pick([-1, 1e9, 2147483647]) } }),
        note: 'publishTime out of range',
      };
  }
}
