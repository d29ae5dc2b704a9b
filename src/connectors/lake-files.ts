/**
 * The file layout of a lake sink and how a file gets there. A file is named
 * by its shard and the ids of the first and last record it covers, so the
 * same records always make the same name; it is written under a hidden
 * temporary name, fsynced, renamed into place and its directory fsynced, so
 * a reader (or a restart) sees a whole file or none.
 */
import { open, readdir, rename } from 'node:fs/promises';
import { join } from 'node:path';

/** Where a record sits in its shard: batch LSN, then index in the batch. */
export interface RecordPos {
  readonly lsn: number;
  readonly index: number;
}

export function comparePos(a: RecordPos, b: RecordPos): number {
  return a.lsn - b.lsn || a.index - b.index;
}

/** "shardId-lsn-index", the record id clients print. */
export function posOfId(id: string): RecordPos {
  const [, lsn, index] = id.split('-');
  return { lsn: Number(lsn), index: Number(index) };
}

export type Partitioning = 'hour' | 'day';

/** Hive-style directory of a publish time, in UTC: `dt=2026-12-04/hour=09` or `dt=2026-12-04`. */
export function partitionOf(timeMs: number, by: Partitioning): string {
  const iso = new Date(timeMs).toISOString();
  const day = `dt=${iso.slice(0, 10)}`;
  return by === 'day' ? day : join(day, `hour=${iso.slice(11, 13)}`);
}

/** `<shard>-<lsn>-<index>_<shard>-<lsn>-<index>.<ext>`: the first and last record ids. */
export function fileName(shardId: number, first: RecordPos, last: RecordPos, ext: string): string {
  return `${shardId}-${first.lsn}-${first.index}_${shardId}-${last.lsn}-${last.index}.${ext}`;
}

const NAME = /^(\d+)-(\d+)-(\d+)_\1-(\d+)-(\d+)\.([a-z]+)$/;

export function parseFileName(name: string): { shardId: number; first: RecordPos; last: RecordPos; ext: string } | undefined {
  const m = NAME.exec(name);
  if (!m) return undefined;
  return {
    shardId: Number(m[1]),
    first: { lsn: Number(m[2]), index: Number(m[3]) },
    last: { lsn: Number(m[4]), index: Number(m[5]) },
    ext: m[6]!,
  };
}

/**
 * The last record of each shard that files of `ext` in `dir` hold: a record
 * of this partition at or before it is in a file already (files of a shard
 * are put in place in record order, each covering every record of its range
 * that falls in its partition).
 */
export async function lastInDirectory(dir: string, ext: string): Promise<Map<number, RecordPos>> {
  const last = new Map<number, RecordPos>();
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return last;
    throw err;
  }
  for (const name of names) {
    const file = parseFileName(name);
    if (!file || file.ext !== ext) continue;
    const seen = last.get(file.shardId);
    if (!seen || comparePos(file.last, seen) > 0) last.set(file.shardId, file.last);
  }
  return last;
}

/** Writes a whole file durably: temporary name, fsync, rename, fsync of the directory. A replay overwrites the same name. */
export async function writeAtomically(dir: string, name: string, data: Uint8Array | string): Promise<void> {
  const temp = join(dir, `.${name}.tmp`);
  const file = await open(temp, 'w');
  try {
    await file.writeFile(data);
    await file.sync();
  } finally {
    await file.close();
  }
  await rename(temp, join(dir, name));
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}
