/**
 * The server under test as a child process: `node dist/src/main.js`, its
 * stderr kept (the last 256 KiB) so a failure can show what the server said,
 * its exit observed so a crash is never mistaken for a slow answer, and its
 * memory read from /proc. Built by `npm run test:reliability`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

/** The server entry point: the suite's snapshot of dist/ (global-setup.ts), or dist/ itself. */
export const MAIN = process.env.RELIABILITY_SERVER_MAIN ?? resolve(import.meta.dirname, '../../dist/src/main.js');
const STDERR_KEEP_BYTES = 256 * 1024;

/** Every server still running: killed when the test process exits, so a failed scenario leaks none. */
const running = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface LaunchOptions {
  /** extra CLI flags (besides --port 0) */
  args: string[];
  logLevel?: string;
  /** run as this uid/gid (root can set them); used to make chmod matter */
  uid?: number;
  gid?: number;
  env?: NodeJS.ProcessEnv;
  /** how long to wait for "listening" */
  timeoutMs?: number;
}

export class ServerProcess {
  readonly child: ChildProcess;
  /** resolves when the process ends */
  readonly exited: Promise<Exit>;
  exit: Exit | undefined;
  port = 0;
  /** ms from spawn to the "listening" line */
  startMs = 0;
  private stderrChunks: Buffer[] = [];
  private stderrBytes = 0;
  private stdoutText = '';

  constructor(options: LaunchOptions) {
    const spawnedAt = performance.now();
    this.child = spawn(process.execPath, [MAIN, '--port', '0', '--log-level', options.logLevel ?? 'warn', ...options.args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      uid: options.uid,
      gid: options.gid,
      env: { ...process.env, ...options.env },
    });
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.stderrChunks.push(chunk);
      this.stderrBytes += chunk.length;
      while (this.stderrBytes > STDERR_KEEP_BYTES && this.stderrChunks.length > 1) {
        this.stderrBytes -= this.stderrChunks.shift()!.length;
      }
    });
    running.add(this.child);
    this.exited = new Promise<Exit>((done) =>
      this.child.once('exit', (code, signal) => {
        running.delete(this.child);
        this.exit = { code, signal };
        done(this.exit);
      }),
    );
    this.listening = new Promise<number>((done, fail) => {
      const timer = setTimeout(() => fail(new Error(`server did not listen within ${options.timeoutMs ?? 20_000} ms\n${this.stderr()}`)), options.timeoutMs ?? 20_000);
      createInterface({ input: this.child.stdout! }).on('line', (line) => {
        this.stdoutText += line + '\n';
        try {
          const msg = JSON.parse(line) as { event?: string; port?: number };
          if (msg.event === 'listening' && msg.port) {
            clearTimeout(timer);
            this.port = msg.port;
            this.startMs = performance.now() - spawnedAt;
            done(msg.port);
          }
        } catch {
          // not our line
        }
      });
      void this.exited.then((exit) => {
        clearTimeout(timer);
        fail(new ServerExitedError(exit, this.stderr()));
      });
    });
    // a caller that only waits for the exit must not see an unhandled rejection
    this.listening.catch(() => undefined);
  }

  /** resolves with the port once the server listens; rejects if it exits first */
  readonly listening: Promise<number>;

  get pid(): number {
    return this.child.pid!;
  }

  get address(): string {
    return `127.0.0.1:${this.port}`;
  }

  get alive(): boolean {
    return this.exit === undefined;
  }

  stderr(): string {
    return Buffer.concat(this.stderrChunks).toString('utf8');
  }

  stdout(): string {
    return this.stdoutText;
  }

  /** Resident memory in KiB, from /proc; undefined once the process is gone. */
  rssKiB(): number | undefined {
    return this.memoryKiB()?.rss;
  }

  /**
   * Resident memory in KiB split as /proc reports it: `anon` is the process's
   * own (heaps, buffers, LevelDB's memtables and cache), `file` is mapped
   * files (the binary, and LevelDB's table files, which it mmaps and whose
   * pages stay resident once read: page cache the kernel can take back).
   * Undefined once the process is gone.
   */
  memoryKiB(): { rss: number; anon: number; file: number } | undefined {
    try {
      const text = readFileSync(`/proc/${this.pid}/status`, 'utf8');
      const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
      const rss = field('VmRSS');
      // a zombie (exited, not yet reaped) has no memory lines
      return Number.isNaN(rss) ? undefined : { rss, anon: field('RssAnon') + field('RssShmem'), file: field('RssFile') };
    } catch {
      return undefined;
    }
  }

  /** CPU time the process has used, in seconds (user + system), from /proc. */
  cpuSeconds(): number | undefined {
    try {
      const fields = readFileSync(`/proc/${this.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return (Number(fields[11]) + Number(fields[12])) / 100;
    } catch {
      return undefined;
    }
  }

  /** SIGKILL and wait for the exit. */
  async kill9(): Promise<Exit> {
    if (this.alive) this.child.kill('SIGKILL');
    return this.exited;
  }

  /** SIGTERM, wait up to `timeoutMs`, then SIGKILL; returns the exit. */
  async stop(timeoutMs = 15_000): Promise<Exit> {
    if (!this.alive) return this.exited;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** A short description for failure messages: exit status and the tail of stderr. */
  describe(): string {
    const exit = this.exit ? `exited code=${this.exit.code} signal=${this.exit.signal}` : `alive pid=${this.pid}, cpu ${this.cpuSeconds()} s, rss ${this.rssKiB()} KiB`;
    const err = this.stderr();
    return `${exit}\n--- server stderr (last ${Math.min(err.length, 8000)} chars) ---\n${err.slice(-8000)}`;
  }
}

export class ServerExitedError extends Error {
  constructor(
    readonly exit: Exit,
    readonly stderrText: string,
  ) {
    super(`server exited before listening (code=${exit.code} signal=${exit.signal})\n${stderrText.slice(-4000)}`);
  }
}

/** Spawns a server and waits until it listens. */
export async function launch(options: LaunchOptions): Promise<ServerProcess> {
  const server = new ServerProcess(options);
  try {
    await server.listening;
  } catch (err) {
    await server.kill9();
    throw err;
  }
  return server;
}

export interface Refusal {
  /** the server listened after all (a failure for callers that expect a refusal) */
  listened: boolean;
  exit: Exit;
  stderr: string;
  ms: number;
}

/** Spawns a server that is expected to refuse to start; kills it if it listens instead. */
export async function launchExpectingRefusal(options: LaunchOptions): Promise<Refusal> {
  const started = performance.now();
  const server = new ServerProcess(options);
  let listened = false;
  try {
    await server.listening;
    listened = true;
  } catch {
    // expected: it exited (or timed out)
  }
  const exit = listened || server.alive ? await server.kill9() : await server.exited;
  return { listened, exit, stderr: server.stderr(), ms: performance.now() - started };
}

export function median(values: number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
