/**
 * Runs the README's walkthrough (between `<!-- walkthrough -->` and
 * `<!-- /walkthrough -->`) against a test server, so the README stays true:
 * every `<!-- step -->` sh block is run as written (with `npx hstream`
 * pointed at the test server's port) and compared with the `<!-- output -->`
 * block after it; a `<!-- step: background -->` keeps running until its
 * `<!-- output: background -->` has appeared, then gets Ctrl-C.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually, startTestServer, type TestServer } from '../helpers/server.js';
import { shell, walkthroughBlocks, type ShellRun } from '../helpers/walkthrough.js';
import { CLI } from './cli-harness.js';

/** Timestamps and record ids differ from run to run. */
function normalize(text: string): string {
  return text.replace(/timestamp: "\d+"/g, 'timestamp: "T"').replace(/id: \d+-\d+-(\d+)/g, 'id: S-B-$1');
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
  expect(blocks.some((b) => b.kind === 'step' && b.modifier === 'background' && b.text.includes('EMIT CHANGES'))).toBe(true);
  for (const b of blocks.filter((x) => x.kind === 'step')) expect(b.text).toMatch(/npx hstream /);
});

it('the README walkthrough runs as written and prints what it shows', async () => {
  const hstream = `'${process.execPath}' '${CLI}' --port ${port}`;
  const blocks = walkthroughBlocks(README);
  let background: ShellRun | undefined;
  let last: ShellRun | undefined;
  try {
  for (const block of blocks) {
    if (block.kind === 'step') {
      const command = block.text.trim().replace(/npx hstream /g, `${hstream} `);
      if (block.modifier === 'background') {
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
    } else if (block.modifier === 'background') {
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
