/**
 * A hand-written encoder for ListStreamsResponse (ListStreams and
 * ListStreamsWithPrefix). With 100k streams protobufjs spent ~170 ms per
 * reply converting and encoding a hundred thousand small objects, and the
 * garbage it left made V8 mark a heap of that size again and again (issue
 * 16: a listing of 100k streams took over a second of server CPU).
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
  return encodeStreamEntries(message.streams).bytes;
}

/**
 * A ListStreamsResponse's bytes and where each Stream entry starts in them
 * (`offsets[i]`; `offsets[streams.length]` is the end). Each entry is the
 * whole field 1 (tag, length, message), so any subset of entries, copied in
 * order, is itself a valid ListStreamsResponse.
 */
export function encodeStreamEntries(streams: readonly WireStream[]): { bytes: Buffer; offsets: Uint32Array } {
  const nameBytes = new Array<number>(streams.length);
  const seconds = new Array<number | Buffer>(streams.length);
  const tsSizes = new Array<number>(streams.length);
  const sizes = new Array<number>(streams.length);
  let total = 0;
  for (let i = 0; i < streams.length; i++) {
    const s = streams[i]!;
    const name = Buffer.byteLength(s.streamName);
    nameBytes[i] = name;
    let size = name === 0 ? 0 : 1 + varintSize(name) + name;
    size += intField(s.replicationFactor) + intField(s.backlogDuration) + intField(s.shardCount);
    tsSizes[i] = -1;
    if (s.creationTime) {
      const sec = u64Bytes(s.creationTime.seconds);
      seconds[i] = sec;
      const ts = (sec === 0 ? 0 : 1 + u64Size(sec)) + intField(s.creationTime.nanos);
      tsSizes[i] = ts;
      size += 1 + varintSize(ts) + ts;
    }
    sizes[i] = size;
    total += 1 + varintSize(size) + size;
  }
  const buf = Buffer.allocUnsafe(total);
  const offsets = new Uint32Array(streams.length + 1);
  let pos = 0;
  const writeInt = (field: number, n: number) => {
    if (n === 0) return;
    pos = writeTag(buf, pos, field, WireType.Varint);
    pos = writeVarint(buf, pos, n >>> 0);
  };
  for (let i = 0; i < streams.length; i++) {
    const s = streams[i]!;
    offsets[i] = pos;
    pos = writeTag(buf, pos, 1, WireType.Len);
    pos = writeVarint(buf, pos, sizes[i]!);
    if (nameBytes[i]! > 0) {
      pos = writeTag(buf, pos, 1, WireType.Len);
      pos = writeVarint(buf, pos, nameBytes[i]!);
      pos += buf.write(s.streamName, pos, 'utf8');
    }
    writeInt(2, s.replicationFactor);
    writeInt(3, s.backlogDuration);
    writeInt(4, s.shardCount);
    if (tsSizes[i]! >= 0) {
      pos = writeTag(buf, pos, 5, WireType.Len);
      pos = writeVarint(buf, pos, tsSizes[i]!);
      const sec = seconds[i]!;
      if (sec !== 0) {
        pos = writeTag(buf, pos, 1, WireType.Varint);
        pos = writeU64(buf, pos, sec);
      }
      writeInt(2, s.creationTime!.nanos);
    }
  }
  if (pos !== total) throw new Error(`ListStreamsResponse: wrote ${pos} of ${total} bytes`);
  offsets[streams.length] = pos;
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

