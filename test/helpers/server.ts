/**
 * Test harness: a real server on an ephemeral port with real LevelDB in a
 * temp dir (in-process), or a spawned server process for crash tests.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { HStreamClient } from '../../src/client.js';
import { startServer, type RunningServer, type StartOptions } from '../../src/server.js';

/** Directories made by tempDir() in this test file; test/helpers/remove-temp-dirs.ts removes them after the file. */
const madeTempDirs: string[] = [];

/** A fresh directory under the OS temp dir, removed after the test file that made it. */
export function tempDir(prefix = 'hstreamlite-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  madeTempDirs.push(dir);
  return dir;
}

/** Removes every directory tempDir() made so far. */
export function removeTempDirs(): void {
  for (const dir of madeTempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export interface TestServer {
  server: RunningServer;
  client: HStreamClient;
  dataDir: string;
  /** closes client and server; keeps the data dir */
  stop(): Promise<void>;
  /** stop() and remove the data dir */
  destroy(): Promise<void>;
}

export async function startTestServer(options: StartOptions & { dataDir?: string } = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? tempDir();
  const server = await startServer({ port: 0, logLevel: 'silent', ...options, dataDir });
  const client = new HStreamClient(server.address);
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    client.close();
    await server.close();
  };
  return {
    server,
    client,
    dataDir,
    stop,
    destroy: async () => {
      await stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const MAIN = resolve(import.meta.dirname, '../../dist/src/main.js');

export interface ServerProcess {
  child: ChildProcess;
  port: number;
  address: string;
  /** resolves with the exit code or signal when the process ends */
  exited: Promise<number | NodeJS.Signals | null>;
}

/** Spawns `node dist/src/main.js` (built by `npm test`) and waits for its "listening" line. */
export async function spawnServer(args: string[], main = MAIN): Promise<ServerProcess> {
  const child = spawn(process.execPath, [main, '--port', '0', '--log-level', 'warn', ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) =>
    child.once('exit', (code, signal) => resolve(code ?? signal)),
  );
  const lines = createInterface({ input: child.stdout! });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start within 20 s')), 20_000);
    lines.on('line', (line) => {
      try {
        const msg = JSON.parse(line) as { event?: string; port?: number };
        if (msg.event === 'listening' && msg.port) {
          clearTimeout(timer);
          resolve(msg.port);
        }
      } catch {
        // not our line
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`server exited before listening (${String(code)})`));
    });
  });
  return { child, port, address: `127.0.0.1:${port}`, exited };
}

/** Polls `check` until it returns a truthy value or the deadline passes. */
export async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000, everyMs = 20): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
