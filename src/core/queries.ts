/**
 * Continuous queries: binds the SQL engine (sql/, pure) to the log. A query
 * reads its source streams from where it stands, feeds each record to its
 * QueryRuntime, and appends the output rows to its sink stream (CREATE STREAM
 * AS / INSERT INTO … SELECT) or keeps them as a materialized view (CREATE
 * VIEW AS). Its operator state and source positions are checkpointed
 * together, after the sink appends they cover, so a clean restart neither
 * skips nor double-counts an input row.
 *
 * A query error stops that query as ABORTED with the reason; never the server.
 */
import type { Logger } from 'pino';
import {
  alreadyExists,
  ErrorCode,
  failedPrecondition,
  HStreamError,
  invalidArgument,
  notFound,
  streamNotFound,
} from '../errors.js';
import { decodeRecords } from '../records.js';
import { decodeStruct, encodeStruct, type JsonValue } from '../struct.js';
import { parseStatement, planSelect, QueryRuntime, SqlError, type QueryPlan, type Row, type SelectStatement } from '../../sql/index.js';
import type { Producer } from './producer.js';
import { ShardCursor, UNBOUNDED, waitForAny } from './readers.js';
import type { StreamCatalog, StreamInfo } from './streams.js';

export type QueryStatus = 'TASK_CREATING' | 'TASK_RUNNING' | 'TASK_ABORTED' | 'TASK_TERMINATED';
export type QueryKind = 'stream' | 'view';

export interface QueryMeta {
  id: string;
  sql: string;
  kind: QueryKind;
  /** sink stream (kind stream) or view name (kind view) */
  resultName: string;
  sources: string[];
  createdTimeMs: number;
  status: QueryStatus;
  reason?: string;
  /** the sink stream was made by this query (CREATE STREAM AS), as opposed to INSERT INTO */
  ownsSink: boolean;
}

interface Checkpoint {
  /** next LSN to read per source shard */
  positions: Record<string, number>;
  state: JsonValue;
}

/** A continuous query's source read: how many batches and bytes per step. */
const CHUNK = { maxBatches: 100, maxBytes: 4 * 1024 * 1024 };
const CHECKPOINT_INTERVAL_MS = 1000;
const IDLE_WAIT_MS = 1000;
/** Sink appends are cut into batches well under the record size limit. */
const SINK_BATCH_ROWS = 500;
export const DEFAULT_MAX_GROUPS = 1_000_000;

const queryPath = (id: string) => `query/${id}`;
const checkpointPath = (id: string) => `qckpt/${id}`;

class RunningQuery {
  readonly controller = new AbortController();
  done: Promise<void> = Promise.resolve();
  lastCheckpointMs = Date.now();

  constructor(
    readonly meta: QueryMeta,
    readonly plan: QueryPlan,
    public runtime: QueryRuntime,
    readonly cursors: Array<{ source: string; cursor: ShardCursor }>,
  ) {}
}

export interface NewQuery {
  id: string;
  sql: string;
  kind: QueryKind;
  resultName: string;
  select: SelectStatement;
  /** CREATE STREAM AS makes its sink; INSERT INTO … SELECT writes to an existing stream */
  createSink: boolean;
}

export class QueryManager {
  private readonly metas = new Map<string, QueryMeta>();
  private readonly running = new Map<string, RunningQuery>();
  /** views by name → the query that maintains them */
  private readonly views = new Map<string, string>();
  private closed = false;

  constructor(
    private readonly catalog: StreamCatalog,
    private readonly producer: Producer,
    private readonly log: Logger,
    private readonly maxGroups = DEFAULT_MAX_GROUPS,
  ) {
    // Running queries read their sources through cursors, not retained logs: reported, not holding.
    catalog.dependents.register({
      kind: 'query',
      holdsData: false,
      dependentsOf: (stream) =>
        [...this.running.values()]
          .filter((q) => q.meta.sources.includes(stream.name) || (q.meta.kind === 'stream' && q.meta.resultName === stream.name))
          .map((q) => q.meta.id),
    });
  }

