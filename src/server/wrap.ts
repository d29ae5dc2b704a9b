/**
 * Adapters from our async handlers to grpc-js call shapes. Every handler
 * error goes through toHStreamError here (the one place errors become gRPC
 * statuses) and is logged once, at a level by kind: client mistakes at
 * debug/warn, server-side failures at error with the cause.
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import type { Metrics } from '../core/metrics.js';
import { ErrorCode, invalidArgument, isClientMistake, toHStreamError } from '../errors.js';
import { grpcStatusOf } from './grpc-status.js';

/** Stands in for a request whose bytes are not the expected message, so the handler can refuse it. */
export class UndecodableRequest {
  constructor(readonly reason: string) {}
}

/**
 * The service definition with request decoders that never throw: grpc-js answers a decoder
 * exception with INTERNAL, but bytes that are not the expected message are the client's mistake.
 */
export function tolerantDecoders(definition: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const out: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const [name, method] of Object.entries(definition)) {
    const decode = method.requestDeserialize;
    out[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        try {
          return decode(bytes);
        } catch (err) {
          return new UndecodableRequest((err as Error).message);
        }
      },
    };
  }
  return out as grpc.ServiceDefinition;
}

function assertDecoded(request: unknown): void {
  if (request instanceof UndecodableRequest) {
    throw invalidArgument(ErrorCode.InternalError, 'DecodeRequestErr', { extra: `the request is not a valid message: ${request.reason}` });
  }
}

/** What every wrapped call reports to: the log, the metrics, and the server's shutdown signal. */
export interface CallEnv {
  log: Logger;
  metrics: Metrics;
  shutdown: AbortSignal;
}

export function toStatus(err: unknown, rpc: string, log: Logger): Partial<grpc.StatusObject> {
  const e = toHStreamError(err);
  const code = grpcStatusOf(e);
  if (isClientMistake(e)) log.debug({ rpc, code, details: e.details }, 'request refused');
  else if (e.kind === 'resource_exhausted') log.warn({ rpc, details: e.details }, 'request refused');
  else log.error({ rpc, code, err: e.cause ?? e }, 'request failed');
  const metadata = new grpc.Metadata();
  // grpc-js percent-encodes grpc-message with encodeURI ({, ", space…). The gRPC spec asks only
  // '%' and bytes outside 0x20–0x7E to be escaped, as upstream's C core does, and some clients
  // (Erlang grpc) do not decode: they must see the JSON body as is. Status metadata is merged into
  // the trailers last, so this value replaces the over-encoded one.
  metadata.set('grpc-message', grpcMessage(e.details));
  return { code, details: e.details, metadata };
}

