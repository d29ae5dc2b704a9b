/**
 * JSON <-> google.protobuf.Struct, the payload of JSON-flag (HRecord) records
 * and the row type of query results. Upstream clients serialize a JSON object
 * as a Struct message: every JSON number becomes a double (`numberValue`),
 * `null` becomes `nullValue: NULL_VALUE`. Uses the Struct definition bundled
 * with protobufjs (the one hstream.proto imports), so tools need not parse
 * all of hstream.proto (~100 ms) to read a record.
 */
import protobuf from 'protobufjs';

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

/** A JSON object as a serialized Struct (the payload of a JSON-flag record). */
export function encodeStruct(obj: Record<string, unknown>): Buffer {
  const type = StructType();
  return Buffer.from(type.encode(type.fromObject(toStructMessage(obj))).finish());
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

/** Decodes a serialized Struct into a JSON object; throws when the bytes are not a Struct. */
export function decodeStruct(payload: Uint8Array): JsonObject {
  const type = StructType();
  return fromStructMessage(type.toObject(type.decode(payload), { oneofs: true, enums: Number, longs: Number, defaults: false }) as StructMessage);
}
