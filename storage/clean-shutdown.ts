/**
 * A record, left in the data directory by a clean shutdown, that the tail
 * marker (tail-marker.ts) holds every shard's tail as LevelDB does.
 *
 * Why: recovery used to read the last batch of every shard with data to find
 * its tail: one seek per shard, which read (and mapped into memory) a block
 * of each shard's newest data. With 10k shards holding 100 KiB batches that
 * was seconds of start-up and a gigabyte of resident memory for values only
 * their time was wanted from. After a clean shutdown the marker already says
 * both (tail and store time).
 *
 * It is trusted only when nothing can have moved since: the record names the
 * marker's crc32, is written after the marker is synced and LevelDB closed,
 * and is removed (with the directory synced) when a store opens, before it
 * writes anything, so a crash at any later point leaves no record and the
 * next start reads every shard's last batch as before. A store writes it only
 * when it knows the marker complete: no failed marker write or damaged slot,
 * no write failure, no trim or delete still clearing data, and no loss
 * reported at open (so a loss keeps being reported at every start until an
 * append moves past it).
 */
import { closeSync, constants, fsyncSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { StoreError } from './errors.js';
import { syncPath } from './tail-marker.js';
import { isWriteAheadLog, shardsInWriteAheadLog } from './wal-shards.js';

export const CLEAN_SHUTDOWN_FILE = 'CLEAN-SHUTDOWN';
const VERSION = 1;

interface CleanShutdown {
  version: number;
  /** crc32 of the tail marker file as it was left */
  markerCrc32: number;
  /** crc32 of the metadata snapshot it wrote (meta-snapshot.ts), if it wrote one */
  metaSnapshotCrc32?: number;
}

/** What a clean shutdown left, read before LevelDB opens. */
export interface CleanStart {
  /** crc32 of the tail marker file the shutdown left: the marker opened must match it */
  markerCrc32: number;
  /** shards with batches in LevelDB's write-ahead log (see wal-shards.ts) */
  walShards: Set<number>;
  /** crc32 of the metadata snapshot the shutdown left, if any: only that file may be read */
  metaSnapshotCrc32: number | undefined;
}

/**
 * What the last shutdown left if it was clean (undefined otherwise, or if LevelDB's write-ahead
 * log cannot be read). Removes the record either way: from now on the directory may change
 * under it. Must run before LevelDB opens the directory (opening replays and deletes its log).
 */
export function takeCleanShutdown(dir: string): CleanStart | undefined {
  const path = join(dir, CLEAN_SHUTDOWN_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
  try {
    rmSync(path, { force: true });
    // the removal must be on disk before anything the record would no longer describe
    syncPath(dir);
  } catch (err) {
    throw new StoreError('STORE_IO', `cannot remove ${path}: ${(err as Error).message}`, { cause: err });
  }
  let recorded: CleanShutdown;
  try {
    recorded = JSON.parse(text) as CleanShutdown;
  } catch {
    return undefined;
  }
  if (recorded.version !== VERSION || !Number.isInteger(recorded.markerCrc32)) return undefined;
  const walShards = shardsInWriteAheadLog(dir);
  const metaSnapshotCrc32 = Number.isInteger(recorded.metaSnapshotCrc32) ? recorded.metaSnapshotCrc32 : undefined;
  return walShards && { markerCrc32: recorded.markerCrc32, walShards, metaSnapshotCrc32 };
}

/**
 * Records a clean shutdown that left the marker whose crc32 is `markerDigest` and the metadata
 * snapshot whose crc32 is `metaSnapshotDigest` (if it wrote one), durably. Call it
 * after LevelDB closed: it first syncs LevelDB's write-ahead logs, which writes without `--fsync`
 * leave unsynced, so that a power loss after a clean shutdown cannot take batches the marker and
 * this record vouch for (the next start would then not check, and not report, their loss).
 */
export function recordCleanShutdown(dir: string, markerDigest: number, metaSnapshotDigest: number | undefined): void {
  for (const name of readdirSync(dir)) {
    if (isWriteAheadLog(name)) syncPath(join(dir, name));
  }
  const fd = openSync(join(dir, CLEAN_SHUTDOWN_FILE), constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o644);
  try {
    const record: CleanShutdown = { version: VERSION, markerCrc32: markerDigest };
    if (metaSnapshotDigest !== undefined) record.metaSnapshotCrc32 = metaSnapshotDigest;
    writeSync(fd, JSON.stringify(record));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  syncPath(dir);
}
