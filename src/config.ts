/**
 * The one configuration schema: every option with its default, flag, env
 * variable and check. Precedence: defaults < YAML file (--config) < env
 * (HSTREAM_*) < flags.
 * Unknown flags and unsafe values are refused at start with a clear message.
 */

import { readFileSync } from 'node:fs';
import { lazyRequire } from './lazy-require.js';

type Kind = 'string' | 'int' | 'bool';

interface OptionSpec<K extends Kind> {
  kind: K;
  flag: string;
  env: string;
  doc: string;
  /** returns a reason when the value is unsafe */
  check?: (value: ValueOf<K>) => string | undefined;
}
type ValueOf<K extends Kind> = K extends 'int' ? number : K extends 'bool' ? boolean : string;

const loadYaml = lazyRequire<typeof import('yaml')>('yaml');
const port = (v: number) => (v < 0 || v > 65535 ? 'must be a port number between 0 and 65535' : undefined);
const positive = (v: number) => (v <= 0 ? 'must be greater than 0' : undefined);

export const DEFAULTS = Object.freeze({
  host: '127.0.0.1',
  port: 6570,
  advertisedHost: '',
  advertisedPort: 0,
  dataDir: './data',
  inMemory: false,
  fsync: false,
  logLevel: 'info',
  maxRecordSizeBytes: 1024 * 1024,
  maxMessageBytes: 4 * 1024 * 1024 + 64 * 1024,
  segmentMaxBytes: 64 * 1024 * 1024,
  segmentMaxAgeSeconds: 3600,
  retentionCheckSeconds: 10,
  maxQueuedAppendBytes: 256 * 1024 * 1024,
  tailCacheBytes: 64 * 1024 * 1024,
  serverId: 1,
  enableTls: false,
  tlsCertPath: '',
  tlsKeyPath: '',
  tlsCaPath: '',
  httpPort: -1,
  httpToken: '',
  maxQueryGroups: 1_000_000,
  connectorPathRoot: '',
});

type Widen<T> = T extends number ? number : T extends string ? string : T extends boolean ? boolean : T;
export type Config = { -readonly [K in keyof typeof DEFAULTS]: Widen<(typeof DEFAULTS)[K]> };

