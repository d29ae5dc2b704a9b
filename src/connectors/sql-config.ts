/**
 * The config both SQL sinks (postgresql, mysql) take, and its JSON Schema:
 * upstream's keys, so a config written for HStreamDB works unchanged.
 */
import { CheckFailure, type ConnectorConfig, type JsonSchema } from './driver.js';

export interface SqlSinkConfig {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  readonly database: string;
  readonly table: string;
}

/** The type's JSON Schema; `stream` is listed because upstream's spec lists it, the runtime reads it. */
export function sqlSinkSpec(target: 'postgresql' | 'mysql', product: string, defaultPort: number): JsonSchema {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: `sink-${target}`,
    description: `Writes a stream's JSON records into a ${product} table: upserts on the primary key, deletes for key/value records whose value is null`,
    type: 'object',
    properties: {
      stream: { type: 'string', description: 'the source HStream stream name' },
      host: { type: 'string', description: `${product} hostname`, examples: ['127.0.0.1'] },
      port: { type: 'integer', description: `${product} port`, default: defaultPort, minimum: 1, maximum: 65535 },
      user: { type: 'string', description: `${product} user name` },
      password: { type: 'string', description: 'password of the user', 'ui:type': 'secret' },
      database: { type: 'string', description: 'database name' },
      table: { type: 'string', description: target === 'postgresql' ? 'table name, optionally schema.table' : 'table name' },
    },
    required: ['stream', 'host', 'port', 'user', 'password', 'database', 'table'],
    'ui:order': ['stream', 'host', 'port', 'user', 'password', 'database', 'table'],
  };
}

/**
 * Reads the keys this driver needs. The runtime validated the schema
 * already; this guards direct callers and keeps the types honest.
 */
export function readSqlSinkConfig(config: ConnectorConfig, defaultPort: number): SqlSinkConfig {
  const str = (key: string): string => {
    const v = config[key];
    if (typeof v !== 'string' || (key !== 'password' && v === '')) {
      throw new CheckFailure('CONFIG', 'invalid config', `${key}: must be a non-empty string`);
    }
    return v;
  };
  const rawPort = config.port ?? defaultPort;
  if (typeof rawPort !== 'number' || !Number.isInteger(rawPort) || rawPort < 1 || rawPort > 65535) {
    throw new CheckFailure('CONFIG', 'invalid config', 'port: must be an integer between 1 and 65535');
  }
  return { host: str('host'), port: rawPort, user: str('user'), password: str('password'), database: str('database'), table: str('table') };
}

/** Where a connection goes, for messages: never includes the password. */
export function describeTarget(target: string, c: SqlSinkConfig): string {
  return `${target} at ${c.host}:${c.port}`;
}
