/**
 * The hand-written ListStreamsResponse encoder (src/wire/stream-list.ts)
 * against protobufjs: what it writes, protobufjs reads back as the same
 * streams as protobufjs's own encoding of them, edge values included.
 */
import type * as grpc from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { hstreamApiDefinition } from '../../src/proto.js';
import { encodeListStreamsResponse, type WireStream } from '../../src/wire/stream-list.js';

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
});