const SCHEMA: { [K in keyof Config]: OptionSpec<Config[K] extends number ? 'int' : Config[K] extends boolean ? 'bool' : 'string'> } = {
  host: { kind: 'string', flag: 'host', env: 'HSTREAM_HOST', doc: 'address the gRPC server binds to' },
  port: { kind: 'int', flag: 'port', env: 'HSTREAM_PORT', doc: 'gRPC port (0 picks a free port)', check: port },
  advertisedHost: {
    kind: 'string',
    flag: 'advertised-host',
    env: 'HSTREAM_ADVERTISED_HOST',
    doc: 'host returned to clients by DescribeCluster and Lookup* (default: --host, or 127.0.0.1 when binding 0.0.0.0)',
  },
  advertisedPort: {
    kind: 'int',
    flag: 'advertised-port',
    env: 'HSTREAM_ADVERTISED_PORT',
    doc: 'port returned to clients (default: the bound port)',
    check: port,
  },
  dataDir: { kind: 'string', flag: 'data-dir', env: 'HSTREAM_DATA_DIR', doc: 'directory of the LevelDB store' },
  inMemory: { kind: 'bool', flag: 'in-memory', env: 'HSTREAM_IN_MEMORY', doc: 'keep everything in memory (nothing survives exit)' },
  fsync: {
    kind: 'bool',
    flag: 'fsync',
    env: 'HSTREAM_FSYNC',
    doc: 'fsync each write (group-committed) before acknowledging: survives power loss, not only process crashes',
  },
  logLevel: {
    kind: 'string',
    flag: 'log-level',
    env: 'HSTREAM_LOG_LEVEL',
    doc: 'fatal, error, warn, info, debug, trace or silent',
    check: (v) => (['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(v) ? undefined : 'is not a log level'),
  },
  maxRecordSizeBytes: {
    kind: 'int',
    flag: 'max-record-size',
    env: 'HSTREAM_MAX_RECORD_SIZE',
    doc: 'largest accepted BatchedRecord, in bytes',
    check: positive,
  },
  maxMessageBytes: {
    kind: 'int',
    flag: 'max-message-size',
    env: 'HSTREAM_MAX_MESSAGE_SIZE',
    doc: 'largest gRPC message the server receives, in bytes',
    check: positive,
  },
  segmentMaxBytes: {
    kind: 'int',
    flag: 'segment-max-bytes',
    env: 'HSTREAM_SEGMENT_MAX_BYTES',
    doc: 'a shard log segment is closed at this size',
    check: positive,
  },
  segmentMaxAgeSeconds: {
    kind: 'int',
    flag: 'segment-max-age',
    env: 'HSTREAM_SEGMENT_MAX_AGE',
    doc: 'a shard log segment is closed after this many seconds',
    check: positive,
  },
  retentionCheckSeconds: {
    kind: 'int',
    flag: 'retention-check-interval',
    env: 'HSTREAM_RETENTION_CHECK_INTERVAL',
    doc: 'seconds between retention sweeps',
    check: positive,
  },
  maxQueuedAppendBytes: {
    kind: 'int',
    flag: 'max-queued-append-bytes',
    env: 'HSTREAM_MAX_QUEUED_APPEND_BYTES',
    doc: 'appends waiting to be written may hold this many bytes; more are refused with RESOURCE_EXHAUSTED',
    check: positive,
  },
  tailCacheBytes: {
    kind: 'int',
    flag: 'tail-cache-bytes',
    env: 'HSTREAM_TAIL_CACHE_BYTES',
    doc: 'newest appended batches kept in memory for readers that follow the tail, in payload bytes over all shards; 0 = off',
    check: (v: number) => (v < 0 ? 'must be 0 or more' : undefined),
  },
  serverId: { kind: 'int', flag: 'server-id', env: 'HSTREAM_SERVER_ID', doc: 'node id reported to clients', check: positive },
  enableTls: { kind: 'bool', flag: 'enable-tls', env: 'HSTREAM_ENABLE_TLS', doc: 'serve gRPC over TLS (clients use hstreams://)' },
  tlsCertPath: { kind: 'string', flag: 'tls-cert-path', env: 'HSTREAM_TLS_CERT_PATH', doc: 'PEM certificate chain of the server (with --enable-tls)' },
  tlsKeyPath: { kind: 'string', flag: 'tls-key-path', env: 'HSTREAM_TLS_KEY_PATH', doc: 'PEM private key of the server (with --enable-tls)' },
  tlsCaPath: {
    kind: 'string',
    flag: 'tls-ca-path',
    env: 'HSTREAM_TLS_CA_PATH',
    doc: 'PEM CA bundle; when set, clients must present a certificate it signed',
  },
  maxQueryGroups: {
    kind: 'int',
    flag: 'max-query-groups',
    env: 'HSTREAM_MAX_QUERY_GROUPS',
    doc: 'groups/windows one continuous query may hold; a query that needs more stops as ABORTED',
    check: positive,
  },
  connectorPathRoot: {
    kind: 'string',
    flag: 'connector-path-root',
    env: 'HSTREAM_CONNECTOR_PATH_ROOT',
    doc: 'the only directory file sinks (parquet, jsonl) may write under; a "path" outside it is refused (default: <data-dir>/lake)',
  },
  httpPort: {
    kind: 'int',
    flag: 'http-port',
    env: 'HSTREAM_HTTP_PORT',
    doc: 'port of the HTTP endpoints (/healthz, /metrics, /v1 REST) on the gRPC host; -1 = off, 0 = any free port',
    check: (v) => (v < -1 || v > 65535 ? 'must be -1 (off) or a port number' : undefined),
  },
  httpToken: {
    kind: 'string',
    flag: 'http-token',
    env: 'HSTREAM_HTTP_TOKEN',
    doc: 'when set, every HTTP route but /healthz and the console page\'s own files needs "Authorization: Bearer <token>" (the console asks for it)',
    check: (v) => (v !== '' && !/^[\x21-\x7e]{8,}$/.test(v) ? 'must be at least 8 printable ASCII characters without spaces' : undefined),
  },
};

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function parseValue(kind: Kind, raw: string, where: string): string | number | boolean {
  if (kind === 'string') return raw;
  if (kind === 'bool') {
    if (['', 'true', '1', 'yes', 'on'].includes(raw.toLowerCase())) return true;
    if (['false', '0', 'no', 'off'].includes(raw.toLowerCase())) return false;
    throw new ConfigError(`${where}: expected true or false, got "${raw}"`);
  }
  if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(`${where}: expected a whole number, got "${raw}"`);
  return Number(raw);
}

/** Reads a YAML config file: keys are option names in camelCase or as flags (`data-dir`). */
function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = loadYaml().parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${path} is not valid YAML: ${(err as Error).message}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) throw new ConfigError(`config file ${path} must be a mapping of options`);
  return parsed as Record<string, unknown>;
}

