/**
 * HTTP/1.1 endpoints beside gRPC (off unless --http-port is given): health,
 * Prometheus metrics, the /v1 REST gateway and the web console. Routes call
 * the same core as the gRPC handlers; this file only wires the router, the
 * access checks (host, origin, token), the security headers and the one
 * error reply. With --enable-tls it serves HTTPS with the gRPC certificate.
 */
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { ServerContext } from '../context.js';
import { SampleRing } from '../core/samples.js';
import { sqlStatements } from '../core/sql-statements.js';
import { addConnectorRoutes } from './connectors.routes.js';
import { addConsoleRoutes } from './console.routes.js';
import { errorReply, HttpError } from './errors.js';
import type { HttpHandler, HttpReply, HttpStreamReply } from './handler.js';
import { gauges } from './metrics.js';
import { addOverviewRoutes } from './overview.routes.js';
import { addQueryRoutes } from './queries.routes.js';
import { addRecordRoutes } from './records.routes.js';
import { checkAccess, checkToken, isLoopbackHost, readJsonObject, type AccessPolicy } from './request.js';
import { Router } from './router.js';
import { addSqlRoutes, type PushQueriesDrained } from './sql.routes.js';
import { addStreamRoutes } from './streams.routes.js';
import { addSubscriptionRoutes } from './subscriptions.routes.js';

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * What loads without the token: health (probes hold no secrets) and the
 * console's own files (code, no server data: the page must load to ask for
 * the token). Judged on the segments the router matches, so "//v1/x" is
 * not mistaken for a file.
 */
function isPublic(pathname: string): boolean {
  const segments = pathname.split('/').filter((s) => s.length > 0);
  if (segments.length === 0) return true;
  if (segments.length === 1) return segments[0] === 'healthz';
  return segments.length === 2 && (segments[0] === 'console' || segments[0] === 'vendor');
}

function buildRouter(ctx: ServerContext, samples: SampleRing): { router: Router<HttpHandler>; importMapHash: string; drained: PushQueriesDrained } {
  const router = new Router<HttpHandler>()
    .add('GET', '/healthz', () => {
      const failure = ctx.store.writeFailure;
      if (failure || ctx.shutdown.aborted) return { status: 503, body: { status: 'unavailable', reason: failure?.message ?? 'shutting down' } };
      return { status: 200, body: { status: 'ok' } };
    })
    .add('GET', '/metrics', () => ({ status: 200, body: ctx.metrics.render(gauges(ctx)), contentType: 'text/plain; version=0.0.4' }));
  const sql = sqlStatements(ctx);
  addStreamRoutes(router, ctx);
  addRecordRoutes(router, ctx);
  addSubscriptionRoutes(router, ctx);
  addQueryRoutes(router, ctx, sql);
  addConnectorRoutes(router, ctx);
  const drained = addSqlRoutes(router, ctx, sql);
  addOverviewRoutes(router, ctx, samples);
  const { importMapHash, missing } = addConsoleRoutes(router);
  if (missing) ctx.log.warn(missing);
  return { router, importMapHash, drained };
}

/** Headers on every reply: the console's scripts come only from here, and no other site may frame it. */
function securityHeaders(importMapHash: string): Record<string, string> {
  return {
    'x-content-type-options': 'nosniff',
    'content-security-policy': `default-src 'self'; script-src 'self' ${importMapHash}; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'`,
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
  };
}

function send(res: ServerResponse, reply: HttpReply, headOnly: boolean, baseHeaders: Record<string, string>, extraHeaders: Record<string, string> = {}): void {
  const contentType = reply.contentType ?? 'application/json';
  const body = Buffer.isBuffer(reply.body) ? reply.body : Buffer.from(contentType === 'application/json' ? JSON.stringify(reply.body) : String(reply.body), 'utf8');
  res.writeHead(reply.status, { ...baseHeaders, ...reply.headers, ...extraHeaders, 'content-type': contentType, 'content-length': body.length });
  res.end(headOnly ? undefined : body);
}

/** Runs a streaming reply until it ends, the client leaves or the server stops. */
async function runStream(reply: HttpStreamReply, req: IncomingMessage, res: ServerResponse, shutdown: AbortSignal): Promise<void> {
  const gone = new AbortController();
  const onClose = () => gone.abort();
  res.on('close', onClose);
  req.on('close', () => {
    // a request stream closes once its body is read; only a destroyed socket means the client left
    if (req.socket.destroyed) onClose();
  });
  try {
    await reply.stream(res, AbortSignal.any([gone.signal, shutdown]));
  } finally {
    res.off('close', onClose);
    if (!res.writableEnded) res.end();
  }
}

/** TLS options from the gRPC flags: the same certificate, and client certificates when a CA is set. */
function tlsOptions(ctx: ServerContext) {
  const { tlsCertPath, tlsKeyPath, tlsCaPath } = ctx.config;
  const ca = tlsCaPath ? readFileSync(tlsCaPath) : undefined;
  return { cert: readFileSync(tlsCertPath), key: readFileSync(tlsKeyPath), ca, requestCert: ca !== undefined, rejectUnauthorized: ca !== undefined };
}

export interface HttpServer {
  server: Server;
  port: number;
  /** resolves when the push queries ended by the shutdown have deleted what they made */
  drained: PushQueriesDrained;
}

export async function startHttpServer(ctx: ServerContext, host: string, port: number): Promise<HttpServer> {
  const samples = new SampleRing({ stats: ctx.stats, metrics: ctx.metrics, deliveredRecords: () => ctx.subscriptions.deliveredRecords });
  const { router, importMapHash, drained } = buildRouter(ctx, samples);
  const headers = securityHeaders(importMapHash);
  const policy: AccessPolicy = {
    loopbackOnly: isLoopbackHost(host),
    extraHosts: ctx.config.advertisedHost ? [ctx.config.advertisedHost] : [],
  };
  const token = ctx.config.httpToken;

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const method = req.method ?? 'GET';
    // Path and query split by hand: a target such as "//x/y" is a path here, not a host.
    const target = req.url ?? '/';
    const q = target.indexOf('?');
    const pathname = q < 0 ? target : target.slice(0, q);
    const query = new URLSearchParams(q < 0 ? '' : target.slice(q + 1));
    if (!pathname.startsWith('/')) throw new HttpError(400, 'the request target must be a path');
    checkAccess(req, policy, STATE_CHANGING.has(method));
    const found = router.match(method, pathname);
    if (token && !isPublic(pathname)) checkToken(req, token);
    if ('allow' in found) {
      res.writeHead(204, { ...headers, allow: found.allow.join(', '), 'content-length': 0 });
      res.end();
      return;
    }
    const reply = await found.handler({ params: found.params, query, json: () => readJsonObject(req), raw: req });
    if ('stream' in reply) return runStream(reply, req, res, ctx.shutdown);
    send(res, reply, method === 'HEAD', headers);
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) return res.destroy();
      const reply = errorReply(err);
      if (reply.serverSide) ctx.log.error({ err: reply.cause, method: req.method, path: req.url?.slice(0, 200) }, 'http request failed');
      send(res, { status: reply.status, body: reply.body }, req.method === 'HEAD', headers, reply.headers);
    });
  };
  const server: Server = ctx.config.enableTls ? createHttpsServer(tlsOptions(ctx), onRequest) : createServer(onRequest);
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  samples.start();
  server.on('close', () => samples.stop());
  const address = server.address();
  return { server, port: typeof address === 'object' && address ? address.port : port, drained };
}
