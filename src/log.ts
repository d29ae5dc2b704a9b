/** The root pino logger. Structured, to stderr, quiet by default: requests log at debug. */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'hstreamlite' } }, pino.destination({ dest: 2, sync: false }));
}
