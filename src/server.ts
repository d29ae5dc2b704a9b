/**
 * Builds and runs one hstreamlite node: open the store, load the catalogue,
 * serve HStreamApi over gRPC. `startServer` is the embeddable API (tests of
 * other projects start us in-process); main.ts wraps it for the command line.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { LogStore } from '../storage/index.js';
import { ConnectorManager } from './connectors/manager.js';
import { ConfigError, DEFAULTS, loadConfig, type Config } from './config.js';
import type { ServerContext } from './context.js';
import { observeGcPauses } from './core/gc-pauses.js';
import { IdAllocator } from './core/ids.js';
import { Lifecycle } from './core/lifecycle.js';
import { Metrics } from './core/metrics.js';
import { Producer } from './core/producer.js';
import { QueryManager } from './core/queries.js';
import { ShardReaders } from './core/shard-readers.js';
import { StatsRegistry } from './core/stats.js';
import { StreamCatalog } from './core/streams.js';
import { SubscriptionManager } from './core/subscriptions/manager.js';
import { startHttpServer, type HttpServer } from './http/server.js';
import { createLogger, type Logger } from './log.js';
import { hstreamApiDefinition } from './proto.js';
import { buildRoutes, implementation } from './server/routes.js';
import { tolerantDecoders } from './server/wrap.js';
import { withServerHotCodecs } from './wire/hot-messages.js';

export const VERSION = '0.1.0';

export interface StartOptions extends Partial<Config> {
  /** a logger to use instead of creating one from `logLevel` */
  logger?: Logger;
}

export interface RunningServer {
  host: string;
  port: number;
  /** "hstream://host:port", what official clients take as their service URL */
  url: string;
  /** port of the HTTP endpoints, when --http-port was given */
  httpPort?: number;
  /** "host:port" for grpc-js clients */
  address: string;
  context: ServerContext;
  /** Stops accepting calls, ends open streams, waits for queued writes and closes the store. */
  close(): Promise<void>;
}

function bind(server: grpc.Server, address: string, credentials: grpc.ServerCredentials): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, credentials, (err, port) => (err ? reject(err) : resolve(port)));
  });
}

/** TLS from upstream's flags; with a CA, clients must present a certificate it signed. */
function serverCredentials(config: Config): grpc.ServerCredentials {
  if (!config.enableTls) return grpc.ServerCredentials.createInsecure();
  const read = (path: string, what: string) => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new ConfigError(`cannot read the TLS ${what} ${path}: ${(err as Error).message}`);
    }
  };
  const ca = config.tlsCaPath ? read(config.tlsCaPath, 'CA bundle') : null;
  return grpc.ServerCredentials.createSsl(
    ca,
    [{ cert_chain: read(config.tlsCertPath, 'certificate'), private_key: read(config.tlsKeyPath, 'key') }],
    ca !== null,
  );
}

/** Starts a node. Defaults: 127.0.0.1:6570, data in ./data; pass `port: 0` and `inMemory: true` for tests. */
export async function startServer(options: StartOptions = {}): Promise<RunningServer> {
  const { logger, ...overrides } = options;
  const config = loadConfig([], {}, overrides);
  const log = logger ?? createLogger(options.logLevel ?? (options.port === 0 ? 'silent' : DEFAULTS.logLevel));
  // Read certificates before touching the store: a bad path is refused at once.
  const credentials = serverCredentials(config);
  let location: string | undefined;
  if (!config.inMemory) {
    location = resolve(config.dataDir);
    // Owner only: the store holds every record and the connectors' configs, passwords included.
    mkdirSync(location, { recursive: true, mode: 0o700 });
  }
  const store = await LogStore.open({
    location,
    sync: config.fsync,
    segment: { maxBytes: config.segmentMaxBytes, maxAgeMs: config.segmentMaxAgeSeconds * 1000 },
    maxQueuedBytes: config.maxQueuedAppendBytes,
    tailCacheBytes: config.tailCacheBytes,
    logger: log,
  });
  try {
    return await serve(config, log, store, credentials);
  } catch (err) {
    await store.close();
    throw err;
  }
}

