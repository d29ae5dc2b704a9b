/**
 * A connector type's config schema (what GetConnectorSpec returns), the
 * runtime's own keys every sink shares, validation against the schema, and
 * how a config is shown (keys sorted as upstream's JSON, secrets masked).
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { CheckFailure, type ConnectorConfig, type JsonSchema, type SinkDriver } from './driver.js';

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

/** The full schema of a sink type: its own keys, then the runtime's. */
export function sinkSpec(driver: SinkDriver): JsonSchema {
  const own = driver.spec;
  const ownProps = (own['properties'] ?? {}) as Record<string, JsonSchema>;
  const ownRequired = (own['required'] ?? []) as string[];
  const ownOrder = (own['ui:order'] ?? []) as unknown[];
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object',
    ...own,
    properties: { stream: RUNTIME_PROPERTIES['stream'], ...ownProps, ...omit(RUNTIME_PROPERTIES, 'stream') },
    required: ['stream', ...ownRequired.filter((k) => k !== 'stream')],
    'ui:order': ['stream', ...ownOrder.filter((k) => k !== 'stream'), ...RUNTIME_ORDER],
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

export function runtimeOptions(config: ConnectorConfig): RuntimeOptions {
  return {
    stream: String(config['stream']),
    fromOffset: config['task.reader.fromOffset'] === 'LATEST' ? 'LATEST' : 'EARLIEST',
    skipUnmappable: config['task.error.skipStrategy'] === 'SkipAll',
    maxRetries: typeof config['task.error.maxRetries'] === 'number' ? config['task.error.maxRetries'] : -1,
    maxBatchRecords: typeof config['task.batch.maxRecords'] === 'number' ? config['task.batch.maxRecords'] : 1000,
  };
}

const ajv = new Ajv2020({ allErrors: true, strict: true });
// The console's layout hints are part of upstream's spec format, not validation keywords.
ajv.addVocabulary(['ui:order', 'ui:type', 'ui:showName', 'ui:condition']);
const compiled = new WeakMap<SinkDriver, ValidateFunction>();

/** Parses and validates a config; a refused one throws CheckFailure('CONFIG') naming each bad key. */
export function validateConfig(driver: SinkDriver, text: string): ConnectorConfig {
  let config: unknown;
  try {
    config = JSON.parse(text);
  } catch (err) {
    throw new CheckFailure('CONFIG', 'invalid config', `the config is not JSON: ${(err as Error).message}`);
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new CheckFailure('CONFIG', 'invalid config', 'the config must be a JSON object of key/value pairs');
  }
  let validate = compiled.get(driver);
  if (!validate) {
    validate = ajv.compile(sinkSpec(driver));
    compiled.set(driver, validate);
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
