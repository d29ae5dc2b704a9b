/**
 * JSON <-> google.protobuf.Struct, the payload of JSON-flag (HRecord) records
 * and the row type of query results. Upstream clients serialize a JSON object
 * as a Struct message: every JSON number becomes a double (`numberValue`),
 * `null` becomes `nullValue: NULL_VALUE`. Plain rows are encoded and decoded
 * by hand (encodeStruct, decodeStruct); the rest goes through the Struct
 * definition bundled with protobufjs (the one hstream.proto imports), so tools
 * need not parse all of hstream.proto (~100 ms) to read a record.
 */
import protobuf from 'protobufjs';
import { varintSize, WireReader, WireType, writeTag, writeVarint } from './wire/protobuf.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** A google.protobuf.Value as protobufjs and grpc-js hand it over (`kind` names the set field when oneofs are on). */
export interface ValueMessage {
  nullValue?: unknown;
  numberValue?: number;
  stringValue?: string;
  boolValue?: boolean;
  structValue?: StructMessage | null;
  listValue?: { values?: ValueMessage[] } | null;
  kind?: string;
}

export interface StructMessage {
  fields?: Record<string, ValueMessage>;
}

let structType: protobuf.Type | undefined;
function StructType(): protobuf.Type {
  if (!structType) {
    const bundled = protobuf.common.get('google/protobuf/struct.proto');
    if (!bundled) throw new Error('protobufjs does not bundle google/protobuf/struct.proto');
    structType = protobuf.Root.fromJSON(bundled).lookupType('google.protobuf.Struct');
  }
  return structType;
}

function toValue(v: unknown): ValueMessage {
  if (v === null || v === undefined) return { nullValue: 0 };
  if (typeof v === 'number') return { numberValue: v };
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(toValue) } };
  if (typeof v === 'object') return { structValue: toStructMessage(v as Record<string, unknown>) };
  return { stringValue: String(v) };
}

/** A JSON object as a Struct message object (for Struct fields of responses); non-JSON values become strings. */
export function toStructMessage(obj: Record<string, unknown>): StructMessage {
  const fields: Record<string, ValueMessage> = {};
  for (const [k, v] of Object.entries(obj)) fields[k] = toValue(v);
  return { fields };
}

/**
 * Deepest nesting of objects and arrays we encode from outside input. Each
 * level is two protobuf messages (Value, then Struct or ListValue), and
 * protobuf decoders stop at 100 by default: deeper records could be stored
 * but official clients could not read them (and encoding recurses).
 */
export const MAX_STRUCT_DEPTH = 48;

/** Whether objects and arrays in `value` nest deeper than `max` (checked without recursion). */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<{ v: unknown; depth: number }> = [{ v: value, depth: 0 }];
  while (stack.length > 0) {
    const { v, depth } = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    if (depth + 1 > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push({ v: child, depth: depth + 1 });
  }
  return false;
}

/**
 * A JSON object as a serialized Struct (the payload of a JSON-flag record).
 * Plain JSON values are written by hand, byte for byte what protobufjs
 * writes: a continuous query encodes every output row, and protobufjs made
 * three message objects per field on the way (Value, its conversion, the
 * writer's ops), most of a row's garbage. Anything else (a sparse array, a
 * `__proto__` key, a cycle deeper than the stack) goes through protobufjs as
 * before, so it fails or converts the same way.
 */
export function encodeStruct(obj: Record<string, unknown>): Buffer {
  const sizes: number[] = [];
  if (structSize(obj, sizes, 0) === undefined) return encodeWithProtobufjs(obj);
  const buf = Buffer.allocUnsafe(sizes[0]!);
  const cursor = { next: 1 };
  const end = writeStruct(buf, 0, obj, sizes, cursor);
  if (end !== buf.length) throw new Error(`Struct: wrote ${end} of ${buf.length} bytes`);
  return buf;
}

function encodeWithProtobufjs(obj: Record<string, unknown>): Buffer {
  const type = StructType();
  return Buffer.from(type.encode(type.fromObject(toStructMessage(obj))).finish());
}

/**
 * Nesting the hand-written encoder takes on; deeper rows go through protobufjs, which refuses
 * more than 100 nested messages (two per level), so the hand-written one never accepts a row it
 * would refuse.
 */
const MAX_HAND_DEPTH = 32;

const lenField = (bytes: number) => 1 + varintSize(bytes) + bytes;

/**
 * Sizes of a Struct and of every message and string inside it, pushed in the
 * order writeStruct needs them (so nothing is measured twice); undefined when
 * the value is not plain JSON.
 */
function structSize(obj: Record<string, unknown>, sizes: number[], depth: number): number | undefined {
  if (depth > MAX_HAND_DEPTH) return undefined;
  const at = sizes.push(0) - 1;
  let size = 0;
  for (const key of Object.keys(obj)) {
    if (key === '__proto__') return undefined;
    const keyBytes = Buffer.byteLength(key);
    sizes.push(keyBytes);
    const value = valueSize(obj[key], sizes, depth);
    if (value === undefined) return undefined;
    const entry = lenField(keyBytes) + lenField(value);
    size += lenField(entry);
  }
  sizes[at] = size;
  return size;
}

