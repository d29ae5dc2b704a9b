/**
 * A connector type's config schema (what GetConnectorSpec returns), the
 * runtime's own keys every sink shares, validation against the schema, and
 * how a config is shown (keys sorted as upstream's JSON, secrets masked).
 */
import type { Ajv2020, ErrorObject, ValidateFunction } from 'ajv/dist/2020.js';
import { lazyRequire } from '../lazy-require.js';
import { CheckFailure, type ConnectorConfig, type JsonSchema, type SinkDriver } from './driver.js';
import type { SourceDriver } from './source-driver.js';

/** How a secret is shown: never the value, not even its length. */
export const MASK = '******';

/** Keys of the runtime, the same for every sink (upstream's toolkit names where it has them). */
const RUNTIME_PROPERTIES: Record<string, JsonSchema> = {
  stream: { type: 'string', minLength: 1, description: 'the stream to read' },
  'task.reader.fromOffset': {
    type: 'string',
    enum: ['EARLIEST', 'LATEST'],
    default: 'EARLIEST',
    description: 'where a new connector starts reading',
    'ui:showName': 'From Offset',
  },
  'task.error.skipStrategy': {
    type: 'string',
    enum: ['NeverSkip', 'SkipAll'],
    default: 'NeverSkip',
    description: 'a record the target cannot take (not JSON, unknown column, wrong type): NeverSkip stops the connector as FAILED, SkipAll counts, logs and skips it',
    'ui:showName': 'Skip Strategy',
  },
  'task.error.maxRetries': {
    type: 'integer',
    minimum: -1,
    default: -1,
    description: 'failed writes retried (with backoff up to 30 s) before the connector stops as FAILED; -1 retries until the target is back',
    'ui:showName': 'Max Retries',
  },
  'task.batch.maxRecords': {
    type: 'integer',
    minimum: 1,
    maximum: 100000,
    default: 1000,
    description: 'records written to the target in one call at most',
    'ui:showName': 'Max Batch Records',
  },
};

const RUNTIME_ORDER = [
  { 'ui:type': 'group', expand: false, name: 'Error Handling' },
  'task.error.skipStrategy',
  'task.error.maxRetries',
  { 'ui:type': 'group', expand: false, name: 'Reader' },
  'task.reader.fromOffset',
  { 'ui:type': 'group', expand: false, name: 'Buffer Strategy' },
  'task.batch.maxRecords',
];

/** Keys of the source runtime, the same for every source. */
const SOURCE_RUNTIME_PROPERTIES: Record<string, JsonSchema> = {
  stream: { type: 'string', minLength: 1, description: 'the stream to write (it must exist)' },
  'batch.maxRecords': {
    type: 'integer',
    minimum: 1,
    maximum: 10000,
    default: 500,
    description: 'records appended in one call at most',
    'ui:showName': 'Max Batch Records',
  },
  'batch.maxDelayMs': {
    type: 'integer',
    minimum: 0,
    maximum: 60000,
    default: 20,
    description: 'how long a record waits for others to fill its batch, at most',
    'ui:showName': 'Max Batch Delay (ms)',
  },
};

const SOURCE_RUNTIME_ORDER = [{ 'ui:type': 'group', expand: false, name: 'Buffer Strategy' }, 'batch.maxRecords', 'batch.maxDelayMs'];

/** The full schema of a sink type: its own keys, then the runtime's. */
export function sinkSpec(driver: SinkDriver): JsonSchema {
  return mergeSpec(driver.spec, RUNTIME_PROPERTIES, RUNTIME_ORDER);
}

/** The full schema of a source type: its own keys, then the source runtime's. */
export function sourceSpec(driver: SourceDriver): JsonSchema {
  return mergeSpec(driver.spec, SOURCE_RUNTIME_PROPERTIES, SOURCE_RUNTIME_ORDER);
}

function mergeSpec(own: JsonSchema, runtime: Record<string, JsonSchema>, runtimeOrder: unknown[]): JsonSchema {
  const ownProps = (own['properties'] ?? {}) as Record<string, JsonSchema>;
  const ownRequired = (own['required'] ?? []) as string[];
  const ownOrder = (own['ui:order'] ?? []) as unknown[];
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object',
    ...own,
    properties: { stream: runtime['stream'], ...ownProps, ...omit(runtime, 'stream') },
    required: ['stream', ...ownRequired.filter((k) => k !== 'stream')],
    'ui:order': ['stream', ...ownOrder.filter((k) => k !== 'stream'), ...runtimeOrder],
  };
}

