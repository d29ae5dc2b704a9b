/**
 * Stopping never depends on writing a log line: a harness that read the listening line and then
 * closed its pipes, or one that stopped reading them, still stops the server with one signal.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { describe, expect, it } from 'vitest';
import { HStreamClient } from '../../src/client.js';

const MAIN = resolve(import.meta.dirname, '../../dist/src/main.js');
/** generous: the stop itself takes milliseconds; this only has to hold on a loaded machine */
const EXIT_WITHIN_MS = 25_000;

/** Spawns the server logging every request to a stderr pipe, reads the listening line, returns the process. */
async function spawnChatty() {
  const child = spawn(process.execPath, [MAIN, '--port', '0', '--in-memory', '--log-level', 'debug'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | NodeJS.Signals | null>((done) => child.once('exit', (code, signal) => done(code ?? signal)));
  const port = await new Promise<number>((done, fail) => {
    createInterface({ input: child.stdout }).on('line', (line) => {
      const msg = JSON.parse(line) as { event?: string; port?: number };
      if (msg.event === 'listening' && msg.port) done(msg.port);
    });
    void exited.then((code) => fail(new Error(`exited before listening (${String(code)})`)));
  });
  return { child, port, exited };
}

async function exitCodeWithin(exited: Promise<number | NodeJS.Signals | null>, ms: number): Promise<number | NodeJS.Signals | null | 'still running'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'still running'>((done) => (timer = setTimeout(() => done('still running'), ms)));
  const result = await Promise.race([exited, late]);
  clearTimeout(timer);
  return result;
}

/** Requests the server logs at debug level: enough lines to overflow a pipe nobody reads. */
async function makeLogLines(port: number, calls: number): Promise<void> {
  const client = new HStreamClient(`127.0.0.1:${port}`);
  try {
    for (let i = 0; i < calls; i += 50) await Promise.all(Array.from({ length: 50 }, () => client.unary('Echo', { msg: 'x'.repeat(200) })));
  } finally {
    client.close();
  }
}

describe('shutdown with broken or stalled output', () => {
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`${signal} stops the server after its stdout and stderr readers are gone`, async () => {
      const { child, exited } = await spawnChatty();
      child.stdout.destroy();
      child.stderr.destroy();
      // the first lines written into the closed pipes are the shutdown's own
      child.kill(signal);
      const code = await exitCodeWithin(exited, EXIT_WITHIN_MS);
      if (code === 'still running') child.kill('SIGKILL');
      expect(code).toBe(0);
    });
  }

  it('the server keeps serving while it logs into closed pipes, and SIGTERM stops it', async () => {
    const { child, port, exited } = await spawnChatty();
    child.stdout.destroy();
    child.stderr.destroy();
    await makeLogLines(port, 200);
    child.kill('SIGTERM');
    const code = await exitCodeWithin(exited, EXIT_WITHIN_MS);
    if (code === 'still running') child.kill('SIGKILL');
    expect(code).toBe(0);
  });

  it('SIGTERM stops the server while nobody reads its stderr pipe any more (pipe full)', async () => {
    const { child, port, exited } = await spawnChatty();
    child.stdout.pause();
    child.stderr.pause();
    // thousands of debug lines: far more than the pipe and the reader's buffer hold
    await makeLogLines(port, 4000);
    child.kill('SIGTERM');
    const code = await exitCodeWithin(exited, EXIT_WITHIN_MS);
    if (code === 'still running') child.kill('SIGKILL');
    expect(code).toBe(0);
  });
});