function valueSize(v: unknown, sizes: number[], depth: number): number | undefined {
  if (v === null || v === undefined) return 2;
  switch (typeof v) {
    case 'number':
      return 9;
    case 'boolean':
      return 2;
    case 'string': {
      const bytes = Buffer.byteLength(v);
      sizes.push(bytes);
      return lenField(bytes);
    }
    case 'object': {
      if (!Array.isArray(v)) {
        const inner = structSize(v as Record<string, unknown>, sizes, depth + 1);
        return inner === undefined ? undefined : lenField(inner);
      }
      if (depth + 1 > MAX_HAND_DEPTH) return undefined;
      const at = sizes.push(0) - 1;
      let list = 0;
      for (let i = 0; i < v.length; i++) {
        if (!(i in v)) return undefined;
        const item = valueSize(v[i], sizes, depth + 1);
        if (item === undefined) return undefined;
        list += lenField(item);
      }
      sizes[at] = list;
      return lenField(list);
    }
    default:
      // bigint, symbol, function: toValue makes them strings; let protobufjs do that
      return undefined;
  }
}

function writeStruct(buf: Buffer, pos: number, obj: Record<string, unknown>, sizes: number[], cursor: { next: number }): number {
  for (const key of Object.keys(obj)) {
    const keyBytes = sizes[cursor.next++]!;
    const valueAt = cursor.next;
    const value = obj[key];
    // the entry's length needs the value's, which the sizes hold only for messages and strings
    const valueBytes = valueSizeAt(value, sizes, valueAt);
    const entry = lenField(keyBytes) + lenField(valueBytes);
    pos = writeTag(buf, pos, 1, WireType.Len);
    pos = writeVarint(buf, pos, entry);
    pos = writeTag(buf, pos, 1, WireType.Len);
    pos = writeVarint(buf, pos, keyBytes);
    pos += buf.write(key, pos, 'utf8');
    pos = writeTag(buf, pos, 2, WireType.Len);
    pos = writeVarint(buf, pos, valueBytes);
    pos = writeValue(buf, pos, value, sizes, cursor);
  }
  return pos;
}

/** The size of a Value whose own sizes (if any) start at sizes[at]. */
function valueSizeAt(v: unknown, sizes: number[], at: number): number {
  if (v === null || v === undefined || typeof v === 'boolean') return 2;
  if (typeof v === 'number') return 9;
  return lenField(sizes[at]!);
}

function writeValue(buf: Buffer, pos: number, v: unknown, sizes: number[], cursor: { next: number }): number {
  if (v === null || v === undefined) {
    buf[pos++] = 0x08; // null_value = 1, varint
    buf[pos++] = 0;
    return pos;
  }
  switch (typeof v) {
    case 'number':
      buf[pos++] = 0x11; // number_value = 2, fixed64
      return buf.writeDoubleLE(v, pos);
    case 'boolean':
      buf[pos++] = 0x20; // bool_value = 4, varint
      buf[pos++] = v ? 1 : 0;
      return pos;
    case 'string': {
      pos = writeTag(buf, pos, 3, WireType.Len);
      pos = writeVarint(buf, pos, sizes[cursor.next++]!);
      return pos + buf.write(v, pos, 'utf8');
    }
    default: {
      const size = sizes[cursor.next++]!;
      if (!Array.isArray(v)) {
        pos = writeTag(buf, pos, 5, WireType.Len);
        pos = writeVarint(buf, pos, size);
        return writeStruct(buf, pos, v as Record<string, unknown>, sizes, cursor);
      }
      pos = writeTag(buf, pos, 6, WireType.Len);
      pos = writeVarint(buf, pos, size);
      for (const item of v as unknown[]) {
        pos = writeTag(buf, pos, 1, WireType.Len);
        pos = writeVarint(buf, pos, valueSizeAt(item, sizes, cursor.next));
        pos = writeValue(buf, pos, item, sizes, cursor);
      }
      return pos;
    }
  }
}

function fromValue(v: ValueMessage): JsonValue {
  switch (v.kind ?? setField(v)) {
    case 'numberValue':
      return v.numberValue ?? 0;
    case 'stringValue':
      return v.stringValue ?? '';
    case 'boolValue':
      return v.boolValue ?? false;
    case 'structValue':
      return fromStructMessage(v.structValue ?? {});
    case 'listValue':
      return (v.listValue?.values ?? []).map(fromValue);
    default:
      // nullValue, or a Value with no kind set (upstream's converter fails on it; we read null)
      return null;
  }
}

/** Which field of a Value without a `kind` discriminator is set. */
function setField(v: ValueMessage): string | undefined {
  if (v.numberValue !== undefined) return 'numberValue';
  if (v.stringValue !== undefined) return 'stringValue';
  if (v.boolValue !== undefined) return 'boolValue';
  if (v.structValue !== undefined) return 'structValue';
  if (v.listValue !== undefined) return 'listValue';
  return undefined;
}

