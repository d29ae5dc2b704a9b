/**
 * The hand-written BatchHStreamRecords reader (src/records.ts) against
 * protobufjs reading the same bytes: every record, header, attribute and
 * payload the same, unknown fields skipped, a header that occurs twice
 * merged, and damaged bytes refused with the batch's decode error instead
 * of a crash or a wrong record.
 */
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { PROTO_PATH } from '../../src/proto.js';
import { compress, Compression, decodeRecords, encodeRecords, type HStreamRecord } from '../../src/records.js';
import { rng } from '../helpers/rng.js';

const root = protobuf.loadSync(PROTO_PATH);
const Batch = root.lookupType('hstream.server.BatchHStreamRecords');

/** What protobufjs makes of the bytes, in the shape decodeRecords returns. */
function viaProtobufjs(bytes: Buffer): HStreamRecord[] {
  const obj = Batch.toObject(Batch.decode(bytes), { enums: String, defaults: true }) as {
    records: Array<{ header?: { flag?: string; attributes?: Record<string, string>; key?: string }; payload?: Uint8Array }>;
  };
  return obj.records.map((r) => ({
    header: { flag: r.header?.flag === 'RAW' ? 'RAW' : 'JSON', attributes: { ...(r.header?.attributes ?? {}) }, key: r.header?.key ?? '' },
    payload: Buffer.from(r.payload ?? []),
  }));
}

function randomRecords(next: () => number, count: number): HStreamRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const attributes: Record<string, string> = {};
    for (let a = Math.floor(next() * 3); a > 0; a--) attributes[`attr${Math.floor(next() * 4)}`] = next() < 0.2 ? '' : `v-${i}-ü-${a}`;
    const size = next() < 0.1 ? 0 : Math.floor(next() * 300);
    return {
      header: { flag: next() < 0.5 ? 'RAW' : 'JSON', attributes, key: next() < 0.3 ? '' : `key-${i % 7}-ключ` },
      payload: Buffer.from(Array.from({ length: size }, () => Math.floor(next() * 256))),
    };
  });
}

/** A length-delimited field: tag, length, bytes. */
function lenField(field: number, bytes: Buffer): Buffer {
  const varint = (n: number) => {
    const out: number[] = [];
    while (n > 0x7f) {
      out.push((n & 0x7f) | 0x80);
      n >>>= 7;
    }
    out.push(n);
    return Buffer.from(out);
  };
  return Buffer.concat([varint((field << 3) | 2), varint(bytes.length), bytes]);
}

