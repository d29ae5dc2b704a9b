/**
 * HTTP/1.1 endpoints beside gRPC (off unless --http-port is given): health,
 * Prometheus metrics, and a small REST gateway shaped like upstream's
 * hstreamdb/http-services, so curl and autocannon can drive the server.
 * Handlers call the same core functions as the gRPC handlers.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { ServerContext } from '../context.js';
import type { Gauge } from '../core/metrics.js';
import { ErrorCode, invalidArgument, toHStreamError } from '../errors.js';
import { encodeStruct } from '../struct.js';
import { toStreamMessage } from '../server/convert.js';
import type { Stream } from '../server/messages.js';
import { validateName } from '../server/validate.js';

/** Bodies above this are refused before they are read in full. */
const MAX_BODY_BYTES = 2 * 1024 * 1024;

const GRPC_TO_HTTP: Record<number, number> = { 3: 400, 5: 404, 6: 409, 9: 412, 8: 429, 14: 503, 12: 501, 10: 409 };

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, `request body over ${MAX_BODY_BYTES} bytes`));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const body = await readBody(req);
  try {
    const value: unknown = JSON.parse(body.toString('utf8') || '{}');
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('not an object');
    return value as Record<string, unknown>;
  } catch {
    throw new HttpError(400, 'the request body must be a JSON object');
  }
}

/** A JSON number field; absent or null gives `fallback`, any other type is a 400. */
function numberField(body: Record<string, unknown>, key: string, fallback: number): number {
  const value = body[key];
  if (value === undefined || value === null) return fallback;
  if (typeof value !== 'number') throw new HttpError(400, `${key} must be a JSON number, got ${JSON.stringify(value).slice(0, 100)}`);
  return value;
}

function send(res: ServerResponse, status: number, body: unknown, contentType = 'application/json'): void {
  const text = contentType === 'application/json' ? JSON.stringify(body) : String(body);
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function streamJson(s: Stream) {
  return {
    stream_name: s.streamName,
    replication_factor: s.replicationFactor,
    backlog_duration: s.backlogDuration,
    shard_count: s.shardCount,
  };
}

export function gauges(ctx: ServerContext): Gauge[] {
  const streams = ctx.streams.list();
  const per = (metric: 'appends' | 'append_in_records' | 'append_in_requests' | 'append_failed_requests') =>
    streams.map((s) => ({ labels: { stream: s.name }, value: ctx.stats.total(s.name, metric) }));
  const subs = ctx.subscriptions.list();
  const lag: Gauge['samples'] = [];
  const unacked: Gauge['samples'] = [];
  const consumers: Gauge['samples'] = [];
  for (const view of subs) {
    const sub = ctx.subscriptions.find(view.meta.subscriptionId);
    if (!sub) continue;
    unacked.push({ labels: { subscription: sub.id }, value: sub.unackedRecords });
    consumers.push({ labels: { subscription: sub.id }, value: sub.consumerCount });
    let behind = 0;
    for (const { shardId, lsn } of sub.committed()) {
      if (!ctx.store.hasLog(shardId)) continue;
      behind += Math.max(0, ctx.store.tail(shardId) - Math.max(lsn, ctx.store.head(shardId) - 1));
    }
    lag.push({ labels: { subscription: sub.id }, value: behind });
  }
  return [
    { name: 'hstream_streams', help: 'Streams that exist.', samples: [{ labels: {}, value: streams.length }] },
    { name: 'hstream_append_bytes_total', help: 'Bytes appended per stream since start.', samples: per('appends') },
    { name: 'hstream_append_records_total', help: 'Records appended per stream since start.', samples: per('append_in_records') },
    { name: 'hstream_append_requests_total', help: 'Append calls per stream since start.', samples: per('append_in_requests') },
    { name: 'hstream_append_failed_total', help: 'Failed append calls per stream since start.', samples: per('append_failed_requests') },
    { name: 'hstream_subscription_lag_batches', help: 'Batches stored after the committed offset, per subscription.', samples: lag },
    { name: 'hstream_subscription_unacked_records', help: 'Delivered records not acknowledged yet.', samples: unacked },
    { name: 'hstream_subscription_consumers', help: 'Consumers attached per subscription.', samples: consumers },
    { name: 'hstream_queries_running', help: 'Continuous queries running.', samples: [{ labels: {}, value: ctx.queries.runningCount() }] },
  ];
}

export async function startHttpServer(ctx: ServerContext, host: string, port: number): Promise<{ server: Server; port: number }> {
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    if (path === '/healthz' && method === 'GET') {
      const failure = ctx.store.writeFailure;
      if (failure || ctx.shutdown.aborted) return send(res, 503, { status: 'unavailable', reason: failure?.message ?? 'shutting down' });
      return send(res, 200, { status: 'ok' });
    }
    if (path === '/metrics' && method === 'GET') {
      return send(res, 200, ctx.metrics.render(gauges(ctx)), 'text/plain; version=0.0.4');
    }
    if (path === '/v1/streams') {
      if (method === 'GET') return send(res, 200, ctx.streams.list().map((s) => streamJson(toStreamMessage(s))));
      if (method === 'POST') {
        const body = await readJson(req);
        // JSON numbers only; the core checks they are whole and in range.
        const stream = await ctx.streams.create({
          name: validateName('stream', typeof body.stream_name === 'string' ? body.stream_name : ''),
          replicationFactor: numberField(body, 'replication_factor', 1),
          backlogDuration: numberField(body, 'backlog_duration', 0),
          shardCount: numberField(body, 'shard_count', 1),
        });
        return send(res, 201, streamJson(toStreamMessage(stream)));
      }
    }
    const m = /^\/v1\/streams\/([^/]+)$/.exec(path);
    if (m) {
      const name = validateName('stream', decodeURIComponent(m[1]!));
      if (method === 'GET') return send(res, 200, streamJson(toStreamMessage(ctx.streams.get(name))));
      if (method === 'DELETE') {
        await ctx.streams.delete(name, { ignoreNonExist: false, force: url.searchParams.get('force') === 'true' });
        return send(res, 200, {});
      }
      if (method === 'POST') {
        const body = await readJson(req);
        const key = typeof body.key === 'string' ? body.key : '';
        const type = body.type === 'RAW' ? 'RAW' : 'HRECORD';
        const data = body.data;
        let payload: Buffer;
        if (type === 'RAW') payload = Buffer.from(typeof data === 'string' ? data : JSON.stringify(data ?? null), 'utf8');
        else if (typeof data === 'object' && data !== null && !Array.isArray(data)) payload = encodeStruct(data as Record<string, unknown>);
        else throw invalidArgument(ErrorCode.InternalError, 'InvalidRecord', { extra: 'HRECORD data must be a JSON object' });
        const [appended] = await ctx.producer.appendRecords(name, [{ header: { flag: type === 'RAW' ? 'RAW' : 'JSON', attributes: {}, key }, payload }]);
        // one record: the first (and only) id of its batch
        return send(res, 200, { shard_id: String(appended!.shardId), batch_id: String(appended!.lsn), batch_index: 0 });
      }
    }
    throw new HttpError(404, `no route for ${method} ${path}`);
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) return res.destroy();
      if (err instanceof HttpError) return send(res, err.status, { error: err.message });
      const e = toHStreamError(err);
      if (GRPC_TO_HTTP[e.grpcStatus] === undefined) ctx.log.error({ err: e.cause ?? e }, 'http request failed');
      send(res, GRPC_TO_HTTP[e.grpcStatus] ?? 500, { error: e.message, code: e.errorCode, extra: e.extra });
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : port };
}
