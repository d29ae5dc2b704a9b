/**
 * What a stream may be created with. Checked in the core, so no transport
 * (gRPC, REST, SQL, a connector) can store a stream the rest of the server
 * cannot act on safely: a retention of NaN seconds once made the retention
 * sweep drop every batch of its stream.
 */
import { ErrorCode, invalidArgument } from '../errors.js';

/** Upstream's fields are uint32; a shard count above this is refused (each shard is a log). */
const UINT32_MAX = 0xffff_ffff;
export const MAX_SHARD_COUNT = 1024;

export interface NewStream {
  name: string;
  replicationFactor: number;
  /** retention in seconds; 0 keeps records until trimmed */
  backlogDuration: number;
  shardCount: number;
}

/** The value as a person would read it in an error: NaN and strings stay recognisable. */
function shown(value: unknown): string {
  return typeof value === 'number' ? String(value) : JSON.stringify(value) ?? String(value);
}

function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

/** Throws INVALID_ARGUMENT naming the field, what it must be and what was given. */
export function checkNewStream(spec: NewStream): void {
  if (!isIntegerIn(spec.replicationFactor, 1, UINT32_MAX)) {
    throw invalidArgument(ErrorCode.StreamInvalidReplicaFactor, 'InvalidReplicaFactor', {
      extra: `The replication factor must be a whole number greater than 0, got ${shown(spec.replicationFactor)}`,
    });
  }
  if (!isIntegerIn(spec.shardCount, 1, MAX_SHARD_COUNT)) {
    throw invalidArgument(ErrorCode.StreamInvalidShardCount, 'InvalidShardCount', {
      extra: `The shard count must be a whole number from 1 to ${MAX_SHARD_COUNT}, got ${shown(spec.shardCount)}`,
    });
  }
  if (!isIntegerIn(spec.backlogDuration, 0, UINT32_MAX)) {
    throw invalidArgument(ErrorCode.InternalError, 'InvalidBacklogDuration', {
      extra: `The backlog duration must be a whole number of seconds from 0 to ${UINT32_MAX}, got ${shown(spec.backlogDuration)}`,
    });
  }
}

/** Retention of a stored stream in ms, or undefined when it has none or it is not a usable number. */
export function retentionMs(backlogDuration: unknown): number | undefined {
  return isIntegerIn(backlogDuration, 1, UINT32_MAX) ? backlogDuration * 1000 : undefined;
}