/** Percent-encodes only what the gRPC spec requires for grpc-message. */
export function grpcMessage(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

export type UnaryFn<Req, Res> = (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res> | Res;

export function unary<Req, Res>(rpc: string, env: CallEnv, fn: UnaryFn<Req, Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const started = performance.now();
    let result: Promise<Res>;
    try {
      assertDecoded(call.request);
      result = Promise.resolve(fn(call.request, call));
    } catch (err) {
      result = Promise.reject(err);
    }
    result.then(
      (res) => {
        env.metrics.recordCall(rpc, grpc.status.OK, performance.now() - started);
        callback(null, res);
      },
      (err: unknown) => {
        const status = toStatus(err, rpc, env.log);
        env.metrics.recordCall(rpc, status.code ?? grpc.status.UNKNOWN, performance.now() - started);
        callback(status as grpc.ServiceError);
      },
    );
  };
}

/** Writes one message, waiting for the transport to drain so a slow reader holds the server back. */
export function send<T>(call: grpc.ServerWritableStream<unknown, T> | grpc.ServerDuplexStream<unknown, T>, message: T, signal: AbortSignal): Promise<void> {
  // an abort listener added after the abort never fires: the wait would last until a drain that may never come
  if (call.write(message) || signal.aborted) return Promise.resolve();
  return new Promise<void>((resolve) => {
    const done = () => {
      call.off('drain', done);
      signal.removeEventListener('abort', done);
      resolve();
    };
    call.on('drain', done);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** An AbortSignal that fires when the client cancels or the call ends. */
export function callSignal(call: StreamingCall): AbortController {
  const controller = new AbortController();
  const abort = () => controller.abort();
  call.on('cancelled', abort);
  call.on('close', abort);
  call.on('error', abort);
  return controller;
}

function endWithError(call: { emit(event: 'error', err: unknown): boolean; destroyed?: boolean }, status: Partial<grpc.StatusObject>): void {
  call.emit('error', status);
}

/** Ends a streaming call with UNAVAILABLE when the server shuts down, so shutdown never waits on a tail-follower. */
function onShutdown(call: { emit(event: 'error', err: unknown): boolean }, controller: AbortController, shutdown: AbortSignal): () => void {
  const stop = () => {
    if (controller.signal.aborted) return;
    controller.abort();
    endWithError(call, { code: grpc.status.UNAVAILABLE, details: 'the server is shutting down' });
  };
  if (shutdown.aborted) queueMicrotask(stop);
  else shutdown.addEventListener('abort', stop, { once: true });
  return stop;
}

type StreamingCall = grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>;

/** Runs a streaming handler: ends the call OK when it returns, with its status when it throws, quietly when cancelled. */
function runStreaming(call: StreamingCall, rpc: string, env: CallEnv, body: (signal: AbortSignal) => Promise<void>): void {
  const started = performance.now();
  const controller = callSignal(call);
  const stop = onShutdown(call, controller, env.shutdown);
  Promise.resolve()
    .then(() => body(controller.signal))
    .then(
      () => {
        env.metrics.recordCall(rpc, controller.signal.aborted ? grpc.status.CANCELLED : grpc.status.OK, performance.now() - started);
        if (!controller.signal.aborted) call.end();
      },
      (err: unknown) => {
        const status = toStatus(err, rpc, env.log);
        env.metrics.recordCall(rpc, status.code ?? grpc.status.UNKNOWN, performance.now() - started);
        if (!controller.signal.aborted) endWithError(call, status);
      },
    )
    .finally(() => {
      env.shutdown.removeEventListener('abort', stop);
      controller.abort();
    });
}

export type ServerStreamFn<Req, Res> = (req: Req, call: grpc.ServerWritableStream<Req, Res>, signal: AbortSignal) => Promise<void>;

export function serverStream<Req, Res>(rpc: string, env: CallEnv, fn: ServerStreamFn<Req, Res>): grpc.handleServerStreamingCall<Req, Res> {
  return (call) =>
    runStreaming(call as StreamingCall, rpc, env, (signal) => {
      assertDecoded(call.request);
      return fn(call.request, call, signal);
    });
}

export type BidiFn<Req, Res> = (call: grpc.ServerDuplexStream<Req, Res>, signal: AbortSignal) => Promise<void>;

export function bidi<Req, Res>(rpc: string, env: CallEnv, fn: BidiFn<Req, Res>): grpc.handleBidiStreamingCall<Req, Res> {
  return (call) => runStreaming(call as StreamingCall, rpc, env, (signal) => fn(call, signal));
}

const MAX_BUFFERED_MESSAGES = 256;

/** Reads the next message of a bidi call; undefined when the client half-closes or the call ends. */
export function messageReader<Req>(call: grpc.ServerDuplexStream<Req, unknown>, signal: AbortSignal): () => Promise<Req | undefined> {
  const queue: Req[] = [];
  let ended = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  let undecodable: unknown;
  call.on('data', (msg: Req) => {
    if (msg instanceof UndecodableRequest) {
      try {
        assertDecoded(msg);
      } catch (err) {
        undecodable ??= err;
      }
      ended = true;
      notify();
      return;
    }
    queue.push(msg);
    // Bound what a fast sender can make us hold: stop reading until the handler catches up.
    if (queue.length >= MAX_BUFFERED_MESSAGES) call.pause();
    notify();
  });
  call.on('end', () => {
    ended = true;
    notify();
  });
  signal.addEventListener('abort', () => {
    ended = true;
    notify();
  });
  return async () => {
    while (queue.length === 0 && !ended) await new Promise<void>((resolve) => (wake = resolve));
    if (queue.length === 0 && undecodable !== undefined) throw undecodable;
    const next = queue.shift();
    if (call.isPaused() && queue.length < MAX_BUFFERED_MESSAGES / 2) call.resume();
    return next;
  };
}
