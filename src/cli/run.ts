/**
 * Runs one `hstream` command line against the given stdin/stdout/stderr and
 * returns the exit status: 0 on success, 1 when a request fails (one
 * `Error: …` line on stderr), 2 on a usage mistake. Never exits the process.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PROTO_PATH } from '../proto.js';
import { CliError, parseCommandLine, UsageError, type CliIO, type GroupSpec } from './args.js';
import type { Connection } from './connection.js';
import type { CliContext } from './context.js';
import { nodeGroup } from './node.js';
import { sqlGroup } from './sql.js';
import { streamGroup } from './stream.js';
import { subscriptionGroup } from './subscription.js';

export const GROUPS: Array<GroupSpec<CliContext>> = [nodeGroup, streamGroup, subscriptionGroup, sqlGroup];

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(join(dirname(dirname(PROTO_PATH)), 'package.json'), 'utf8')) as { version?: string };
  return pkg.version ?? 'unknown';
}

/** Runs one command line and resolves with the exit status; never calls process.exit. */
export async function runCli(argv: string[], io: CliIO): Promise<number> {
  let connection: Connection | undefined;
  try {
    const parsed = parseCommandLine(argv, GROUPS);
    if (parsed.kind === 'help') {
      io.stdout.write(parsed.text);
      return 0;
    }
    if (parsed.kind === 'version') {
      io.stdout.write(`version: ${packageVersion()} (hstreamlite)\n`);
      return 0;
    }
    // gRPC and the proto load only when a command runs: --help and usage errors stay fast
    const { Connection, resolveTarget } = await import('./connection.js');
    const target = resolveTarget(parsed.global);
    const ctx: CliContext = {
      connection: () => (connection ??= new Connection(target, io.stderr)),
    };
    await parsed.command.run({ args: parsed.args, options: parsed.options, ctx, io });
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`Error: ${err.message}. See '${err.helpCommand} --help'.\n`);
      return 2;
    }
    if (err instanceof CliError) {
      io.stderr.write(`Error: ${err.message}\n`);
      return 1;
    }
    io.stderr.write(`Error: unexpected failure: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return 1;
  } finally {
    connection?.close();
  }
}

