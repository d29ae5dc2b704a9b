/**
 * What a sink connector type is: a sink driver (sources: source-driver.ts).
 * A new target is one file that exports a `SinkDriver` and one line in
 * registry.ts; the runtime (sink-task.ts) does reading, batching, retries,
 * offsets and status for every type the same way.
 */
import type { Logger } from 'pino';
import type { HStreamRecord } from '../records.js';
import { decodeStruct } from '../struct.js';

/** A JSON Schema (draft 2020-12) object, as GetConnectorSpec returns it. */
export type JsonSchema = Record<string, unknown>;

/** A connector's config after schema validation: the user's JSON object. */
export type ConnectorConfig = Record<string, unknown>;

/** Why a config is refused (upstream's check result types). */
export type CheckKind = 'CONFIG' | 'CONNECTION' | 'KEYS';

/** A refused config: the create call answers ConnectorCheckFailed (604) with these. */
export class CheckFailure extends Error {
  constructor(
    readonly kind: CheckKind,
    message: string,
    /** what was expected, for a person: "port: must be an integer", "table t1 has no primary key" */
    readonly detail: string,
  ) {
    super(message);
    this.name = 'CheckFailure';
  }
}

/** A record the target could not take (not JSON, unknown column, wrong type): skipped or fatal by config, never retried. */
export class UnmappableRecord extends Error {
  constructor(message: string, readonly recordId: string) {
    super(message);
    this.name = 'UnmappableRecord';
  }
}

/**
 * A write that reached the target but must be written again: an earlier
 * write still in flight when it was sent failed (or was redone row by row),
 * so this one may have landed before the earlier one's rows did. Not a
 * target failure: the runtime writes it again at once, after the earlier one.
 */
export class RewriteNeeded extends Error {
  constructor() {
    super('an earlier write in flight failed: written again after it');
    this.name = 'RewriteNeeded';
  }
}

/** One record handed to a sink, with where it came from. */
export interface SinkRecord {
  /** "shardId-batchId-index", as clients print record ids */
  readonly id: string;
  readonly shardId: number;
  /** the id's parts: the batch's LSN and the record's index in it */
  readonly lsn: number;
  readonly index: number;
  readonly record: HStreamRecord;
}

/**
 * A batch of records of one source shard, as stored. Drivers that forward
 * batches undecoded (the hstream mirror) read `raw`; others read `records`.
 */
export interface SinkBatch {
  readonly shardId: number;
  /** store time of the batch in ms since the epoch: the records' publish time */
  readonly timeMs: number;
  readonly records: readonly SinkRecord[];
  /** the batch as stored; undefined when records were taken out of it (a skipped record): write `records` then */
  readonly raw: { readonly compression: number; readonly payload: Buffer; readonly batchSize: number; readonly timeMs: number } | undefined;
}

export interface SinkWriteOptions {
  /**
   * Sent while earlier writes may still be unsettled for the runtime: refused
   * with `RewriteNeeded`, unsent, when a write has failed since the last
   * write not sent ahead (the runtime's retries and one-at-a-time writes).
   */
  readonly ahead?: boolean;
}

export interface SinkWriter {
  /**
   * Writes the batches, in order, and resolves only when the target has
   * them durably: the runtime acknowledges (commits the offset) after that.
   * Throws `UnmappableRecord` for a record the target cannot take, anything
   * else for a target failure (retried with backoff).
   *
   * A driver with `writesInFlight` above 1 is called again before the
   * previous write resolved (`ahead`). It applies writes in call order, and
   * a write that may land before the retry of an earlier failed one throws
   * `RewriteNeeded` (or fails too): the runtime then writes it again after
   * that retry.
   */
  write(batches: readonly SinkBatch[], options?: SinkWriteOptions): Promise<void>;
  /** Releases connections; must not throw. */
  close(): Promise<void>;
}

/** The stream a sink reads, for targets that mirror its layout. */
export interface SourceStream {
  readonly name: string;
  readonly shards: ReadonlyArray<{ readonly shardId: number; readonly startHashRangeKey: string; readonly endHashRangeKey: string }>;
  readonly replicationFactor: number;
  readonly backlogDuration: number;
}

export interface SinkContext {
  readonly log: Logger;
  /** the stream read, when it still exists */
  readonly source?: SourceStream;
  /** aborted when the connector stops: a driver waiting on its target gives up */
  readonly signal: AbortSignal;
  /** the only directory a file sink may write under (--connector-path-root), resolved */
  readonly pathRoot: string;
  /** records a sink may hold unacknowledged at most (its subscription's bound): a holding writer must release them before */
  readonly maxHeldRecords: number;
  /**
   * For drivers that hold records (`holdsRecords`): the writer calls it when
   * batches it took are durable in the target, `rejected` of their records
   * set aside as unreadable; the runtime acknowledges the batches then.
   */
  readonly durable: (batches: readonly SinkBatch[], rejected: number) => void;
}

