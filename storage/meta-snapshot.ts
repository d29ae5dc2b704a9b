/**
 * A copy of every metadata record, written by a clean shutdown and read by
 * the next start instead of LevelDB.
 *
 * Why: with 100k streams the metadata is ~200k small records. Reading them
 * from LevelDB made a string per key and per value (the iterator's work in the
 * thread pool and the garbage it left took over half of a 2.2 s start-up), and
 * each value was parsed on its own. The snapshot is one file, read in chunks
 * of a few hundred records, one JSON.parse each.
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
 * mismatch, unknown version, unparsable chunk) means reading LevelDB.
 *
 * Layout: a header line of JSON, '\n', then the body. The header names each
 * group (a path up to and including its first '/', e.g. 'stream/') and the
 * byte offsets in the body where its chunks end (its first chunk starts where
 * the previous group ended). A chunk is a JSON array of [path, value] pairs in
 * key order, the values being the stored JSON texts verbatim.
 *
 *   {"version":2,"groups":[["ids/",[14]],["stream/",[60012,120340],"stream-1"],...]}\n<body>
 *
 * A group whose owner gave a packing (MetaPacking) is written packed instead,
 * and its header entry names the packing's format: a chunk is then a JSON
 * array of the packed values alone. Why: the stream records of 100k streams
 * were 36 MB of JSON, one object tree per stream, while what the catalogue
 * keeps of a stream is seven numbers and a name; their parse was the largest
 * part of start-up. Only a reader that asks for that format gets packed
 * values; any other read of a packed group goes to LevelDB. Version 2 marks
 * files that may hold packed groups, so that an older reader ignores them.
 *
 * Chunks are small (about CHUNK_BYTES) so that neither the text read nor the
 * string parsed is a large object: one 35 MB string per group outlived
 * start-up in V8's large-object space (with the file's buffer, +40 MB RSS).
 */
