/**
 * A small method-and-path router on node:http: exact segments and `:param`
 * segments, trailing slashes ignored. A path that exists with another method
 * answers 405 with Allow, OPTIONS answers the Allow list, and HEAD runs the
 * GET handler without sending its body.
 */
import { HttpError } from './errors.js';

export type Method = 'GET' | 'POST' | 'DELETE';

export interface Match<H> {
  handler: H;
  params: Record<string, string>;
}

interface Route<H> {
  method: Method;
  segments: string[];
  handler: H;
}

export class Router<H> {
  readonly #routes: Array<Route<H>> = [];

  add(method: Method, path: string, handler: H): this {
    this.#routes.push({ method, segments: splitPath(path), handler });
    return this;
  }

  /** The handler for a request, or an HttpError (404, 405, 400 for a malformed escape). OPTIONS is the caller's. */
  match(method: string, pathname: string): Match<H> | { allow: string[] } {
    const parts = splitPath(pathname);
    const allow: string[] = [];
    for (const route of this.#routes) {
      const params = matchSegments(route.segments, parts);
      if (!params) continue;
      if (route.method === method || (method === 'HEAD' && route.method === 'GET')) return { handler: route.handler, params };
      allow.push(route.method);
    }
    if (allow.length === 0) throw new HttpError(404, `no route for ${pathname.slice(0, 200)}`);
    if (allow.includes('GET')) allow.push('HEAD');
    allow.push('OPTIONS');
    if (method === 'OPTIONS') return { allow };
    throw new HttpError(405, `${method} is not allowed on ${pathname.slice(0, 200)}; allowed: ${allow.join(', ')}`, { allow: allow.join(', ') });
  }
}

function splitPath(path: string): string[] {
  return path.split('/').filter((s) => s.length > 0);
}

function matchSegments(pattern: string[], parts: string[]): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const want = pattern[i]!;
    const got = parts[i]!;
    if (want.startsWith(':')) {
      try {
        params[want.slice(1)] = decodeURIComponent(got);
      } catch {
        throw new HttpError(400, `the path segment ${got.slice(0, 100)} is not valid percent-encoding`);
      }
    } else if (want !== got) {
      return undefined;
    }
  }
  return params;
}
