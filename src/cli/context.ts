/** What every CLI command receives: a lazily opened connection, so `--help` and usage errors never connect. */
import type { Connection } from './connection.js';

export interface CliContext {
  connection(): Connection;
}
