/**
 * The HTTP edge's errors: its own refusals (no route, wrong method, bad
 * body…) and its reading of core error kinds. Every error reply has one
 * shape: `{"error": message, "code": upstream ErrorCode or null, "extra": …}`.
 */
import { SqlError } from '../../sql/index.js';
import { ErrorCode, isClientMistake, toHStreamError, type ErrorKind, type Extra } from '../errors.js';

/** A refusal by the HTTP layer itself, before any core call. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

const HTTP_STATUS: Record<ErrorKind, number> = {
  invalid_argument: 400,
  not_found: 404,
  already_exists: 409,
  failed_precondition: 409,
  aborted: 409,
  unavailable: 503,
  resource_exhausted: 503,
  unimplemented: 501,
  internal: 500,
  data_loss: 500,
};

export interface ErrorReply {
  status: number;
  /** `position`: where in the SQL text a statement failed to parse or bind */
  body: { error: string; code: number | null; extra: Extra; position?: { line: number; column: number } };
  headers: Record<string, string>;
  /** the server's fault: worth an error log line */
  serverSide: boolean;
  cause?: unknown;
}

export function errorReply(err: unknown): ErrorReply {
  if (err instanceof HttpError) {
    return { status: err.status, body: { error: err.message, code: null, extra: null }, headers: err.headers, serverSide: false };
  }
  const e = toHStreamError(err);
  // a record over the size limit is the body being too large, whatever the route
  const status = e.errorCode === ErrorCode.StreamInvalidRecordSize ? 413 : HTTP_STATUS[e.kind];
  const headers: Record<string, string> = e.retriable ? { 'retry-after': '1' } : {};
  const message = e.kind === 'internal' ? 'internal server error' : e.message;
  const sql = e.cause instanceof SqlError && e.cause.line !== undefined ? e.cause : undefined;
  const position = sql ? { position: { line: sql.line!, column: sql.column! } } : {};
  return { status, body: { error: message, code: e.errorCode, extra: e.extra, ...position }, headers, serverSide: !isClientMistake(e), cause: e.cause ?? e };
}
