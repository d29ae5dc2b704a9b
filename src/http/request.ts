/**
 * What the HTTP edge checks before a handler runs: who may ask (Host and
 * Origin), and what a body may be (JSON only, bounded size).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { HttpError } from './errors.js';

/** Bodies above this are refused while they are read, not after. */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

export function isLoopbackHost(hostname: string): boolean {
  const h = hostname.toLowerCase();
  return LOOPBACK_NAMES.has(h) || h.endsWith('.localhost') || (isIP(h) === 4 && h.startsWith('127.'));
}

/** The host name of a Host header value ("[::1]:8080" → "[::1]", "a:1" → "a"). */
function hostnameOf(host: string): string {
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  const colon = host.lastIndexOf(':');
  return colon < 0 ? host : host.slice(0, colon);
}

export interface AccessPolicy {
  /** the server listens on loopback only: requests must name a loopback host (DNS rebinding) */
  loopbackOnly: boolean;
  /** further host names a loopback-bound server answers to (the advertised host) */
  extraHosts: readonly string[];
}

/**
 * Refuses a request whose Host a loopback-bound server does not answer to,
 * and a state-changing request from another origin: a page elsewhere must
 * not create, append to or delete streams through a local browser.
 */
export function checkAccess(req: IncomingMessage, policy: AccessPolicy, changesState: boolean): void {
  const host = req.headers.host ?? '';
  if (policy.loopbackOnly) {
    const name = hostnameOf(host);
    if (!isLoopbackHost(name) && !policy.extraHosts.includes(name)) {
      throw new HttpError(403, `this server answers only to localhost, not to the host ${JSON.stringify(host.slice(0, 100))}`);
    }
  }
  if (!changesState) return;
  const origin = req.headers.origin;
  if (origin === undefined) return;
  let originHost: string | undefined;
  try {
    originHost = new URL(origin).host;
  } catch {
    originHost = undefined;
  }
  if (originHost === undefined || originHost !== host) {
    throw new HttpError(403, `requests from another origin (${origin.slice(0, 100)}) may not change anything here`);
  }
}

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * Refuses a request without `Authorization: Bearer <token>`. Compared as
 * digests in constant time: the reply time says nothing about the token.
 */
export function checkToken(req: IncomingMessage, token: string): void {
  const header = req.headers.authorization ?? '';
  const match = /^Bearer[ ]+(\S+)\s*$/i.exec(header);
  const challenge = { 'www-authenticate': 'Bearer realm="hstreamlite"' };
  if (!match) throw new HttpError(401, 'this server needs "Authorization: Bearer <token>" (the --http-token)', challenge);
  if (!timingSafeEqual(digest(match[1]!), digest(token))) throw new HttpError(401, 'the bearer token is not this server\'s --http-token', challenge);
}

export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  // The rest of a refused body is not read: the reply closes the connection instead.
  const tooLarge = () => new HttpError(413, `the request body is over ${limit} bytes`, { connection: 'close' });
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        req.pause();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * The body as a JSON object. Only `application/json` is read: other types are
 * what a browser sends cross-origin without asking first.
 */
export async function readJsonObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') {
    throw new HttpError(415, `the request body must be sent as application/json${type ? `, not ${type.slice(0, 100)}` : ''}`, { connection: 'close' });
  }
  const body = await readBody(req);
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8') || '{}');
  } catch {
    throw new HttpError(400, 'the request body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new HttpError(400, 'the request body must be a JSON object');
  return value as Record<string, unknown>;
}
