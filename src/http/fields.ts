/** Typed reads of JSON body fields and query parameters, refused with a 400 that names the field. */
import { HttpError } from './errors.js';

export const shown = (value: unknown) => (JSON.stringify(value) ?? String(value)).slice(0, 100);

/** A JSON number field; absent or null gives `fallback`. */
export function numberField(body: Record<string, unknown>, key: string, fallback: number): number {
  const value = body[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number') throw new HttpError(400, `${key} must be a JSON number, got ${shown(value)}`);
  return value;
}

/** A JSON string field; absent or null gives `fallback`. */
export function stringField(body: Record<string, unknown>, key: string, fallback: string): string {
  const value = body[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'string') throw new HttpError(400, `${key} must be a JSON string, got ${shown(value)}`);
  return value;
}

/** A `true`/`false` query parameter; absent gives false. */
export function booleanParam(query: URLSearchParams, key: string): boolean {
  const value = query.get(key);
  if (value !== null && value !== 'true' && value !== 'false') throw new HttpError(400, `${key} must be true or false, got ${shown(value)}`);
  return value === 'true';
}

/** A whole-number query parameter from `min` to `max`; absent gives `fallback`. */
export function wholeNumberParam(query: URLSearchParams, key: string, fallback: number, min = 0, max = 999_999_999): number {
  const value = query.get(key);
  if (value === null) return fallback;
  if (!/^\d{1,9}$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new HttpError(400, `${key} must be a whole number from ${min} to ${max}, got ${shown(value)}`);
  }
  return Number(value);
}
