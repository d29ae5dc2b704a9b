/** Loads our wire contract, proto/hstream.proto (package hstream.server, service HStreamApi). */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { withClientHotCodecs } from './wire/hot-messages.js';

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the hstreamlite package root');
    dir = parent;
  }
  return dir;
}

export const PROTO_PATH = join(packageRoot(), 'proto', 'hstream.proto');

/** Options under which handlers see messages: uint64 as decimal strings, enums as names, oneof discriminators. */
export const LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

let cached: grpc.ServiceDefinition | undefined;

export function hstreamApiDefinition(): grpc.ServiceDefinition {
  if (!cached) {
    const pkg = protoLoader.loadSync(PROTO_PATH, LOADER_OPTIONS);
    cached = pkg['hstream.server.HStreamApi'] as grpc.ServiceDefinition;
  }
  return cached;
}

/** A client constructor for tests, tools and the CLI (data-path messages on the hand-written codecs). */
export function hstreamApiClient(): grpc.ServiceClientConstructor {
  return grpc.makeGenericClientConstructor(withClientHotCodecs(hstreamApiDefinition()), 'HStreamApi');
}