describe('decodeRecords', () => {
  it('reads what protobufjs writes, record for record', () => {
    const next = rng(13);
    for (let round = 0; round < 50; round++) {
      const records = randomRecords(next, 1 + Math.floor(next() * 40));
      const bytes = encodeRecords(records);
      const decoded = decodeRecords(Compression.None, bytes);
      expect(decoded).toEqual(viaProtobufjs(bytes));
      expect(decoded.map((r) => r.header.flag)).toEqual(records.map((r) => r.header.flag));
      expect(decoded.map((r) => r.payload.toString('hex'))).toEqual(records.map((r) => r.payload.toString('hex')));
    }
  });

  it('reads compressed batches the same', () => {
    const records = randomRecords(rng(7), 30);
    const bytes = encodeRecords(records);
    for (const compression of [Compression.Gzip, Compression.Zstd]) {
      expect(decodeRecords(compression, compress(compression, bytes))).toEqual(viaProtobufjs(bytes));
    }
  });

  it('skips unknown fields and takes absent headers and payloads as defaults, as protobufjs does', () => {
    const unknownVarint = Buffer.from([(9 << 3) | 0, 0x96, 0x01]);
    const unknownFixed32 = Buffer.from([(10 << 3) | 5, 1, 2, 3, 4]);
    const header = Buffer.concat([Buffer.from([(1 << 3) | 0, 1]), unknownFixed32, lenField(3, Buffer.from('k')), lenField(2, Buffer.concat([lenField(1, Buffer.from('a')), unknownVarint]))]);
    const record = Buffer.concat([unknownVarint, lenField(1, header), lenField(7, Buffer.from('ignored')), lenField(2, Buffer.from('payload'))]);
    const bytes = Buffer.concat([lenField(1, record), unknownVarint, lenField(1, Buffer.alloc(0)), lenField(5, Buffer.from('x'))]);
    const decoded = decodeRecords(Compression.None, bytes);
    expect(decoded).toEqual(viaProtobufjs(bytes));
    expect(decoded).toEqual([
      { header: { flag: 'RAW', attributes: { a: '' }, key: 'k' }, payload: Buffer.from('payload') },
      { header: { flag: 'JSON', attributes: {}, key: '' }, payload: Buffer.alloc(0) },
    ]);
  });

  // The protobuf encoding spec merges an embedded message that occurs more than once; protobufjs 7
  // (ours) keeps only the last one, protobufjs 8 merges (its PR #2195): compared with the spec here.
  it('merges a header that occurs twice in a record into one, as protobuf merges an embedded message', () => {
    const varintField = (field: number, value: number) => Buffer.from([field << 3, value]);
    const entry = (key: string, value: string) => lenField(2, Buffer.concat([lenField(1, Buffer.from(key)), lenField(2, Buffer.from(value))]));
    const first = Buffer.concat([varintField(1, 1), entry('a', '1'), entry('b', '1'), lenField(3, Buffer.from('k1'))]);
    // sets no flag and no key: those stay the first header's; its attributes add to them, b replaced
    const second = Buffer.concat([entry('b', '2'), entry('c', '2')]);
    const third = lenField(3, Buffer.from('k3'));
    const record = Buffer.concat([lenField(1, first), lenField(2, Buffer.from('p')), lenField(1, second), lenField(1, third)]);
    const bytes = lenField(1, record);
    expect(decodeRecords(Compression.None, bytes)).toEqual([{ header: { flag: 'RAW', attributes: { a: '1', b: '2', c: '2' }, key: 'k3' }, payload: Buffer.from('p') }]);
  });

  it('refuses damaged batches with the decode error', () => {
    const bytes = encodeRecords(randomRecords(rng(3), 5));
    for (const damaged of [bytes.subarray(0, bytes.length - 3), Buffer.concat([bytes, Buffer.from([0x0a, 0x05, 1])]), Buffer.from([0x0f]), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])]) {
      expect(() => decodeRecords(Compression.None, damaged)).toThrow(/DecodeHStreamRecordErr|not a valid BatchHStreamRecords/);
    }
  });
});

describe('encodeRecords', () => {
  const protobufjsBytes = (records: unknown[]) => Buffer.from(Batch.encode(Batch.fromObject({ records })).finish());

  it('writes the bytes protobufjs writes, record for record', () => {
    const next = rng(29);
    for (let round = 0; round < 50; round++) {
      const records = randomRecords(next, Math.floor(next() * 40));
      expect(encodeRecords(records).toString('hex')).toBe(protobufjsBytes(records).toString('hex'));
    }
    const long: HStreamRecord = { header: { flag: 'RAW', attributes: { ['k'.repeat(200)]: 'v'.repeat(20_000) }, key: 'ключ'.repeat(100) }, payload: Buffer.alloc(70_000, 7) };
    expect(encodeRecords([long, long])).toEqual(protobufjsBytes([long, long]));
  });

  it('records in other shapes go through protobufjs and come out as protobufjs writes them', () => {
    const odd = [
      { header: { flag: 1, attributes: {}, key: 'k' }, payload: Buffer.from('a') },
      { header: { flag: 'RAW', key: 'k' }, payload: Buffer.from('b') },
      { payload: Buffer.from('c') },
      { header: { flag: 'JSON', attributes: { n: 5 }, key: '' }, payload: Buffer.from('d') },
    ] as unknown as HStreamRecord[];
    for (const record of odd) expect(encodeRecords([record])).toEqual(protobufjsBytes([record]));
  });
});
