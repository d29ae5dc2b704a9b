/**
 * Bench plumbing shared by every scenario family: child processes (spawned,
 * tracked and always killed), temp data dirs (always removed), statistics
 * (median [min–max], percentiles) and the closed-loop load generator.
 *
 * Must not import from test/ (not compiled into dist/). Loopback only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';

export type Mode = 'quick' | 'full';

export const HOST = '127.0.0.1';

/** Package root (the directory holding package.json), found from dist/bench/. */
export const PACKAGE_ROOT = (() => {
  let dir = import.meta.dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the hstreamlite package root');
    dir = parent;
  }
  return dir;
})();

export const SERVER_MAIN = resolve(PACKAGE_ROOT, 'dist/src/main.js');
export const BASELINE_CHILD = resolve(import.meta.dirname, 'baseline-child.js');

// ---------------------------------------------------------------------------
// Child processes and temp dirs
// ---------------------------------------------------------------------------

export interface Child {
  proc: ChildProcess;
  pid: number;
  /** the port from the child's {"event":"listening"} line */
  port: number;
  address: string;
  /** resolves with the exit code or signal */
  exited: Promise<number | NodeJS.Signals | null>;
  /** the last few KB of the child's stderr, for error messages */
  stderrTail(): string;
}

/** Every child and temp dir the bench created; the safety net kills/removes whatever a scope missed. */
const liveChildren = new Set<ChildProcess>();
const liveDirs = new Set<string>();

/**
 * Puts a process the bench did not spawn through a Scope (e.g. a peer
 * server started as another user) under the same last-resort kill.
 */
export function adoptChild(proc: ChildProcess): void {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  liveChildren.add(proc);
  proc.once('exit', () => liveChildren.delete(proc));
}

/** Synchronous last-resort cleanup, safe to call from process 'exit'. */
export function killEverything(): void {
  for (const proc of liveChildren) {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  }
  liveChildren.clear();
  for (const dir of liveDirs) rmSync(dir, { recursive: true, force: true });
  liveDirs.clear();
}

/**
 * What one scenario created. close() stops its children (SIGTERM, then
 * SIGKILL after a grace period) and removes its dirs, also after a failure.
 */
export class Scope {
  private readonly children: Child[] = [];
  private readonly dirs: string[] = [];
  private readonly cleanups: Array<() => Promise<void>> = [];

  /** Runs `cleanup` when the scope closes (before its children are stopped), also after a failure. */
  onClose(cleanup: () => Promise<void>): void {
    this.cleanups.push(cleanup);
  }

  tempDir(prefix = 'hstreamlite-bench-'): string {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    this.dirs.push(dir);
    liveDirs.add(dir);
    return dir;
  }

  removeDir(dir: string): void {
    rmSync(dir, { recursive: true, force: true });
    liveDirs.delete(dir);
  }

