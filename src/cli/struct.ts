/**
 * JSON <-> google.protobuf.Struct, the payload of JSON-flag (HRecord)
 * records. Upstream clients serialize a JSON object as a Struct message;
 * every JSON number becomes a double (`numberValue`), `null` becomes
 * `nullValue: NULL_VALUE`. Uses protobufjs's Struct type, never hand-made bytes.
 */
import protobuf from 'protobufjs';
import type { JsonValue } from './format.js';

export type JsonObject = { [key: string]: JsonValue };

// google/protobuf/struct.proto as bundled with protobufjs: the same definition hstream.proto imports,
// without parsing all of hstream.proto again at every CLI start (~100 ms)
const structProto = protobuf.common.get('google/protobuf/struct.proto');
if (!structProto) throw new Error('protobufjs does not bundle google/protobuf/struct.proto');
const StructType = protobuf.Root.fromJSON(structProto).lookupType('google.protobuf.Struct');

interface ValueMessage {
  nullValue?: number;
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

function toValue(v: JsonValue): ValueMessage {
  if (v === null) return { nullValue: 0 };
  if (typeof v === 'number') return { numberValue: v };
  if (typeof v === 'string') return { stringValue: v };
  if (typeof v === 'boolean') return { boolValue: v };
  if (Array.isArray(v)) return { listValue: { values: v.map(toValue) } };
  return { structValue: toStructMessage(v) };
}

function toStructMessage(obj: JsonObject): StructMessage {
  const fields: Record<string, ValueMessage> = {};
  for (const [k, v] of Object.entries(obj)) fields[k] = toValue(v);
  return { fields };
}

/** Serialized google.protobuf.Struct of a JSON object. */
export function encodeStruct(obj: JsonObject): Buffer {
  const message = StructType.fromObject(toStructMessage(obj));
  return Buffer.from(StructType.encode(message).finish());
}

function fromValue(v: ValueMessage): JsonValue {
  switch (v.kind) {
    case 'nullValue':
      return null;
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
      // a Value with no kind set; upstream's converter fails on it, we show null
      return null;
  }
}

/** A google.protobuf.Struct message object (as protobufjs or grpc-js with oneofs hand it over) as a JSON object. */
export function fromStructMessage(s: StructMessage): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(s.fields ?? {})) out[k] = fromValue(v);
  return out;
}

/** Decodes a serialized Struct into a JSON object; throws when the bytes are not a Struct. */
export function decodeStruct(payload: Uint8Array): JsonObject {
  const message = StructType.decode(payload);
  const obj = StructType.toObject(message, { oneofs: true, enums: Number, longs: Number, defaults: false }) as StructMessage;
  return fromStructMessage(obj);
}

/** The JSON object a text line holds, or undefined when the line is not one JSON object. */
export function parseJsonObject(line: string): JsonObject | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return undefined;
  }
  return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as JsonObject) : undefined;
}
