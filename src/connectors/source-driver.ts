/**
 * What a source connector type is: something that produces records for a
 * stream and is told when each one is durably appended. The runtime
 * (source-task.ts) batches, appends through the producer, retries and
 * keeps status for every source type the same way; a driver only speaks to
 * its system and acknowledges there what the runtime confirmed.
 */
import type { Logger } from 'pino';
import type { HStreamRecord } from '../records.js';
import type { ConnectorConfig, JsonSchema } from './driver.js';

/** One record read from the source, with how to confirm it there. */
export interface SourceMessage {
  readonly record: HStreamRecord;
  /**
   * Called once the record is appended (or skipped on purpose): the driver
   * may then let the source forget it. Never called for a record that was
   * not appended, so the source delivers it again.
   */
  ack(): void;
}

export interface SourceContext {
  /** the connector's name: a stable identity at the source (an MQTT client id) */
  readonly name: string;
  readonly log: Logger;
  /** aborted when the connector stops: the driver stops reading and lets go of its connection */
  readonly signal: AbortSignal;
  /** hands the runtime a record; the driver bounds how many it has handed over and not seen acked */
  emit(message: SourceMessage): void;
  /** a message the driver will not turn into a record (too large, say): counted and logged; the driver acks it itself */
  skipped(reason: string): void;
  /** the source is unreachable or refused us; the driver keeps retrying: the connector shows FAILED with this error */
  failing(error: string): void;
  /** the source is reachable (again) and reading: `detail` says what (logged) */
  connected(detail: string): void;
}

export interface SourceReader {
  /** Disconnects; acks already sent stay sent, unacked messages are left for the next reader. Must not throw. */
  close(): Promise<void>;
}

export interface SourceDriver {
  /** the target name in CREATE SOURCE CONNECTOR n FROM <target> */
  readonly target: string;
  /** the type's own keys; the runtime merges its common keys (stream, batch.*) in */
  readonly spec: JsonSchema;
  /** config keys whose values never leave the server (masked in replies, logs, metrics) */
  readonly secretKeys: readonly string[];
  /** Checks what the schema cannot (topic filters, files); throws CheckFailure. */
  check(config: ConnectorConfig): Promise<void>;
  /** Starts reading; connection failures after this are reported through `ctx.failing`, not thrown. */
  open(config: ConnectorConfig, ctx: SourceContext): Promise<SourceReader>;
  /**
   * After the connector is deleted: ends what the source keeps for it (an
   * MQTT session and its queue). Best effort; throws when the source cannot
   * be reached, and the runtime logs that.
   */
  forget?(config: ConnectorConfig, name: string): Promise<void>;
  /** config keys whose change makes AlterConnectorConfig forget the old state at the source first (MQTT: the topic filters) */
  readonly forgetOnChange?: readonly string[];
}
