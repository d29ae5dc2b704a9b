/**
 * Just enough protobuf wire format for the hand-written codecs of the hot
 * messages (hot-messages.ts): varints over plain numbers, and a reader that
 * skips what it does not know. Everything else goes through protobufjs.
 *
 * 64-bit integers travel as numbers while they are safe integers (every id
 * and LSN this server hands out is below 2^53) and as decimal strings beyond,
 * exactly like protobufjs with `longs: String`.
 */

export const enum WireType {
  Varint = 0,
  Fixed64 = 1,
  Len = 2,
  StartGroup = 3,
  EndGroup = 4,
  Fixed32 = 5,
}

export class WireError extends Error {}

const TWO_32 = 4294967296;

/** Bytes of the varint of a non-negative safe integer. */
export function varintSize(n: number): number {
  if (n < 0x80) return 1;
  if (n < 0x4000) return 2;
  if (n < 0x200000) return 3;
  if (n < 0x10000000) return 4;
  let size = 4;
  let rest = Math.floor(n / 0x10000000);
  while (rest > 0) {
    size++;
    rest = Math.floor(rest / 0x80);
  }
  return size;
}

/** Writes the varint of a non-negative safe integer at `pos`; returns the position after it. */
export function writeVarint(buf: Buffer, pos: number, n: number): number {
  while (n >= 0x80000000) {
    buf[pos++] = (n % 0x80) | 0x80;
    n = Math.floor(n / 0x80);
  }
  while (n >= 0x80) {
    buf[pos++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  buf[pos++] = n;
  return pos;
}

/** Bytes of a field key. */
export function tagSize(field: number): number {
  return varintSize(field << 3);
}

export function writeTag(buf: Buffer, pos: number, field: number, wireType: WireType): number {
  return writeVarint(buf, pos, (field << 3) | wireType);
}

/**
 * The varint of a uint64/int64 value as handlers give it (number, decimal
 * string or bigint), as the bytes to write: numbers stay on the fast path.
 */
export type U64Input = number | string | bigint;

export function u64Bytes(value: U64Input): number | Buffer {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value) && value >= 0) return value;
    return bigVarint(BigInt(Math.trunc(value)));
  }
  if (typeof value === 'string') {
    const n = Number(value);
    if (Number.isSafeInteger(n) && n >= 0 && value.length <= 16) return n;
    return bigVarint(BigInt(value));
  }
  return bigVarint(value);
}

function bigVarint(value: bigint): Buffer {
  let v = BigInt.asUintN(64, value);
  const out: number[] = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Buffer.from(out);
}

export function u64Size(bytes: number | Buffer): number {
  return typeof bytes === 'number' ? varintSize(bytes) : bytes.length;
}

export function writeU64(buf: Buffer, pos: number, bytes: number | Buffer): number {
  if (typeof bytes === 'number') return writeVarint(buf, pos, bytes);
  bytes.copy(buf, pos);
  return pos + bytes.length;
}

/** Sequential reader over one encoded message (or a length-delimited part of one). */
export class WireReader {
  pos: number;
  /** low and high 32 bits of the last varint read by varint64() */
  lo = 0;
  hi = 0;