  /** Spawns `node script args…` and waits (bounded) for its listening line. */
  async spawnListening(script: string, args: string[], timeoutMs = 30_000): Promise<Child> {
    // BENCH_CHILD_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the servers of a row (NODE_OPTIONS refuses --cpu-prof)
    const nodeArgs = (process.env['BENCH_CHILD_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
    const proc = spawn(process.execPath, [...nodeArgs, script, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    liveChildren.add(proc);
    if (proc.pid === undefined) throw new Error(`cannot spawn ${script}`);
    const pid = proc.pid;
    let tail = '';
    proc.stderr!.setEncoding('utf8');
    proc.stderr!.on('data', (chunk: string) => {
      tail = (tail + chunk).slice(-4096);
    });
    const exited = new Promise<number | NodeJS.Signals | null>((res) =>
      proc.once('exit', (code, signal) => {
        liveChildren.delete(proc);
        res(code ?? signal);
      }),
    );
    const child: Omit<Child, 'port' | 'address'> = { proc, pid, exited, stderrTail: () => tail.trim() };
    const port = await new Promise<number>((res, rej) => {
      const lines = createInterface({ input: proc.stdout! });
      const timer = setTimeout(() => rej(new Error(`${script} did not listen within ${timeoutMs} ms: ${tail.trim()}`)), timeoutMs);
      lines.on('line', (line) => {
        const port = listeningPort(line);
        if (port !== undefined) {
          clearTimeout(timer);
          res(port);
        }
      });
      void exited.then((code) => {
        clearTimeout(timer);
        rej(new Error(`${script} exited (${String(code)}) before listening: ${tail.trim()}`));
      });
    }).catch(async (err: unknown) => {
      await this.stopChild({ ...child, port: 0, address: '' });
      throw err;
    });
    const full: Child = { ...child, port, address: `${HOST}:${port}` };
    this.children.push(full);
    return full;
  }

  /**
   * Runs `node script args…` to completion (bounded) and returns the payload
   * of its last {"event":"result",…} line.
   */
  async runToResult(script: string, args: string[], timeoutMs: number): Promise<Record<string, unknown>> {
    const proc = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    liveChildren.add(proc);
    let tail = '';
    let result: Record<string, unknown> | undefined;
    proc.stderr!.setEncoding('utf8');
    proc.stderr!.on('data', (chunk: string) => {
      tail = (tail + chunk).slice(-4096);
    });
    createInterface({ input: proc.stdout! }).on('line', (line) => {
      try {
        const msg = JSON.parse(line) as Record<string, unknown>;
        if (msg.event === 'result') result = msg;
      } catch {
        // not our line
      }
    });
    const exited = new Promise<number | NodeJS.Signals | null>((res) =>
      proc.once('exit', (code, signal) => {
        liveChildren.delete(proc);
        res(code ?? signal);
      }),
    );
    try {
      const code = await withTimeout(`${script} ${args[0] ?? ''}`, timeoutMs, exited);
      if (code !== 0 || !result) throw new Error(`${script} failed (${String(code)}): ${tail.trim()}`);
      return result;
    } finally {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    }
  }

  /** SIGTERM, wait up to graceMs, then SIGKILL. Resolves with how long the exit took (ms). */
  async stopChild(child: Child, graceMs = 5_000): Promise<number> {
    const t0 = performance.now();
    if (child.proc.exitCode === null && child.proc.signalCode === null) {
      child.proc.kill('SIGTERM');
      const timedOut = await Promise.race([child.exited.then(() => false), sleep(graceMs).then(() => true)]);
      if (timedOut) {
        child.proc.kill('SIGKILL');
        await child.exited;
      }
    }
    const index = this.children.indexOf(child);
    if (index >= 0) this.children.splice(index, 1);
    return performance.now() - t0;
  }

  async close(): Promise<void> {
    for (const cleanup of this.cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
    for (const child of [...this.children].reverse()) await this.stopChild(child);
    for (const dir of this.dirs.splice(0)) this.removeDir(dir);
  }
}

function listeningPort(line: string): number | undefined {
  try {
    const msg = JSON.parse(line) as { event?: unknown; port?: unknown };
    return msg.event === 'listening' && typeof msg.port === 'number' && msg.port > 0 ? msg.port : undefined;
  } catch {
    return undefined; // not our line
  }
}

/** Resident set size of a live process in MB (10^6 bytes), from /proc/<pid>/status VmRSS. */
export function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return (Number(m[1]) * 1024) / 1e6;
}

/**
 * Anonymous resident memory in MB (RssAnon + RssShmem): heaps, buffers and
 * caches, without the file-backed pages of LevelDB's mmapped tables, which
 * the kernel can take back and which grow with whatever was last read.
 */
export function anonRssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1] ?? NaN);
  return ((kb('RssAnon') + kb('RssShmem')) * 1024) / 1e6;
}

const CLOCK_TICKS_PER_SECOND = 100; // getconf CLK_TCK on Linux

/** CPU time (user + system) a live process has used so far, in ms, from /proc/<pid>/stat. */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // fields after the parenthesised command name; utime and stime are fields 14 and 15
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/**
 * Adds to a throughput rep the CPU the server process and this (client)
 * process spent per 1000 records (`records` says how many the rep moved): a
 * figure that stays meaningful when other load on the machine moves the rates.
 */
export async function withCpu(pid: number, records: number | ((r: Rep) => number), rep: () => Promise<Rep>): Promise<Rep> {
  const server0 = processCpuMs(pid);
  const client0 = process.cpuUsage();
  const r = await rep();
  const client = process.cpuUsage(client0);
  const server = processCpuMs(pid) - server0;
  const kRecords = (typeof records === 'number' ? records : records(r)) / 1000;
  if (kRecords <= 0) return r;
  const per = (ms: number) => Math.round((ms / kRecords) * 100) / 100;
  return {
    ...r,
    extra: { ...r.extra, serverCpuMsPer1kRec: per(server), clientCpuMsPer1kRec: per((client.user + client.system) / 1000) },
  };
}

// ---------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------

/** One repetition's figure; latency fields only for call-based loads. */
export interface Rep {
  value: number;
  p50Ms?: number;
  p99Ms?: number;
  /** further per-rep figures (CPU cost, …); summarized as medians */
  extra?: Record<string, number>;
}

export interface Summary {
  value: number;
  min: number;
  max: number;
  reps: number;
  p50Ms?: number;
  p99Ms?: number;
  extra?: Record<string, number>;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Nearest-rank percentile of an unsorted sample. */
export function percentile(values: Float64Array | number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** Median [min–max] of the reps; latency percentiles are the median of the per-rep values. */
export function summarize(reps: readonly Rep[]): Summary {
  const values = reps.map((r) => r.value);
  const summary: Summary = { value: median(values), min: Math.min(...values), max: Math.max(...values), reps: reps.length };
  const p50 = reps.flatMap((r) => (r.p50Ms === undefined ? [] : [r.p50Ms]));
  const p99 = reps.flatMap((r) => (r.p99Ms === undefined ? [] : [r.p99Ms]));
  if (p50.length > 0) summary.p50Ms = median(p50);
  if (p99.length > 0) summary.p99Ms = median(p99);
  const keys = new Set(reps.flatMap((r) => Object.keys(r.extra ?? {})));
  if (keys.size > 0) {
    summary.extra = {};
    for (const key of keys) summary.extra[key] = median(reps.flatMap((r) => (r.extra?.[key] === undefined ? [] : [r.extra[key]!])));
  }
  return summary;
}

// ---------------------------------------------------------------------------
// Load generation
// ---------------------------------------------------------------------------

/** One call of a load: resolves with how many records it carried (or delivered). */
export type Call = () => Promise<number>;

/**
 * Closed loop: keeps `inflight` calls outstanding for `durationMs`. Only
 * calls that complete inside the window count, so the rate is not diluted
 * by the drain at the end; the drain is still awaited so nothing leaks into
 * the next measurement.
 */
/** Records a closed-loop rep of `durationMs` moved (its value is records/s). */
export const loopRecords = (durationMs: number) => (r: Rep) => (r.value * durationMs) / 1000;

export async function closedLoop(call: Call, inflight: number, durationMs: number): Promise<Rep> {
  const start = performance.now();
  const end = start + durationMs;
  const latencies: number[] = [];
  let records = 0;
  let failure: unknown;
  const worker = async () => {
    while (failure === undefined && performance.now() < end) {
      const t0 = performance.now();
      try {
        const n = await call();
        const t1 = performance.now();
        if (t1 <= end) {
          records += n;
          latencies.push(t1 - t0);
        }
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: inflight }, worker));
  if (failure !== undefined) throw failure;
  return { value: (records * 1000) / durationMs, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
}

/** Runs `load` repeatedly until at least `minMs` has passed (JIT and page-cache warm-up). */
export async function warmUp(load: () => Promise<unknown>, minMs: number, maxRuns = 50): Promise<void> {
  const deadline = performance.now() + minMs;
  for (let i = 0; i < maxRuns && performance.now() < deadline; i++) await load();
}

/** A measurable thing with its own warm-up, for paired (interleaved) runs. */
export interface Measure {
  warmUp(): Promise<void>;
  rep(): Promise<Rep>;
}

/**
 * Warms both up, then alternates reps (A B, B A, A B, …) so drift in a noisy
 * shared machine hits the figure and its baseline alike.
 */
export async function paired(subject: Measure, baseline: Measure, reps: number): Promise<{ subject: Rep[]; baseline: Rep[] }> {
  const out = await interleaved(subject, [baseline], reps);
  return { subject: out.subject, baseline: out.baselines[0]! };
}

/**
 * Like paired() with several baselines: each round runs every measure once,
 * the order rotating by one per round, so each takes every position in turn.
 */
export async function interleaved(subject: Measure, baselines: Measure[], reps: number): Promise<{ subject: Rep[]; baselines: Rep[][] }> {
  const measures = [...baselines, subject];
  for (const m of measures) await m.warmUp();
  const out = measures.map(() => [] as Rep[]);
  for (let i = 0; i < reps; i++) {
    for (let k = 0; k < measures.length; k++) {
      const index = (i + k) % measures.length;
      out[index]!.push(await measures[index]!.rep());
    }
  }
  return { subject: out[measures.length - 1]!, baselines: out.slice(0, -1) };
}

/** Rejects after `ms` with a message naming what took too long. */
export async function withTimeout<T>(what: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`${what} took longer than ${Math.round(ms / 1000)} s`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
