/**
 * Storage-layer errors. The storage layer knows nothing about gRPC: it throws
 * StoreError with a stable string code (Level style) and the underlying
 * LevelDB error as `cause`. src/errors.ts maps these codes to gRPC statuses.
 */

export type StoreErrorCode =
  | 'STORE_IO' // a write or read failed; after a failed write, writes are refused until the database is reopened
  | 'STORE_CORRUPTION' // a stored entry failed its checksum or could not be decoded
  | 'STORE_LOCKED' // another process holds the data directory
  | 'STORE_INCOMPATIBLE' // the data directory was written by a newer version
  | 'STORE_CLOSED' // the store is closing or closed
  | 'STORE_OVERLOADED' // too many bytes are waiting to be written
  | 'STORE_SHARD_NOT_FOUND'; // the shard does not exist (never created or deleted)

export class StoreError extends Error {
  readonly code: StoreErrorCode;

  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
    this.code = code;
  }
}

export function isStoreError(err: unknown, code?: StoreErrorCode): err is StoreError {
  return err instanceof StoreError && (code === undefined || err.code === code);
}
