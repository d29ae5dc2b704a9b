#!/usr/bin/env node
/** Command-line entry: parse config, start the node, stop cleanly on SIGTERM/SIGINT (a second signal exits at once). */
import { ConfigError, helpText, loadConfig } from './config.js';
import { keepHeapSlack } from './heap-tuning.js';
import { createLogger } from './log.js';
import { startServer } from './server.js';

async function main(): Promise<void> {
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
  const log = createLogger(config.logLevel);
  keepHeapSlack();
  const server = await startServer({ ...config, logger: log }).catch((err: unknown) => {
    log.fatal({ err }, 'cannot start');
    log.flush?.();
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
    server.close().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // One machine-readable line on stdout: harnesses wait for it instead of sleeping. It comes after
  // the signal handlers, so a SIGTERM sent as soon as it is read always shuts down cleanly.
  process.stdout.write(JSON.stringify({ event: 'listening', host: server.host, port: server.port, url: server.url }) + '\n');
}

void main();
