/**
 * The `parquet` sink: a stream's JSON records as Parquet (or, with
 * "format" = "jsonl", newline-delimited JSON) files under a directory,
 * partitioned Hive-style by publish time, schema in `_schema.json`, records
 * that are not JSON objects in `_rejected/`. Files are written exactly once
 * (lake-writer.ts). Parquet is encoded by hyparquet-writer: pure JavaScript,
 * no native or WebAssembly build, as fast as parquet-wasm on our rows at a
 * thirtieth of its install size. The server's thread only gathers each
 * file's payloads; reading them as JSON, the schema, the columns and the
 * encoding run on a thread of its own (parquet-encoder.ts, lake-encode.ts).
 */
import type { ConnectorConfig, SinkContext, SinkDriver } from './driver.js';
import type { Partitioning } from './lake-files.js';
import { lakeDirectory } from './lake-path.js';
import { LakeWriter, type LakeFormat } from './lake-writer.js';

/** Half what the runtime lets a holding sink keep unacknowledged: one file is written while the next fills. */
const MAX_ROLL_RECORDS = 10_000;
/** Below the subscription's ack timeout (one hour), so a held record is never redelivered while its file is open. */
const MAX_ROLL_SECONDS = 1800;

const parquetFormat: LakeFormat = { ext: 'parquet', encoding: 'parquet' };
const jsonlFormat: LakeFormat = { ext: 'jsonl', encoding: 'jsonl' };

interface LakeConfig {
  path: string;
  format: LakeFormat;
  partition: Partitioning;
  rollRecords: number;
  rollBytes: number;
  rollSeconds: number;
}

function lakeConfig(config: ConnectorConfig): LakeConfig {
  const int = (key: string, fallback: number) => (typeof config[key] === 'number' ? (config[key] as number) : fallback);
  return {
    path: String(config['path']),
    format: config['format'] === 'jsonl' ? jsonlFormat : parquetFormat,
    partition: config['partition'] === 'day' ? 'day' : 'hour',
    rollRecords: int('roll.records', MAX_ROLL_RECORDS),
    rollBytes: int('roll.bytes', 64 * 1024 * 1024),
    rollSeconds: int('roll.seconds', 300),
  };
}

export const parquetSink: SinkDriver = {
  target: 'parquet',
  readsJson: true,
  holdsRecords: true,
  spec: {
    title: 'sink-parquet',
    description: 'writes JSON records into Parquet or JSONL files partitioned by publish time (UTC) under a directory of the server',
    properties: {
      path: {
        type: 'string',
        minLength: 1,
        description: 'directory of the files, under the server\'s --connector-path-root (a relative path is taken from there)',
        'ui:showName': 'Path',
      },
      format: { type: 'string', enum: ['parquet', 'jsonl'], default: 'parquet', description: 'file format', 'ui:showName': 'Format' },
      partition: {
        type: 'string',
        enum: ['hour', 'day'],
        default: 'hour',
        description: 'directories by publish time in UTC: dt=YYYY-MM-DD/hour=HH/ or dt=YYYY-MM-DD/',
        'ui:showName': 'Partition',
      },
      'roll.records': {
        type: 'integer',
        minimum: 1,
        maximum: MAX_ROLL_RECORDS,
        default: MAX_ROLL_RECORDS,
        description: 'files are closed when the records held over all open files (one per shard) reach this; at most 10,000, so that a file is written while the next one fills within the 20,000 records a sink may hold unacknowledged',
        'ui:showName': 'Roll Records',
      },
      'roll.bytes': {
        type: 'integer',
        minimum: 1024,
        maximum: 256 * 1024 * 1024,
        default: 64 * 1024 * 1024,
        description: 'files are closed when the payload bytes held over all open files reach this (what the sink keeps in memory)',
        'ui:showName': 'Roll Bytes',
      },
      'roll.seconds': {
        type: 'integer',
        minimum: 1,
        maximum: MAX_ROLL_SECONDS,
        default: 300,
        description: 'a file is closed this long after its first record, even when no more records come',
        'ui:showName': 'Roll Seconds',
      },
      afterRetention: {
        type: 'boolean',
        default: false,
        description: 'the stream\'s retention drops only what this connector has written: old data leaves the server into the files',
        'ui:showName': 'Hold Retention',
      },
    },
    required: ['path'],
    'ui:order': ['path', 'format', 'partition', 'roll.records', 'roll.bytes', 'roll.seconds', 'afterRetention'],
  },
  secretKeys: [],
  async check(config: ConnectorConfig, ctx: SinkContext): Promise<void> {
    await lakeDirectory(ctx.pathRoot, lakeConfig(config).path);
  },
  async open(config: ConnectorConfig, ctx: SinkContext): Promise<LakeWriter> {
    const { path, ...opts } = lakeConfig(config);
    return LakeWriter.open({ ...opts, dir: await lakeDirectory(ctx.pathRoot, path) }, ctx);
  },
};
