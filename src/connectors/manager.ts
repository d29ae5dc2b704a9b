/**
 * The connectors of this node: create (validate, check the target, then
 * start), list, pause, resume, alter and delete, persisted in the meta
 * store and started again with the server.
 *
 * Each sink reads through a subscription of its own, `__connector_<taskId>`:
 * its committed offsets are the connector's, it survives restarts with the
 * subscription, and deleting the connector deletes it. Users cannot create
 * such ids (a name starts with a letter), and ListSubscriptions hides them.
 *
 * A source appends to its stream through the producer; where it is in its
 * source is the source's business (an MQTT broker keeps the session).
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import {
  alreadyExists,
  ErrorCode,
  failedPrecondition,
  HStreamError,
  invalidArgument,
  notFound,
  unavailable,
  type Extra,
} from '../errors.js';
import { validateName } from '../core/names.js';
import type { Producer } from '../core/producer.js';
import type { StreamCatalog } from '../core/streams.js';
import type { SubscriptionManager } from '../core/subscriptions/manager.js';
import type { MetaStore } from '../../storage/index.js';
import { CheckFailure, type ConnectorConfig, type SinkDriver, type SourceStream } from './driver.js';
import { typedDriver } from './registry.js';
import { SinkTask, type SinkCounters, type TaskState } from './sink-task.js';
import { SourceTask } from './source-task.js';
import { connectorSpec, redact, runtimeOptions, showConfig, sourceRuntimeOptions, validateConfig, type TypedDriver } from './spec.js';
import { TaskLog } from './task-log.js';
import type { ConnectorStatus, ConnectorType, ConnectorView } from './view.js';

export interface NewConnector {
  name: string;
  /** as sent: upper-cased, must be SOURCE or SINK */
  type: string;
  target: string;
  /** JSON object text */
  config: string;
}

/** What is persisted per connector. */
interface ConnectorMeta {
  name: string;
  taskId: string;
  type: ConnectorType;
  target: string;
  config: ConnectorConfig;
  creationTimeMs: number;
  /** paused by the user: stays STOPPED across restarts until resumed */
  paused: boolean;
}

interface Entry {
  meta: ConnectorMeta;
  typed: TypedDriver;
  state: TaskState;
  task: SinkTask | SourceTask | undefined;
  log: TaskLog;
  counters: SinkCounters;
  /** one pause/resume/alter/delete at a time per connector */
  busy: Promise<void>;
}

export interface ConnectorManagerDeps {
  meta: MetaStore;
  streams: StreamCatalog;
  subscriptions: SubscriptionManager;
  /** where sources append: the Append RPC's path */
  producer: Pick<Producer, 'appendRecords'>;
  log: Logger;
  /** the only directory file sinks may write under, resolved */
  pathRoot: string;
  /** host:port of this node, as replies show it */
  node(): string;
}

/** How long a target check may take before create gives up. */
const CHECK_TIMEOUT_MS = 15_000;
export const CONNECTOR_SUBSCRIPTION_PREFIX = '__connector_';
/** Records read but not yet written to the target, at most: what bounds a connector's memory when the target is slow. */
const MAX_UNACKED_RECORDS = 10_000;

/**
 * A writer that holds records until its file is in place (parquet) may hold
 * twice as many: one full file being written while the next one fills,
 * instead of reading nothing until the file is done.
 */
function maxUnackedRecords(driver: SinkDriver): number {
  return driver.holdsRecords ? 2 * MAX_UNACKED_RECORDS : MAX_UNACKED_RECORDS;
}
/** Long: a connector retries in process, a redelivery to itself would only repeat records it still holds. */
const ACK_TIMEOUT_SECONDS = 3600;

const metaPath = (name: string) => `connector/${name}`;
const subscriptionOf = (taskId: string) => `${CONNECTOR_SUBSCRIPTION_PREFIX}${taskId}`;

export class ConnectorManager {
  readonly #entries = new Map<string, Entry>();
  readonly #creating = new Set<string>();
  #closed = false;

