/**
 * The bare gRPC baseline service: no storage, no bookkeeping. `Append`
 * carries the same bytes as our Append (the batch's records as
 * `repeated bytes`) and answers a count; `Stream` sends N messages of a given
 * size. Shared by the baseline child (server side) and the bench client.
 */
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';

const PROTO = `
syntax = "proto3";
package bench;
message AppendRequest { repeated bytes records = 1; }
message AppendAck { uint32 count = 1; }
message StreamRequest { uint32 messages = 1; uint32 messageBytes = 2; }
message Chunk { bytes payload = 1; }
`;

const root = protobuf.parse(PROTO).root;

export interface AppendRequest {
  records: Uint8Array[];
}
export interface AppendAck {
  count: number;
}
export interface StreamRequest {
  messages: number;
  messageBytes: number;
}
export interface Chunk {
  payload: Uint8Array;
}

function codec<T extends object>(typeName: string): { serialize: (value: T) => Buffer; deserialize: (bytes: Buffer) => T } {
  const type = root.lookupType(typeName);
  return {
    serialize: (value: T) => Buffer.from(type.encode(type.fromObject(value as Record<string, unknown>)).finish()),
    // Defaults matter: a count of 0 is absent on the wire.
    deserialize: (bytes: Buffer) => type.toObject(type.decode(bytes), { defaults: true }) as T,
  };
}

export const appendRequestCodec = codec<AppendRequest>('bench.AppendRequest');
export const appendAckCodec = codec<AppendAck>('bench.AppendAck');
export const streamRequestCodec = codec<StreamRequest>('bench.StreamRequest');
export const chunkCodec = codec<Chunk>('bench.Chunk');

export const APPEND_PATH = '/bench.Baseline/Append';
export const STREAM_PATH = '/bench.Baseline/Stream';

export const baselineService: grpc.ServiceDefinition = {
  Append: {
    path: APPEND_PATH,
    requestStream: false,
    responseStream: false,
    requestSerialize: appendRequestCodec.serialize,
    requestDeserialize: appendRequestCodec.deserialize,
    responseSerialize: appendAckCodec.serialize,
    responseDeserialize: appendAckCodec.deserialize,
  },
  Stream: {
    path: STREAM_PATH,
    requestStream: false,
    responseStream: true,
    requestSerialize: streamRequestCodec.serialize,
    requestDeserialize: streamRequestCodec.deserialize,
    responseSerialize: chunkCodec.serialize,
    responseDeserialize: chunkCodec.deserialize,
  },
};
