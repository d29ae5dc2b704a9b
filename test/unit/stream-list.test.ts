/**
 * The hand-written ListStreamsResponse encoder (src/wire/stream-list.ts)
 * against protobufjs: what it writes, protobufjs reads back as the same
 * streams as protobufjs's own encoding of them, edge values included.
 */
import type * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { hstreamApiDefinition } from '../../src/proto.js';
import { decodeListStreamsResponse, decodeStream, withClientHotCodecs, withServerHotCodecs } from '../../src/wire/hot-messages.js';
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
    const { bytes, offsets } = encodeStreamEntries(streams.length, (i) => streams[i]!);
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

describe('CreateStream Stream codec', () => {
  const protobufjs = api['CreateStream'] as grpc.MethodDefinition<unknown, unknown>;
  const client = withClientHotCodecs(api)['CreateStream'] as grpc.MethodDefinition<unknown, unknown>;
  const server = withServerHotCodecs(api)['CreateStream'] as grpc.MethodDefinition<unknown, unknown>;
  const requests: unknown[] = [
    ...EDGES,
    // what the tests, the CLI and the benchmarks send: no creationTime
    { streamName: 'bench', replicationFactor: 1, backlogDuration: 0, shardCount: 1 },
    { streamName: 'only_name' },
  ];

  // protobufjs writes fields set to their default too; the hand-written side leaves them out (as
  // proto3 allows), so what is compared is what a reader gets from the bytes
  const readRequest = (bytes: Buffer) => protobufjs.requestDeserialize(bytes);
  const readReply = (bytes: Buffer) => protobufjs.responseDeserialize(bytes);

  it('both sides write what protobufjs reads as it reads its own encoding, and read as protobufjs does', () => {
    for (const message of requests) {
      const bytes = protobufjs.requestSerialize(message);
      expect(readRequest(client.requestSerialize(message))).toEqual(readRequest(bytes));
      expect(server.requestDeserialize(bytes)).toEqual(readRequest(bytes));
      expect(server.requestDeserialize(client.requestSerialize(message))).toEqual(readRequest(bytes));
      expect(readReply(server.responseSerialize(message))).toEqual(readReply(protobufjs.responseSerialize(message)));
      expect(client.responseDeserialize(bytes)).toEqual(readReply(bytes));
    }
  });

  it('values protobufjs would convert go through protobufjs: the same bytes', () => {
    const converted: unknown[] = [
      { streamName: 's', shardCount: '3', replicationFactor: 1.5 },
      { streamName: 's', backlogDuration: -1 },
      { streamName: 's', creationTime: { seconds: -5, nanos: -1 } },
      { streamName: 's', creationTime: { seconds: '99999999999999999999', nanos: 0 } },
      { shardCount: 2 },
    ];
    for (const message of converted) expect(client.requestSerialize(message)).toEqual(protobufjs.requestSerialize(message));
  });

  it('unknown fields are skipped and a cut message is refused', () => {
    const bytes = protobufjs.requestSerialize({ streamName: 'abc', shardCount: 2, creationTime: { seconds: 12, nanos: 3 } });
    const withUnknown = Buffer.concat([bytes, Buffer.from([0x38, 0x05, 0x42, 0x01, 0x00])]);
    expect(decodeStream(withUnknown)).toEqual(protobufjs.requestDeserialize(withUnknown));
    expect(() => decodeStream(bytes.subarray(0, bytes.length - 1))).toThrow();
  });
});
