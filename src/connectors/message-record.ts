/**
 * How an MQTT message becomes a record.
 *
 * A payload that is a JSON object (UTF-8, nesting within what a record can
 * hold) becomes a JSON record (HRecord) with the topic added as field
 * `mqtt_topic` (replacing a field of that name), so SQL can filter on it:
 * `WHERE mqtt_topic = 'sensors/a'` (an SQL identifier must start with a
 * letter, hence no leading underscore). Anything else (other JSON values,
 * text, bytes, invalid UTF-8, JSON nested too deep) is kept byte for byte
 * as a RAW record. Every record also carries the topic in its header
 * attribute `mqtt_topic`.
 */
import type { HStreamRecord } from '../records.js';
import { encodeStruct, MAX_STRUCT_DEPTH, nestsDeeperThan } from '../struct.js';

/** The field a JSON record gets with the message's topic. */
export const TOPIC_FIELD = 'mqtt_topic';
/** The header attribute every record gets with the message's topic. */
export const TOPIC_ATTRIBUTE = 'mqtt_topic';

/** What a record's key is made of: nothing, the topic, or a field of the JSON payload. */
export type KeyRule = { kind: 'none' } | { kind: 'topic' } | { kind: 'field'; path: readonly string[] };

/** The rule for a config's `key` ("topic", "$.a.b" or unset; the schema allows nothing else). */
export function recordKeyRule(key: string | undefined): KeyRule {
  if (key === undefined) return { kind: 'none' };
  if (key === 'topic') return { kind: 'topic' };
  return { kind: 'field', path: key.slice(2).split('.') };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function messageRecord(topic: string, payload: Buffer, keyRule: KeyRule): HStreamRecord {
  const object = jsonObject(payload);
  const attributes = { [TOPIC_ATTRIBUTE]: topic };
  const key = keyRule.kind === 'topic' ? topic : keyRule.kind === 'field' && object ? fieldText(object, keyRule.path) : '';
  if (object) {
    return { header: { flag: 'JSON', attributes, key }, payload: encodeStruct({ ...object, [TOPIC_FIELD]: topic }) };
  }
  return { header: { flag: 'RAW', attributes, key }, payload };
}

/** The payload as a JSON object a record can hold, or undefined. */
function jsonObject(payload: Buffer): Record<string, unknown> | undefined {
  // cheap first look: a JSON object starts with "{" after whitespace
  let i = 0;
  while (i < payload.length && (payload[i] === 0x20 || payload[i] === 0x0a || payload[i] === 0x0d || payload[i] === 0x09)) i++;
  if (payload[i] !== 0x7b) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(utf8.decode(payload));
  } catch {
    // invalid UTF-8, not JSON, or nested beyond what the parser takes
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  if (nestsDeeperThan(value, MAX_STRUCT_DEPTH)) return undefined;
  return value as Record<string, unknown>;
}

/** A scalar field as key text; objects, arrays, null and missing fields give no key. */
function fieldText(object: Record<string, unknown>, path: readonly string[]): string {
  let v: unknown = object;
  for (const name of path) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return '';
    v = (v as Record<string, unknown>)[name];
  }
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : '';
}
