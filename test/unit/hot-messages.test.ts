/**
 * The hand-written data-path codecs (src/wire/hot-messages.ts) against
 * protobufjs under the loader options every other message uses: what one
 * side writes, the other must read field for field the same, edge values,
 * unknown fields and damaged bytes included.
 */
import type * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { hstreamApiDefinition } from '../../src/proto.js';
import {
  decodeAppendResponse,
  decodeReceivedRecordList,
  decodeStreamingFetchRequest,
  decodeStreamingFetchResponse,
  encodeAppendResponse,
  encodeReceivedRecords,
  encodeStreamingFetchRequest,
  type RecordIdRun,
  type WireReceivedRecord,
  type WireRecordId,
} from '../../src/wire/hot-messages.js';
import { rng } from '../helpers/rng.js';

const api = hstreamApiDefinition();
const method = (name: string) => api[name] as grpc.MethodDefinition<unknown, unknown>;
/** protobufjs's own round trip of a message: what a peer on protobufjs would see. */
const viaProtobufjs = {
  response: (name: string, message: unknown) => method(name).responseDeserialize(method(name).responseSerialize(message)),
  request: (name: string, message: unknown) => method(name).requestDeserialize(method(name).requestSerialize(message)),
};

const U64_EDGES = [0, 1, 127, 128, 16_383, 16_384, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1, 2 ** 53 - 1, '9007199254740993', '18446744073709551615'];

function pick<T>(next: () => number, values: readonly T[]): T {
  return values[Math.floor(next() * values.length)]!;
}

function randomIds(next: () => number, count: number): WireRecordId[] {
  const shardId = pick(next, U64_EDGES);
  const batchId = pick(next, U64_EDGES);
  return Array.from({ length: count }, (_, i) =>
    next() < 0.1 ? { shardId: pick(next, U64_EDGES), batchId: pick(next, U64_EDGES), batchIndex: pick(next, [0, 1, 300, 2 ** 32 - 1]) } : { shardId, batchId, batchIndex: i },
  );
}

function randomReceived(next: () => number): WireReceivedRecord {
  const payload = Buffer.alloc(Math.floor(next() * 300));
  for (let i = 0; i < payload.length; i++) payload[i] = Math.floor(next() * 256);
  return {
    recordIds: randomIds(next, Math.floor(next() * 120)),
    record:
      next() < 0.1
        ? null
        : {
            compressionType: pick(next, ['None', 'Gzip', 'Zstd', 1, 7]),
            publishTime: next() < 0.2 ? null : { seconds: pick(next, [0, 1_790_000_000, -5, 2 ** 40]), nanos: pick(next, [0, 999_999_999, -1]) },
            batchSize: pick(next, [0, 1, 100, 2 ** 32 - 1]),
            payload,
          },
  };
}

/** uint64s as the client shapes them (decimal strings), for comparing server-side decodes. */
function asStrings(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (key, v: unknown) => ((key === 'shardId' || key === 'batchId') && typeof v === 'number' ? String(v) : v)));
}