  constructor(
    readonly buf: Buffer,
    start = 0,
    readonly end = buf.length,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** Reads a varint into lo/hi (unsigned 32-bit halves). */
  varint64(): void {
    const buf = this.buf;
    let lo = 0;
    let hi = 0;
    let shift = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new WireError('truncated varint');
      const b = buf[this.pos++]!;
      if (shift < 28) lo |= (b & 0x7f) << shift;
      else if (shift === 28) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >> 4;
      } else hi |= (b & 0x7f) << (shift - 32);
      if (b < 0x80) {
        this.lo = lo >>> 0;
        this.hi = hi >>> 0;
        return;
      }
      shift += 7;
    }
    throw new WireError('varint longer than 10 bytes');
  }

  /** uint32 (and enum) fields: the low 32 bits of the varint. */
  uint32(): number {
    const buf = this.buf;
    if (this.pos < this.end && buf[this.pos]! < 0x80) return buf[this.pos++]!;
    this.varint64();
    return this.lo;
  }

  /** int32 fields: the low 32 bits, signed. */
  int32(): number {
    return this.uint32() | 0;
  }

  /** uint64 as a number when it is a safe integer, else as a decimal string. */
  uint64(): number | string {
    const buf = this.buf;
    if (this.pos < this.end && buf[this.pos]! < 0x80) return buf[this.pos++]!;
    this.varint64();
    if (this.hi < 0x200000) return this.hi * TWO_32 + this.lo;
    return ((BigInt(this.hi) << 32n) | BigInt(this.lo)).toString();
  }

  /** int64 as a number when it is a safe integer, else as a decimal string. */
  int64(): number | string {
    this.varint64();
    if (this.hi < 0x200000) return this.hi * TWO_32 + this.lo;
    const value = BigInt.asIntN(64, (BigInt(this.hi) << 32n) | BigInt(this.lo));
    // negative safe integers come here too (their high bits are set); anything beyond ±2^53 stays exact as text
    return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
  }

  /** Start and end of a length-delimited field's content. */
  lengthDelimited(): [number, number] {
    const length = this.uint32();
    const start = this.pos;
    const end = start + length;
    if (end > this.end) throw new WireError('length-delimited field runs past the end of the message');
    this.pos = end;
    return [start, end];
  }

  /**
   * Reads a length-delimited field's length and returns where its content
   * ends; the caller reads the content with this reader and calls leave().
   * No reader object per embedded message, unlike nested().
   */
  enter(): number {
    const length = this.uint32();
    const end = this.pos + length;
    if (end > this.end) throw new WireError('length-delimited field runs past the end of the message');
    return end;
  }

  /** Checks that reading an entered field stopped exactly at its end. */
  leave(end: number): void {
    if (this.pos !== end) throw new WireError('embedded message field runs past the end of the message');
  }

  /** A reader over the content of a length-delimited field (an embedded message). */
  nested(): WireReader {
    const [start, end] = this.lengthDelimited();
    return new WireReader(this.buf, start, end);
  }

  /** bytes fields share memory with the request, as protobufjs's do. */
  bytes(): Buffer {
    const [start, end] = this.lengthDelimited();
    return this.buf.subarray(start, end);
  }

  string(): string {
    const [start, end] = this.lengthDelimited();
    return this.buf.toString('utf8', start, end);
  }

  /** Reads a field key; returns [field number, wire type]. */
  tag(): [number, WireType] {
    const key = this.uint32();
    const field = key >>> 3;
    if (field === 0) throw new WireError('field number 0');
    return [field, (key & 7) as WireType];
  }

  /** Skips the value of a field this codec does not read. */
  skip(wireType: WireType, field: number): void {
    switch (wireType) {
      case WireType.Varint:
        this.varint64();
        return;
      case WireType.Fixed64:
        this.advance(8);
        return;
      case WireType.Len:
        this.lengthDelimited();
        return;
      case WireType.Fixed32:
        this.advance(4);
        return;
      case WireType.StartGroup:
        for (;;) {
          const [inner, type] = this.tag();
          if (type === WireType.EndGroup) {
            if (inner !== field) throw new WireError('mismatched end group');
            return;
          }
          this.skip(type, inner);
        }
      default:
        throw new WireError(`invalid wire type ${wireType as number}`);
    }
  }

  /** Throws unless a field has the wire type its declaration implies. */
  expect(wireType: WireType, want: WireType): void {
    if (wireType !== want) throw new WireError(`wire type ${wireType} where ${want} was expected`);
  }

  private advance(bytes: number): void {
    if (this.pos + bytes > this.end) throw new WireError('truncated fixed-width field');
    this.pos += bytes;
  }
}