export interface SinkDriver {
  /** upstream's target name: "postgresql", "mysql", … */
  readonly target: string;
  /** the type's own keys; the runtime merges its common keys (stream, task.*) in */
  readonly spec: JsonSchema;
  /** whether the writer reads records as JSON (payloadJson): the runtime then parses them ahead, during the previous write */
  readonly readsJson?: boolean;
  /**
   * Writes the runtime keeps in flight (default 1): with 2 the next write
   * goes out while the target still works on the previous one, so neither
   * side waits on the other. Only for writers that keep call order (see
   * `SinkWriter.write`); not with `holdsRecords`.
   */
  readonly writesInFlight?: number;
  /**
   * Whether the writer keeps records in an open file past `write()`: it then
   * reports them through `SinkContext.durable` once its file is in place, and
   * the runtime acknowledges them only then. Records it still holds when it
   * is closed are delivered again.
   */
  readonly holdsRecords?: boolean;
  /** config keys whose values never leave the server (masked in replies, logs, metrics) */
  readonly secretKeys: readonly string[];
  /** Checks the target (connect, table, keys) before a connector is created; throws CheckFailure. */
  check(config: ConnectorConfig, ctx: SinkContext): Promise<void>;
  /** Opens a writer for a running connector; a failure here is a target failure (retried). */
  open(config: ConnectorConfig, ctx: SinkContext): Promise<SinkWriter>;
}

/** A record's payload read as JSON text: the value, or why it is not JSON. */
export type PayloadJson = { ok: true; text: string; value: unknown } | { ok: false; reason: 'not UTF-8' | 'not JSON'; text: string };

const utf8 = new TextDecoder('utf-8', { fatal: true });
/** Where a record keeps its parse: a slot on the record itself, which dies with it (a WeakMap entry per record costs the collector far more). */
const parsedSlot = Symbol('payloadJson');
type ParsedRecord = HStreamRecord & { [parsedSlot]?: PayloadJson };

/**
 * The payload parsed as JSON, once per record: the runtime parses the next
 * records while the target is busy with the previous write, and drivers
 * that take JSON read the result here.
 */
export function payloadJson(record: HStreamRecord): PayloadJson {
  return ((record as ParsedRecord)[parsedSlot] ??= readPayloadJson(record.payload, record.header.flag, false));
}

/**
 * A payload parsed as JSON that does not keep its text: records parsed
 * ahead wait for the write in flight, and a string copy of every payload
 * beside its value was close to half of what they held, copied by every
 * young-generation collection while they wait. The rare reader of the text
 * (a message about the record) decodes it again.
 */
class ParsedPayload {
  readonly ok = true;
  constructor(readonly value: unknown, private readonly payload: Uint8Array) {}

  get text(): string {
    return utf8.decode(this.payload);
  }
}

/**
 * A payload read as JSON by its record's flag: what `payloadJson` does, for payloads held apart
 * from their records (the lake encoder thread). `keepText`: for a caller that reads the text of
 * every record (a jsonl file).
 */
export function readPayloadJson(payload: Uint8Array, flag: HStreamRecord['header']['flag'], keepText = true): PayloadJson {
  if (flag === 'JSON' && !startsAsJsonText(payload[0])) {
    // A JSON record is an HRecord: a serialized protobuf Struct, as official clients, SQL queries and
    // our sources write it. JSON text under the JSON flag is read as text below.
    try {
      const value = decodeStruct(payload);
      let text: string | undefined;
      // the text only when a driver asks (jsonl files, rejected lines): Parquet reads the value
      return {
        ok: true,
        value,
        get text() {
          return (text ??= JSON.stringify(value));
        },
      };
    } catch {
      // not a Struct: read as text, which names what it is not
    }
  }
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    return { ok: false, reason: 'not UTF-8', text: '' };
  }
  if (keepText) return readJsonText(text);
  try {
    return new ParsedPayload(JSON.parse(text) as unknown, payload);
  } catch {
    return { ok: false, reason: 'not JSON', text };
  }
}

/** A payload's text (decoded already) read as JSON: for JSON text under the JSON flag (`startsAsJsonText`) and RAW records. */
export function readJsonText(text: string): PayloadJson {
  try {
    return { ok: true, text, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, reason: 'not JSON', text };
  }
}

/** By its first byte: a serialized Struct is empty or starts with its first field's tag (0x0a); JSON text of an object starts with "{" or a space. */
export function startsAsJsonText(first: number | undefined): boolean {
  return first === 0x7b || first === 0x20 || first === 0x09 || first === 0x0d;
}
