/**
 * A lake file's records as the server's thread hands them to the encoder
 * thread: payload bytes back to back and, per record, where its payload
 * ends, its id's LSN and index and its flag, all in shared memory. Filling
 * these is all the server's thread does per record (a copy of the
 * payload); reading the records as JSON, inferring the schema and building
 * the columns happen on the encoder thread, where they overlap the next
 * file's reading. Shared rather than transferred, so the writer still has
 * the records when an encoding fails and must be done again.
 */
import { isAscii } from 'node:buffer';

/** What the encoder thread reads: views over shared memory, `count` records long. */
export interface PackedRecords {
  readonly count: number;
  readonly bytes: Uint8Array;
  /** per record: end of its payload in `bytes`, its LSN, its index × 2 + 1 when it is a RAW record */
  readonly meta: Float64Array;
}

const META = 3;

function shared<T extends Uint8Array | Float64Array>(make: (buffer: SharedArrayBuffer) => T, bytes: number): T {
  return make(new SharedArrayBuffer(bytes));
}

export class RecordPacker {
  #bytes: Uint8Array;
  #meta: Float64Array;
  #used = 0;
  count = 0;

  /**
   * Sized for what the file before it held, when known: fresh shared memory
   * costs a page fault per page on first write (a few ms per 10,000 rows),
   * so a file grows it rarely, and the writer reuses packers (`clear`). At
   * most a few MiB up front, as every shard's open file starts this way.
   */
  constructor(expected?: { readonly records: number; readonly bytes: number }) {
    const size = (n: number | undefined, least: number, most: number) => Math.min(most, Math.max(least, Math.ceil((n ?? 0) * 1.1)));
    this.#bytes = shared((b) => new Uint8Array(b), size(expected?.bytes, 64 * 1024, 2 * 1024 * 1024));
    this.#meta = shared((b) => new Float64Array(b), size(expected?.records, 1024, 12 * 1024) * META * 8);
  }

  push(payload: Uint8Array, lsn: number, index: number, raw: boolean): void {
    const end = this.#used + payload.length;
    if (end > this.#bytes.length) this.#bytes = grown(this.#bytes, end, this.#used, (b) => new Uint8Array(b));
    this.#bytes.set(payload, this.#used);
    this.#used = end;
    const at = this.count * META;
    if (at + META > this.#meta.length) this.#meta = grown(this.#meta, at + META, at, (b) => new Float64Array(b));
    this.#meta[at] = end;
    this.#meta[at + 1] = lsn;
    this.#meta[at + 2] = index * 2 + (raw ? 1 : 0);
    this.count++;
  }

  /** bytes of shared memory it holds */
  get capacity(): number {
    return this.#bytes.byteLength + this.#meta.byteLength;
  }

  /** Empty again, its memory kept: for the next file, once the encoder thread is done with this one's. */
  clear(): void {
    this.#used = 0;
    this.count = 0;
  }

  packed(): PackedRecords {
    return { count: this.count, bytes: this.#bytes, meta: this.#meta };
  }
}

/** A copy at least twice as large: filling a file costs one copy of its bytes overall. */
function grown<T extends Uint8Array | Float64Array>(old: T, needed: number, used: number, make: (buffer: SharedArrayBuffer) => T): T {
  let length = old.length * 2;
  while (length < needed) length *= 2;
  const next = shared(make, length * old.BYTES_PER_ELEMENT);
  next.set(old.subarray(0, used));
  return next;
}

/** Buffer's own latin1 slicing: String from bytes with none of toString's argument handling (a fifth of its cost on 90-byte records). */
type SlicingBuffer = Buffer & { latin1Slice(start: number, end: number): string };

/**
 * The payloads' bytes, when they are all ASCII (nearly always for JSON
 * text): each record's text is then its bytes read as latin1, with no UTF-8
 * decoding or validation per record.
 */
export function packedAscii(records: PackedRecords): { text(start: number, end: number): string } | undefined {
  if (records.count === 0) return undefined;
  const used = records.meta[(records.count - 1) * META]!;
  const bytes = Buffer.from(records.bytes.buffer, records.bytes.byteOffset, used) as SlicingBuffer;
  return isAscii(bytes) ? { text: (start, end) => bytes.latin1Slice(start, end) } : undefined;
}

/** Where record `i`'s payload ends in the bytes; it starts where the one before it ends. */
export function packedEnd(records: PackedRecords, i: number): number {
  return records.meta[i * META]!;
}

export function packedIsRaw(records: PackedRecords, i: number): boolean {
  return records.meta[i * META + 2]! % 2 === 1;
}

/** Record `i`'s id, "shardId-lsn-index" (only rejected records need it). */
export function packedId(records: PackedRecords, shardId: number, i: number): string {
  return `${shardId}-${records.meta[i * META + 1]!}-${Math.floor(records.meta[i * META + 2]! / 2)}`;
}