  /** Loads every query and resumes those that were running. */
  async load(): Promise<void> {
    for (const { value } of await this.catalog.store.meta.list<QueryMeta>('query/')) {
      this.metas.set(value.id, value);
      if (value.kind === 'view') this.views.set(value.resultName, value.id);
    }
    for (const meta of this.metas.values()) {
      if (meta.status === 'TASK_RUNNING' || meta.status === 'TASK_CREATING') {
        try {
          await this.start(meta, await this.catalog.store.meta.get<Checkpoint>(checkpointPath(meta.id)));
        } catch (err) {
          await this.abort(meta, err);
        }
      }
    }
  }

  list(): QueryMeta[] {
    return [...this.metas.values()].sort((a, b) => a.createdTimeMs - b.createdTimeMs);
  }

  get(id: string): QueryMeta {
    const meta = this.metas.get(id);
    if (!meta) throw notFound(ErrorCode.QueryNotFound, 'QueryNotFound', { extra: id });
    return meta;
  }

  find(id: string): QueryMeta | undefined {
    return this.metas.get(id);
  }

  runningCount(): number {
    return this.running.size;
  }

  viewNames(): string[] {
    return [...this.views.keys()];
  }

  viewQuery(name: string): QueryMeta | undefined {
    const id = this.views.get(name);
    return id === undefined ? undefined : this.metas.get(id);
  }

  /** Current rows of a view (its query's materialized table). */
  viewRows(name: string): Row[] {
    const meta = this.viewQuery(name);
    if (!meta) throw notFound(ErrorCode.QueryNotFound, 'ViewNotFound', { extra: name });
    const q = this.running.get(meta.id);
    if (q) return q.runtime.viewRows();
    throw failedPrecondition(ErrorCode.QueryNotRunning, 'QueryNotRunning', { extra: `the query of view ${name} is ${meta.status}` });
  }

  async create(req: NewQuery): Promise<QueryMeta> {
    if (this.metas.has(req.id)) throw alreadyExists(ErrorCode.QueryExists, 'QueryExists', { extra: req.id });
    if (req.kind === 'view' && (this.views.has(req.resultName) || this.catalog.find(req.resultName))) {
      throw alreadyExists(ErrorCode.ViewExists, 'ViewExists', { extra: req.resultName });
    }
    let plan: QueryPlan;
    try {
      plan = planSelect(req.select);
    } catch (err) {
      throw sqlToHStream(err);
    }
    for (const source of plan.sources) if (!this.catalog.find(source)) throw streamNotFound(source);
    if (req.kind === 'stream') {
      const sink = this.catalog.find(req.resultName);
      if (req.createSink && sink) throw alreadyExists(ErrorCode.StreamExists, 'StreamExists', { extra: req.resultName });
      if (!req.createSink && !sink) throw streamNotFound(req.resultName);
      if (plan.sources.includes(req.resultName)) {
        throw invalidArgument(ErrorCode.QueryInvalidSQL, 'InvalidQuerySql', { extra: 'a query cannot write to one of its own sources' });
      }
    }
    const meta: QueryMeta = {
      id: req.id,
      sql: req.sql,
      kind: req.kind,
      resultName: req.resultName,
      sources: plan.sources,
      createdTimeMs: Date.now(),
      status: 'TASK_RUNNING',
      ownsSink: req.kind === 'stream' && req.createSink,
    };
    // Where the sources stand as the query becomes visible (listed, RUNNING): the sink's creation
    // and the metadata write below wait, and a record appended meanwhile by a client that saw the
    // query must not be skipped.
    const startAt = this.sourceTails(plan.sources);
    this.metas.set(meta.id, meta);
    if (meta.kind === 'view') this.views.set(meta.resultName, meta.id);
    try {
      if (meta.ownsSink) {
        // upstream: a sink made by CREATE STREAM AS has replication 1, 7 days of retention, 1 shard
        await this.catalog.create({ name: meta.resultName, replicationFactor: 1, backlogDuration: 604_800, shardCount: 1 });
      }
      await this.catalog.store.meta.put(queryPath(meta.id), meta);
      await this.start(meta, undefined, startAt);
    } catch (err) {
      this.metas.delete(meta.id);
      if (meta.kind === 'view') this.views.delete(meta.resultName);
      throw err;
    }
    this.log.info({ query: meta.id, kind: meta.kind, result: meta.resultName }, 'query created');
    return meta;
  }

