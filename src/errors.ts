/**
 * The one error tree of the server. An error says what kind of failure it is
 * (transport-neutral); the gRPC edge (src/server/grpc-status.ts) and the HTTP
 * edge (src/http/errors.ts) each map the kind to their own status.
 *
 * Application errors carry upstream's numeric ErrorCode and travel as the
 * JSON text `{"error":N,"message":"…","extra":…}` in the status message,
 * because official clients parse it (the Java client turns it into
 * HServerException). A few upstream paths answer plain text instead (store
 * errors such as ListShards on a missing stream); those errors set
 * `plainText` so clients see the same kind of message as upstream.
 */
import { isStoreError, type StoreError } from '../storage/index.js';

/** Upstream `enum ErrorCode` values that we raise. */
export const ErrorCode = {
  InternalError: 0,
  StreamNotFound: 200,
  StreamExists: 201,
  StreamFoundSubscription: 202,
  StreamInvalidReplicaFactor: 203,
  StreamInvalidObjectIdentifier: 204,
  StreamInvalidShardCount: 205,
  StreamEmptyBatchedRecord: 206,
  StreamInvalidRecordSize: 207,
  StreamInvalidOffset: 208,
  StreamInvalidRecordId: 209,
  StreamShardNotExists: 210,
  SubscriptionNotFound: 300,
  SubscriptionExists: 301,
  SubscriptionCreationOnNonExistentStream: 302,
  SubscriptionInvalidOffset: 303,
  SubscriptionInvalidObjectIdentifier: 304,
  SubscriptionFoundActiveConsumers: 305,
  QueryNotFound: 400,
  QueryExists: 401,
  QueryInvalidSQL: 402,
  QueryFoundAssociatedView: 403,
  QueryInvalidObjectIdentifier: 404,
  QueryNotRunning: 406,
  QueryNotTerminated: 407,
  QueryAlreadyTerminated: 408,
  ViewNotFound: 500,
  ViewExists: 501,
  ViewInvalidObjectIdentifier: 503,
  ConnectorNotFound: 600,
  ConnectorExists: 601,
  ConnectorInvalidType: 602,
  ConnectorInvalidObjectIdentifier: 603,
  ConnectorCheckFailed: 604,
  ConnectorUnimplemented: 605,
  ShardReaderInvalidObjectIdentifier: 900,
  ShardReaderConflictOffset: 901,
  ShardReaderTooManyShards: 902,
} as const;
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

/** What went wrong, in terms every transport can map. */
export type ErrorKind =
  | 'invalid_argument'
  | 'not_found'
  | 'already_exists'
  | 'failed_precondition'
  | 'aborted'
  | 'unavailable'
  | 'resource_exhausted'
  | 'unimplemented'
  | 'internal'
  | 'data_loss';

export type Extra = string | number | boolean | null | Extra[] | { [key: string]: Extra };

export interface HStreamErrorOptions {
  extra?: Extra;
  /** Send `message` as plain text instead of the JSON error body. */
  plainText?: boolean;
  /** Whether the same request may succeed if retried later. */
  retriable?: boolean;
  cause?: unknown;
}

export class HStreamError extends Error {
  readonly extra: Extra;
  readonly plainText: boolean;
  readonly retriable: boolean;

  constructor(
    readonly kind: ErrorKind,
    readonly errorCode: number,
    message: string,
    options: HStreamErrorOptions = {},
  ) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.extra = options.extra ?? null;
    this.plainText = options.plainText ?? false;
    this.retriable = options.retriable ?? false;
  }

  /** The grpc-message text clients receive. */
  /**
   * The grpc-message text clients receive. Statuses travel in HTTP/2 trailers, and a status too
   * large for them is never delivered (the call, and its connection, hang), so client text quoted
   * anywhere in an error is cut here, in one place.
   */
  get details(): string {
    if (this.plainText) return clip(this.message);
    return JSON.stringify({ error: this.errorCode, message: clip(this.message), extra: clipExtra(this.extra) });
  }
}

/** Longest string quoted back in an error. */
const MAX_QUOTED_CHARS = 200;

function clip(text: string): string {
  return text.length <= MAX_QUOTED_CHARS * 4 ? text : `${text.slice(0, MAX_QUOTED_CHARS * 4)}… (${text.length} characters)`;
}

