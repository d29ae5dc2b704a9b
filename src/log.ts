/** The root pino logger. Structured, to stderr, quiet by default: requests log at debug. */
import { pino, type Logger } from 'pino';
import { LogSink } from './log-sink.js';

export type { Logger };

export interface RootLogger {
  log: Logger;
  /** the destination, for a bounded drain before the process exits */
  sink: LogSink;
}

export function createRootLogger(level: string): RootLogger {
  const sink = new LogSink(2);
  return { log: pino({ level, base: { service: 'hstreamlite' } }, sink), sink };
}

export function createLogger(level: string): Logger {
  return createRootLogger(level).log;
}
