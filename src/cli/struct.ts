/**
 * JSON <-> google.protobuf.Struct, the payload of JSON-flag (HRecord)
 * records. Upstream clients serialize a JSON object as a Struct message;
 * every JSON number becomes a double (`numberValue`), `null` becomes
 * `nullValue: NULL_VALUE`. Uses the Struct type from our proto root.
 */
import protobuf from 'protobufjs';
import { PROTO_PATH } from '../proto.js';
import type { JsonValue } from './format.js';

export type JsonObject = { [key: string]: JsonValue };

const root = protobuf.loadSync(PROTO_PATH);
const StructType = root.lookupType('google.protobuf.Struct');

interface ValueMessage {
  nullValue?: number;
  numberValue?: number;
  stringValue?: string;
  boolValue?: boolean;
  structValue?: StructMessage;
  listValue?: { values?: ValueMessage[] };
  kind?: string;
}

interface StructMessage {
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

function fromStructMessage(s: StructMessage): JsonObject {
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
