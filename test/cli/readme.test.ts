/**
 * Runs the README's walkthrough (between `<!-- walkthrough -->` and
 * `<!-- /walkthrough -->`) against a test server, so the README stays true:
 * every `<!-- step -->` sh block is run as written (with `npx hstream`
 * pointed at the test server's port) and compared with the `<!-- output -->`
 * block after it; a `<!-- step: background -->` keeps running until its
 * `<!-- output: background -->` has appeared, then gets Ctrl-C.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually, startTestServer, type TestServer } from '../helpers/server.js';
import { CLI } from './cli-harness.js';

interface Block {
  kind: 'step' | 'output';
  background: boolean;
  text: string;
}

/** The marked blocks of the walkthrough, in order. */
export function walkthroughBlocks(readme: string): Block[] {
  const start = readme.indexOf('<!-- walkthrough -->');
  const end = readme.indexOf('<!-- /walkthrough -->');
  if (start < 0 || end < start) throw new Error('README.md has no <!-- walkthrough --> … <!-- /walkthrough --> section');
  const section = readme.slice(start, end);
  const blocks: Block[] = [];
  for (const m of section.matchAll(/<!-- (step|output)(: background)? -->\s*\n```(\w+)\n([\s\S]*?)```/g)) {
    blocks.push({ kind: m[1] as Block['kind'], background: m[2] !== undefined, text: m[4]! });
  }
  return blocks;
}

/** Timestamps and record ids differ from run to run. */
function normalize(text: string): string {
  return text.replace(/timestamp: "\d+"/g, 'timestamp: "T"').replace(/id: \d+-\d+-(\d+)/g, 'id: S-B-$1');
}

interface Running {
  stdout: string;
  stderr: string;
  pid: number;
  exited: Promise<number | null>;
}

function shell(command: string): Running {
  const child = spawn('sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const run: Running = { stdout: '', stderr: '', pid: child.pid!, exited: new Promise((r) => child.once('close', (code) => r(code))) };
  child.stdout.setEncoding('utf8').on('data', (d: string) => (run.stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (run.stderr += d));
  return run;
}

let ts: TestServer;
let port: string;

beforeAll(async () => {
  ts = await startTestServer({ inMemory: true });
  port = ts.server.address.split(':').at(-1)!;
});

afterAll(async () => {
  await ts.destroy();
});

const README = readFileSync(resolve(import.meta.dirname, '../../README.md'), 'utf8');

it('the README walkthrough has steps, outputs and a push query', () => {
  const blocks = walkthroughBlocks(README);
  expect(blocks.filter((b) => b.kind === 'step').length).toBeGreaterThanOrEqual(4);
  expect(blocks.some((b) => b.kind === 'step' && b.background && b.text.includes('EMIT CHANGES'))).toBe(true);
  for (const b of blocks.filter((x) => x.kind === 'step')) expect(b.text).toMatch(/npx hstream /);
});

it('the README walkthrough runs as written and prints what it shows', async () => {
  const hstream = `'${process.execPath}' '${CLI}' --port ${port}`;
  const blocks = walkthroughBlocks(README);
  let background: Running | undefined;
  let last: Running | undefined;
  try {
  for (const block of blocks) {
    if (block.kind === 'step') {
      const command = block.text.trim().replace(/npx hstream /g, `${hstream} `);
      if (block.background) {
        background = shell(`exec ${command}`); // the CLI itself gets the Ctrl-C, as in a terminal
        // a push query is ready once its subscription exists
        await eventually(async () => {
          const { subscription } = await ts.client.unary<{ subscription: Array<{ subscriptionId: string }> }>('ListSubscriptions', {});
          return subscription.length > 0 || undefined;
        });
      } else {
        last = shell(command);
        const code = await last.exited;
        expect({ command: block.text, code, stderr: last.stderr }).toEqual({ command: block.text, code: 0, stderr: '' });
      }
    } else if (block.background) {
      const run = background!;
      await eventually(() => normalize(run.stdout) === normalize(block.text) || undefined).catch(() => undefined);
      expect(normalize(run.stdout)).toBe(normalize(block.text));
      process.kill(-run.pid, 'SIGINT');
      expect(await run.exited).toBe(0);
      expect(run.stderr).toBe('');
      background = undefined;
    } else {
      expect(normalize(last!.stdout)).toBe(normalize(block.text));
    }
  }
  } finally {
    // a failed comparison must not leave the push query running
    if (background) {
      try {
        process.kill(-background.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
  expect(background).toBeUndefined();
  // Ctrl-C left nothing temporary behind
  const { streams } = await ts.client.unary<{ streams: Array<{ streamName: string }> }>('ListStreams', {});
  expect(streams.map((s) => s.streamName)).toEqual(['temp_hum']);
  const { subscription } = await ts.client.unary<{ subscription: unknown[] }>('ListSubscriptions', {});
  expect(subscription).toEqual([]);
  const { queries } = await ts.client.unary<{ queries: unknown[] }>('ListQueries', {});
  expect(queries).toEqual([]);
});
