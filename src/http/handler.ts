/** What an HTTP route handler gets and gives back. */
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface HttpRequest {
  params: Record<string, string>;
  query: URLSearchParams;
  /** the body as a JSON object (application/json only, size-bounded) */
  json(): Promise<Record<string, unknown>>;
  raw: IncomingMessage;
}

export interface HttpReply {
  status: number;
  /** JSON unless contentType says otherwise (then sent as text) */
  body: unknown;
  contentType?: string;
  /** extra response headers (caching of static files) */
  headers?: Record<string, string>;
}

/**
 * A reply written over time (server-sent events): the handler has written
 * its head and writes until done; `signal` aborts when the client goes away
 * or the server stops.
 */
export interface HttpStreamReply {
  stream(res: ServerResponse, signal: AbortSignal): Promise<void>;
}

export type HttpHandler = (req: HttpRequest) => Promise<HttpReply | HttpStreamReply> | HttpReply | HttpStreamReply;