function clipExtra(extra: Extra): Extra {
  if (typeof extra === 'string') return extra.length <= MAX_QUOTED_CHARS ? extra : `${extra.slice(0, MAX_QUOTED_CHARS)}… (${extra.length} characters)`;
  if (Array.isArray(extra)) return extra.slice(0, 20).map(clipExtra);
  if (extra !== null && typeof extra === 'object') {
    return Object.fromEntries(Object.entries(extra).slice(0, 20).map(([k, v]) => [k.slice(0, MAX_QUOTED_CHARS), clipExtra(v)]));
  }
  return extra;
}

type Leaf = (message: string, options?: HStreamErrorOptions) => HStreamError;
const leaf =
  (kind: ErrorKind, errorCode: number): Leaf =>
  (message, options) =>
    new HStreamError(kind, errorCode, message, options);

export const invalidArgument = (code: number, message: string, options?: HStreamErrorOptions) =>
  leaf('invalid_argument', code)(message, options);
export const notFound = (code: number, message: string, options?: HStreamErrorOptions) =>
  leaf('not_found', code)(message, options);
export const alreadyExists = (code: number, message: string, options?: HStreamErrorOptions) =>
  leaf('already_exists', code)(message, options);
export const failedPrecondition = (code: number, message: string, options?: HStreamErrorOptions) =>
  leaf('failed_precondition', code)(message, options);
export const aborted = (code: number, message: string, options?: HStreamErrorOptions) =>
  leaf('aborted', code)(message, options);
export const unavailable = (message: string, options?: HStreamErrorOptions) =>
  leaf('unavailable', ErrorCode.InternalError)(message, { retriable: true, ...options });
export const resourceExhausted = (message: string, options?: HStreamErrorOptions) =>
  leaf('resource_exhausted', ErrorCode.InternalError)(message, { retriable: true, ...options });
export const unimplemented = (message: string) =>
  leaf('unimplemented', ErrorCode.InternalError)(message, { plainText: true });
export const internal = (message: string, options?: HStreamErrorOptions) =>
  leaf('internal', ErrorCode.InternalError)(message, options);

// Named leaves used in more than one place.
export const streamNotFound = (name: string) =>
  notFound(ErrorCode.StreamNotFound, 'StreamNotFound', { extra: name });
export const subscriptionNotFound = (id: string) =>
  notFound(ErrorCode.SubscriptionNotFound, 'SubscriptionNotFound', { extra: id });
export const shardNotFound = (shardId: string) =>
  notFound(ErrorCode.InternalError, 'ShardNotFound', { extra: `shard ${shardId} does not exist` });
export const invalidShardOffset = (reason: string) =>
  invalidArgument(ErrorCode.StreamInvalidOffset, 'InvalidShardOffset', { extra: reason });
export const conflictShardReaderOffset = (reason: string) =>
  invalidArgument(ErrorCode.ShardReaderConflictOffset, 'ConflictShardReaderOffset', { extra: reason });

/** Store errors as upstream reports store-level failures: plain text, status by kind. */
export function fromStoreError(err: StoreError): HStreamError {
  switch (err.code) {
    case 'STORE_SHARD_NOT_FOUND':
      return unavailable(`NOTFOUND: ${err.message}`, { plainText: true, cause: err });
    case 'STORE_OVERLOADED':
      return resourceExhausted(`the server is writing too much data at once, retry later: ${err.message}`, {
        plainText: true,
        cause: err,
      });
    case 'STORE_CORRUPTION':
      return new HStreamError('data_loss', ErrorCode.InternalError, err.message, { plainText: true, cause: err });
    case 'STORE_CLOSED':
      return unavailable(err.message, { plainText: true, cause: err });
    case 'STORE_INCOMPATIBLE':
      return new HStreamError('failed_precondition', ErrorCode.InternalError, err.message, { plainText: true, cause: err });
    case 'STORE_IO':
    case 'STORE_LOCKED':
      return unavailable(err.message, { plainText: true, cause: err });
  }
}

/** Refusals caused by the request itself: logged quietly by every edge. */
export function isClientMistake(err: HStreamError): boolean {
  switch (err.kind) {
    case 'invalid_argument':
    case 'not_found':
    case 'already_exists':
    case 'failed_precondition':
    case 'unimplemented':
    case 'aborted':
      return true;
    case 'unavailable':
      // without a cause: a missing shard or stream (upstream's store NOTFOUND), the client's doing
      return err.cause === undefined;
    default:
      return false;
  }
}

/** Anything thrown by a handler, as an HStreamError; unexpected errors become INTERNAL without their stack. */
export function toHStreamError(err: unknown): HStreamError {
  if (err instanceof HStreamError) return err;
  if (isStoreError(err)) return fromStoreError(err);
  return internal('internal server error', { plainText: true, cause: err });
}