async function serve(config: Config, log: Logger, store: LogStore, credentials: grpc.ServerCredentials): Promise<RunningServer> {
  const stats = new StatsRegistry();
  const ids = await IdAllocator.load(store.meta);
  const streams = new StreamCatalog(store, ids, stats, log);
  const readers = new ShardReaders(streams);
  const subscriptions = new SubscriptionManager(streams, log);
  const producer = new Producer(streams, stats, { maxRecordSizeBytes: config.maxRecordSizeBytes });
  const queries = new QueryManager(streams, producer, log, config.maxQueryGroups);
  // The node's address is known once the port is bound; replies read it then.
  let node = '';
  const pathRoot = resolve(config.connectorPathRoot || join(config.dataDir, 'lake'));
  const connectors = new ConnectorManager({ meta: store.meta, streams, subscriptions, producer, log, pathRoot, node: () => node });
  streams.setRetentionHold((shardId) => connectors.retentionHold(shardId));
  // Loaded in this order, closed in reverse: queries and subscriptions persist their positions
  // (through the store, closed by the caller after them) before the catalogue stops.
  const components = new Lifecycle(log)
    .register({
      name: 'streams',
      load: () => streams.load(),
      start: () => streams.startRetention(config.retentionCheckSeconds * 1000),
      close: async () => streams.stopRetention(),
    })
    .register({ name: 'shard readers', load: () => readers.load() })
    .register({ name: 'subscriptions', load: () => subscriptions.load(), close: () => subscriptions.close() })
    .register({ name: 'queries', load: () => queries.load(), close: () => queries.close() })
    .register({ name: 'connectors', load: () => connectors.load(), start: () => connectors.start(), close: () => connectors.close() });
  try {
    await components.load();
    store.startupDone();
    return await listen(config, log, store, credentials, { stats, streams, readers, subscriptions, producer, queries, connectors, components, setNode: (n) => (node = n) });
  } catch (err) {
    await components.close();
    throw err;
  }
}

interface Components {
  stats: StatsRegistry;
  streams: StreamCatalog;
  readers: ShardReaders;
  subscriptions: SubscriptionManager;
  producer: Producer;
  queries: QueryManager;
  connectors: ConnectorManager;
  components: Lifecycle;
  setNode(hostPort: string): void;
}

async function listen(
  config: Config,
  log: Logger,
  store: LogStore,
  credentials: grpc.ServerCredentials,
  { stats, streams, readers, subscriptions, producer, queries, connectors, components, setNode }: Components,
): Promise<RunningServer> {
  let clusterStartMs = await store.meta.get<number>('cluster/start');
  if (clusterStartMs === undefined) {
    clusterStartMs = Date.now();
    await store.meta.put('cluster/start', clusterStartMs);
  }

  const server = new grpc.Server({
    'grpc.max_receive_message_length': config.maxMessageBytes,
    'grpc.max_send_message_length': -1,
  });
  let boundPort = 0;
  const advertisedHost = config.advertisedHost || (config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host);
  const shutdown = new AbortController();
  const ctx: ServerContext = {
    metrics: new Metrics(),
    shutdown: shutdown.signal,
    config,
    log,
    store,
    streams,
    producer,
    readers,
    subscriptions,
    queries,
    connectors,
    stats,
    clusterStartMs,
    self: () => ({
      id: config.serverId,
      host: advertisedHost,
      port: config.advertisedPort || boundPort,
      version: { version: VERSION, commit: 'hstreamlite' },
    }),
  };
  server.addService(tolerantDecoders(withServerHotCodecs(hstreamApiDefinition())), implementation(ctx, buildRoutes(ctx)));
  const hostPart = config.host.includes(':') ? `[${config.host}]` : config.host;
  boundPort = await bind(server, `${hostPart}:${config.port}`, credentials);
  setNode(`${advertisedHost}:${config.advertisedPort || boundPort}`);
  let httpServer: HttpServer | undefined;
  if (config.httpPort >= 0) {
    try {
      httpServer = await startHttpServer(ctx, config.host, config.httpPort);
    } catch (err) {
      server.forceShutdown();
      throw err;
    }
  }
  components.start();
  const stopGcObserver = observeGcPauses(ctx.metrics);
  log.info(
    { host: config.host, port: boundPort, httpPort: httpServer?.port, tls: config.enableTls, dataDir: config.inMemory ? null : config.dataDir, fsync: config.fsync },
    'hstreamlite serving',
  );

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      shutdown.abort();
      stopGcObserver();
      httpServer?.server.closeAllConnections();
      httpServer?.server.close();
      // console push queries delete their temporary stream, query and subscription while the store is open
      await httpServer?.drained();
      // Stop taking new calls; give open calls a moment, then end streams that would wait forever.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 2000);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve();
        });
      });
      // Query checkpoints and committed subscription offsets must reach the store before it closes.
      await components.close();
      await store.close();
      log.info('hstreamlite stopped');
      log.flush?.();
    })();
    return closing;
  };

  // Where a local client reaches the bound socket (the advertised address may be a name only others resolve).
  const connectHost = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  const connectHostPart = connectHost.includes(':') ? `[${connectHost}]` : connectHost;
  return {
    host: connectHost,
    port: boundPort,
    url: `${config.enableTls ? 'hstreams' : 'hstream'}://${connectHostPart}:${boundPort}`,
    httpPort: httpServer?.port,
    address: `${connectHostPart}:${boundPort}`,
    context: ctx,
    close,
  };
}
