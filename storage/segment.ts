/**
 * A shard's log is cut into segments: runs of consecutive batches bounded by
 * size and age. Segments are the unit of retention (a whole segment expires
 * when its newest batch is older than the stream's backlog) and the coarse
 * level of the time index (store times are monotonic within a shard, so the
 * segment holding a timestamp is found from the in-memory list alone).
 */

export interface Segment {
  firstLsn: number;
  lastLsn: number;
  firstTimeMs: number;
  lastTimeMs: number;
  bytes: number;
  batches: number;
}

export interface SegmentPolicy {
  maxBytes: number;
  maxAgeMs: number;
}

/** Metadata path prefix of every segment of every log. */
export const SEGMENTS_PREFIX = 'seg/';

export function segmentPath(shardId: number, firstLsn: number): string {
  return `${SEGMENTS_PREFIX}${shardId}/${String(firstLsn).padStart(16, '0')}`;
}

/**
 * The segment a new batch goes into: the open one, or a fresh one when it is
 * full, old or `sealed` (a segment recovered after a restart is sealed: its
 * size is not known exactly, see LogStore.recover).
 */
export function segmentFor(
  segments: Segment[],
  lsn: number,
  timeMs: number,
  bytes: number,
  policy: SegmentPolicy,
  sealed = false,
): Segment {
  const open = segments[segments.length - 1];
  if (open !== undefined && !sealed && open.bytes + bytes <= policy.maxBytes && timeMs - open.firstTimeMs < policy.maxAgeMs) {
    return open;
  }
  const fresh: Segment = { firstLsn: lsn, lastLsn: lsn, firstTimeMs: timeMs, lastTimeMs: timeMs, bytes: 0, batches: 0 };
  segments.push(fresh);
  return fresh;
}

/** Index of the first segment that may hold a batch stored at or after `timeMs`, or -1. */
export function firstSegmentAtOrAfter(segments: Segment[], timeMs: number): number {
  let lo = 0;
  let hi = segments.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (segments[mid]!.lastTimeMs >= timeMs) {
      found = mid;
      hi = mid - 1;
    } else {
      lo = mid + 1;
    }
  }
  return found;
}
