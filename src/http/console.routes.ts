/**
 * The web console's files: console/ of this package and the three browser
 * libraries it uses (Preact, htm, uPlot), served as plain ES modules with an
 * import map, so there is no bundler or build step. Only the files named
 * here are served, read once at start and kept gzipped as well (~70 KB in all).
 *
 * These files hold no server data, so they load without the HTTP token: the
 * page asks for the token and sends it with every /v1 call.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { HttpHandler, HttpReply } from './handler.js';
import type { Router } from './router.js';

interface StaticFile {
  body: Buffer;
  gzipped: Buffer;
  contentType: string;
}

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.html': 'text/html; charset=utf-8',
  '.png': 'image/png',
};

/** Library files by the name the console imports them as, relative to their package's folder. */
const VENDOR: Record<string, [pkg: string, file: string]> = {
  'preact.mjs': ['preact', 'dist/preact.mjs'],
  'preact-hooks.mjs': ['preact', 'hooks/dist/hooks.mjs'],
  'htm.mjs': ['htm', 'dist/htm.mjs'],
  'uplot.mjs': ['uplot', 'dist/uPlot.esm.js'],
  'uplot.css': ['uplot', 'dist/uPlot.min.css'],
};

/** Bare specifiers the libraries import each other by (preact/hooks imports "preact"). */
const IMPORT_MAP = JSON.stringify({ imports: { preact: '/vendor/preact.mjs', 'preact/hooks': '/vendor/preact-hooks.mjs', htm: '/vendor/htm.mjs', uplot: '/vendor/uplot.mjs' } });

/** The package root: the folder above this file (src/http or dist/src/http) that holds console/. */
function packageRoot(): string {
  let dir = import.meta.dirname;
  for (let i = 0; i < 5; i++) {
    if (existsSync(join(dir, 'console', 'index.html')) && existsSync(join(dir, 'package.json'))) return dir;
    dir = dirname(dir);
  }
  throw new Error(`the console files (console/index.html) are not found above ${import.meta.dirname}`);
}

function packageDir(root: string, pkg: string): string {
  const require = createRequire(join(root, 'package.json'));
  // the entry point's folder may be nested (dist/); the package folder is the one named after it
  let dir = dirname(require.resolve(pkg));
  while (!(existsSync(join(dir, 'package.json')) && dir.endsWith(`node_modules/${pkg}`))) {
    if (dirname(dir) === dir) throw new Error(`the console library ${pkg} is not installed`);
    dir = dirname(dir);
  }
  return dir;
}

function file(path: string, text?: string): StaticFile {
  const body = text === undefined ? readFileSync(path) : Buffer.from(text, 'utf8');
  const ext = path.slice(path.lastIndexOf('.'));
  return { body, gzipped: gzipSync(body, { level: 9 }), contentType: TYPES[ext] ?? 'application/octet-stream' };
}

export interface ConsoleFiles {
  /** the CSP hash of the inline import map, which script-src 'self' alone would block */
  importMapHash: string;
  /** why the console is not served, when it is not */
  missing?: string;
}

/**
 * Serves the console; without its files (a copy of the server that left
 * console/ or a library out) the HTTP API still serves and `/` says what is
 * missing, rather than the server refusing to start.
 */
export function addConsoleRoutes(router: Router<HttpHandler>): ConsoleFiles {
  try {
    return addConsoleFiles(router);
  } catch (err) {
    const missing = `the web console is not installed here (${(err as Error).message}); the HTTP API under /v1 works`;
    router.add('GET', '/', () => ({ status: 404, body: { error: missing, code: null, extra: null } }));
    return { importMapHash: '', missing };
  }
}

function addConsoleFiles(router: Router<HttpHandler>): ConsoleFiles {
  const root = packageRoot();
  const consoleDir = join(root, 'console');
  const importMap = `<script type="importmap">${IMPORT_MAP}</script>`;
  const importMapHash = `'sha256-${createHash('sha256').update(IMPORT_MAP).digest('base64')}'`;
  const index = file(join(consoleDir, 'index.html'), readFileSync(join(consoleDir, 'index.html'), 'utf8').replace('<!-- importmap -->', importMap));

  const files = new Map<string, StaticFile>();
  for (const name of readdirSync(consoleDir)) {
    if (/^[a-z0-9-]+\.(js|css|png)$/.test(name)) files.set(name, file(join(consoleDir, name)));
  }
  const vendor = new Map<string, StaticFile>();
  for (const [name, [pkg, rel]] of Object.entries(VENDOR)) vendor.set(name, file(join(packageDir(root, pkg), rel)));

  const serve = (f: StaticFile | undefined, acceptEncoding: string | string[] | undefined): HttpReply => {
    if (!f) return { status: 404, body: { error: 'no such console file', code: null, extra: null } };
    const gzip = typeof acceptEncoding === 'string' && /\bgzip\b/.test(acceptEncoding);
    return {
      status: 200,
      body: gzip ? f.gzipped : f.body,
      contentType: f.contentType,
      // revalidated each load: a new server version must not run with old files
      headers: { 'cache-control': 'no-cache', vary: 'accept-encoding', ...(gzip ? { 'content-encoding': 'gzip' } : {}) },
    };
  };

  router
    .add('GET', '/', (req) => serve(index, req.raw.headers['accept-encoding']))
    .add('GET', '/console/:file', (req) => serve(files.get(req.params.file!), req.raw.headers['accept-encoding']))
    .add('GET', '/vendor/:file', (req) => serve(vendor.get(req.params.file!), req.raw.headers['accept-encoding']));
  return { importMapHash };
}
