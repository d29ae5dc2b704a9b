/** Reading JSON objects typed on the command line; Struct encoding itself is src/struct.ts. */
import type { JsonObject } from '../struct.js';

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
