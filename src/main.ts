#!/usr/bin/env node
/**
 * Command-line entry: parse config, start the node, stop cleanly on SIGTERM/SIGINT (a second signal
 * exits at once) or when npx, which launched it, is gone (launcher-watch.ts). Stopping never waits
 * on stdout or stderr: a harness may have closed its end.
 */
import { ConfigError, helpText, loadConfig } from './config.js';
import { keepHeapSlack } from './heap-tuning.js';
import { stopWhenLauncherExits } from './launcher-watch.js';
import { createRootLogger } from './log.js';
import { startServer } from './server.js';

/** Longest a clean stop may take (open calls get 2 s, then stores close) before the process exits anyway. */
const SHUTDOWN_BOUND_MS = 10_000;
/** How long the last log lines may take to reach stderr once the server has stopped. */
const LOG_DRAIN_MS = 500;

async function main(): Promise<void> {
  // A reader that went away must not turn our own output into an uncaught EPIPE.
  process.stdout.on('error', () => {});
  process.stderr.on('error', () => {});
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    process.stdout.write(helpText() + '\n');
    return;
  }
  let config;
  try {
    config = loadConfig(argv, process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`hstreamlite: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const { log, sink } = createRootLogger(config.logLevel);
  keepHeapSlack();
  const server = await startServer({ ...config, logger: log }).catch((err: unknown) => {
    log.fatal({ err }, 'cannot start');
    process.stderr.write(`hstreamlite: cannot start: ${(err as Error).message}\n`);
    process.exit(1);
  });
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      process.stderr.write(`hstreamlite: second ${signal}, exiting now\n`);
      process.exit(130);
    }
    stopping = true;
    log.info({ signal }, 'shutting down');
    setTimeout(() => {
      process.stderr.write(`hstreamlite: shutdown took longer than ${SHUTDOWN_BOUND_MS} ms, exiting\n`);
      process.exit(1);
    }, SHUTDOWN_BOUND_MS).unref();
    server.close().then(
      () => sink.drain(LOG_DRAIN_MS).then(() => process.exit(0)),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        void sink.drain(LOG_DRAIN_MS).then(() => process.exit(1));
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  stopWhenLauncherExits(() => stop('launcher exited'));
  // One machine-readable line on stdout: harnesses wait for it instead of sleeping. It comes after
  // the signal handlers, so a SIGTERM sent as soon as it is read always shuts down cleanly.
  process.stdout.write(JSON.stringify({ event: 'listening', host: server.host, port: server.port, url: server.url }) + '\n');
}

void main();
