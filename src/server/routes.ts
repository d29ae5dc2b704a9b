/**
 * The single route table: which RPCs this server answers, by API area.
 * Every other RPC of HStreamApi answers UNIMPLEMENTED with a message saying so.
 */
import * as grpc from '@grpc/grpc-js';
import type { ServerContext } from '../context.js';
import { unimplemented } from '../errors.js';
import { hstreamApiDefinition } from '../proto.js';
import { clusterRoutes } from './cluster.handlers.js';
import { connectorRoutes } from './connector.handlers.js';
import { queryRoutes } from './query.handlers.js';
import { readerRoutes } from './shard-reader.handlers.js';
import { statsRoutes } from './stats.handlers.js';
import { streamRoutes } from './stream.handlers.js';
import { subscriptionRoutes } from './subscription.handlers.js';
import { bidi, serverStream, unary, type BidiFn, type ServerStreamFn, type UnaryFn } from './wrap.js';

// Parameter types are `never` so any concrete request type fits; each handler declares its own.
export type Route = UnaryFn<never, unknown> | ServerStreamFn<never, unknown> | BidiFn<never, unknown>;
export type RouteTable = Record<string, Route>;

export function buildRoutes(ctx: ServerContext): RouteTable {
  return {
    ...clusterRoutes(ctx),
    ...streamRoutes(ctx),
    ...readerRoutes(ctx),
    ...subscriptionRoutes(ctx),
    ...statsRoutes(ctx),
    ...queryRoutes(ctx, ctx.queries),
    ...connectorRoutes(ctx),
  };
}

/** The grpc-js implementation object for every method of the service. */
export function implementation(ctx: ServerContext, routes: RouteTable): grpc.UntypedServiceImplementation {
  const impl: grpc.UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(hstreamApiDefinition())) {
    const route = routes[name];
    const env = { log: ctx.log, metrics: ctx.metrics, shutdown: ctx.shutdown };
    if (method.requestStream && method.responseStream) {
      impl[name] = bidi(name, env, (route ?? missing(name)) as BidiFn<unknown, unknown>);
    } else if (method.responseStream) {
      impl[name] = serverStream(name, env, (route ?? missing(name)) as ServerStreamFn<unknown, unknown>);
    } else if (method.requestStream) {
      impl[name] = (_call: grpc.ServerReadableStream<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) =>
        callback({ code: grpc.status.UNIMPLEMENTED, details: `${name} is not implemented by hstreamlite` });
    } else {
      impl[name] = unary(name, env, (route ?? missing(name)) as UnaryFn<unknown, unknown>);
    }
  }
  return impl;
}

function missing(name: string): () => never {
  return () => {
    throw unimplemented(`${name} is not implemented by hstreamlite yet`);
  };
}
