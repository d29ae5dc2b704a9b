/** Everything a handler may use, built once at start (see server.ts). */
import type { Logger } from 'pino';
import type { LogStore } from '../storage/index.js';
import type { Config } from './config.js';
import type { ConnectorManager } from './connectors/manager.js';
import type { Metrics } from './core/metrics.js';
import type { Producer } from './core/producer.js';
import type { QueryManager } from './core/queries.js';
import type { ShardReaders } from './core/shard-readers.js';
import type { StatsRegistry } from './core/stats.js';
import type { StreamCatalog } from './core/streams.js';
import type { SubscriptionManager } from './core/subscriptions/manager.js';
import type { ServerNode } from './server/messages.js';

export interface ServerContext {
  config: Config;
  log: Logger;
  store: LogStore;
  streams: StreamCatalog;
  /** the one way records enter streams */
  producer: Producer;
  readers: ShardReaders;
  subscriptions: SubscriptionManager;
  stats: StatsRegistry;
  metrics: Metrics;
  queries: QueryManager;
  connectors: ConnectorManager;
  /** when this data directory first served; DescribeCluster reports uptime from it */
  clusterStartMs: number;
  /** aborted when the server starts shutting down: long-running calls end */
  shutdown: AbortSignal;
  /** this node as clients must reach it (advertised host and port) */
  self(): ServerNode;
}