  constructor(private readonly deps: ConnectorManagerDeps) {
    // Sinks are known to the stream through their subscriptions; sources write to it: reported, not holding.
    deps.streams.dependents.register({
      kind: 'source connector',
      holdsData: false,
      dependentsOf: (stream) =>
        [...this.#entries.values()].filter((e) => e.meta.type === 'SOURCE' && e.meta.config['stream'] === stream.name).map((e) => e.meta.name),
    });
  }

  /** Reads every connector and removes subscriptions of connectors whose creation did not finish. */
  async load(): Promise<void> {
    for (const { value } of await this.deps.meta.list<ConnectorMeta>('connector/')) {
      const driver = typedDriver(value.type, value.target);
      if (!driver) {
        this.deps.log.error({ connector: value.name, target: value.target }, 'connector of an unknown target left stopped');
        continue;
      }
      this.#entries.set(value.name, this.#entry(value, driver, value.paused ? { kind: 'stopped' } : { kind: 'running' }));
    }
    const owned = new Set([...this.#entries.values()].map((e) => subscriptionOf(e.meta.taskId)));
    for (const view of this.deps.subscriptions.list(CONNECTOR_SUBSCRIPTION_PREFIX)) {
      if (!owned.has(view.meta.subscriptionId)) await this.deps.subscriptions.delete(view.meta.subscriptionId, true);
    }
  }

  /** Starts every connector that is not paused (upstream also restarts failed ones with the node). */
  start(): void {
    for (const entry of this.#entries.values()) if (!entry.meta.paused) this.#startTask(entry);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#entries.values()].map((e) => e.task?.stop()));
  }

  async create(req: NewConnector): Promise<ConnectorView> {
    if (this.#closed) throw unavailable('the server is shutting down');
    const name = validateName('connector', req.name);
    if (this.#entries.has(name) || this.#creating.has(name)) {
      throw alreadyExists(ErrorCode.ConnectorExists, 'ConnectorExists', { extra: name });
    }
    const typed = typedDriver(connectorType(req.type), req.target);
    if (!typed) throw unimplementedTarget(req.target);
    this.#creating.add(name);
    try {
      const config = this.#check(typed, req.config);
      const stream = String(config['stream']);
      const meta: ConnectorMeta = { name, taskId: randomUUID(), type: typed.type, target: typed.driver.target, config, creationTimeMs: Date.now(), paused: false };
      if (typed.type === 'SINK') {
        await checkTarget(typed.driver, config, { log: this.deps.log, source: this.#source(stream), pathRoot: this.deps.pathRoot });
        await this.#createSubscription(meta, typed.driver);
      } else {
        await checkSource(typed, config);
      }
      try {
        await this.deps.meta.put(metaPath(name), meta);
      } catch (err) {
        if (typed.type === 'SINK') await this.deps.subscriptions.delete(subscriptionOf(meta.taskId), true).catch(() => undefined);
        throw err;
      }
      const entry = this.#entry(meta, typed, { kind: 'running' });
      this.#entries.set(name, entry);
      this.deps.log.info({ connector: name, type: meta.type, target: meta.target, stream }, 'connector created');
      this.#startTask(entry);
      return this.#view(entry);
    } finally {
      this.#creating.delete(name);
    }
  }

  list(): ConnectorView[] {
    return [...this.#entries.values()].sort((a, b) => a.meta.creationTimeMs - b.meta.creationTimeMs).map((e) => this.#view(e));
  }

  get(name: string): ConnectorView {
    return this.#view(this.#get(validateName('connector', name)));
  }

  /** The JSON Schema of a type's config, keys sorted as upstream prints it. */
  spec(type: string, target: string): string {
    const typed = typedDriver(connectorType(type), target);
    if (!typed) throw unimplementedTarget(target);
    return showConfig(connectorSpec(typed), []);
  }

  logs(name: string, begin: number, count: number): string {
    return this.#get(name).log.read(begin, count);
  }

  /** Deleting an unknown name succeeds, as upstream's. */
  async delete(name: string): Promise<void> {
    validateName('connector', name);
    const entry = this.#entries.get(name);
    if (!entry) return;
    await this.#exclusive(entry, async () => {
      await entry.task?.stop();
      entry.task = undefined;
      if (this.deps.subscriptions.exists(subscriptionOf(entry.meta.taskId))) {
        await this.deps.subscriptions.delete(subscriptionOf(entry.meta.taskId), true);
      }
      await this.deps.meta.del(metaPath(name));
      this.#entries.delete(name);
      this.deps.log.info({ connector: name }, 'connector deleted');
      if (entry.typed.type === 'SOURCE') await forgetSource(entry.typed, entry.meta, this.deps.log);
    });
  }

  /** Stops the connector and keeps its offsets; pausing a stopped one does nothing. */
  async pause(name: string): Promise<void> {
    const entry = this.#get(name);
    await this.#exclusive(entry, async () => {
      if (!entry.meta.paused) {
        entry.meta = { ...entry.meta, paused: true };
        await this.deps.meta.put(metaPath(name), entry.meta);
      }
      await entry.task?.stop();
      entry.task = undefined;
      entry.state = { kind: 'stopped' };
    });
  }

  /** Starts the connector again from its committed offsets, whatever its status (as upstream). */
  async resume(name: string): Promise<void> {
    const entry = this.#get(name);
    await this.#exclusive(entry, async () => {
      await entry.task?.stop();
      entry.task = undefined;
      if (entry.meta.paused) {
        entry.meta = { ...entry.meta, paused: false };
        await this.deps.meta.put(metaPath(name), entry.meta);
      }
      this.#startTask(entry);
    });
  }

  /**
   * Merges keys into the config (new keys win) and restarts the connector,
   * as upstream. Unlike upstream the result is validated first, and the
   * stream cannot change: the offsets belong to the stream.
   */
  async alterConfig(name: string, text: string): Promise<void> {
    const entry = this.#get(name);
    let patch: unknown;
    try {
      patch = JSON.parse(text);
    } catch {
      patch = undefined;
    }
    if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) {
      throw invalidArgument(ErrorCode.InternalError, 'the config must be a JSON object of the keys to change', { extra: name });
    }
    const merged = { ...entry.meta.config, ...(patch as ConnectorConfig) };
    const config = this.#check(entry.typed, JSON.stringify(merged));
    if (config['stream'] !== entry.meta.config['stream']) {
      throw checkFailed(new CheckFailure('CONFIG', 'invalid config', '"stream" cannot be changed: create a new connector for another stream'));
    }
    if (entry.typed.type === 'SOURCE') await checkSource(entry.typed, config);
    await this.#exclusive(entry, async () => {
      await entry.task?.stop();
      entry.task = undefined;
      const { typed } = entry;
      if (typed.type === 'SOURCE' && (typed.driver.forgetOnChange ?? []).some((k) => JSON.stringify(config[k]) !== JSON.stringify(entry.meta.config[k]))) {
        entry.log.info('the change starts afresh at the source');
        await forgetSource(typed, entry.meta, this.deps.log);
      }
      entry.meta = { ...entry.meta, config, paused: false };
      await this.deps.meta.put(metaPath(name), entry.meta);
      entry.log.info('config altered; restarting');
      this.#startTask(entry);
    });
  }

  /**
   * The highest LSN of a shard retention may drop: below what every
   * connector with "afterRetention" has committed of it (paused or failing
   * ones too), so old data leaves the server only once it is in their
   * files. Undefined when no such connector reads the shard.
   */
  retentionHold(shardId: number): number | undefined {
    let hold: number | undefined;
    for (const e of this.#entries.values()) {
      if (e.meta.config['afterRetention'] !== true) continue;
      const subscriptionId = subscriptionOf(e.meta.taskId);
      if (!this.deps.streams.find(String(e.meta.config['stream']))?.shards.some((s) => s.shardId === shardId)) continue;
      // a shard it has not started on yet holds everything
      const offsets = this.deps.subscriptions.exists(subscriptionId) ? this.deps.subscriptions.offsets(subscriptionId) : [];
      const committed = offsets.find((o) => o.shardId === shardId)?.lsn ?? 0;
      hold = Math.min(hold ?? committed, committed);
    }
    return hold;
  }

  /** Per connector figures for /metrics and GetStats. */
  stats(): Array<{ name: string; target: string; status: ConnectorStatus; counters: Readonly<SinkCounters>; subscriptionId: string }> {
    return [...this.#entries.values()].map((e) => ({
      name: e.meta.name,
      target: e.meta.target,
      status: statusOf(e.state),
      counters: e.counters,
      subscriptionId: subscriptionOf(e.meta.taskId),
    }));
  }

  async #createSubscription(meta: ConnectorMeta, driver: SinkDriver): Promise<void> {
    const options = runtimeOptions(meta.config);
    await this.deps.subscriptions.create({
      subscriptionId: subscriptionOf(meta.taskId),
      streamName: options.stream,
      ackTimeoutSeconds: ACK_TIMEOUT_SECONDS,
      maxUnackedRecords: maxUnackedRecords(driver),
      offset: options.fromOffset,
    });
  }

  #check(typed: TypedDriver, text: string): ConnectorConfig {
    let config: ConnectorConfig;
    try {
      config = validateConfig(typed, text);
    } catch (err) {
      if (err instanceof CheckFailure) throw checkFailed(err);
      throw err;
    }
    const stream = String(config['stream']);
    if (!this.deps.streams.find(stream)) {
      throw checkFailed(new CheckFailure('CONFIG', 'invalid config', `stream "${stream}" does not exist: create it first`));
    }
    return config;
  }

  #source(name: string): SourceStream | undefined {
    const s = this.deps.streams.find(name);
    return s && { name: s.name, shards: s.shards, replicationFactor: s.replicationFactor, backlogDuration: s.backlogDuration };
  }

  #get(name: string): Entry {
    const entry = this.#entries.get(name);
    if (!entry) throw notFound(ErrorCode.ConnectorNotFound, 'ConnectorNotFound', { extra: name });
    return entry;
  }

  #entry(meta: ConnectorMeta, typed: TypedDriver, state: TaskState): Entry {
    const pino = this.deps.log.child({ connector: meta.name });
    return {
      meta,
      typed,
      state,
      task: undefined,
      log: new TaskLog(pino, (text) => redact(text, meta.config, typed.driver.secretKeys)),
      counters: { records: 0, bytes: 0, batches: 0, errors: 0, skipped: 0, rejected: 0 },
      busy: Promise.resolve(),
    };
  }

  #startTask(entry: Entry): void {
    if (this.#closed) return;
    const onState = (state: TaskState) => {
      entry.state = state;
    };
    const { typed } = entry;
    if (typed.type === 'SOURCE') {
      entry.task = new SourceTask({
        name: entry.meta.name,
        driver: typed.driver,
        config: entry.meta.config,
        options: sourceRuntimeOptions(entry.meta.config),
        producer: this.deps.producer,
        log: entry.log,
        pino: this.deps.log.child({ connector: entry.meta.name }),
        counters: entry.counters,
        onState,
      });
      return;
    }
    const subscriptionId = subscriptionOf(entry.meta.taskId);
    if (!this.deps.subscriptions.exists(subscriptionId)) {
      const error = `its subscription ${subscriptionId} is gone; delete and create the connector again`;
      entry.log.error(error);
      entry.state = { kind: 'failed', error };
      return;
    }
    const config = entry.meta.config;
    entry.task = new SinkTask({
      driver: typed.driver,
      config,
      options: runtimeOptions(config),
      subscriptions: this.deps.subscriptions,
      subscriptionId,
      log: entry.log,
      pino: this.deps.log.child({ connector: entry.meta.name }),
      counters: entry.counters,
      pathRoot: this.deps.pathRoot,
      maxHeldRecords: maxUnackedRecords(typed.driver),
      source: () => this.#source(String(config['stream'])),
      onState,
    });
  }

  async #exclusive(entry: Entry, fn: () => Promise<void>): Promise<void> {
    const run = entry.busy.then(fn);
    entry.busy = run.catch(() => undefined);
    return run;
  }

  #view(entry: Entry): ConnectorView {
    const { meta } = entry;
    const subscriptionId = subscriptionOf(meta.taskId);
    const offsets = this.deps.subscriptions.exists(subscriptionId)
      ? this.deps.subscriptions.offsets(subscriptionId).map(({ shardId, lsn }) => ({ shardId, offset: `${shardId}-${lsn}-0` }))
      : [];
    return {
      name: meta.name,
      type: meta.type,
      target: meta.target,
      creationTimeMs: meta.creationTimeMs,
      status: statusOf(entry.state),
      config: showConfig(meta.config, entry.typed.driver.secretKeys),
      offsets,
      taskId: meta.taskId,
      node: this.deps.node(),
      dockerStatus: redact(describeState(entry.state), meta.config, entry.typed.driver.secretKeys),
      image: `hstreamlite/${meta.type.toLowerCase()}-${meta.target}`,
    };
  }
}