import { closeSync, constants, fstatSync, fsyncSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { META_PREFIX } from './keys.js';
import { readAllText, type Kv } from './kv.js';

export const META_SNAPSHOT_FILE = 'META-SNAPSHOT';
const VERSION = 2;
/** versions this reader understands: 1 never has packed groups */
const READABLE_VERSIONS = new Set([1, 2]);
/** A chunk ends after the record that takes it past this many bytes. */
const CHUNK_BYTES = 32 * 1024;
/** The file is checked in reads of this many bytes. */
const CHECK_READ_BYTES = 1024 * 1024;

interface Header {
  version: number;
  /** group name, the body offsets where its chunks end, and the packing format if packed */
  groups: Array<[string, number[]] | [string, number[], string]>;
}

/**
 * A compact form for one group's values in the snapshot, given by the code that owns the group.
 * `pack` may return any JSON value, the plain value included (for values it has no better form
 * for); its reader must tell the two apart.
 */
export interface MetaPacking<T = unknown, P = unknown> {
  /** names the packed form: change it whenever the form changes */
  readonly format: string;
  pack(value: T): P;
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
export async function writeMetaSnapshot(kv: Kv, dir: string, packings: ReadonlyMap<string, MetaPacking> = new Map()): Promise<number> {
  const rows = await readAllText(kv, { gte: Buffer.of(META_PREFIX), lt: Buffer.of(META_PREFIX + 1) });
  const header: Header = { version: VERSION, groups: [] };
  const chunks: Buffer[] = [];
  let offset = 0;
  let parts: string[] = [];
  let partBytes = 0;
  const endChunk = () => {
    const chunk = Buffer.from(`[${parts.join(',')}]`, 'utf8');
    chunks.push(chunk);
    offset += chunk.length;
    header.groups[header.groups.length - 1]![1].push(offset);
    parts = [];
    partBytes = 0;
  };
  let packing: MetaPacking | undefined;
  for (const [key, value] of rows) {
    // the key's first character is the one-byte metadata prefix
    const path = key.slice(1);
    const name = groupOf(path);
    if (header.groups[header.groups.length - 1]?.[0] !== name) {
      if (parts.length > 0) endChunk();
      packing = packings.get(name);
      header.groups.push(packing ? [name, [], packing.format] : [name, []]);
    }
    const part = packing ? JSON.stringify(packing.pack(JSON.parse(value))) : `[${JSON.stringify(path)},${value}]`;
    parts.push(part);
    partBytes += part.length;
    if (partBytes >= CHUNK_BYTES) endChunk();
  }
  if (parts.length > 0) endChunk();
  const pieces = [Buffer.from(`${JSON.stringify(header)}\n`, 'utf8'), ...chunks];
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
 * The snapshot a clean shutdown left, if its crc32 is `crc` (undefined otherwise). Its name is
 * removed either way (it describes the directory only until the store writes); a snapshot
 * returned keeps the file open until closed.
 */
export function takeMetaSnapshot(dir: string, crc: number | undefined): MetaSnapshot | undefined {
  const path = join(dir, META_SNAPSHOT_FILE);
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY);
  } catch {
    return undefined;
  }
  let snapshot: MetaSnapshot | undefined;
  try {
    // a stale file is never trusted (no record names its crc), so its removal need not be durable
    rmSync(path, { force: true });
    if (crc !== undefined) snapshot = checked(fd, crc);
  } catch {
    snapshot = undefined;
  }
  if (!snapshot) closeSync(fd);
  return snapshot;
}

/** The snapshot in `fd` if its crc32 is `crc` and its header is understood. */
function checked(fd: number, crc: number): MetaSnapshot | undefined {
  const size = fstatSync(fd).size;
  const buf = Buffer.allocUnsafe(Math.min(CHECK_READ_BYTES, Math.max(size, 1)));
  let actual = 0;
  let headerText = '';
  let newline = -1;
  for (let at = 0; at < size; ) {
    const n = readSync(fd, buf, 0, Math.min(buf.length, size - at), at);
    if (n === 0) return undefined;
    actual = crc32(buf.subarray(0, n), actual);
    if (newline < 0) {
      const i = buf.subarray(0, n).indexOf(0x0a);
      headerText += buf.toString('utf8', 0, i < 0 ? n : i);
      if (i >= 0) newline = at + i;
    }
    at += n;
  }
  if (actual !== crc || newline < 0) return undefined;
  const header = JSON.parse(headerText) as Header;
  if (!READABLE_VERSIONS.has(header.version) || !Array.isArray(header.groups)) return undefined;
  const groups = new Map<string, SnapshotGroup>();
  let start = 0;
  for (const [name, ends, packed] of header.groups) {
    groups.set(name, { start, ends, packed });
    start = ends[ends.length - 1] ?? start;
  }
  return new MetaSnapshot(fd, newline + 1, groups);
}

interface SnapshotGroup {
  start: number;
  ends: number[];
  /** the format it was packed in, if it was */
  packed: string | undefined;
}

/**
 * Every metadata record as a clean shutdown left it, read from the (unlinked) file on demand.
 * Each read parses afresh, so callers may change what they get (as they may what LevelDB
 * reads return).
 */
export class MetaSnapshot {
  #closed = false;
  constructor(
    private readonly fd: number,
    /** where the body starts in the file */
    private readonly bodyAt: number,
    private readonly groups: ReadonlyMap<string, SnapshotGroup>,
  ) {}

  /**
   * Every record whose path starts with `prefix`, in path order; undefined when the snapshot
   * cannot say: a prefix without '/' (it would span groups), a packed group, a chunk that does not
   * parse, or the snapshot is closed.
   */
  list<T>(prefix: string): Array<MetaRow<T>> | undefined {
    const rows: Array<MetaRow<T>> = [];
    return this.#read<T>(prefix, (path, value) => rows.push({ path, value })) ? rows : undefined;
  }

  /**
   * The values of `list(prefix)` without their paths. Why: at a start with 100k streams, a row
   * object and a path string per record outlived the whole read, so every young-generation
   * collection of the read copied them (21 MB of the 300k records of streams and logs).
   */
  values<T>(prefix: string): T[] | undefined {
    const values: T[] = [];
    return this.eachValue<T>(prefix, (value) => values.push(value)) ? values : undefined;
  }

  /**
   * Hands each value under `prefix` to `take`, in path order, as its chunk is parsed; packed in
   * `packed`'s format if the group was. False when the snapshot cannot say (see list; a group
   * packed in another format cannot say), possibly after some values were taken.
   */
  eachValue<T>(prefix: string, take: (value: T) => void, packed?: string): boolean {
    const name = groupOf(prefix);
    const group = this.groups.get(name);
    if (group?.packed !== undefined && group.packed === packed && prefix === name) {
      return this.#eachChunk(group, (values: T[]) => {
        for (const value of values) take(value);
      });
    }
    return this.#read<T>(prefix, (_path, value) => take(value));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    closeSync(this.fd);
  }

  /**
   * Hands each record under `prefix` to `take`, in path order, as each chunk is parsed; false
   * when the snapshot cannot say (see list). `take` only collects: what it took is dropped when
   * a later chunk does not parse.
   */
  #read<T>(prefix: string, take: (path: string, value: T) => void): boolean {
    if (this.#closed || !prefix.includes('/')) return false;
    const name = groupOf(prefix);
    const group = this.groups.get(name);
    if (!group) return true;
    if (group.packed !== undefined) return false;
    const whole = prefix === name;
    return this.#eachChunk(group, (rows: Array<[string, T]>) => {
      for (const [path, value] of rows) if (whole || path.startsWith(prefix)) take(path, value);
    });
  }

  /** Parses the group's chunks in order; false if one cannot be read or parsed, or the snapshot is closed. */
  #eachChunk<C>(group: SnapshotGroup, each: (chunk: C) => void): boolean {
    if (this.#closed) return false;
    let buf = Buffer.allocUnsafe(0);
    let start = group.start;
    try {
      for (const end of group.ends) {
        const length = end - start;
        if (buf.length < length) buf = Buffer.allocUnsafe(Math.max(length, CHUNK_BYTES * 2));
        if (readSync(this.fd, buf, 0, length, this.bodyAt + start) !== length) return false;
        each(JSON.parse(buf.toString('utf8', 0, length)) as C);
        start = end;
      }
    } catch {
      // LevelDB holds the same records: the caller reads them there
      return false;
    }
    return true;
  }
}