/** A Struct message object as a JSON object. */
export function fromStructMessage(s: StructMessage): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(s.fields ?? {})) out[k] = fromValue(v);
  return out;
}

/**
 * Decodes a serialized Struct into a JSON object; throws when the bytes are not a Struct.
 *
 * A continuous query decodes every input record here. Structs as clients
 * write them (each map entry a key and a Value, each Value one kind) are read
 * straight into the JSON object; protobufjs made a message object per Value,
 * a converted copy of each, then this object. Anything else (unknown fields,
 * a Value with two kinds, a map entry without a value, a `__proto__` key,
 * nesting past 32 levels, damaged bytes) is left to protobufjs, so it reads
 * or fails exactly as before.
 */
export function decodeStruct(payload: Uint8Array): JsonObject {
  // protobufjs reads strings of a plain Uint8Array with its own UTF-8 decoder, not Node's
  if (!Buffer.isBuffer(payload)) return decodeWithProtobufjs(payload);
  try {
    const r = new WireReader(payload);
    const out = readStruct(r, r.end, 0);
    if (r.pos !== r.end) throw NOT_PLAIN;
    return out;
  } catch {
    return decodeWithProtobufjs(payload);
  }
}

function decodeWithProtobufjs(payload: Uint8Array): JsonObject {
  const type = StructType();
  return fromStructMessage(type.toObject(type.decode(payload), { oneofs: true, enums: Number, longs: Number, defaults: false }) as StructMessage);
}

/** Thrown (one shared instance) when the bytes are not in the shape the hand-written reader takes. */
const NOT_PLAIN = new Error('not a plainly encoded Struct');

// field keys, (field number << 3) | wire type
const KEY_FIELD_1_LEN = 0x0a;
const KEY_FIELD_2_LEN = 0x12;
const VALUE_NULL = 0x08;
const VALUE_NUMBER = 0x11;
const VALUE_STRING = 0x1a;
const VALUE_BOOL = 0x20;
const VALUE_STRUCT = 0x2a;
const VALUE_LIST = 0x32;

function readStruct(r: WireReader, end: number, depth: number): JsonObject {
  if (depth > MAX_HAND_DEPTH) throw NOT_PLAIN;
  const out: JsonObject = {};
  while (r.pos < end) {
    if (r.uint32() !== KEY_FIELD_1_LEN) throw NOT_PLAIN;
    const entryEnd = r.enter();
    let name = '';
    let value: JsonValue = null;
    let hasValue = false;
    while (r.pos < entryEnd) {
      const key = r.uint32();
      if (key === KEY_FIELD_1_LEN) name = r.string();
      else if (key === KEY_FIELD_2_LEN) {
        const valueEnd = r.enter();
        value = readValue(r, valueEnd, depth);
        r.leave(valueEnd);
        hasValue = true;
      } else throw NOT_PLAIN;
    }
    r.leave(entryEnd);
    if (!hasValue || name === '__proto__') throw NOT_PLAIN;
    out[name] = value;
  }
  return out;
}

function readValue(r: WireReader, end: number, depth: number): JsonValue {
  // a Value with no kind set reads as null, as fromValue has it
  if (r.pos >= end) return null;
  let value: JsonValue;
  switch (r.uint32()) {
    case VALUE_NULL:
      if (r.uint32() !== 0) throw NOT_PLAIN;
      value = null;
      break;
    case VALUE_NUMBER:
      if (r.pos + 8 > end) throw NOT_PLAIN;
      value = r.buf.readDoubleLE(r.pos);
      r.pos += 8;
      break;
    case VALUE_STRING:
      value = r.string();
      break;
    case VALUE_BOOL: {
      const b = r.uint32();
      if (b > 1) throw NOT_PLAIN;
      value = b === 1;
      break;
    }
    case VALUE_STRUCT: {
      const structEnd = r.enter();
      value = readStruct(r, structEnd, depth + 1);
      r.leave(structEnd);
      break;
    }
    case VALUE_LIST: {
      const listEnd = r.enter();
      value = readList(r, listEnd, depth + 1);
      r.leave(listEnd);
      break;
    }
    default:
      throw NOT_PLAIN;
  }
  // more than one field in a Value: protobufjs's oneof rules decide which one counts
  if (r.pos !== end) throw NOT_PLAIN;
  return value;
}

function readList(r: WireReader, end: number, depth: number): JsonValue[] {
  if (depth > MAX_HAND_DEPTH) throw NOT_PLAIN;
  const values: JsonValue[] = [];
  while (r.pos < end) {
    if (r.uint32() !== KEY_FIELD_1_LEN) throw NOT_PLAIN;
    const valueEnd = r.enter();
    values.push(readValue(r, valueEnd, depth));
    r.leave(valueEnd);
  }
  return values;
}