  /** The next position of every shard of `sources`: where a new query starts reading. */
  private sourceTails(sources: readonly string[]): Record<string, number> {
    const positions: Record<string, number> = {};
    for (const source of sources) {
      for (const shard of this.catalog.find(source)?.shards ?? []) positions[String(shard.shardId)] = this.catalog.store.tail(shard.shardId) + 1;
    }
    return positions;
  }

  /** `checkpoint`: where a resumed query stood; `startAt`: where a new one starts (else each shard's tail). */
  private async start(meta: QueryMeta, checkpoint: Checkpoint | undefined, startAt?: Checkpoint['positions']): Promise<void> {
    const plan = planSelect(parseSelectOf(meta.sql));
    const runtime = checkpoint
      ? QueryRuntime.restore(plan, checkpoint.state, { maxGroups: this.maxGroups })
      : new QueryRuntime(plan, { maxGroups: this.maxGroups });
    const cursors: RunningQuery['cursors'] = [];
    for (const source of plan.sources) {
      const stream = this.catalog.find(source);
      if (!stream) throw streamNotFound(source);
      for (const shard of stream.shards) {
        // a new query reads what is appended after it became visible; a resumed one continues where it stood
        const next = (checkpoint?.positions ?? startAt)?.[String(shard.shardId)] ?? this.catalog.store.tail(shard.shardId) + 1;
        cursors.push({ source, cursor: new ShardCursor(this.catalog, shard.shardId, next, UNBOUNDED) });
      }
    }
    const q = new RunningQuery(meta, plan, runtime, cursors);
    this.running.set(meta.id, q);
    meta.status = 'TASK_RUNNING';
    meta.reason = undefined;
    // the first checkpoint pins the start positions, so a restart before any input does not skip rows
    await this.checkpoint(q);
    q.done = this.run(q).catch((err: unknown) => this.abort(meta, err));
  }

  private async run(q: RunningQuery): Promise<void> {
    const signal = q.controller.signal;
    while (!signal.aborted) {
      let progressed = false;
      for (const { source, cursor } of q.cursors) {
        if (signal.aborted) break;
        const batches = await cursor.read(CHUNK);
        if (batches.length === 0) continue;
        progressed = true;
        const out: Row[] = [];
        for (const batch of batches) {
          for (const record of decodeRecords(batch.compression, batch.payload)) {
            const row = recordToRow(record.header.flag, record.payload);
            if (row) out.push(...q.runtime.process(source, row, batch.timeMs));
          }
        }
        await this.emit(q, out);
      }
      if (Date.now() - q.lastCheckpointMs >= CHECKPOINT_INTERVAL_MS) await this.checkpoint(q);
      if (!progressed && !signal.aborted) await waitForAny(q.cursors.map(({ cursor }) => cursor), IDLE_WAIT_MS, signal);
    }
  }

  private async emit(q: RunningQuery, rows: Row[]): Promise<void> {
    if (q.meta.kind !== 'stream' || rows.length === 0) return;
    const sink = this.catalog.find(q.meta.resultName);
    if (!sink) throw streamNotFound(q.meta.resultName);
    const records = rows.map((row) => ({ header: { flag: 'JSON' as const, attributes: {}, key: '' }, payload: encodeStruct(row) }));
    await this.producer.appendRecords(sink.name, records, { shardId: sinkShard(sink), maxBatchRecords: SINK_BATCH_ROWS });
  }

  private async checkpoint(q: RunningQuery): Promise<void> {
    const positions: Record<string, number> = {};
    for (const { cursor } of q.cursors) positions[String(cursor.shardId)] = cursor.next;
    q.lastCheckpointMs = Date.now();
    await this.catalog.store.meta.put(checkpointPath(q.meta.id), { positions, state: q.runtime.snapshot() } satisfies Checkpoint);
  }

  private async abort(meta: QueryMeta, err: unknown): Promise<void> {
    const q = this.running.get(meta.id);
    q?.controller.abort();
    this.running.delete(meta.id);
    if (this.closed) return;
    meta.status = 'TASK_ABORTED';
    meta.reason = err instanceof Error ? err.message : String(err);
    this.log.warn({ query: meta.id, reason: meta.reason }, 'query aborted');
    await this.catalog.store.meta.put(queryPath(meta.id), meta).catch(() => undefined);
  }

