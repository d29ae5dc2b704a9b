/** What an HTTP route handler gets and gives back. */
import type { IncomingMessage } from 'node:http';

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
}

export type HttpHandler = (req: HttpRequest) => Promise<HttpReply> | HttpReply;
