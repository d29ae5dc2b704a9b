/**
 * A copy of the server without the console's files (console/ left out of a
 * deployment) still starts with an HTTP port: the API serves and `/` says
 * what is missing, instead of the whole server refusing to start.
 */
import { cpSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { freePort } from '../../bench/db-process.js';
import { spawnServer, tempDir, type ServerProcess } from '../helpers/server.js';

const REPO = resolve(import.meta.dirname, '../..');
let server: ServerProcess;
let base: string;
let root: string;

beforeAll(async () => {
  root = tempDir('hstreamlite-no-console-');
  mkdirSync(root, { recursive: true });
  cpSync(join(REPO, 'dist'), join(root, 'dist'), { recursive: true });
  cpSync(join(REPO, 'proto'), join(root, 'proto'), { recursive: true });
  cpSync(join(REPO, 'package.json'), join(root, 'package.json'));
  symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'), 'dir');
  const httpPort = await freePort();
  server = await spawnServer(['--in-memory', '--http-port', String(httpPort)], join(root, 'dist/src/main.js'));
  base = `http://127.0.0.1:${httpPort}`;
}, 60_000);
afterAll(async () => {
  server?.child.kill('SIGTERM');
  await server?.exited;
  rmSync(root, { recursive: true, force: true });
});

it('serves the HTTP API without the console files and says at / what is missing', async () => {
  const page = await fetch(`${base}/`);
  expect(page.status).toBe(404);
  expect(((await page.json()) as { error: string }).error).toMatch(/the web console is not installed here \(.*console\/index\.html.*\); the HTTP API under \/v1 works/);
  const streams = await fetch(`${base}/v1/streams`);
  expect(streams.status).toBe(200);
  expect((await fetch(`${base}/healthz`)).status).toBe(200);
});
