/**
 * Request validation rules, applied at the edge before any core call.
 * Names follow upstream: 1–255 characters, a letter first (Unicode letters
 * count), then letters, digits, '-' or '_'.
 */
import { ErrorCode, invalidArgument, type HStreamError } from '../errors.js';

export type NamedResource = 'stream' | 'subscription' | 'reader' | 'query' | 'view' | 'connector' | 'shard';

const NAME_CODES: Record<NamedResource, number> = {
  stream: ErrorCode.StreamInvalidObjectIdentifier,
  subscription: ErrorCode.SubscriptionInvalidObjectIdentifier,
  reader: ErrorCode.ShardReaderInvalidObjectIdentifier,
  query: ErrorCode.QueryInvalidObjectIdentifier,
  view: ErrorCode.ViewInvalidObjectIdentifier,
  connector: ErrorCode.ConnectorInvalidObjectIdentifier,
  shard: ErrorCode.InternalError,
};

const MAX_NAME_CHARS = 255;
const FIRST = /^\p{L}/u;
const REST = /^[\p{L}\p{N}_-]*$/u;

/** Why a name is invalid, or undefined when it is fine. */
export function nameProblem(name: string): string | undefined {
  if (name.length === 0) return 'The name must not be empty';
  if ([...name].length > MAX_NAME_CHARS) return `The name must be at most ${MAX_NAME_CHARS} characters long`;
  if (!FIRST.test(name)) return 'The first character of a name must be a letter';
  if (!REST.test(name)) return 'A name may only contain letters, digits, "-" and "_"';
  return undefined;
}

export function invalidName(resource: NamedResource, reason: string): HStreamError {
  return invalidArgument(NAME_CODES[resource], 'InvalidObjectIdentifier', { extra: `${resource} name: ${reason}` });
}

export function validateName(resource: NamedResource, name: string | null | undefined): string {
  const value = name ?? '';
  const problem = nameProblem(value);
  if (problem) throw invalidName(resource, problem);
  return value;
}

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
