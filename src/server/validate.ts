/**
 * Request validation rules of the gRPC edge, applied before any core call.
 * Name rules are the core's (src/core/names.ts), shared with the HTTP edge.
 */

export { invalidName, nameProblem, validateName, type NamedResource } from '../core/names.js';

/**
 * Longest piece of client text quoted back in an error. Statuses travel as
 * HTTP/2 trailers: grpc-java refuses metadata over 8 KiB by default, and a
 * 100 KB status message made grpc-js drop the whole connection, hanging every
 * call on it (test/reliability, hostile input).
 */
export const MAX_QUOTED_CHARS = 200;

/** Client-supplied text for an error message, cut to MAX_QUOTED_CHARS. */
export function quoted(text: string): string {
  if (text.length <= MAX_QUOTED_CHARS) return text;
  return `${text.slice(0, MAX_QUOTED_CHARS)}… (${text.length} characters)`;
}

/**
 * A uint64 id as a safe JS number. Ids we hand out are < 2^53; a larger or
 * malformed id can name nothing we have, so it maps to -1 (never found).
 */
export function parseId(value: string | number | null | undefined): number {
  if (typeof value === 'number') return Number.isSafeInteger(value) && value >= 0 ? value : -1;
  if (value === null || value === undefined || !/^\d{1,16}$/.test(value)) return -1;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : -1;
}

/** A count field (uint64) clamped to a safe number; 0 when absent. */
export function parseCount(value: string | number | null | undefined): number {
  if (value === null || value === undefined) return 0;
  const n = typeof value === 'number' ? value : Number(value);
  if (!Number.isFinite(n) || n < 0) return 0;
  return Math.min(n, Number.MAX_SAFE_INTEGER);
}
