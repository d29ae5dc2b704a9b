/** The sink types this server runs, by upstream's target name. A new type is one file and one line here. */
import { blackholeSink } from './blackhole.js';
import type { SinkDriver } from './driver.js';
import { hstreamSink } from './hstream.js';
import { mysqlSink } from './mysql.js';
import { parquetSink } from './parquet.js';
import { postgresqlSink } from './postgresql.js';

const SINKS: readonly SinkDriver[] = [postgresqlSink, mysqlSink, hstreamSink, parquetSink, blackholeSink];

const byTarget = new Map(SINKS.map((d) => [d.target, d]));

export function sinkDriver(target: string): SinkDriver | undefined {
  return byTarget.get(target);
}

export function sinkTargets(): string[] {
  return [...byTarget.keys()];
}