describe('hand-written data-path codecs', () => {
  it('server encoders write what protobufjs reads back as the same messages', () => {
    const next = rng(41);
    for (let round = 0; round < 300; round++) {
      const list = Array.from({ length: Math.floor(next() * 4) }, () => randomReceived(next));
      const read = method('ReadShardStream').responseDeserialize(encodeReceivedRecords({ receivedRecords: list }));
      expect(read).toEqual(viaProtobufjs.response('ReadShardStream', { receivedRecords: list }));

      const one = next() < 0.1 ? null : randomReceived(next);
      const fetched = method('StreamingFetch').responseDeserialize(encodeReceivedRecords({ receivedRecords: one }));
      expect(fetched).toEqual(viaProtobufjs.response('StreamingFetch', { receivedRecords: one }));

      const append = { streamName: pick(next, ['', 's', 'temp_hum', 'ströme ✓']), shardId: pick(next, U64_EDGES), recordIds: randomIds(next, Math.floor(next() * 150)) };
      expect(method('Append').responseDeserialize(encodeAppendResponse(append))).toEqual(viaProtobufjs.response('Append', append));

      const acks = { subscriptionId: pick(next, ['', 'sub', 'ü']), consumerName: pick(next, ['', 'c1']), ackIds: randomIds(next, Math.floor(next() * 150)) };
      expect(method('StreamingFetch').requestDeserialize(encodeStreamingFetchRequest(acks))).toEqual(viaProtobufjs.request('StreamingFetch', acks));
    }
  });

  it('decoders read what protobufjs writes as protobufjs does (the server with numeric ids)', () => {
    const next = rng(42);
    for (let round = 0; round < 300; round++) {
      const list = Array.from({ length: Math.floor(next() * 4) }, () => randomReceived(next));
      const bytes = method('ReadShardStream').responseSerialize({ receivedRecords: list });
      expect(decodeReceivedRecordList(bytes)).toEqual(method('ReadShardStream').responseDeserialize(bytes));

      const one = { receivedRecords: next() < 0.1 ? null : randomReceived(next) };
      const fetchBytes = method('StreamingFetch').responseSerialize(one);
      expect(decodeStreamingFetchResponse(fetchBytes)).toEqual(method('StreamingFetch').responseDeserialize(fetchBytes));

      const append = { streamName: 'temp_hum', shardId: pick(next, U64_EDGES), recordIds: randomIds(next, Math.floor(next() * 150)) };
      const appendBytes = method('Append').responseSerialize(append);
      expect(decodeAppendResponse(appendBytes)).toEqual(method('Append').responseDeserialize(appendBytes));

      const acks = { subscriptionId: 'sub', consumerName: 'c', ackIds: randomIds(next, Math.floor(next() * 150)) };
      const ackBytes = method('StreamingFetch').requestSerialize(acks);
      const decoded = decodeStreamingFetchRequest(ackBytes);
      expect(asStrings(decoded)).toEqual(asStrings(method('StreamingFetch').requestDeserialize(ackBytes)));
      // safe integers arrive as numbers, beyond 2^53 as exact decimal strings
      for (const id of decoded.ackIds) {
        for (const v of [id.shardId, id.batchId]) expect(typeof v === 'number' ? Number.isSafeInteger(v) : /^\d{16,20}$/.test(v as string)).toBe(true);
      }
    }
  });

  it('encodes a RecordId run exactly like the RecordIds it stands for', () => {
    const next = rng(5);
    for (let round = 0; round < 200; round++) {
      const count = Math.floor(next() * 150);
      const indexes = next() < 0.5 ? undefined : Array.from({ length: count }, () => pick(next, [0, 1, 99, 300, 2 ** 32 - 1]));
      const run: RecordIdRun = { shardId: pick(next, [0, 1, 2 ** 40 + 3]), batchId: pick(next, [0, 2 ** 32 + 1, 2 ** 53 - 1]), count, indexes };
      const ids: WireRecordId[] = Array.from({ length: count }, (_, i) => ({ shardId: run.shardId, batchId: run.batchId, batchIndex: indexes ? indexes[i]! : i }));
      const record = randomReceived(next).record;
      expect(encodeReceivedRecords({ receivedRecords: { recordIds: run, record } })).toEqual(encodeReceivedRecords({ receivedRecords: { recordIds: ids, record } }));
      const append = { streamName: 's', shardId: run.shardId, recordIds: run };
      expect(encodeAppendResponse(append)).toEqual(encodeAppendResponse({ ...append, recordIds: ids }));
    }
  });

  it('skips unknown fields of every wire type, as protobufjs does', () => {
    const acks = { subscriptionId: 'sub', consumerName: 'c', ackIds: [{ shardId: 7, batchId: 2 ** 32 + 1, batchIndex: 3 }] };
    // field 9 varint, field 10 fixed64, field 11 bytes, field 12 fixed32, field 13 group with a varint inside
    const unknown = Buffer.from([0x48, 0x96, 0x01, 0x51, 1, 2, 3, 4, 5, 6, 7, 8, 0x5a, 2, 0xaa, 0xbb, 0x65, 1, 2, 3, 4, 0x6b, 0x08, 0x01, 0x6c]);
    const bytes = Buffer.concat([unknown, encodeStreamingFetchRequest(acks), unknown]);
    expect(asStrings(decodeStreamingFetchRequest(bytes))).toEqual(asStrings(method('StreamingFetch').requestDeserialize(bytes)));
  });

  it('refuses truncated and malformed bytes with an error instead of a wrong message', () => {
    const full = encodeStreamingFetchRequest({ subscriptionId: 'subscription', consumerName: 'c', ackIds: randomIds(rng(3), 20) });
    for (let cut = 1; cut < full.length; cut++) {
      const part = full.subarray(0, cut);
      let decoded: unknown;
      try {
        decoded = decodeStreamingFetchRequest(part);
      } catch {
        continue; // refused: fine
      }
      // a cut on a field boundary is a shorter valid message: protobufjs must read it the same
      expect(asStrings(decoded)).toEqual(asStrings(method('StreamingFetch').requestDeserialize(part)));
    }
    expect(() => decodeStreamingFetchRequest(Buffer.from([0x1a, 0x05, 0x08]))).toThrow(/past the end/);
    expect(() => decodeStreamingFetchRequest(Buffer.from([0x0f]))).toThrow(/wire type/);
    expect(() => decodeStreamingFetchRequest(Buffer.from([0x00]))).toThrow(/field number 0/);
    expect(() => decodeStreamingFetchRequest(Buffer.alloc(11, 0xff))).toThrow(/varint/);
  });

  it('never hangs or throws anything but a decode error on random bytes', () => {
    const next = rng(7);
    for (let i = 0; i < 2000; i++) {
      const bytes = Buffer.alloc(Math.floor(next() * 64));
      for (let j = 0; j < bytes.length; j++) bytes[j] = Math.floor(next() * 256);
      for (const decode of [decodeStreamingFetchRequest, decodeAppendResponse, decodeStreamingFetchResponse, decodeReceivedRecordList]) {
        try {
          decode(bytes);
        } catch (err) {
          expect((err as Error).name).toBe('Error');
          expect((err as Error).message).toMatch(/varint|past the end|wire type|field number 0|fixed-width|end group/);
        }
      }
    }
  });
});
