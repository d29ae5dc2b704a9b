/**
 * HTTP/1.1 endpoints beside gRPC (off unless --http-port is given): health,
 * Prometheus metrics, and the /v1 REST gateway. Routes call the same core as
 * the gRPC handlers; this file only wires the router, the access checks and
 * the one error reply.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { ServerContext } from '../context.js';
import { errorReply, HttpError } from './errors.js';
import type { HttpHandler, HttpReply } from './handler.js';
import { gauges } from './metrics.js';
import { checkAccess, isLoopbackHost, readJsonObject, type AccessPolicy } from './request.js';
import { Router } from './router.js';
import { addStreamRoutes } from './streams.routes.js';

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function buildRouter(ctx: ServerContext): Router<HttpHandler> {
  const router = new Router<HttpHandler>()
    .add('GET', '/healthz', () => {
      const failure = ctx.store.writeFailure;
      if (failure || ctx.shutdown.aborted) return { status: 503, body: { status: 'unavailable', reason: failure?.message ?? 'shutting down' } };
      return { status: 200, body: { status: 'ok' } };
    })
    .add('GET', '/metrics', () => ({ status: 200, body: ctx.metrics.render(gauges(ctx)), contentType: 'text/plain; version=0.0.4' }));
  addStreamRoutes(router, ctx);
  return router;
}

function send(res: ServerResponse, reply: HttpReply, headOnly: boolean, extraHeaders: Record<string, string> = {}): void {
  const contentType = reply.contentType ?? 'application/json';
  const text = contentType === 'application/json' ? JSON.stringify(reply.body) : String(reply.body);
  res.writeHead(reply.status, { ...extraHeaders, 'content-type': contentType, 'content-length': Buffer.byteLength(text), 'x-content-type-options': 'nosniff' });
  res.end(headOnly ? undefined : text);
}

export async function startHttpServer(ctx: ServerContext, host: string, port: number): Promise<{ server: Server; port: number }> {
  const router = buildRouter(ctx);
  const policy: AccessPolicy = {
    loopbackOnly: isLoopbackHost(host),
    extraHosts: ctx.config.advertisedHost ? [ctx.config.advertisedHost] : [],
  };

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
    if ('allow' in found) {
      res.writeHead(204, { allow: found.allow.join(', '), 'content-length': 0 });
      res.end();
      return;
    }
    const reply = await found.handler({ params: found.params, query, json: () => readJsonObject(req), raw: req });
    send(res, reply, method === 'HEAD');
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (res.headersSent) return res.destroy();
      const reply = errorReply(err);
      if (reply.serverSide) ctx.log.error({ err: reply.cause, method: req.method, path: req.url?.slice(0, 200) }, 'http request failed');
      send(res, { status: reply.status, body: reply.body }, req.method === 'HEAD', reply.headers);
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
