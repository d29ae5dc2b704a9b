/** Runs the built CLI (`node dist/src/cli/index.js`, built by `npm test`) as a user would: a child process with stdin/stdout/stderr. */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';

export const CLI = resolve(import.meta.dirname, '../../dist/src/cli/index.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], options: { stdin?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`hstream ${args.join(' ')} did not finish within ${options.timeoutMs ?? 20_000} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, options.timeoutMs ?? 20_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
    child.stdin.end(options.stdin ?? '');
  });
}

/** A CLI bound to one server through --service-url. */
export function cliFor(url: string) {
  return (args: string[], options?: { stdin?: string; timeoutMs?: number }) => runCli(['--service-url', url, ...args], options);
}

/** The shape every failing command must have: exit status, and exactly one line on stderr. */
export function oneErrorLine(result: CliResult): string {
  const lines = result.stderr.split('\n');
  if (lines.length !== 2 || lines[1] !== '' || !lines[0]!.startsWith('Error: ')) {
    throw new Error(`expected one "Error: …" line on stderr, got ${JSON.stringify(result.stderr)}`);
  }
  return lines[0]!;
}

/** Read-stream lines, parsed; fails on any line that does not have upstream's shape. */
export interface ReadLine {
  timestamp: number;
  shardId: string;
  batchId: string;
  batchIndex: number;
  key: string;
  record: string;
}

const LINE = /^timestamp: "(\d+)", id: (\d+)-(\d+)-(\d+), key: ("(?:[^"\\]|\\.)*"), record: (.*)$/;

export function parseReadOutput(result: CliResult): ReadLine[] {
  const lines = result.stdout.split('\n');
  if (result.code !== 0 || lines.pop() !== '' || lines.pop() !== 'Read Done.') {
    throw new Error(`read did not end with "Read Done.": ${JSON.stringify(result)}`);
  }
  return lines.map((line) => {
    const m = LINE.exec(line);
    if (!m) throw new Error(`not a read-stream line: ${JSON.stringify(line)}`);
    return {
      timestamp: Number(m[1]),
      shardId: m[2]!,
      batchId: m[3]!,
      batchIndex: Number(m[4]),
      key: JSON.parse(m[5]!) as string, // ASCII keys only in tests: Haskell show and JSON agree there
      record: m[6]!,
    };
  });
}