/**
 * A target that fails is FAILED while it fails, and RUNNING again once a
 * write goes through; `dockerStatus` and the logs say which it is.
 */
function statusOf(state: TaskState): ConnectorStatus {
  switch (state.kind) {
    case 'running':
      return 'RUNNING';
    case 'stopped':
      return 'STOPPED';
    case 'retrying':
    case 'failed':
      return 'FAILED';
  }
}

function describeState(state: TaskState): string {
  switch (state.kind) {
    case 'running':
      return 'running';
    case 'stopped':
      return 'stopped';
    case 'retrying':
      return `retrying (attempt ${state.attempt}): ${state.error}`;
    case 'failed':
      return `exited: ${state.error}`;
  }
}

function connectorType(type: string): ConnectorType {
  const t = (type ?? '').toUpperCase();
  if (t === 'SOURCE' || t === 'SINK') return t;
  throw invalidArgument(ErrorCode.ConnectorInvalidType, 'InvalidConnectorType', { extra: type ?? '' });
}

function unimplementedTarget(target: string): HStreamError {
  return new HStreamError('unimplemented', ErrorCode.ConnectorUnimplemented, 'ConnectorUnimplemented', { extra: target ?? '' });
}

/** Upstream's 604 body: the check result with its Haskell field names. */
function checkFailed(failure: CheckFailure): HStreamError {
  const extra: Extra = { crtDetail: failure.detail, crtMessage: failure.message, crtResult: false, crtType: failure.kind };
  return failedPrecondition(ErrorCode.ConnectorCheckFailed, 'ConnectorCheckFailed', { extra });
}