  /** Stops a running query; its state and positions are kept so it can be resumed. */
  async terminate(id: string): Promise<void> {
    const meta = this.get(id);
    if (meta.status === 'TASK_TERMINATED') throw failedPrecondition(ErrorCode.QueryAlreadyTerminated, 'QueryAlreadyTerminated', { extra: id });
    await this.stop(meta);
    meta.status = 'TASK_TERMINATED';
    await this.catalog.store.meta.put(queryPath(id), meta);
  }

  private async stop(meta: QueryMeta): Promise<void> {
    const q = this.running.get(meta.id);
    if (!q) return;
    q.controller.abort();
    await q.done;
    this.running.delete(meta.id);
    if (meta.status === 'TASK_RUNNING') await this.checkpoint(q);
  }

  async resume(id: string): Promise<void> {
    const meta = this.get(id);
    if (meta.status === 'TASK_RUNNING') throw failedPrecondition(ErrorCode.InternalError, 'QueryNotAborted', { extra: `query ${id} is running` });
    await this.start(meta, await this.catalog.store.meta.get<Checkpoint>(checkpointPath(id)));
    await this.catalog.store.meta.put(queryPath(id), meta);
  }

  async delete(id: string): Promise<void> {
    const meta = this.get(id);
    if (meta.status === 'TASK_RUNNING' || meta.status === 'TASK_CREATING') {
      throw failedPrecondition(ErrorCode.QueryNotTerminated, 'QueryNotTerminated', { extra: id });
    }
    if (meta.kind === 'view' && this.views.get(meta.resultName) === id) {
      throw failedPrecondition(ErrorCode.QueryFoundAssociatedView, 'FoundAssociatedView', { extra: meta.resultName });
    }
    this.metas.delete(id);
    await this.catalog.store.meta.write([
      { type: 'del', path: queryPath(id) },
      { type: 'del', path: checkpointPath(id) },
    ]);
  }

  /** Deletes a view; like upstream, its query must be terminated first. */
  async deleteView(name: string, ignoreNonExist: boolean): Promise<void> {
    const meta = this.viewQuery(name);
    if (!meta) {
      if (ignoreNonExist) return;
      throw notFound(ErrorCode.QueryNotFound, 'ViewNotFound', { extra: name });
    }
    if (meta.status === 'TASK_RUNNING') throw failedPrecondition(ErrorCode.QueryNotTerminated, 'QueryNotTerminated', { extra: meta.id });
    this.views.delete(name);
    await this.delete(meta.id);
  }

  /** Stops every query and checkpoints it, so a restart resumes exactly where it stopped. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.running.values()].map((q) => this.stop(q.meta).catch(() => undefined)));
  }
}

function sinkShard(sink: StreamInfo): number {
  return sink.shards[0]!.shardId;
}

/** A record as SQL input: JSON-flag records are Structs; RAW records are used if they hold a JSON object. */
export function recordToRow(flag: 'JSON' | 'RAW', payload: Buffer): Row | undefined {
  if (flag === 'JSON') {
    try {
      return decodeStruct(payload) as Row;
    } catch {
      return undefined;
    }
  }
  try {
    const value: unknown = JSON.parse(payload.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Row) : undefined;
  } catch {
    return undefined;
  }
}

/** SQL errors as upstream reports them: INVALID_ARGUMENT 402 with the position in the text. */
export function sqlToHStream(err: unknown): HStreamError {
  if (err instanceof HStreamError) return err;
  if (err instanceof SqlError) return invalidArgument(ErrorCode.QueryInvalidSQL, 'InvalidQuerySql', { extra: err.message, cause: err });
  throw err;
}

/** The SELECT of a stored query text (CREATE STREAM … AS / CREATE VIEW … AS / INSERT INTO … SELECT). */
function parseSelectOf(sql: string): SelectStatement {
  const stmt = parseStatement(sql);
  if (stmt.kind === 'createStreamAs' || stmt.kind === 'createView' || stmt.kind === 'insertSelect') return stmt.select;
  throw invalidArgument(ErrorCode.QueryInvalidSQL, 'InvalidQuerySql', { extra: 'not a continuous query' });
}