/** The value of `--config FILE` / `--config=FILE`, or HSTREAM_CONFIG. */
function configFileOf(argv: string[], env: NodeJS.ProcessEnv): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--config') return argv[i + 1];
    if (argv[i]!.startsWith('--config=')) return argv[i]!.slice('--config='.length);
  }
  return env.HSTREAM_CONFIG || undefined;
}

/** Builds the configuration from a YAML file, env and command-line flags (in that precedence), and checks it. */
export function loadConfig(argv: string[], env: NodeJS.ProcessEnv = {}, overrides: Partial<Config> = {}): Config {
  const config: Config = { ...DEFAULTS };
  const set = (key: keyof Config, value: string | number | boolean) => {
    (config as Record<keyof Config, string | number | boolean>)[key] = value;
  };
  const keys = Object.keys(SCHEMA) as Array<keyof Config>;
  const file = configFileOf(argv, env);
  if (file !== undefined) {
    const byName = new Map<string, keyof Config>();
    for (const key of keys) {
      byName.set(key, key);
      byName.set(SCHEMA[key].flag, key);
    }
    for (const [name, value] of Object.entries(readConfigFile(file))) {
      const key = byName.get(name);
      if (!key) throw new ConfigError(`config file ${file}: unknown option "${name}"`);
      const kind = SCHEMA[key].kind;
      if (typeof value !== (kind === 'int' ? 'number' : kind === 'bool' ? 'boolean' : 'string') || (kind === 'int' && !Number.isInteger(value))) {
        throw new ConfigError(`config file ${file}: "${name}" must be ${kind === 'int' ? 'a whole number' : kind === 'bool' ? 'true or false' : 'a string'}`);
      }
      set(key, value as string | number | boolean);
    }
  }
  for (const key of keys) {
    const spec = SCHEMA[key];
    const raw = env[spec.env];
    if (raw !== undefined && raw !== '') set(key, parseValue(spec.kind, raw, spec.env));
  }
  const byFlag = new Map(keys.map((key) => [SCHEMA[key].flag, key]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) throw new ConfigError(`unexpected argument "${arg}" (see --help)`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (name === 'config') {
      if (eq < 0) i++;
      continue;
    }
    const key = byFlag.get(name);
    if (!key) throw new ConfigError(`unknown option --${name} (see --help)`);
    const spec = SCHEMA[key];
    let raw: string;
    if (eq >= 0) raw = arg.slice(eq + 1);
    else if (spec.kind === 'bool' && (argv[i + 1] === undefined || argv[i + 1]!.startsWith('--'))) raw = 'true';
    else if (argv[i + 1] === undefined) throw new ConfigError(`option --${name} needs a value`);
    else raw = argv[++i]!;
    set(key, parseValue(spec.kind, raw, `--${name}`));
  }
  Object.assign(config, overrides);
  for (const key of keys) {
    const check = SCHEMA[key].check as ((v: unknown) => string | undefined) | undefined;
    const reason = check?.(config[key]);
    if (reason) throw new ConfigError(`--${SCHEMA[key].flag} ${reason} (got ${String(config[key])})`);
  }
  if (config.enableTls && (!config.tlsCertPath || !config.tlsKeyPath)) {
    throw new ConfigError('--enable-tls needs --tls-cert-path and --tls-key-path');
  }
  if (config.maxRecordSizeBytes + 1024 > config.maxMessageBytes) {
    throw new ConfigError('--max-record-size must be smaller than --max-message-size');
  }
  return config;
}

export function helpText(): string {
  const lines = ['Usage: hstreamlite [options]', '', 'Options (env variable in brackets, default after =):'];
  for (const key of Object.keys(SCHEMA) as Array<keyof Config>) {
    const spec = SCHEMA[key];
    const value = spec.kind === 'bool' ? '' : ` <${spec.kind === 'int' ? 'n' : 'value'}>`;
    lines.push(`  --${spec.flag}${value}  [${spec.env}] = ${JSON.stringify(DEFAULTS[key])}`, `      ${spec.doc}`);
  }
  lines.push('  --config <file>  [HSTREAM_CONFIG]', '      YAML file of options (camelCase or flag names); env and flags override it');
  lines.push('  --help  print this text');
  return lines.join('\n');
}