/** A source's own checks (topic filters, files): config-level, the source itself may be down at create. */
async function checkSource(typed: TypedDriver & { type: 'SOURCE' }, config: ConnectorConfig): Promise<void> {
  try {
    await typed.driver.check(config);
  } catch (err) {
    if (err instanceof CheckFailure) throw checkFailed(new CheckFailure(err.kind, err.message, redact(err.detail, config, typed.driver.secretKeys)));
    throw err;
  }
}

/** Lets the source drop what it keeps for a deleted connector; a failure only leaves it to expire there. */
async function forgetSource(typed: TypedDriver & { type: 'SOURCE' }, meta: ConnectorMeta, log: Logger): Promise<void> {
  try {
    await typed.driver.forget?.(meta.config, meta.name);
  } catch (err) {
    const message = redact((err as Error)?.message ?? String(err), meta.config, typed.driver.secretKeys);
    log.warn({ connector: meta.name }, `the deleted connector's state at its source stays until it expires there: ${message}`);
  }
}

interface CheckEnv {
  log: Logger;
  source: SourceStream | undefined;
  pathRoot: string;
}

async function checkTarget(driver: SinkDriver, config: ConnectorConfig, env: CheckEnv): Promise<void> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new CheckFailure('CONNECTION', 'get connector failed', `the ${driver.target} target did not answer within ${CHECK_TIMEOUT_MS / 1000} s`));
    }, CHECK_TIMEOUT_MS);
  });
  try {
    // A check writes nothing to keep: it has no records to report durable.
    const ctx = { ...env, signal: controller.signal, maxHeldRecords: maxUnackedRecords(driver), durable: () => undefined };
    await Promise.race([driver.check(config, ctx), timeout]);
  } catch (err) {
    if (err instanceof CheckFailure) {
      throw checkFailed(new CheckFailure(err.kind, err.message, redact(err.detail, config, driver.secretKeys)));
    }
    const detail = redact(`checking the target failed: ${(err as Error)?.message ?? String(err)}`, config, driver.secretKeys);
    throw checkFailed(new CheckFailure('CONNECTION', 'get connector failed', detail));
  } finally {
    clearTimeout(timer);
  }
}
