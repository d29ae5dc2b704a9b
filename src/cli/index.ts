#!/usr/bin/env node
/**
 * `hstream`: the HStreamDB command-line client, compatible in syntax and
 * output with upstream's `hstream` (stream, subscription and node commands).
 * See run.ts for exit statuses.
 */
import { runCli } from './run.js';

// grpc-js names an IP-address TLS target as the TLS server name, which Node flags with a
// deprecation warning (DEP0123) on every `--tls-ca … --host 127.0.0.1` call; a CLI user
// can do nothing about library deprecations, so none are printed.
process.noDeprecation = true;

// `hstream … | head` closes the pipe early: that is not an error
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

void runCli(process.argv.slice(2), { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr }).then((code) => {
  process.exitCode = code;
});
