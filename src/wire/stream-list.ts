/**
 * A hand-written encoder for ListStreamsResponse (ListStreams and
 * ListStreamsWithPrefix). With 100k streams protobufjs spent ~170 ms per
 * reply converting and encoding a hundred thousand small objects, and the
 * garbage it left made V8 mark a heap of that size again and again (issue
 * 16: a listing of 100k streams took over a second of server CPU). The
 * same writer encodes a single Stream, CreateStream's request and reply.
 *
 * Reads the object shape the handlers give protobufjs under LOADER_OPTIONS
 * (src/proto.ts) and writes the same wire format: fields in number order,
 * proto3 defaults (0, "") left out. test/unit/stream-list.test.ts decodes its
 * output with protobufjs and compares field by field.
 */
import { u64Bytes, u64Size, varintSize, writeTag, writeU64, writeVarint, WireType, type U64Input } from './protobuf.js';

export interface WireStream {
  streamName: string;
  replicationFactor: number;
  backlogDuration: number;
  shardCount: number;
  creationTime: { seconds: U64Input; nanos: number } | null;
}

/** Size of a uint32/int32 field with its one-byte tag, 0 when it holds the default. */
const intField = (n: number) => (n === 0 ? 0 : 1 + varintSize(n >>> 0));

export function encodeListStreamsResponse(message: { streams: WireStream[] }): Buffer {
  const { streams } = message;
  return encodeStreamEntries(streams.length, (i) => streams[i]!).bytes;
}

/** Sizes of one Stream's parts, measured before it is written. */
interface StreamLayout {
  nameBytes: number;
  /** creationTime.seconds as writeU64 takes it */
  seconds: number | Buffer;
  /** the Timestamp message's size, -1 without one */
  tsSize: number;
  /** the Stream message's size */
  size: number;
}

function measureStream(s: WireStream): StreamLayout {
  const nameBytes = Buffer.byteLength(s.streamName);
  let size = nameBytes === 0 ? 0 : 1 + varintSize(nameBytes) + nameBytes;
  size += intField(s.replicationFactor) + intField(s.backlogDuration) + intField(s.shardCount);
  let seconds: number | Buffer = 0;
  let tsSize = -1;
  if (s.creationTime) {
    seconds = u64Bytes(s.creationTime.seconds);
    tsSize = (seconds === 0 ? 0 : 1 + u64Size(seconds)) + intField(s.creationTime.nanos);
    size += 1 + varintSize(tsSize) + tsSize;
  }
  return { nameBytes, seconds, tsSize, size };
}

/** Writes the Stream message's fields (not its own tag and length) at `pos`; returns the position after them. */
function writeStream(buf: Buffer, pos: number, s: WireStream, layout: StreamLayout): number {
  const writeInt = (field: number, n: number) => {
    if (n === 0) return;
    pos = writeTag(buf, pos, field, WireType.Varint);
    pos = writeVarint(buf, pos, n >>> 0);
  };
  if (layout.nameBytes > 0) {
    pos = writeTag(buf, pos, 1, WireType.Len);
    pos = writeVarint(buf, pos, layout.nameBytes);
    pos += buf.write(s.streamName, pos, 'utf8');
  }
  writeInt(2, s.replicationFactor);
  writeInt(3, s.backlogDuration);
  writeInt(4, s.shardCount);
  if (layout.tsSize >= 0) {
    pos = writeTag(buf, pos, 5, WireType.Len);
    pos = writeVarint(buf, pos, layout.tsSize);
    if (layout.seconds !== 0) {
      pos = writeTag(buf, pos, 1, WireType.Varint);
      pos = writeU64(buf, pos, layout.seconds);
    }
    writeInt(2, s.creationTime!.nanos);
  }
  return pos;
}

/**
 * One Stream message: CreateStream's request and reply. protobufjs took as
 * long to convert and encode this five-field message as the server spent on
 * the rest of a create's handler.
 */
export function encodeStream(s: WireStream): Buffer {
  const layout = measureStream(s);
  const buf = Buffer.allocUnsafe(layout.size);
  const end = writeStream(buf, 0, s, layout);
  if (end !== layout.size) throw new Error(`Stream: wrote ${end} of ${layout.size} bytes`);
  return buf;
}

/**
 * A ListStreamsResponse's bytes and where each Stream entry starts in them
 * (`offsets[i]`; `offsets[count]` is the end). Each entry is the whole field
 * 1 (tag, length, message), so any subset of entries, copied in order, is
 * itself a valid ListStreamsResponse.
 *
 * `streamAt(i)` is asked for the i-th stream twice, once to measure and once
 * to write, and nothing per stream is kept between: with 100k streams, the
 * messages and layouts held across both passes lived long enough to be
 * promoted, ~20 MB of old-generation garbage per listing.
 */
export function encodeStreamEntries(count: number, streamAt: (i: number) => WireStream): { bytes: Buffer; offsets: Uint32Array } {
  const offsets = new Uint32Array(count + 1);
  for (let i = 0; i < count; i++) {
    const size = measureStream(streamAt(i)).size;
    offsets[i + 1] = offsets[i]! + 1 + varintSize(size) + size;
  }
  const total = offsets[count]!;
  const buf = Buffer.allocUnsafe(total);
  let pos = 0;
  for (let i = 0; i < count; i++) {
    const stream = streamAt(i);
    const layout = measureStream(stream);
    if (pos !== offsets[i]) break;
    pos = writeTag(buf, pos, 1, WireType.Len);
    pos = writeVarint(buf, pos, layout.size);
    pos = writeStream(buf, pos, stream, layout);
  }
  if (pos !== total) throw new Error(`ListStreamsResponse: wrote ${pos} of ${total} bytes (a stream changed while it was encoded)`);
  return { bytes: buf, offsets };
}

/** A reply encoded ahead of the call: the ListStreams serializers send its bytes as they are. */
export class EncodedStreamList {
  constructor(
    readonly bytes: Buffer,
    /** Stream entries in `bytes` */
    readonly count: number,
  ) {}
}

/** The serializer of both listing RPCs: an encoded reply as is, anything else encoded now. */
export function serializeStreamList(message: EncodedStreamList | { streams: WireStream[] }): Buffer {
  return message instanceof EncodedStreamList ? message.bytes : encodeListStreamsResponse(message);
}

