/** The connector types this server runs, by upstream's target name. A new type is one file and one line here. */
import { blackholeSink } from './blackhole.js';
import type { SinkDriver } from './driver.js';
import { hstreamSink } from './hstream.js';
import { mqttSource } from './mqtt.js';
import { mysqlSink } from './mysql.js';
import { parquetSink } from './parquet.js';
import { postgresqlSink } from './postgresql.js';
import type { SourceDriver } from './source-driver.js';
import type { TypedDriver } from './spec.js';

const SINKS: readonly SinkDriver[] = [postgresqlSink, mysqlSink, hstreamSink, parquetSink, blackholeSink];
const SOURCES: readonly SourceDriver[] = [mqttSource];

const byTarget = new Map(SINKS.map((d) => [d.target, d]));
const sourcesByTarget = new Map(SOURCES.map((d) => [d.target, d]));

export function sinkDriver(target: string): SinkDriver | undefined {
  return byTarget.get(target);
}

export function sinkTargets(): string[] {
  return [...byTarget.keys()];
}

export function sourceDriver(target: string): SourceDriver | undefined {
  return sourcesByTarget.get(target);
}

/** The driver of a type (SOURCE or SINK) and target, or undefined when there is none. */
export function typedDriver(type: 'SOURCE' | 'SINK', target: string): TypedDriver | undefined {
  if (type === 'SINK') {
    const driver = sinkDriver(target);
    return driver && { type, driver };
  }
  const driver = sourceDriver(target);
  return driver && { type, driver };
}