function omit<T>(obj: Record<string, T>, key: string): Record<string, T> {
  const { [key]: _, ...rest } = obj;
  return rest;
}

/** The runtime's keys, with defaults applied. */
export interface RuntimeOptions {
  stream: string;
  fromOffset: 'EARLIEST' | 'LATEST';
  skipUnmappable: boolean;
  maxRetries: number;
  maxBatchRecords: number;
}

/** A numeric config key, or its default when unset (the schema already refused other types). */
export function numberOption(config: ConnectorConfig, key: string, fallback: number): number {
  const value = config[key];
  return typeof value === 'number' ? value : fallback;
}

export function runtimeOptions(config: ConnectorConfig): RuntimeOptions {
  return {
    stream: String(config['stream']),
    fromOffset: config['task.reader.fromOffset'] === 'LATEST' ? 'LATEST' : 'EARLIEST',
    skipUnmappable: config['task.error.skipStrategy'] === 'SkipAll',
    maxRetries: numberOption(config, 'task.error.maxRetries', -1),
    maxBatchRecords: numberOption(config, 'task.batch.maxRecords', 1000),
  };
}

/** The source runtime's keys, with defaults applied. */
export interface SourceRuntimeOptions {
  stream: string;
  maxBatchRecords: number;
  maxBatchDelayMs: number;
}

export function sourceRuntimeOptions(config: ConnectorConfig): SourceRuntimeOptions {
  return {
    stream: String(config['stream']),
    maxBatchRecords: numberOption(config, 'batch.maxRecords', 500),
    maxBatchDelayMs: numberOption(config, 'batch.maxDelayMs', 20),
  };
}

const loadAjv = lazyRequire<typeof import('ajv/dist/2020.js')>('ajv/dist/2020.js');
let ajv: Ajv2020 | undefined;

/** The validator, made when the first config is checked. */
function validator(): Ajv2020 {
  if (ajv) return ajv;
  ajv = new (loadAjv().Ajv2020)({ allErrors: true, strict: true });
  // The console's layout hints are part of upstream's spec format, not validation keywords.
  ajv.addVocabulary(['ui:order', 'ui:type', 'ui:showName', 'ui:condition']);
  return ajv;
}
const compiled = new WeakMap<SinkDriver | SourceDriver, ValidateFunction>();

/** The full schema of a connector type, sink or source. */
export type TypedDriver = { type: 'SINK'; driver: SinkDriver } | { type: 'SOURCE'; driver: SourceDriver };

export function connectorSpec(typed: TypedDriver): JsonSchema {
  return typed.type === 'SINK' ? sinkSpec(typed.driver) : sourceSpec(typed.driver);
}

/** Parses and validates a config; a refused one throws CheckFailure('CONFIG') naming each bad key. */
export function validateConfig(typed: TypedDriver, text: string): ConnectorConfig {
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (err) {
    throw new CheckFailure('CONFIG', 'invalid config', `the config is not JSON: ${(err as Error).message}`);
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new CheckFailure('CONFIG', 'invalid config', 'the config must be a JSON object of key/value pairs');
  }
  let validate = compiled.get(typed.driver);
  if (!validate) {
    validate = validator().compile(connectorSpec(typed));
    compiled.set(typed.driver, validate);
  }
  if (!validate(config)) throw new CheckFailure('CONFIG', 'invalid config', (validate.errors ?? []).map(describe).join('; '));
  return config as ConnectorConfig;
}

/** "port: must be integer", "missing required key password" — without the value, which may be a secret. */
function describe(e: ErrorObject): string {
  const key = e.instancePath.replace(/^\//, '').replace(/~1/g, '/').replace(/~0/g, '~');
  if (e.keyword === 'required') return `missing required key "${(e.params as { missingProperty: string }).missingProperty}"`;
  if (e.keyword === 'enum') return `"${key}" must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(', ')}`;
  return `"${key}" ${e.message ?? 'is invalid'}`;
}

/** Compact JSON with keys sorted at every level (upstream's encoder sorts them), secrets masked. */
export function showConfig(config: ConnectorConfig, secretKeys: readonly string[]): string {
  const masked: ConnectorConfig = { ...config };
  for (const key of secretKeys) if (key in masked) masked[key] = MASK;
  return JSON.stringify(sortKeys(masked));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/** Removes every secret value of the config from a text (an error message of a driver library, say). */
export function redact(text: string, config: ConnectorConfig, secretKeys: readonly string[]): string {
  let out = text;
  for (const key of secretKeys) {
    const secret = config[key];
    if (typeof secret === 'string' && secret.length > 0) out = out.split(secret).join(MASK);
  }
  return out;
}
