/**
 * A copy of every metadata record, written by a clean shutdown and read by
 * the next start instead of LevelDB.
 *
 * Why: with 100k streams the metadata is ~200k small records. Reading them
 * from LevelDB made a string per key and per value (the iterator's work in the
 * thread pool and the garbage it left took over half of a 2.2 s start-up), and
 * each value was parsed on its own. The snapshot is one file: one read, and
 * one JSON.parse per record group, yielding the final objects only.
 *
 * It is only a cache of LevelDB, never a source of truth: the metadata
 * records in LevelDB are written as before. It is trusted only at a start
 * whose clean-shutdown record (clean-shutdown.ts) names its crc32: that record
 * is written after the snapshot is synced and removed before LevelDB opens,
 * so a crash at any point (including while the snapshot is written) leaves no
 * record naming it, and the next start reads LevelDB. The snapshot is read
 * from LevelDB itself once the writer has stopped, so it holds exactly what
 * the next open finds. The store serves reads from it only until its first
 * write (or until start-up is over), and any doubt about it (missing, crc
 * mismatch, unknown version, unparsable group) means reading LevelDB.
 *
 * Layout: a header line of JSON, '\n', then the body. The header names each
 * group (a path up to and including its first '/', e.g. 'stream/') and its
 * byte range in the body; a group's text is a JSON array of [path, value]
 * pairs in key order, the values being the stored JSON texts verbatim.
 *
 *   {"version":1,"groups":[["stream/",0,123456],...]}\n<body>
 */
import { closeSync, constants, fsyncSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { META_PREFIX } from './keys.js';
import { readAllText, type Kv } from './kv.js';

export const META_SNAPSHOT_FILE = 'META-SNAPSHOT';
const VERSION = 1;

interface Header {
  version: number;
  /** group name, start and end byte offsets in the body */
  groups: Array<[string, number, number]>;
}

export interface MetaRow<T> {
  path: string;
  value: T;
}

/** The group a path belongs to: up to and including its first '/', or the whole path. */
function groupOf(path: string): string {
  const slash = path.indexOf('/');
  return slash < 0 ? path : path.slice(0, slash + 1);
}

/**
 * Writes the snapshot of every metadata record `kv` holds (synced) and returns the crc32 of the
 * file. The caller must make sure nothing writes to `kv` meanwhile and until it closes.
 */
export async function writeMetaSnapshot(kv: Kv, dir: string): Promise<number> {
  const rows = await readAllText(kv, { gte: Buffer.of(META_PREFIX), lt: Buffer.of(META_PREFIX + 1) });
  const groups: Array<{ name: string; parts: string[] }> = [];
  for (const [key, value] of rows) {
    // the key's first character is the one-byte metadata prefix
    const path = key.slice(1);
    const name = groupOf(path);
    let group = groups[groups.length - 1];
    if (group?.name !== name) groups.push((group = { name, parts: [] }));
    group.parts.push(`[${JSON.stringify(path)},${value}]`);
  }
  // written piece by piece: one buffer of the whole file cost a copy of it at every shutdown
  const texts = groups.map((group) => Buffer.from(`[${group.parts.join(',')}]`, 'utf8'));
  const header: Header = { version: VERSION, groups: [] };
  let offset = 0;
  for (const [i, text] of texts.entries()) {
    header.groups.push([groups[i]!.name, offset, offset + text.length]);
    offset += text.length;
  }
  const pieces = [Buffer.from(`${JSON.stringify(header)}\n`, 'utf8'), ...texts];
  let crc = 0;
  const fd = openSync(join(dir, META_SNAPSHOT_FILE), constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o644);
  try {
    for (const piece of pieces) {
      for (let written = 0; written < piece.length; ) written += writeSync(fd, piece, written, piece.length - written);
      crc = crc32(piece, crc);
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return crc;
}

/**
 * The snapshot a clean shutdown left, if its crc32 is `crc` (undefined otherwise). Removes the
 * file either way: it describes the directory only until the store writes.
 */
export function takeMetaSnapshot(dir: string, crc: number | undefined): MetaSnapshot | undefined {
  const path = join(dir, META_SNAPSHOT_FILE);
  let file: Buffer;
  try {
    file = readFileSync(path);
  } catch {
    return undefined;
  }
  // a stale file is never trusted (its crc is named by no record), so its removal need not be durable
  rmSync(path, { force: true });
  if (crc === undefined || crc32(file) !== crc) return undefined;
  const newline = file.indexOf(0x0a);
  if (newline < 0) return undefined;
  let header: Header;
  try {
    header = JSON.parse(file.toString('utf8', 0, newline)) as Header;
  } catch {
    return undefined;
  }
  if (header.version !== VERSION || !Array.isArray(header.groups)) return undefined;
  return new MetaSnapshot(file.subarray(newline + 1), new Map(header.groups.map(([name, start, end]) => [name, [start, end]])));
}

/**
 * Every metadata record as a clean shutdown left it. Each read parses its group afresh, so callers
 * may change what they get (as they may what LevelDB reads return).
 */
export class MetaSnapshot {
  constructor(
    private readonly body: Buffer,
    private readonly groups: ReadonlyMap<string, readonly [number, number]>,
  ) {}

  /**
   * Every record whose path starts with `prefix`, in path order; undefined when the snapshot
   * cannot say: a prefix without '/' (it would span groups), or a group that does not parse.
   */
  list<T>(prefix: string): Array<MetaRow<T>> | undefined {
    if (!prefix.includes('/')) return undefined;
    const name = groupOf(prefix);
    const rows = this.#group<T>(name);
    return rows && prefix !== name ? rows.filter((row) => row.path.startsWith(prefix)) : rows;
  }

  /** The record at `path`: `found` false when there is none; undefined when its group does not parse. */
  get<T>(path: string): { found: true; value: T } | { found: false } | undefined {
    const rows = this.#group<T>(groupOf(path));
    if (!rows) return undefined;
    const row = rows.find((r) => r.path === path);
    return row ? { found: true, value: row.value } : { found: false };
  }

  #group<T>(name: string): Array<MetaRow<T>> | undefined {
    const range = this.groups.get(name);
    if (!range) return [];
    let pairs: Array<[string, T]>;
    try {
      pairs = JSON.parse(this.body.toString('utf8', range[0], range[1])) as Array<[string, T]>;
    } catch {
      // LevelDB holds the same records: the caller reads them there
      return undefined;
    }
    return pairs.map(([path, value]) => ({ path, value }));
  }
}
