/**
 * The README's walkthroughs as data, so tests run them as written: a
 * walkthrough lies between `<!-- NAME -->` and `<!-- /NAME -->`; each
 * `<!-- step -->` block is a command and the `<!-- output -->` block after
 * it is what it prints. A marker may carry a modifier (`<!-- step: background -->`,
 * `<!-- step: duckdb -->`) that tells the test how to run the block.
 */
import { spawn } from 'node:child_process';

export interface WalkthroughBlock {
  kind: 'step' | 'output';
  /** the marker's modifier: "background", "duckdb", … ('' when none) */
  modifier: string;
  /** the fence's language: sh, text, sql */
  language: string;
  text: string;
}

/** The marked blocks of one walkthrough, in order. */
export function walkthroughBlocks(readme: string, name = 'walkthrough'): WalkthroughBlock[] {
  const start = readme.indexOf(`<!-- ${name} -->`);
  const end = readme.indexOf(`<!-- /${name} -->`);
  if (start < 0 || end < start) throw new Error(`README.md has no <!-- ${name} --> … <!-- /${name} --> section`);
  const section = readme.slice(start, end);
  const blocks: WalkthroughBlock[] = [];
  for (const m of section.matchAll(/<!-- (step|output)(?:: (\w+))? -->\s*\n```(\w+)\n([\s\S]*?)```/g)) {
    blocks.push({ kind: m[1] as WalkthroughBlock['kind'], modifier: m[2] ?? '', language: m[3]!, text: m[4]! });
  }
  return blocks;
}

export interface ShellRun {
  stdout: string;
  stderr: string;
  pid: number;
  exited: Promise<number | null>;
}

/** Runs a command line with sh, in its own process group (so Ctrl-C can reach the whole pipeline). */
export function shell(command: string): ShellRun {
  const child = spawn('sh', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const run: ShellRun = { stdout: '', stderr: '', pid: child.pid!, exited: new Promise((r) => child.once('close', (code) => r(code))) };
  child.stdout.setEncoding('utf8').on('data', (d: string) => (run.stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (run.stderr += d));
  return run;
}
