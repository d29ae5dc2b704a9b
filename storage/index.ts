/** Public surface of the storage layer. Must not import from src/ or sql/. */
export { LogStore, LSN_BASE, FIRST_LSN } from './log-store.js';
export type { LogStoreOptions, StoredBatch, AppendResult } from './log-store.js';
export { MetaStore } from './meta-store.js';
export type { MetaOp } from './meta-store.js';
export type { MetaPacking } from './meta-snapshot.js';
export { StoreError, isStoreError } from './errors.js';
export type { StoreErrorCode } from './errors.js';
export type { Segment, SegmentPolicy } from './segment.js';
export type { StoreLogger } from './logger.js';
export type { Kv, KvOp } from './kv.js';
