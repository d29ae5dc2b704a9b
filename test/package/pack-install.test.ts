/**
 * The package as another project gets it: `npm pack` of this checkout, installed into an
 * empty project with `npm install <tarball>`, then used the three ways the README shows
 * (library import, `npx hstreamlite`, `npx hstream`). Slow (npm installs the dependencies and
 * builds zstd-napi), so it runs once, in its own file, with generous bounds.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, tempDir } from '../helpers/server.js';

const run = promisify(execFile);
const REPO = join(import.meta.dirname, '..', '..');
const NPM_QUIET = ['--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'];

let root: string;
let project: string;

beforeAll(async () => {
  root = tempDir('hstreamlite-pack-');
  await run('npm', ['pack', '--silent', '--pack-destination', root], { cwd: REPO, maxBuffer: 64 << 20, timeout: 300_000 });
  const tarball = readdirSync(root).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error('npm pack produced no tarball');
  const app = join(root, 'app');
  mkdirSync(app);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'fixture-user', private: true, type: 'module' }));
  await run('npm', ['install', join(root, tarball), ...NPM_QUIET], { cwd: app, maxBuffer: 64 << 20, timeout: 600_000 });
  project = app;
}, 660_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('the packed tarball, installed as a dependency', () => {
  it("ships the built code and the proto, not the sources or the tests", async () => {
    const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO, maxBuffer: 64 << 20 });
    const files = (JSON.parse(stdout) as Array<{ files: Array<{ path: string }> }>)[0]!.files.map((f) => f.path);
    expect(files).toContain('dist/src/index.js');
    expect(files).toContain('dist/src/main.js');
    expect(files).toContain('proto/hstream.proto');
    expect(files.filter((f) => f.startsWith('test/') || f.startsWith('src/') || f.startsWith('dist/bench/') || f.endsWith('.map'))).toEqual([]);
  });

  it("import { startServer } from 'hstreamlite' starts and stops a server", async () => {
    writeFileSync(
      join(project, 'use.mjs'),
      `import { startServer } from 'hstreamlite';
const server = await startServer({ port: 0, inMemory: true });
console.log(JSON.stringify({ url: server.url }));
await server.close();`,
    );
    const { stdout } = await run('node', ['use.mjs'], { cwd: project, timeout: 60_000 });
    expect(JSON.parse(stdout.trim().split('\n').pop()!).url).toMatch(/^hstream:\/\/127\.0\.0\.1:\d+$/);
  });

  it('npx hstreamlite --port 0 --in-memory prints its listening line and stops on SIGTERM', async () => {
    // its own process group, so that whatever npx started is found and killed after the test even if npx leaves it behind
    const child = spawn('npx', ['--no-install', 'hstreamlite', '--port', '0', '--in-memory'], { cwd: project, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    try {
      await listensThenStops(child);
    } finally {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // the group is gone already
      }
    }
  }, 120_000);

  it('npx hstream --help runs', async () => {
    const { stdout, stderr } = await run('npx', ['--no-install', 'hstream', '--help'], { cwd: project, timeout: 60_000 });
    expect(stdout + stderr).toMatch(/stream/);
  });
});

/** Waits for the listening line, sends SIGTERM to npx, and checks that npx exits and the server's port stops accepting connections. */
async function listensThenStops(child: ChildProcess): Promise<void> {
  let out = '';
  const listening = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line within 60 s: ${out}`)), 60_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n').find((l) => /listening/i.test(l));
      if (line) {
        clearTimeout(timer);
        resolve(line);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
  });
  const port = Number(/127\.0\.0\.1:(\d+)/.exec(listening)?.[1]);
  expect(port).toBeGreaterThan(0);
  const exited = new Promise<string>((resolve) => child.on('exit', (code, signal) => resolve(`exited (${code ?? signal})`)));
  child.kill('SIGTERM');
  const bound = new Promise<string>((resolve) => setTimeout(() => resolve('still running 30 s after SIGTERM'), 30_000).unref());
  expect(await Promise.race([exited, bound])).toMatch(/^exited/);
  // npx exiting is not enough: the server it started must have stopped too (an orphan would keep the port)
  await eventually(async () => ((await accepts(port)) ? undefined : true), 30_000, 100);
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
