/**
 * The hand-written ListStreamsResponse encoder (src/wire/stream-list.ts)
 * against protobufjs: what it writes, protobufjs reads back as the same
 * streams as protobufjs's own encoding of them, edge values included.
 */
import type * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { hstreamApiDefinition } from '../../src/proto.js';
import { decodeListStreamsResponse } from '../../src/wire/hot-messages.js';
import { encodeListStreamsResponse, encodeStreamEntries, type WireStream } from '../../src/wire/stream-list.js';

const api = hstreamApiDefinition();
const listStreams = api['ListStreams'] as grpc.MethodDefinition<unknown, unknown>;
const read = (bytes: Buffer) => listStreams.responseDeserialize(bytes);
const viaProtobufjs = (message: unknown) => read(listStreams.responseSerialize(message));

const EDGES: WireStream[] = [
  { streamName: 's', replicationFactor: 1, backlogDuration: 0, shardCount: 1, creationTime: { seconds: 1_733_300_000, nanos: 123_000_000 } },
  { streamName: 'ünïcødé_名前', replicationFactor: 0, backlogDuration: 2 ** 32 - 1, shardCount: 127, creationTime: { seconds: 0, nanos: 0 } },
  { streamName: 'x'.repeat(255), replicationFactor: 128, backlogDuration: 16_384, shardCount: 2 ** 31, creationTime: null },
  { streamName: '', replicationFactor: 3, backlogDuration: 604_800, shardCount: 0, creationTime: { seconds: '9007199254740993', nanos: 999_999_999 } },
];

describe('ListStreamsResponse encoder', () => {
  it('protobufjs reads what it writes as the same streams it reads from its own encoding, edge values included', () => {
    const message = { streams: EDGES };
    expect(read(encodeListStreamsResponse(message))).toEqual(viaProtobufjs(message));
  });

  it('an empty listing is an empty message', () => {
    expect(encodeListStreamsResponse({ streams: [] }).length).toBe(0);
    expect(read(encodeListStreamsResponse({ streams: [] }))).toEqual(viaProtobufjs({ streams: [] }));
  });

  it('10,000 streams come back in order with their names', () => {
    const streams = Array.from({ length: 10_000 }, (_, i): WireStream => ({
      streamName: `s_${i}`,
      replicationFactor: 1,
      backlogDuration: i,
      shardCount: 1 + (i % 7),
      creationTime: { seconds: 1_700_000_000 + i, nanos: i * 1000 },
    }));
    expect(read(encodeListStreamsResponse({ streams }))).toEqual(viaProtobufjs({ streams }));
  });

  it('any subset of the entries, copied in order, reads as the listing of that subset', () => {
    const streams = [...EDGES, ...EDGES.map((s, i) => ({ ...s, streamName: `${s.streamName}_${i}` }))];
    const { bytes, offsets } = encodeStreamEntries(streams);
    expect(offsets[0]).toBe(0);
    expect(offsets[streams.length]).toBe(bytes.length);
    for (const keep of [[0], [1, 2], [0, 3, 5], [7], [2, 4, 6, 7]]) {
      const picked = Buffer.concat(keep.map((i) => bytes.subarray(offsets[i], offsets[i + 1])));
      expect(read(picked)).toEqual(viaProtobufjs({ streams: keep.map((i) => streams[i]) }));
    }
  });

  it('the client decoder reads what protobufjs reads, edge values and an empty listing included', () => {
    const many = Array.from({ length: 1000 }, (_, i): WireStream => ({ ...EDGES[i % EDGES.length]!, streamName: `m_${i}`, backlogDuration: i * 977 }));
    for (const streams of [EDGES, [], many]) {
      const bytes = listStreams.responseSerialize({ streams });
      expect(decodeListStreamsResponse(bytes)).toEqual(read(bytes));
    }
  });
});
