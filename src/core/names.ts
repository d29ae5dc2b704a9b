/**
 * What a name may be, for every resource and every transport. Names follow
 * upstream: 1–255 characters, a letter first (Unicode letters count), then
 * letters, digits, '-' or '_'.
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

