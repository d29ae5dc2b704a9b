/** A connector as replies show it (GetConnector, ListConnectors, SHOW CONNECTORS). */

/** Upstream stores and answers the type upper-cased. */
export type ConnectorType = 'SOURCE' | 'SINK';

/**
 * Upstream's statuses: NEW only while being created, STOPPED after a pause
 * (there is no PAUSED), FAILED when the target failed (see connector.ts).
 */
export type ConnectorStatus = 'NEW' | 'RUNNING' | 'STOPPED' | 'FAILED';

export interface ConnectorView {
  name: string;
  type: ConnectorType;
  target: string;
  creationTimeMs: number;
  status: ConnectorStatus;
  /** compact JSON of the config, keys sorted, secrets masked */
  config: string;
  /** committed position per shard: [{ shardId, offset: "shard-batch-index" }] */
  offsets: Array<{ shardId: number; offset: string }>;
  taskId: string;
  /** host:port of this node */
  node: string;
  /** what the task is doing now, with the last error: upstream fills it from Docker; we have no container */
  dockerStatus: string;
  /** what runs the task: "hstreamlite/sink-<target>" or "hstreamlite/source-<target>" (in-process) */
  image: string;
}
